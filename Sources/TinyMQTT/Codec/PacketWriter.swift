/// Writes MQTT fields into a caller-owned buffer, checking every length against it.
/// The encoder functions compute the exact size first, so a full packet either fits or
/// fails with `bufferTooSmall` before anything is written.
struct PacketWriter {
    let buffer: UnsafeMutableRawBufferPointer
    private(set) var position = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    /// Bytes needed for the remaining-length field of a value (§2.2.3).
    static func remainingLengthSize(_ value: Int) -> Int {
        value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4
    }

    /// Largest remaining length MQTT can express in four bytes.
    static let maxRemainingLength = 268_435_455

    /// Checks the whole packet fits, then writes the fixed header.
    mutating func beginPacket(firstByte: UInt8, remainingLength: Int) throws(MQTTCodecError) {
        guard remainingLength <= PacketWriter.maxRemainingLength else { throw .fieldTooLong }
        let total = 1 + PacketWriter.remainingLengthSize(remainingLength) + remainingLength
        guard total <= buffer.count else { throw .bufferTooSmall(needed: total) }
        byte(firstByte)
        var value = remainingLength
        repeat {
            var digit = UInt8(value & 0x7F)
            value >>= 7
            if value > 0 { digit |= 0x80 }
            byte(digit)
        } while value > 0
    }

    // The writes below are only called after beginPacket checked the total size.

    mutating func byte(_ value: UInt8) {
        buffer[position] = value
        position += 1
    }

    mutating func uint16(_ value: UInt16) {
        byte(UInt8(value >> 8))
        byte(UInt8(value & 0xFF))
    }

    mutating func bytes(_ data: UnsafeRawBufferPointer) {
        guard data.count > 0 else { return }
        UnsafeMutableRawBufferPointer(rebasing: buffer[position..<(position + data.count)])
            .copyMemory(from: data)
        position += data.count
    }

    /// A two-byte length followed by the bytes (§1.5.3 strings, §3.1.3.3 binary data).
    mutating func lengthPrefixed(_ data: UnsafeRawBufferPointer) {
        uint16(UInt16(data.count))
        bytes(data)
    }
}

extension UnsafeRawBufferPointer {
    /// Throws unless the field fits a two-byte MQTT length prefix.
    func checkedFieldSize() throws(MQTTCodecError) -> Int {
        guard count <= 65_535 else { throw .fieldTooLong }
        return 2 + count
    }
}
