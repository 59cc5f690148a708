import CTinyPlatform

/// A fixed buffer between mbedTLS and the socket, so that a burst of TLS records costs one
/// `recv` instead of two per record.
///
/// mbedTLS 2.28 asks its receive callback for exactly what it needs next: the 5-byte record
/// header, then the record's body (`mbedtls_ssl_fetch_input`). Without this buffer every record
/// is two system calls, even when the kernel already holds ten records. `read` instead fills
/// the buffer with one call when it is empty and serves the next requests from it; a request at
/// least as large as the buffer, with nothing buffered, goes straight to the socket into the
/// caller's memory (no copy, no read past what was asked).
///
/// Correctness rules:
/// - Bytes are handed out in order, each exactly once; what mbedTLS does not ask for stays for
///   its next request (a later record, or the rest of this one).
/// - A failure or end of stream is reported only once every buffered byte was handed out: a
///   record that arrived before a reset is still read.
/// - Nothing waits while bytes are buffered: `fill` (the only call that may wait) runs only
///   when the buffer is empty. Readiness is never asked of the socket while data is buffered.
/// - `reset` drops what is buffered (a new connection must not see the old one's bytes).
///
/// The storage is allocated once by the owner (`MbedTLSContexts`) and never grows; capacity 0
/// turns the buffer off (every request goes straight to `fill`).
struct ReadAhead {
    private let storage: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0

    /// A read-ahead over `storage` (owned by the caller, which frees it).
    ///
    /// - Parameter storage: The buffer; its size is the most one `fill` reads.
    init(storage: UnsafeMutableRawBufferPointer) {
        self.storage = storage
    }

    /// Bytes received and not yet handed out.
    var buffered: Int { end - start }

    /// The buffer's size.
    var capacity: Int { storage.count }

    /// Forgets what is buffered.
    mutating func reset() {
        start = 0
        end = 0
    }

    /// Hands out up to `destination.count` bytes: buffered ones first (without calling `fill`);
    /// with none buffered, one `fill`.
    ///
    /// - Parameters:
    ///   - destination: Where the bytes go.
    ///   - fill: Reads from the socket into the buffer it is given and returns the count (> 0,
    ///     at most the buffer's size), or a code <= 0 (the platform shim's `TP_ERR_*`) that
    ///     `read` returns as is. A count larger than the buffer is `TP_ERR_IO`.
    /// - Returns: The count handed out (> 0), or `fill`'s code (<= 0). 0 for an empty destination.
    mutating func read(into destination: UnsafeMutableRawBufferPointer,
                       fill: (UnsafeMutableRawBufferPointer) -> Int64) -> Int64 {
        guard destination.count > 0 else { return 0 }
        if start == end {
            reset()
            if destination.count >= storage.count {
                // As large as the buffer or larger: read straight into the destination.
                let n = fill(destination)
                return n > Int64(destination.count) ? ioFailure : n
            }
            let n = fill(storage)
            if n <= 0 { return n }
            guard n <= Int64(storage.count) else { return ioFailure }
            end = Int(n)
        }
        let count = min(destination.count, end - start)
        destination.baseAddress?.copyMemory(from: storage.baseAddress! + start, byteCount: count)
        start += count
        return Int64(count)
    }

    /// Whether the buffered bytes begin with a whole TLS record of content type `type`: its
    /// 5-byte header (type, version, 16-bit length; RFC 5246 §6.2.1) and all of its fragment.
    /// mbedTLS can then read that record without asking the socket for anything.
    ///
    /// - Parameters:
    ///   - type: The content type (23 for application data).
    ///   - overhead: Bytes of the fragment that carry no content (explicit nonce and tag): a
    ///     fragment no longer than this is an empty record, which mbedTLS skips to read the next
    ///     one, from the socket if need be; it does not count.
    /// - Returns: True when the whole record is buffered and carries content.
    func startsWithWholeRecord(ofType type: UInt8, overhead: Int = 0) -> Bool {
        let count = end - start
        guard count >= 5, let base = storage.baseAddress else { return false }
        let header = UnsafeRawPointer(base + start)
        guard header.load(as: UInt8.self) == type else { return false }
        let length = Int(header.load(fromByteOffset: 3, as: UInt8.self)) << 8 | Int(header.load(fromByteOffset: 4, as: UInt8.self))
        return length > overhead && count - 5 >= length
    }

    /// The shim's generic I/O failure, for a `fill` that claims more than it was given room for.
    private var ioFailure: Int64 { Int64(TP_ERR_IO) }
}
