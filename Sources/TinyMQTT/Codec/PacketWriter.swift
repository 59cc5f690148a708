import TinyBytes

/// MQTT's framing sizes (§2.2.3).
enum PacketWriter {
    /// Bytes needed for the remaining-length field of a value (§2.2.3).
    static func remainingLengthSize(_ value: Int) -> Int {
        value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4
    }

    /// Largest remaining length MQTT can express in four bytes.
    static let maxRemainingLength = 268_435_455
}

/// MQTT fields over the package's one bounded writer. The encoder functions compute a packet's
/// exact size first and `beginPacket` checks it all fits, so a packet either fits or fails with
/// `bufferTooSmall` before anything is written (the sink never overflows here).
extension ByteSink {
    /// Checks the whole packet fits, then writes the fixed header.
    mutating func beginPacket(firstByte: UInt8, remainingLength: Int) throws(MQTTCodecError) {
        guard remainingLength <= PacketWriter.maxRemainingLength else { throw .fieldTooLong }
        let total = 1 &+ PacketWriter.remainingLengthSize(remainingLength) &+ remainingLength // at most 268,435,460
        guard count + total <= buffer.count else { throw .bufferTooSmall(needed: count + total) }
        byte(firstByte)
        var value = remainingLength
        repeat {
            var digit = UInt8(value & 0x7F)
            value >>= 7
            if value > 0 { digit |= 0x80 }
            byte(digit)
        } while value > 0
    }

    /// A two-byte length followed by the bytes (§1.5.3 strings, §3.1.3.3 binary data).
    mutating func lengthPrefixed(_ data: UnsafeRawBufferPointer) {
        uint16(UInt16(truncatingIfNeeded: data.count))
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
