import Foundation
import Testing
import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// A device whose clock is wrong recovers by reading the hub's clock once (issue: a wrong
/// clock must not lock a device out for good); a wrong key stays refused after that one
/// check. The hub is the IoT Hub gate (MQTT) plus the HTTPS device-API fixture, both with
/// their clock two hours ahead of the device's.
@Suite struct HubClockCheckTests {
    static let hubAheadSeconds = 7_200

    @Test func aDeviceClockTwoHoursBehindIsCorrectedFromTheHubsDate() throws {
        let gate = try IoTHubGate(clockOffsetSeconds: Self.hubAheadSeconds)
        let https = try HTTPSDeviceAPI(gate: gate, clockOffsetSeconds: Self.hubAheadSeconds)
        var options = HubOptions()
        options.features = []
        let hub = try HubFixture(gate: gate, options: options)
        let check = try #require(HubClockCheck(transport: try https.transport()))
        hub.client.enableClockCheck { connection in check.hubTime(for: connection) }
        hub.client.start()
        try hub.pollUntil("connected") { hub.events.contains { $0.hasPrefix("connected") } }
        // One refusal (the token expired an hour ago on the hub's clock), one clock read,
        // then a token the hub accepts.
        #expect(gate.connects.map { $0.bool("accepted") } == [false, true])
        #expect(gate.connects.first?.string("reason") == "expired")
        let adjusted = try #require(hub.events.first { $0.hasPrefix("clockAdjusted(") })
        let offset = try #require(Int(adjusted.dropFirst("clockAdjusted(".count).dropLast()))
        #expect(abs(offset - Self.hubAheadSeconds) <= 5, "offset \(offset)")
        let se = try #require(gate.connects.last?.sas("se").flatMap { Int($0) })
        #expect(se > Int(Date().timeIntervalSince1970) + Self.hubAheadSeconds, "the new token counts from the hub's time")
        #expect(try https.requestCount() == 1, "one clock read")
    }

    @Test func aWrongKeyIsFinalAfterOneClockCheck() throws {
        let gate = try IoTHubGate(clockOffsetSeconds: Self.hubAheadSeconds)
        let https = try HTTPSDeviceAPI(gate: gate, clockOffsetSeconds: Self.hubAheadSeconds)
        var options = HubOptions()
        options.features = []
        let wrongKey = Data("not the device key at all, sorry".utf8).base64EncodedString()
        let hub = try HubFixture(gate: gate, key: wrongKey, options: options)
        let check = try #require(HubClockCheck(transport: try https.transport()))
        hub.client.enableClockCheck { connection in check.hubTime(for: connection) }
        hub.client.start()
        var final: HubError? = nil
        for _ in 0..<200 where final == nil {
            do { try hub.poll(100) } catch { final = error as? HubError }
        }
        guard case .connectionRefused(.notAuthorized) = final else {
            Issue.record("expected a final CONNACK 5, got \(String(describing: final))")
            return
        }
        // CONNECT, the clock read, CONNECT: three connections in all, then nothing more.
        #expect(gate.connects.map { $0.bool("accepted") } == [false, false])
        #expect(gate.connects.last?.string("reason") == "signature-mismatch")
        #expect(try https.requestCount() == 1)
        #expect(throws: HubError.self) { try hub.poll(500) }
        #expect(gate.connects.count == 2)
    }

    @Test func noHubClockMeansTheRefusalIsFinalAndSaysSo() throws {
        let gate = try IoTHubGate(clockOffsetSeconds: Self.hubAheadSeconds)
        var options = HubOptions()
        options.features = []
        let hub = try HubFixture(gate: gate, options: options)
        hub.client.enableClockCheck { _ in nil } // 443 blocked: no time to be had
        hub.client.start()
        var final: HubError? = nil
        for _ in 0..<200 where final == nil {
            do { try hub.poll(100) } catch { final = error as? HubError }
        }
        guard case .clockUnchecked(.notAuthorized) = final else {
            Issue.record("expected clockUnchecked, got \(String(describing: final))")
            return
        }
        #expect(final?.isAuthenticationFailure == true)
        #expect(gate.connects.count == 1)
    }
}

/// The HTTPS device-API fixture (Tests/Fixtures/iothub_https_fixture.py) for the gate's hub and
/// device, with the same certificate, its clock offset like the gate's.
final class HTTPSDeviceAPI {
    let port: UInt16
    let trust: String
    private let process: Process
    private let input = Pipe()

    init(gate: IoTHubGate, clockOffsetSeconds: Int, extraArguments: [String] = []) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/iothub_https_fixture.py").path
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script, "--cert", gate.broker.pki.server.certificatePath, "--key", gate.broker.pki.server.keyPath,
                             "--host", IoTHubGate.hostName, "--device", "dev1", "--device-key", HubFixture.key,
                             "--clock-offset-s", String(clockOffsetSeconds), "--exit-on-stdin-eof"] + extraArguments
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data([0x0A]) {
            line.append(byte)
        }
        guard let port = UInt16(String(decoding: line, as: UTF8.self)) else { throw HarnessError("HTTPS fixture did not start") }
        self.port = port
        trust = gate.trust
    }

    deinit {
        try? input.fileHandleForWriting.close()
        process.terminate()
        process.waitUntilExit()
    }

    func transport() throws -> TLSTransport {
        try TLSTransport(TLSConfiguration(host: "localhost", port: port, trustAnchors: .file(trust)))
    }

    /// Device requests the fixture saw (its control endpoint).
    func requestCount() throws -> Int {
        let out = Pipe()
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        curl.arguments = ["-c", """
            import http.client, json, ssl, sys
            c = http.client.HTTPSConnection("localhost", \(port), context=ssl.create_default_context(cafile=sys.argv[1]))
            c.request("GET", "/_fixture/stats"); print(json.loads(c.getresponse().read())["requests"])
            """, trust]
        curl.standardOutput = out
        try curl.run()
        curl.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard let count = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw HarnessError("stats: \(text)") }
        return count
    }
}
