import Testing
@testable import TinyHub
import TinyPlatform

/// Request validation, the shared property reader and small pieces of the HTTPS face.
@Suite struct HTTPSUnitTests {
    @Test func unsafePropertyNamesAndValuesAreRefusedBeforeSending() throws {
        let f = try FakeClient()
        let cases: [((String, String), HubError)] = [
            (("bad name", "v"), .invalidPropertyName(index: 1)),
            (("colon:name", "v"), .invalidPropertyName(index: 1)),
            (("", "v"), .invalidPropertyName(index: 1)),
            (("k", "line\r\nInjected: 1"), .invalidPropertyValue(index: 1)),
            (("k", "nul\u{0}"), .invalidPropertyValue(index: 1)),
            (("k", "caf\u{e9}"), .invalidPropertyValue(index: 1)),
            (("k", " padded"), .invalidPropertyValue(index: 1)),
        ]
        for (pair, expected) in cases {
            let properties = f.arena.properties([("ok", "fine"), pair])
            do {
                try f.client.sendTelemetry(f.arena.bytes("x"), properties: properties)
                Issue.record("accepted \(pair)")
            } catch {
                #expect("\(error)" == "\(expected)")
            }
        }
        var system = TelemetrySystemProperties()
        system.messageID = f.arena.bytes("id\n2")
        let error = #expect(throws: HubError.self) { try f.client.sendTelemetry(f.arena.bytes("x"), system: system) }
        guard case .invalidSystemProperty? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(f.transport.requests.isEmpty)
    }

    @Test func tokenCharactersAndHeaderValuesAreAccepted() throws {
        let f = try FakeClient()
        let properties = f.arena.properties([("!#$%&'*+-.^_`|~Az09", "v w\tx!\"~")])
        try f.client.sendTelemetry(f.arena.bytes("x"), properties: properties)
        #expect(f.transport.requests.first?.head.contains("iothub-app-!#$%&'*+-.^_`|~Az09: v w\tx!\"~") == true)
    }

    @Test func telemetryTooLargeIsRefused() throws {
        let f = try FakeClient()
        let big = f.arena.bytes([UInt8](repeating: 1, count: 262_145))
        do { try f.client.sendTelemetry(big); Issue.record("accepted") } catch {
            guard case .messageTooLarge(262_145, 262_144) = error else { Issue.record("\(error)"); return }
        }
    }

    @Test func unexpected200WithoutETag() throws {
        let f = try FakeClient()
        f.transport.respond = { _ in .reply("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx") }
        do { _ = try f.client.receive(); Issue.record("accepted") } catch {
            guard case .missingLockToken = error else { Issue.record("\(error)"); return }
        }
    }

    @Test func interimResponseIsSkippedAndTimeoutClosesTheConnection() throws {
        let f = try FakeClient()
        f.transport.respond = { _ in .reply("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n") }
        try f.client.sendTelemetry(f.arena.bytes("x"))
        f.transport.respond = { _ in .reply("HTTP/1.1 204 No") }  // never finishes
        do { try f.client.sendTelemetry(f.arena.bytes("x")); Issue.record("accepted") } catch {
            guard case .transport(.timeout) = error else { Issue.record("\(error)"); return }
        }
        #expect(f.transport.isOpen == false)
    }

    /// One handler for both faces: both bring a `CloudToDeviceMessage`.
    func describe(_ message: CloudToDeviceMessage, scratch: UnsafeMutableRawBufferPointer) throws(PropertyBagError) -> [String] {
        var out = ["payload=\(string(message.payload)!)"]
        out.append("mid=\(string(try message.systemProperty(.messageID, scratch: scratch)) ?? "-")")
        out.append("ct=\(string(try message.systemProperty(.contentType, scratch: scratch)) ?? "-")")
        out.append("seq=\(string(try message.systemProperty(.sequenceNumber, scratch: scratch)) ?? "-")")
        out.append("color=\(string(try message.applicationProperty("color", scratch: scratch)) ?? "-")")
        var app: [String] = []
        try message.forEachApplicationProperty(scratch: scratch) { name, value in app.append("\(string(name)!):\(string(value)!)") }
        out.append(app.joined(separator: ","))
        return out
    }

    /// The same reader through the `HubMessageProperties` protocol (generic code over messages).
    func messageID<M: HubMessageProperties>(_ message: M, scratch: UnsafeMutableRawBufferPointer) throws(M.ReadError) -> String? {
        string(try message.systemProperty(.messageID, scratch: scratch))
    }

    @Test func mqttAndHTTPSMessagesReadTheSameWay() throws {
        let arena = Arena()
        let mqtt = CloudToDeviceMessage(payload: arena.bytes("on"),
                                        propertyBag: arena.bytes("%24.mid=id-1&%24.ct=text%2Fplain&color=red&size=L&iothub-ack=full"))
        let mqttView = try describe(mqtt, scratch: arena.scratch())
        #expect(mqttView == ["payload=on", "mid=id-1", "ct=text/plain", "seq=-", "color=red", "color:red,size:L"])
        #expect(mqtt.lockToken == nil && mqtt.headers == nil && mqtt.propertyBag != nil)

        let f = try FakeClient()
        f.transport.respond = { _ in
            .reply("HTTP/1.1 200 OK\r\nETag: \"L1\"\r\niothub-messageid: id-1\r\nContentType: text/plain\r\n" +
                   "iothub-sequencenumber: 7\r\niothub-app-color: red\r\nIotHub-App-size: L\r\niothub-ack: full\r\nContent-Length: 2\r\n\r\non")
        }
        let message = try #require(try f.client.receive())
        let httpsView = try describe(message, scratch: arena.scratch())
        #expect(httpsView == ["payload=on", "mid=id-1", "ct=text/plain", "seq=7", "color=red", "color:red,size:L"])
        #expect(try #require(message.lockToken).withBytes { String(decoding: $0, as: UTF8.self) } == "L1")
        #expect(message.propertyBag == nil && message.headers != nil)
        #expect(try messageID(message, scratch: arena.scratch()) == "id-1")
        #expect(try messageID(mqtt, scratch: arena.scratch()) == "id-1")
    }

    /// A message that came over MQTT has no lock token: the HTTPS face refuses to settle it
    /// without sending anything.
    @Test func settlingAMessageWithoutLockTokenIsRefused() throws {
        let f = try FakeClient()
        var sent = 0
        f.transport.respond = { _ in sent += 1; return .reply("HTTP/1.1 204 No Content\r\n\r\n") }
        let mqtt = CloudToDeviceMessage(payload: f.arena.bytes("on"), propertyBag: f.arena.bytes("%24.mid=id-1"))
        let client = f.client
        let settlers: [(CloudToDeviceMessage) throws -> Void] = [{ try client.complete($0) }, { try client.reject($0) },
                                                                 { try client.abandon($0) }, { try client.settle($0, .complete) }]
        for settle in settlers {
            let error = #expect(throws: HubError.self) { try settle(mqtt) }
            guard case .missingLockToken? = error else { Issue.record("\(String(describing: error))"); return }
        }
        #expect(sent == 0)
    }

    /// A message's headers live until the next response: settling the message after a later
    /// request is refused without sending anything (its headers now hold another response's
    /// ETag), while the lock token copied from it before still settles it.
    @Test func aMessageIsSettledByItsOwnResponseOrByItsKeptLockToken() throws {
        let f = try FakeClient()
        var requests: [String] = []
        var lock = 0
        f.transport.respond = { request in
            requests.append(request.method)
            if request.method == "GET" {
                lock += 1
                return .reply("HTTP/1.1 200 OK\r\nETag: \"L\(lock)\"\r\nContent-Length: 1\r\n\r\nx")
            }
            return .reply("HTTP/1.1 204 No Content\r\n\r\n")
        }
        let first = try #require(try f.client.receive())
        let kept = try #require(first.lockToken)
        _ = try #require(try f.client.receive())
        let error = #expect(throws: HubError.self) { try f.client.complete(first) }
        guard case .missingLockToken? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(requests == ["GET", "GET"])
        try f.client.complete(kept)
        #expect(requests == ["GET", "GET", "DELETE"])
        #expect(kept.withBytes { String(decoding: $0, as: UTF8.self) } == "L1")
    }

    @Test func lockTokenValidation() {
        let arena = Arena()
        for bad in ["", "a\"b", String(repeating: "a", count: 97)] {
            let error = #expect(throws: HubError.self) { _ = try C2DLockToken(arena.bytes(bad)) }
            guard case .invalidLockToken? = error else { Issue.record("\(bad): \(String(describing: error))"); return }
        }
        #expect(throws: Never.self) { _ = try C2DLockToken(arena.bytes(String(repeating: "a", count: 96))) }
    }

    @Test func unknownSettleAndModulePaths() throws {
        let f = try FakeClient()
        let lock = try C2DLockToken(f.arena.bytes("a/b?c"))
        try f.client.abandon(lock)
        #expect(f.transport.requests.first?.target == "/devices/dev1/messages/deviceBound/a%2Fb%3Fc/abandon?api-version=2020-03-13")
        #expect(f.transport.requests.first?.head.contains("If-Match: \"a/b?c\"") == true)
    }
}

/// Whole-exchange deadline: a peer that trickles its answer cannot hold a request longer
/// than `timeoutMs` in all (each byte alone arrives well within it), on the virtual clock.
@Suite struct HTTPSDeadlineTests {
    @Test func aTricklingAnswerIsCutAtTheExchangeDeadline() throws {
        var options = HubOptions()
        options.timeoutMs = 10_000
        let f = try FakeClient(options: options)
        f.transport.trickleMs = 1_000
        f.transport.respond = { _ in .reply("HTTP/1.1 204 No Content\r\nX-Padding: " + String(repeating: "p", count: 60) + "\r\n\r\n") }
        let start = f.clock.nowMs
        let error = #expect(throws: HubError.self) { try f.client.sendTelemetry(f.arena.bytes("x")) }
        guard case .transport(.timeout)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(f.clock.nowMs - start <= 10_000, "\(f.clock.nowMs - start) ms")
    }
}
