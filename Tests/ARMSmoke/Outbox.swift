// The outbox's record code on the target: the documented bytes (checkpoint, record header,
// CRC-32 checked against this file's own bit-by-bit CRC), recovery of what a first outbox
// stored, a store cut at every byte offset and every bit of the records flipped (recovery
// returns exactly the whole, intact records before the damage), and a full store refusing
// more. Messages go through a HubClient whose transport never connects: the outbox stores
// and queues them without a network.
import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// A transport that never connects.
final class OfflineTransport: Transport {
    func open(timeoutMs: Int32) throws(TransportError) { throw .connectionRefused }
    func send(_ bytes: UnsafeRawBufferPointer, timeoutMs: Int32) throws(TransportError) { throw .closed }
    func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMs: Int32) throws(TransportError) -> Int { throw .closed }
    func close() {}
    var isOpen: Bool { false }
}

/// CRC-32 (IEEE, reflected) one bit at a time: this test's own, not the library's table.
func bitwiseCRC32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

func littleEndian(_ bytes: UnsafeMutableRawBufferPointer, _ offset: Int, _ count: Int) -> UInt64 {
    var value: UInt64 = 0
    for i in 0..<count { value |= UInt64(bytes[offset + i]) << UInt64(8 * i) }
    return value
}

/// Messages recovered by a new outbox over `region`, or -1 when opening it threw.
func recoveredCount(_ region: UnsafeMutableRawBufferPointer, _ buffers: OutboxBuffers) -> Int {
    do throws(OutboxError) {
        return try TelemetryOutbox(storage: OutboxMemoryStorage(region: region), buffers: buffers).recoveredCount
    } catch {
        return -1
    }
}

func outboxSmoke(_ check: (Bool, StaticString) -> Void) {
    let capacity = 1_024
    let region = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
    defer { region.deallocate(); scratch.deallocate() }
    for i in 0..<capacity { region[i] = 0 }
    guard let hubBuffers = HubBuffers.allocate(maxMessage: 256, receive: 512, window: 4),
          let outboxBuffers = OutboxBuffers.allocate(maxMessage: 256, window: 4) else {
        check(false, "outbox: buffers allocated")
        return
    }
    defer { hubBuffers.deallocate(); outboxBuffers.deallocate() }
    let client: HubClient<MQTTFace<OfflineTransport, SystemPlatform>>
    do throws(HubError) {
        let configuration = try HubConfiguration(connectionString: bytes("HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="),
                                                 storage: hubBuffers.identity)
        client = try HubClient(configuration: configuration,
                               transport: OfflineTransport(), platform: SystemPlatform(), crypto: MbedTLSCrypto(), buffers: hubBuffers)
    } catch {
        check(false, "outbox: hub client set up")
        return
    }

    // Three messages: "%24.mid=m-N" (11 bytes) and `{"n":N}` (7 bytes), 38-byte records at 128, 166, 204.
    let ids: [StaticString] = ["m-1", "m-2", "m-3"]
    let payloads: [StaticString] = ["{\"n\":1}", "{\"n\":2}", "{\"n\":3}"]
    do throws(OutboxError) {
        let outbox = try TelemetryOutbox(storage: OutboxMemoryStorage(region: region), buffers: outboxBuffers)
        check(outbox.recoveredCount == 0, "outbox: a fresh store recovers nothing")
        for i in 0..<3 {
            var system = TelemetrySystemProperties()
            system.messageID = bytes(ids[i])
            try outbox.send(bytes(payloads[i]), system: system, through: client)
        }
        check(outbox.pendingCount == 3, "outbox: three messages stored (queued while offline)")
    } catch {
        check(false, "outbox: three messages stored (queued while offline)")
        return
    }
    let recordBytes = 16 + 11 + 7 + 4
    let end = 128 + 3 * recordBytes

    // The documented bytes, and CRC-32 as computed here.
    let slot = UnsafeRawBufferPointer(rebasing: region[0..<32])
    check(same(UnsafeRawBufferPointer(rebasing: region[0..<4]), "TBOX") && region[4] == 1
          && littleEndian(region, 16, 4) == UInt64(capacity) && littleEndian(region, 32, 4) == UInt64(bitwiseCRC32(slot)),
          "outbox: checkpoint magic, version, capacity, CRC-32")
    var recordsOK = true
    for i in 0..<3 {
        let at = 128 + i * recordBytes
        let body = UnsafeRawBufferPointer(rebasing: region[at..<(at + recordBytes - 4)])
        recordsOK = recordsOK && region[at] == 0x4D && region[at + 1] == 0 && littleEndian(region, at + 2, 2) == 11
            && littleEndian(region, at + 4, 4) == 7 && littleEndian(region, at + 8, 8) == UInt64(i + 1)
            && same(UnsafeRawBufferPointer(rebasing: region[(at + 16)..<(at + 24)]), "%24.mid=")
            && same(UnsafeRawBufferPointer(rebasing: region[(at + 27)..<(at + 34)]), payloads[i])
            && littleEndian(region, at + 34, 4) == UInt64(bitwiseCRC32(body))
    }
    check(recordsOK, "outbox: records are header + bag + payload + CRC-32 (bit-by-bit CRC agrees)")
    check(recoveredCount(region, outboxBuffers) == 3, "outbox: a new outbox over the store recovers the three")

    // Cut at every byte offset: exactly the whole records before the cut come back.
    var cutsOK = true
    for cut in 0...(end + 8) {
        scratch.copyMemory(from: UnsafeRawBufferPointer(region))
        for i in cut..<capacity { scratch[i] = 0 }
        let whole = cut < 128 ? 0 : min(3, (cut - 128) / recordBytes)
        cutsOK = cutsOK && recoveredCount(scratch, outboxBuffers) == whole
    }
    check(cutsOK, "outbox: a store cut at every byte offset recovers exactly the whole records before the cut")

    // Every bit of the records flipped: recovery stops before the damaged record.
    var flipsOK = true
    for byte in 128..<end {
        for bit in 0..<8 {
            scratch.copyMemory(from: UnsafeRawBufferPointer(region))
            scratch[byte] ^= UInt8(1) << UInt8(bit)
            flipsOK = flipsOK && recoveredCount(scratch, outboxBuffers) == (byte - 128) / recordBytes
        }
    }
    check(flipsOK, "outbox: a flipped bit in a record ends recovery before that record")

    // A full store refuses the next message and keeps the stored ones: 256 bytes hold 3 records.
    let small = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<256])
    for i in 0..<256 { small[i] = 0 }
    var refused = false
    do throws(OutboxError) {
        let outbox = try TelemetryOutbox(storage: OutboxMemoryStorage(region: small), buffers: outboxBuffers)
        for i in 0..<4 {
            var system = TelemetrySystemProperties()
            system.messageID = bytes(ids[i % 3])
            do throws(OutboxError) {
                try outbox.send(bytes(payloads[i % 3]), system: system, through: client)
            } catch {
                if case .full = error { refused = i == 3 && outbox.pendingCount == 3 }
            }
        }
    } catch {
        refused = false
    }
    check(refused && recoveredCount(small, outboxBuffers) == 3, "outbox: a full store refuses the 4th message and keeps the 3")
}
