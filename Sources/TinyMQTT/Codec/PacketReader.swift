/// Reads MQTT fields from a received packet body, bounds-checked: running off the end
/// is a `truncated` error, never an out-of-bounds read.
struct PacketReader {
    let buffer: UnsafeRawBufferPointer
    private(set) var position = 0

    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    @inline(__always)
    var remaining: Int { buffer.count - position }

    @inline(__always)
    mutating func byte() throws(MQTTCodecError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated }
        defer { position += 1 }
        return buffer[position]
    }

    @inline(__always)
    mutating func uint16() throws(MQTTCodecError) -> UInt16 {
        guard remaining >= 2 else { throw .truncated }
        defer { position += 2 }
        return UInt16(buffer[position]) << 8 | UInt16(buffer[position + 1])
    }

    @inline(__always)
    mutating func bytes(_ count: Int) throws(MQTTCodecError) -> UnsafeRawBufferPointer {
        guard count >= 0, remaining >= count else { throw .truncated }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: buffer[position..<(position + count)])
    }

    /// A length-prefixed UTF-8 string, validated per §1.5.3.
    mutating func string() throws(MQTTCodecError) -> UnsafeRawBufferPointer {
        let length = Int(try uint16())
        let text = try bytes(length)
        try UTF8Check.validate(text)
        return text
    }

    /// The rest of the body.
    @inline(__always)
    mutating func rest() -> UnsafeRawBufferPointer {
        defer { position = buffer.count }
        return UnsafeRawBufferPointer(rebasing: buffer[position..<buffer.count])
    }
}
