/// CRC-32 as in zlib, PNG and Ethernet (IEEE 802.3: reflected polynomial 0xEDB88320, initial
/// value and final XOR 0xFFFFFFFF; "123456789" gives 0xCBF43926), four bits at a time from a
/// 16-entry table: small code, no heap, no large table in the binary.
enum CRC32 {
    private static let table: InlineArray<16, UInt32> = [
        0x0000_0000, 0x1DB7_1064, 0x3B6E_20C8, 0x26D9_30AC, 0x76DC_4190, 0x6B6B_51F4, 0x4DB2_6158, 0x5005_713C,
        0xEDB8_8320, 0xF00F_9344, 0xD6D6_A3E8, 0xCB61_B38C, 0x9B64_C2B0, 0x86D3_D2D4, 0xA00A_E278, 0xBDBD_F21C,
    ]

    /// The running state before any byte.
    static let start: UInt32 = 0xFFFF_FFFF

    /// Feeds `bytes` into a running state (begin with `start`, end with `finish`).
    static func update(_ state: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = state
        for byte in bytes {
            crc ^= UInt32(byte)
            crc = (crc >> 4) ^ table[Int(crc & 0x0F)]
            crc = (crc >> 4) ^ table[Int(crc & 0x0F)]
        }
        return crc
    }

    /// The checksum of a running state.
    static func finish(_ state: UInt32) -> UInt32 { state ^ 0xFFFF_FFFF }

    /// The checksum of `bytes`.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 { finish(update(start, bytes)) }
}
