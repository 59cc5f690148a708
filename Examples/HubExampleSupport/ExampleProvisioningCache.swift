import TinyBytes
import TinyHub
import TinyPlatform

/// The DPS assignment kept between runs (`IOTHUB_DPS_CACHE_FILE`), so a device registers with
/// DPS once rather than on every start (DPS throttles devices that register too often).
///
/// A text file of fixed size (`size` bytes, zero-padded), written whole and synced:
/// ```
/// tinyhub-dps-cache 1
/// {idScope}
/// {registrationId}
/// {assignedHub}
/// {deviceId}
/// {FNV-1a 32 of the five lines above, 8 lowercase hex digits}
/// ```
/// An assignment is used only when the file is intact and names the same ID scope and
/// registration id; anything else (a new file, a torn write, other settings) reads as no cache.
/// No key is stored: the device key comes from the settings each run.
final class ExampleProvisioningCache {
    /// The file's size.
    static let size = 1_024
    private static let header: StaticString = "tinyhub-dps-cache 1\n"
    private let file: StorageFile

    /// Opens (or creates) the file; exits 1 with one line when it cannot.
    init(path: String) {
        do throws(StorageError) {
            file = try StorageFile.open(path: path, size: Self.size)
        } catch {
            ExampleOutput.fail("cannot open IOTHUB_DPS_CACHE_FILE: ", error.summary)
        }
    }

    /// The cached hub and device id for this ID scope and registration id, or nil.
    func read(idScope: UnsafeRawBufferPointer, registrationID: UnsafeRawBufferPointer) -> (hub: String, deviceID: String)? {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.size, alignment: 1)
        defer { buffer.deallocate() }
        do throws(StorageError) {
            try file.read(at: 0, into: buffer)
        } catch {
            Console.write("IOTHUB_DPS_CACHE_FILE: ", to: .err)
            Console.write(error.summary, to: .err)
            Console.write(": provisioning again\n", to: .err)
            return nil
        }
        let bytes = UnsafeRawBufferPointer(buffer)
        var lines: [Range<Int>] = []
        var start = 0
        for index in bytes.indices where bytes[index] == 0x0A {
            lines.append(start..<index)
            start = index + 1
            if lines.count == 6 { break }
        }
        guard lines.count == 6 else { return nil }
        func line(_ n: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[lines[n]]) }
        let header = UnsafeRawBufferPointer(start: Self.header.utf8Start, count: Self.header.utf8CodeUnitCount - 1)
        let body = UnsafeRawBufferPointer(rebasing: bytes[0..<(lines[4].upperBound + 1)])
        var digest = InlineArray<8, UInt8>(repeating: 0)
        Self.writeChecksum(body, into: &digest)
        var checksumMatches = lines[5].count == 8
        for i in 0..<8 where checksumMatches && line(5)[i] != digest[i] { checksumMatches = false }
        guard checksumMatches, line(0).elementsEqual(header), line(1).elementsEqual(idScope), line(2).elementsEqual(registrationID),
              Self.isUsable(hub: line(3), deviceID: line(4)) else { return nil }
        return (String(decoding: line(3), as: UTF8.self), String(decoding: line(4), as: UTF8.self))
    }

    /// Replaces the file's content with this assignment and syncs it. A failure is reported on
    /// stderr and otherwise ignored: the device works, it registers again on its next start.
    func write(idScope: UnsafeRawBufferPointer, registrationID: UnsafeRawBufferPointer, hub: UnsafeRawBufferPointer,
               deviceID: UnsafeRawBufferPointer) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.size, alignment: 1)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        defer { buffer.deallocate() }
        var sink = ByteSink(buffer)
        sink.literal(Self.header)
        for field in [idScope, registrationID, hub, deviceID] {
            sink.bytes(field)
            sink.byte(0x0A)
        }
        var digest = InlineArray<8, UInt8>(repeating: 0)
        Self.writeChecksum(sink.written, into: &digest)
        for i in 0..<8 { sink.byte(digest[i]) }
        sink.byte(0x0A)
        store(sink.overflowed ? nil : UnsafeRawBufferPointer(buffer), failure: "IOTHUB_DPS_CACHE_FILE: the assignment was not kept: ")
    }

    /// Writes `content` (all `size` bytes; nil: it did not fit) and syncs; on failure, one stderr line.
    private func store(_ content: UnsafeRawBufferPointer?, failure: StaticString) {
        do throws(StorageError) {
            guard let content else { throw .outOfRange }
            try file.write(at: 0, content)
            try file.sync()
        } catch {
            Console.write(failure, to: .err)
            Console.write(error.summary, to: .err)
            Console.write("\n", to: .err)
        }
    }

    /// Whether a hub name and device id can go into a connection string as they are: a host
    /// name of letters, digits, `.` and `-`; a device id without `;`, spaces or control bytes.
    static func isUsable(hub: UnsafeRawBufferPointer, deviceID: UnsafeRawBufferPointer) -> Bool {
        guard (1...255).contains(hub.count), (1...128).contains(deviceID.count) else { return false }
        for byte in hub {
            let letter = (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A
            guard letter || (byte >= 0x30 && byte <= 0x39) || byte == 0x2E || byte == 0x2D else { return false }
        }
        for byte in deviceID where byte <= 0x20 || byte >= 0x7F || byte == 0x3B { return false }
        return true
    }

    /// FNV-1a (32 bits) of `bytes` as 8 lowercase hex digits.
    private static func writeChecksum(_ bytes: UnsafeRawBufferPointer, into digits: inout InlineArray<8, UInt8>) {
        var hash: UInt32 = 0x811C_9DC5
        for byte in bytes { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        let hex: StaticString = "0123456789abcdef"
        for i in 0..<8 { digits[i] = hex.utf8Start[Int((hash >> UInt32(28 - 4 * i)) & 0xF)] }
    }
}
