import Testing
@testable import TinyMQTT
@Test func smoke() { #expect(MQTTQoS.atLeastOnce.rawValue == 1) }
