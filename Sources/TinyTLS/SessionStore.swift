import CMbedTLS
import TinyPlatform

/// The TLS session a `TLSTransport` offers to resume on its next handshake (RFC 5246 §7.3,
/// the abbreviated handshake: no certificate, no key exchange), kept in a buffer allocated
/// once at init.
///
/// A stored session is a record: `TTS1` (4 bytes), the host name's length (1 byte), the host
/// name, the port (2 bytes, big-endian), then mbedTLS's serialization of the session
/// (`mbedtls_ssl_session_save`: session id or ticket, master secret, cipher suite, and with
/// Debian's build the server's certificate). The host and port bind a record to one server: a
/// record for any other is never offered. mbedTLS checks that the serialization comes from the
/// same mbedTLS version and configuration when it loads it; anything it refuses is dropped and
/// the handshake is a full one.
///
/// The record holds the session's master secret: whoever can write it can impersonate the
/// server to this client for as long as the server would resume it. Storage outside the
/// process must be as private as the device's key.
struct SessionStore {
    private let storage: UnsafeMutableRawBufferPointer
    private var length = 0

    /// The record's first four bytes.
    static let magic: (UInt8, UInt8, UInt8, UInt8) = (0x54, 0x54, 0x53, 0x31) // "TTS1"

    /// A store over `storage` (owned by the caller); capacity 0 turns resumption off.
    ///
    /// - Parameter storage: Room for one record.
    init(storage: UnsafeMutableRawBufferPointer) {
        self.storage = storage
    }

    /// Whether there is room for a record at all (resumption on).
    var isEnabled: Bool { storage.count > 0 }

    /// The stored record (empty when there is none).
    var record: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[0..<length]) }

    /// Drops the stored record (its bytes are zeroed).
    mutating func forget() {
        zeroize(UnsafeMutableRawBufferPointer(rebasing: storage[0..<length]))
        length = 0
    }

    /// Stores `record` when it is one for `host:port` and fits; otherwise keeps nothing.
    ///
    /// - Parameters:
    ///   - record: A record as `record` gave it (from this run or an earlier one).
    ///   - host: The server's name.
    ///   - port: The server's port.
    /// - Returns: Whether it was stored.
    mutating func restore(_ record: UnsafeRawBufferPointer, host: UnsafeRawBufferPointer, port: UInt16) -> Bool {
        forget()
        guard record.count <= storage.count, Self.serialization(in: record, host: host, port: port) != nil else { return false }
        storage.baseAddress!.copyMemory(from: record.baseAddress!, byteCount: record.count)
        length = record.count
        return true
    }

    /// mbedTLS's serialization inside the stored record, when it is for `host:port`.
    ///
    /// - Parameters:
    ///   - host: The server's name.
    ///   - port: The server's port.
    /// - Returns: The serialization, nil when nothing is stored for this server.
    func serialization(host: UnsafeRawBufferPointer, port: UInt16) -> UnsafeRawBufferPointer? {
        Self.serialization(in: record, host: host, port: port)
    }

    /// Stores the session of `ssl` (after a completed handshake) as the record for `host:port`;
    /// keeps nothing when it does not fit or there is no session.
    ///
    /// - Parameters:
    ///   - ssl: The mbedTLS context whose handshake just completed.
    ///   - host: The server's name.
    ///   - port: The server's port.
    mutating func save(from ssl: UnsafeMutablePointer<mbedtls_ssl_context>, host: UnsafeRawBufferPointer, port: UInt16) {
        forget()
        let prefix = 4 + 1 + host.count + 2
        guard host.count <= 255, storage.count > prefix, let session = mbedtls_ssl_get_session_pointer(ssl) else { return }
        let base = storage.baseAddress!
        var written = 0
        let result = mbedtls_ssl_session_save(session, base.assumingMemoryBound(to: UInt8.self) + prefix,
                                              storage.count - prefix, &written)
        guard result == 0, written > 0, written <= storage.count - prefix else {
            zeroize(UnsafeMutableRawBufferPointer(rebasing: storage[prefix...]))
            return
        }
        storage[0] = Self.magic.0
        storage[1] = Self.magic.1
        storage[2] = Self.magic.2
        storage[3] = Self.magic.3
        storage[4] = UInt8(host.count)
        if host.count > 0 { (base + 5).copyMemory(from: host.baseAddress!, byteCount: host.count) }
        storage[5 + host.count] = UInt8(port >> 8)
        storage[6 + host.count] = UInt8(port & 0xFF)
        length = prefix + written
    }

    /// The serialization in `record` when its header names `host:port`, nil otherwise (also for
    /// a record too short to have one).
    private static func serialization(in record: UnsafeRawBufferPointer, host: UnsafeRawBufferPointer,
                                      port: UInt16) -> UnsafeRawBufferPointer? {
        let prefix = 4 + 1 + host.count + 2
        guard record.count > prefix, record[0] == magic.0, record[1] == magic.1, record[2] == magic.2, record[3] == magic.3,
              Int(record[4]) == host.count else { return nil }
        for i in 0..<host.count where record[5 + i] != host[i] { return nil }
        guard record[5 + host.count] == UInt8(port >> 8), record[6 + host.count] == UInt8(port & 0xFF) else { return nil }
        return UnsafeRawBufferPointer(rebasing: record[prefix...])
    }
}
