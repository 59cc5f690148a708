import Foundation
import Testing
import TinyHTTP
@testable import TinyHub
import TinyPlatform
import TinyTLS

/// The HTTPS face against the Python fixture over real TLS (test CA via `.file`), with a
/// fake clock. Each test starts its own fixture process.
@Suite struct HTTPSFixtureTests {
    @Test func telemetryHeadersAndPropertiesOnTheWire() throws {
        let fixture = try HubFixture()
        let f = try FixtureClient(fixture)
        var system = TelemetrySystemProperties()
        system.messageID = f.arena.bytes("m-1")
        system.correlationID = f.arena.bytes("c-1")
        system.contentType = f.arena.bytes("application/json")
        system.contentEncoding = f.arena.bytes("utf-8")
        system.creationTime = f.arena.bytes("2024-01-02T03:04:05Z")
        let properties = f.arena.properties([("temp-alert", "true"), ("site", "Hall 7, bay 2")])
        try f.client.sendTelemetry(f.arena.bytes("{\"t\":21.5}"), system: system, properties: properties)

        let requests = try fixture.requests()
        #expect(requests.count == 1)
        let r = try #require(requests.first)
        #expect(r.method == "POST")
        #expect(r.path == "/devices/dev1/messages/events")
        #expect(r.query == "api-version=2020-03-13")
        #expect(r.header("Host") == httpsTestHost)
        #expect(r.header("Authorization")?.hasPrefix("SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=") == true)
        #expect(r.header("Content-Type") == "application/octet-stream")
        #expect(r.header("Content-Length") == "10")
        #expect(r.header("iothub-app-temp-alert") == "true")
        #expect(r.header("iothub-app-site") == "Hall 7, bay 2")
        #expect(r.header("iothub-messageid") == "m-1")
        #expect(r.header("iothub-correlationid") == "c-1")
        #expect(r.header("iothub-contenttype") == "application/json")
        #expect(r.header("iothub-contentencoding") == "utf-8")
        #expect(r.header("iothub-creation-time-utc") == "2024-01-02T03:04:05Z")
        #expect(r.header("User-Agent") == "tinyhub/0.2.0")
        #expect(r.body == Array("{\"t\":21.5}".utf8))
    }

    @Test func moduleTelemetryAndEncodedDeviceID() throws {
        let fixture = try HubFixture(["--device", "dev#1"])  // the last --device wins
        let f = try FixtureClient(fixture, connectionString: "HostName=\(httpsTestHost);DeviceId=dev#1;ModuleId=m1;SharedAccessKey=\(httpsTestKey)")
        try f.client.sendTelemetry(f.arena.bytes("x"))
        let r = try #require(try fixture.requests().first)
        #expect(r.target == "/devices/dev%231/modules/m1/messages/events?api-version=2020-03-13")
        // Modules have no C2D over HTTPS.
        let error = #expect(throws: HubError.self) { _ = try f.client.receive() }
        guard case .cloudToDeviceNeedsDeviceIdentity? = error else { Issue.record("\(String(describing: error))"); return }
    }

    @Test func largePayloadIsSentAfterTheHead() throws {
        let fixture = try HubFixture()
        let f = try FixtureClient(fixture, request: 1_024)
        let payload = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try f.client.sendTelemetry(f.arena.bytes(payload))
        #expect(try fixture.requests().first?.body == payload)
    }

    @Test func emptyQueueIs204AndMessageIs200WithLockToken() throws {
        let fixture = try HubFixture()
        let f = try FixtureClient(fixture)
        #expect(try f.client.receive() == nil)
        // The 204 ended the cycle: the next GET waits for the 25-minute floor.
        do { _ = try f.client.receive(); Issue.record("expected pollTooSoon") } catch {
            guard case .pollTooSoon(let ms) = error else { Issue.record("\(error)"); return }
            #expect(ms == 1_500_000)
        }
        try fixture.enqueue(["body": "open valve", "messageId": "c2d-1", "correlationId": "corr-9", "userId": "svc",
                             "contentType": "text/plain", "contentEncoding": "utf-8", "properties": ["valve": "3", "mode": "auto"]])
        f.clock.advance(seconds: 1_500)
        let message = try #require(try f.client.receive())
        #expect(string(message.payload) == "open valve")
        let scratch = f.arena.scratch()
        #expect(string(try message.systemProperty(.messageID, scratch: scratch)) == "c2d-1")
        #expect(string(try message.systemProperty(.correlationID, scratch: scratch)) == "corr-9")
        #expect(string(try message.systemProperty(.userID, scratch: scratch)) == "svc")
        #expect(string(try message.systemProperty(.contentType, scratch: scratch)) == "text/plain")
        #expect(string(try message.systemProperty(.contentEncoding, scratch: scratch)) == "utf-8")
        #expect(string(try message.systemProperty(.sequenceNumber, scratch: scratch)) == "1")
        #expect(string(try message.systemProperty(.deliveryCount, scratch: scratch)) == "1")
        #expect(string(try message.systemProperty(.to, scratch: scratch)) == "/devices/dev1/messages/deviceBound")
        #expect(try message.systemProperty(.enqueuedTime, scratch: scratch) != nil)
        #expect(string(try message.applicationProperty("valve", scratch: scratch)) == "3")
        #expect(string(try message.applicationProperty("MODE", scratch: scratch)) == "auto")
        var names: [String] = []
        try message.forEachApplicationProperty(scratch: scratch) { name, value in names.append("\(string(name)!)=\(string(value)!)") }
        #expect(names.sorted() == ["mode=auto", "valve=3"])
        let lock = try #require(message.lockToken)
        let etag = lock.withBytes { String(decoding: $0, as: UTF8.self) }
        #expect(etag.count == 36 && !etag.contains("\""))

        try f.client.complete(lock)
        do { try f.client.complete(lock); Issue.record("expected lockLost") } catch {
            guard case .lockLost = error else { Issue.record("\(error)"); return }
        }
        let requests = try fixture.requests()
        #expect(requests.map(\.method) == ["GET", "GET", "DELETE", "DELETE"])
        #expect(requests[0].target == "/devices/dev1/messages/deviceBound?api-version=2020-03-13")
        #expect(requests[2].target == "/devices/dev1/messages/deviceBound/\(etag)?api-version=2020-03-13")
        #expect(requests[2].header("If-Match") == "\"\(etag)\"")
        #expect(try fixture.stats()["queue"] == 0)
    }

    @Test func rejectAndAbandon() throws {
        let fixture = try HubFixture(["--c2d", #"{"body":"a"}"#, "--c2d", #"{"body":"b"}"#])
        let f = try FixtureClient(fixture)
        let first = try #require(try f.client.receive())
        #expect(string(first.payload) == "a")
        try f.client.abandon(first)
        // Same cycle (the last GET returned a message): the abandoned one comes back, delivery count 2.
        let again = try #require(try f.client.receive())
        #expect(string(again.payload) == "a")
        #expect(string(try again.systemProperty(.deliveryCount, scratch: f.arena.scratch())) == "2")
        try f.client.reject(again)
        let second = try #require(try f.client.receive())
        #expect(string(second.payload) == "b")
        try f.client.complete(try #require(second.lockToken))
        #expect(try f.client.receive() == nil)

        let requests = try fixture.requests()
        let abandon = requests[1], reject = requests[3]
        #expect(abandon.method == "POST" && abandon.path.hasSuffix("/abandon") && abandon.query == "api-version=2020-03-13")
        #expect(abandon.header("Content-Length") == "0")
        #expect(reject.method == "DELETE" && reject.query == "api-version=2020-03-13&reject")
        let stats = try fixture.stats()
        #expect(stats["dead"] == 1)
        #expect(stats["queue"] == 0)
        #expect(stats["connections"] == 1)
    }

    @Test func chunkedResponses() throws {
        let fixture = try HubFixture(["--chunked", "--c2d", #"{"body":"chunked payload, split in two","properties":{"k":"v"}}"#])
        let f = try FixtureClient(fixture)
        let message = try #require(try f.client.receive())
        #expect(string(message.payload) == "chunked payload, split in two")
        #expect(string(try message.applicationProperty("k", scratch: f.arena.scratch())) == "v")
        try f.client.complete(message)
        // A chunked error body (401 forced) on the same connection keeps the stream in step.
        try fixture.configure(["statusNext": [500]])
        do { try f.client.sendTelemetry(f.arena.bytes("x")); Issue.record("expected 500") } catch {
            guard case .serverError(500) = error else { Issue.record("\(error)"); return }
        }
        try f.client.sendTelemetry(f.arena.bytes("y"))
        #expect(try fixture.stats()["connections"] == 1)
    }

    @Test func keepAliveReusesOneConnectionAndReopensAfterClose() throws {
        let fixture = try HubFixture()
        let f = try FixtureClient(fixture)
        for i in 0..<5 { try f.client.sendTelemetry(f.arena.bytes("m\(i)")) }
        #expect(try f.client.receive() == nil)
        #expect(try fixture.stats()["connections"] == 1)
        #expect(f.client.connectionsOpened == 1)

        try fixture.configure(["closeNext": 1])  // next answer carries Connection: close
        try f.client.sendTelemetry(f.arena.bytes("closing"))
        #expect(f.transport.isOpen == false)
        try f.client.sendTelemetry(f.arena.bytes("after"))
        #expect(try fixture.stats()["connections"] == 2)
        #expect(f.client.connectionsOpened == 2)
    }

    @Test func staleConnectionIsReopenedOnce() throws {
        let fixture = try HubFixture()
        let f = try FixtureClient(fixture)
        try fixture.configure(["dropNext": 1])  // the server closes after its answer, unannounced
        try f.client.sendTelemetry(f.arena.bytes("one"))
        try f.client.sendTelemetry(f.arena.bytes("two"))  // meets the dead connection, resent on a new one
        #expect(try fixture.requests().map { $0.body } == [Array("one".utf8), Array("two".utf8)])
        #expect(f.client.connectionsOpened == 2)
        #expect(try fixture.stats()["connections"] == 2)
    }

    @Test func throttledHonoursRetryAfter() throws {
        let fixture = try HubFixture(["--throttle", "1", "--retry-after", "7"])
        let f = try FixtureClient(fixture)
        do { try f.client.sendTelemetry(f.arena.bytes("x")); Issue.record("expected 429") } catch {
            guard case .throttled(7) = error else { Issue.record("\(error)"); return }
            #expect(error.isTransient && !error.isAuthenticationFailure)
        }
        do { try f.client.sendTelemetry(f.arena.bytes("x")); Issue.record("expected backingOff") } catch {
            guard case .backingOff(let ms) = error else { Issue.record("\(error)"); return }
            #expect(ms == 7_000)
        }
        #expect(try fixture.requests().count == 1)  // nothing sent while backing off
        f.clock.advance(seconds: 7)
        try f.client.sendTelemetry(f.arena.bytes("x"))
        #expect(try fixture.requests().count == 2)
        // 503 behaves alike.
        try fixture.configure(["throttle": 1, "throttleStatus": 503, "retryAfter": 3])
        do { try f.client.sendTelemetry(f.arena.bytes("x")); Issue.record("expected 503") } catch {
            guard case .serviceUnavailable(3) = error else { Issue.record("\(error)"); return }
        }
        #expect(f.client.nextPollInMs == 3_000)
    }

    @Test func batchBody() throws {
        let fixture = try HubFixture()
        let f = try FixtureClient(fixture)
        var system = TelemetrySystemProperties()
        system.messageID = f.arena.bytes("b-1")
        let items = [
            TelemetryBatchItem(payload: f.arena.bytes("first \"quoted\""), system: system,
                               properties: f.arena.properties([("k", "v"), ("unit", "C")])),
            TelemetryBatchItem(payload: f.arena.bytes([0, 1, 2, 254, 255])),
        ]
        try items.withUnsafeBufferPointer { try f.client.sendTelemetryBatch($0) }
        let r = try #require(try fixture.requests().first)
        #expect(r.header("Content-Type") == "application/vnd.microsoft.iothub.json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]])
        #expect(json.count == 2)
        #expect(Data(base64Encoded: json[0]["body"] as! String) == Data("first \"quoted\"".utf8))
        #expect(json[0]["properties"] as? [String: String] == ["iothub-messageid": "b-1", "iothub-app-k": "v", "iothub-app-unit": "C"])
        #expect(Data(base64Encoded: json[1]["body"] as! String) == Data([0, 1, 2, 254, 255]))
        #expect(json[1]["properties"] == nil)
    }

    @Test func batchLargerThanBodyBufferIsRefused() throws {
        let fixture = try HubFixture()
        let f = try FixtureClient(fixture, body: 256)
        let items = [TelemetryBatchItem(payload: f.arena.bytes([UInt8](repeating: 65, count: 300)))]
        let error = #expect(throws: HubError.self) { try items.withUnsafeBufferPointer { try f.client.sendTelemetryBatch($0) } }
        guard case .messageTooLarge(let size, limit: 256)? = error, size > 256 else { Issue.record("\(String(describing: error))"); return }
        #expect(try fixture.requests().isEmpty)
    }

    @Test func authenticationFailuresStopTheClient() throws {
        let fixture = try HubFixture()
        let wrongKey = "HostName=\(httpsTestHost);DeviceId=dev1;SharedAccessKey=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
        let f = try FixtureClient(fixture, connectionString: wrongKey)
        // The first 401 suspects the clock (the hub's Date is taken; transient), the rest count.
        do { try f.client.sendTelemetry(f.arena.bytes("x")); Issue.record("expected 401") } catch {
            #expect(error.isTransient && !error.isAuthenticationFailure)
            guard case .clockAdjusted(let offset) = error, abs(offset) <= 5 else { Issue.record("\(error)"); return }
        }
        for _ in 0..<3 {
            do { try f.client.sendTelemetry(f.arena.bytes("x")); Issue.record("expected 401") } catch {
                #expect(error.isAuthenticationFailure)
                guard case .unauthorized = error else { Issue.record("\(error)"); return }
            }
        }
        do { try f.client.sendTelemetry(f.arena.bytes("x")); Issue.record("expected stop") } catch {
            guard case .stoppedAfterAuthenticationFailures = error else { Issue.record("\(error)"); return }
        }
        #expect(try fixture.requests().count == 4)
        #expect(f.log.lines.count == 1)
        f.client.resume()
        let again = #expect(throws: HubError.self) { try f.client.sendTelemetry(f.arena.bytes("x")) }
        guard case .unauthorized? = again else { Issue.record("\(String(describing: again))"); return }
        #expect(try fixture.requests().count == 5)
    }

    /// A device clock two hours behind: the hub's 401 is dated, the client takes the hub's
    /// time from it, and the message goes through on the next attempt with a fresh token.
    @Test func aWrongDeviceClockIsCorrectedFromTheHubsDate() throws {
        let fixture = try HubFixture()
        let f = try FixtureClient(fixture)
        f.clock.wallOffset = -7_200 // a token minted now (1 h) expired an hour ago on the hub's clock
        f.client.resume()           // mint the next token from the wrong clock
        let first = #expect(throws: HubError.self) { try f.client.sendTelemetry(f.arena.bytes("x")) }
        guard case .clockAdjusted(let offset)? = first else { Issue.record("\(String(describing: first))"); return }
        #expect(abs(offset - 7_200) <= 5, "offset \(offset)")
        try f.client.sendTelemetry(f.arena.bytes("x"))
        #expect(try fixture.requests().count == 2)
        #expect(f.client.clockOffsetSeconds == offset)
    }

    @Test func x509SendsNoAuthorization() throws {
        let fixture = try HubFixture(["--x509"])
        let f = try FixtureClient(fixture, connectionString: "HostName=\(httpsTestHost);DeviceId=dev1;x509=true")
        try f.client.sendTelemetry(f.arena.bytes("x"))
        let r = try #require(try fixture.requests().first)
        #expect(r.header("Authorization") == nil)
    }

    @Test func tokenReusedUntilEightyPercent() throws {
        let fixture = try HubFixture()
        let f = try FixtureClient(fixture)
        let firstExpiry = f.client.sasExpiry
        try f.client.sendTelemetry(f.arena.bytes("a"))
        f.clock.advance(seconds: 2_879)  // 80 % of 3600 s is 2880 s
        try f.client.sendTelemetry(f.arena.bytes("b"))
        #expect(f.client.sasExpiry == firstExpiry)
        f.clock.advance(seconds: 1)
        try f.client.sendTelemetry(f.arena.bytes("c"))
        #expect(f.client.sasExpiry == firstExpiry + 2_880)
        let auth = try fixture.requests().map { $0.header("Authorization")! }
        #expect(auth[0] == auth[1] && auth[1] != auth[2])
    }

    @Test func pollCycleDrainsTheQueueThenWaits() throws {
        let fixture = try HubFixture((1...3).flatMap { ["--c2d", "{\"body\":\"m\($0)\"}"] })
        let f = try FixtureClient(fixture)
        var seen: [String] = []
        let result = try f.client.pollCloudToDevice { message in
            seen.append(string(message.payload)!)
            return .complete
        }
        #expect(seen == ["m1", "m2", "m3"])
        #expect(result.received == 3)
        #expect(result.nextPollInMs == 1_500_000)
        let again = try f.client.pollCloudToDevice { _ in .complete }
        #expect(again.received == 0)
        let methods = try fixture.requests().map(\.method)
        #expect(methods == ["GET", "DELETE", "GET", "DELETE", "GET", "DELETE", "GET"])
        #expect(try fixture.stats()["connections"] == 1)
    }

    @Test func oversizedC2DMessageIsRejected() throws {
        let fixture = try HubFixture(["--c2d", "{\"body\":\"\(String(repeating: "z", count: 600))\"}"])
        let f = try FixtureClient(fixture, body: 512)
        do { _ = try f.client.receive(); Issue.record("expected receivedMessageTooLarge") } catch {
            guard case .receivedMessageTooLarge(600) = error else { Issue.record("\(error)"); return }
        }
        #expect(try fixture.stats()["dead"] == 1)
    }
}
