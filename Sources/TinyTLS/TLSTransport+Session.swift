import CMbedTLS
import TinyPlatform

// Session resumption (RFC 5246 §7.3; tickets, RFC 5077, where mbedTLS and the server both have
// them): the session of the last handshake is offered to the next, in this run or, through
// `storedSession` / `restoreSession`, in a later one.
extension TLSTransport {
    /// The stored session as a record an application may keep (in a file, flash...) and give to
    /// `restoreSession` in a later run: the session of the last completed handshake, bound to
    /// this transport's host and port. Empty when there is none (resumption off, or the session
    /// did not fit `TLSConfiguration.sessionCacheBytes`). The bytes stay valid until the next
    /// `open`, `restoreSession` or `forgetSession`.
    ///
    /// The record holds the session's master secret: keep it as private as the device's key.
    public var storedSession: UnsafeRawBufferPointer { contexts.session.record }

    /// Takes a record from `storedSession` (of an earlier run) to offer at the next `open`.
    /// A record for another host or port, one too large for `TLSConfiguration.sessionCacheBytes`
    /// or one that is not a record at all is not taken. A record taken here that mbedTLS then
    /// refuses, or that the server does not resume, costs a full handshake, never an error.
    ///
    /// - Parameter record: The bytes `storedSession` gave.
    /// - Returns: Whether the record was taken.
    @discardableResult
    public func restoreSession(_ record: UnsafeRawBufferPointer) -> Bool {
        host.withUTF8 { contexts.session.restore(record, host: UnsafeRawBufferPointer($0), port: port) }
    }

    /// Drops the stored session (its bytes are zeroed): the next handshake is a full one. For
    /// example after the device's identity changed, as a resumed session keeps the old one.
    public func forgetSession() {
        contexts.session.forget()
    }

    /// Hands the stored session to mbedTLS for the coming handshake. Returns whether one was
    /// offered; a record mbedTLS cannot load is forgotten.
    func offerStoredSession() -> Bool {
        offeredMaster.clear()
        guard let serialization = host.withUTF8({ contexts.session.serialization(host: UnsafeRawBufferPointer($0), port: port) }) else {
            return false
        }
        var session = mbedtls_ssl_session()
        mbedtls_ssl_session_init(&session)
        defer { mbedtls_ssl_session_free(&session) } // zeroes it, master secret included
        guard mbedtls_ssl_session_load(&session, serialization.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                       serialization.count) == 0,
              mbedtls_ssl_set_session(contexts.ssl, &session) == 0 else {
            contexts.session.forget()
            return false
        }
        offeredMaster.set(session.master)
        return true
    }
}

/// A copy of the offered session's master secret, to tell after the handshake whether the
/// server resumed it: a resumed session keeps its master secret, a full handshake derives a new
/// one from fresh randoms (RFC 5246 §8.1).
struct OfferedMaster {
    private var secret: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0) // 48 bytes
    private var present = false

    /// Keeps a copy of `master`.
    ///
    /// - Parameter master: The offered session's master secret.
    mutating func set(_ master: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                                 UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                                 UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                                 UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)) {
        var source = master
        withUnsafeMutableBytes(of: &secret) { target in
            withUnsafeBytes(of: &source) { target.copyMemory(from: $0) }
        }
        withUnsafeMutableBytes(of: &source) { zeroize($0) }
        present = true
    }

    /// Whether a secret is kept and the session of `ssl` has the same one.
    ///
    /// - Parameter ssl: The context whose handshake just completed.
    func matches(_ ssl: UnsafeMutablePointer<mbedtls_ssl_context>) -> Bool {
        guard present, let session = ssl.pointee.session else { return false }
        var kept = secret
        var now = session.pointee.master
        let same = withUnsafeBytes(of: &kept) { a in withUnsafeBytes(of: &now) { b in a.elementsEqual(b) } }
        withUnsafeMutableBytes(of: &kept) { zeroize($0) }
        withUnsafeMutableBytes(of: &now) { zeroize($0) }
        return same
    }

    /// Zeroes the copy.
    mutating func clear() {
        withUnsafeMutableBytes(of: &secret) { zeroize($0) }
        present = false
    }
}
