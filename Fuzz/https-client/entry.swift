// libFuzzer entry for HTTPS response sequences into the hub's HTTPS client: the real
// `HubHTTPSClient` over a transport whose receive plays the fuzz input back in pieces, and a
// fake clock. Each round sends telemetry, fetches a cloud-to-device message, completes it if
// one came, and runs a poll cycle; the clock then moves past the 25-minute polling interval.
//
// Input: byte 0 picks the body buffer size (16...271) and the number of rounds (1...8); then
// records, one per transport receive: h < 0xF0 delivers the next h bytes (0: nothing before
// the deadline, a timeout), 0xF0 the peer closes, 0xF1 a timeout error, 0xF2 truncated,
// 0xF3 the next open fails. When the input runs out, every receive is a close.
//
// Oracles: no trap, no hang (bounded rounds; a budget of transport calls), every error is a
// typed `HubError`, a received payload lies inside the body buffer and its lock token is
// 1...96 bytes, `nextPollInMs` stays within the polling interval or a Retry-After.
import TinyHub
import TinyPlatform
import TinyTLS

@inline(never)
func fuzzFail(_ message: String, line: UInt = #line) -> Never {
    fatalError("fuzz oracle: \(message)", line: line)
}

func check(_ condition: Bool, _ message: @autoclosure () -> String, line: UInt = #line) {
    if !condition { fuzzFail(message(), line: line) }
}

var budget = 0
func spend() {
    budget -= 1
    if budget < 0 { fuzzFail("hang: the client kept calling the transport") }
}

final class FakePlatform: Platform {
    var nowMs: UInt64 = 5_000_000
    func monotonicMs() -> UInt64 { nowMs }
    func wallSeconds() -> Int64 { 1_700_000_000 + Int64(nowMs / 1000) }
    func random32() -> UInt32 { UInt32(truncatingIfNeeded: nowMs &* 2_654_435_761) }
    func sleep(ms: UInt32) { nowMs += UInt64(ms) }
}

final class ScriptTransport: Transport {
    let script: UnsafeRawBufferPointer
    var at = 0
    var failNextOpen = false
    let platform: FakePlatform
    private(set) var isOpen = false
    var sent = 0

    init(script: UnsafeRawBufferPointer, platform: FakePlatform) {
        self.script = script
        self.platform = platform
    }

    func open(timeoutMs: Int32) throws(TransportError) {
        spend()
        if failNextOpen { failNextOpen = false; throw .connectionRefused }
        isOpen = true
    }

    func send(_ bytes: UnsafeRawBufferPointer, timeoutMs: Int32) throws(TransportError) {
        spend()
        guard isOpen else { throw .notConnected }
        for byte in bytes { sent &+= Int(byte) } // ASan: the whole request is readable
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws(TransportError) -> Int {
        spend()
        guard isOpen else { throw .notConnected }
        guard at < script.count else { isOpen = false; throw .closed }
        let header = script[at]
        at += 1
        switch header {
        case 0xF0: isOpen = false; throw .closed
        case 0xF1: throw .timeout
        case 0xF2: isOpen = false; throw .truncated
        case 0xF3...0xFF: failNextOpen = true; isOpen = false; throw .closed
        default:
            let n = min(Int(header), buffer.count, script.count - at)
            platform.nowMs += UInt64(max(0, timeoutMs)) / 4
            guard n > 0 else { return 0 }
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: script[at..<(at + n)]))
            at += n
            return n
        }
    }

    func close() { isOpen = false }
}

let connectionString = Array("HostName=fuzz.azure-devices.net;DeviceId=dev1;SharedAccessKey=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".utf8)
let payload = Array("{\"temperature\":21}".utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let bodySize = 16 + Int(input[0])
    let rounds = 1 + Int(input[0] >> 5)
    budget = 100_000
    guard let buffers = HubHTTPSBuffers.allocate(request: 1_024, responseHeaders: 512, body: bodySize, identity: 512) else {
        fuzzFail("out of memory")
    }
    defer { buffers.deallocate() }
    let platform = FakePlatform()
    let transport = ScriptTransport(script: UnsafeRawBufferPointer(rebasing: input[1...]), platform: platform)
    let client: HubClient<HTTPSFace<ScriptTransport, FakePlatform>>
    do throws(HubError) {
        let cs = UnsafeMutableRawBufferPointer.allocate(byteCount: connectionString.count, alignment: 1)
        defer { cs.deallocate() }
        cs.copyBytes(from: connectionString)
        let configuration: HubConfiguration
        do throws(HubError) {
            configuration = try HubConfiguration(connectionString: UnsafeRawBufferPointer(cs), storage: cs)
        } catch {
            fuzzFail("configuration: \(error)")
        }
        client = try HubClient(configuration: configuration, transport: transport, platform: platform, crypto: MbedTLSCrypto(), buffers: buffers)
    } catch {
        fuzzFail("client init: \(error)")
    }
    let bodyStart = UnsafeRawPointer(buffers.body.baseAddress!)
    func inBody(_ view: UnsafeRawBufferPointer) -> Bool {
        guard view.count > 0, let base = view.baseAddress else { return true }
        return base >= bodyStart && base + view.count <= bodyStart + bodySize
    }
    let interval = UInt64(C2DPollingPolicy.minimumIntervalSeconds) * 1000
    for _ in 0..<rounds {
        payload.withUnsafeBytes { p in _ = try? client.sendTelemetry(p) }
        do throws(HubError) {
            if let message = try client.receive() {
                check(inBody(message.payload), "C2D payload outside the body buffer")
                var sum = 0
                for byte in message.payload { sum &+= Int(byte) }
                check(message.propertyBag == nil && message.headers != nil, "HTTPS message without headers")
                guard let lock = message.lockToken else { check(false, "HTTPS message without lock token"); continue }
                lock.withBytes { bytes in
                    check(bytes.count >= 1 && bytes.count <= C2DLockToken.capacity, "lock token length")
                    for byte in bytes { sum &+= Int(byte) }
                }
                // The shared property readers never fail on headers (they throw only for MQTT bags).
                let scratch = UnsafeMutableRawBufferPointer(start: nil, count: 0)
                do throws(PropertyBagError) {
                    if let id = try message.systemProperty(.messageID, scratch: scratch) { sum &+= id.count }
                    try message.forEachApplicationProperty(scratch: scratch) { name, value in sum &+= name.count &+ value.count }
                } catch {
                    check(false, "reading HTTPS headers threw")
                }
                if sum == -1 { print(sum) }
                _ = try? client.complete(message)
            }
        } catch {
            // Any HubError is an acceptable answer to a hostile hub.
        }
        platform.nowMs += interval + 1
        _ = try? client.pollCloudToDevice { message in
            check(inBody(message.payload), "polled payload outside the body buffer")
            return .abandon
        }
        // The next poll is never further away than the interval or a Retry-After (at most
        // the largest integer a header can carry, in seconds).
        check(client.nextPollInMs <= max(interval, UInt64(Int32.max) * 1000 + interval), "next poll too far")
        platform.nowMs += interval + 1
        if client.nextPollInMs > 0 { client.resume() }
    }
    return 0
}
