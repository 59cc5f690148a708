import CMbedTLS
import CTinyPlatform

/// mbedTLS pulls and pushes bytes through these (mbedtls_ssl_set_bio). The deadline comes
/// from `BIOState.deadlineMs`, set once by `TLSTransport` per call, so every read and write
/// mbedTLS makes within one handshake, send or receive shares it: a peer that trickles bytes
/// cannot stretch the call. mbedTLS's own per-read timeout (`read_timeout`, the callback's
/// last argument) is not configured and not used.
enum BIOCallbacks {
    static let send: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<UInt8>?, Int) -> Int32 = { context, buffer, length in
        guard let state = context?.assumingMemoryBound(to: BIOState.self) else { return MBEDTLS_ERR_NET_INVALID_CONTEXT }
        var err: Int32 = 0
        let n = tp_send_all_by(state.pointee.descriptor, buffer, length, state.pointee.deadlineMs, &err)
        if n >= 0 { return Int32(clamping: n) }
        return failure(state, code: n, errno: err, otherwise: MBEDTLS_ERR_NET_SEND_FAILED)
    }

    /// mbedTLS asks for exactly what it needs next (a record header, then the body); the
    /// read-ahead answers from what one earlier `recv` brought when it can (`ReadAhead`).
    static let receive: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int, UInt32) -> Int32 = { context, buffer, length, _ in
        guard let state = context?.assumingMemoryBound(to: BIOState.self) else { return MBEDTLS_ERR_NET_INVALID_CONTEXT }
        let descriptor = state.pointee.descriptor
        let deadline = state.pointee.deadlineMs
        var slice = state.pointee.receiveSliceMs
        var err: Int32 = 0
        // mbedTLS never asks for more than its 16 KB input buffer: the count fits an Int32.
        let destination = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(buffer), count: buffer == nil ? 0 : min(max(0, length), Int(Int32.max)))
        // A wait happens inside recv (tp_recv_wait): one system call when bytes come.
        let n = state.pointee.readAhead.read(into: destination) { chunk in
            tp_recv_wait(descriptor, chunk.baseAddress, chunk.count, deadline, &slice, &err)
        }
        state.pointee.receiveSliceMs = slice
        if n > 0 { return Int32(clamping: n) }
        return failure(state, code: n, errno: err, otherwise: MBEDTLS_ERR_NET_RECV_FAILED)
    }

    /// Remembers the shim's result (so `TLSTransport` can report the real cause) and maps it
    /// to the mbedTLS code: timeout, connection reset, or `otherwise`.
    private static func failure(_ state: UnsafeMutablePointer<BIOState>, code: Int64, errno: Int32, otherwise: Int32) -> Int32 {
        state.pointee.lastCode = code
        state.pointee.lastErrno = errno
        switch code {
        case Int64(TP_ERR_TIMEOUT): return MBEDTLS_ERR_SSL_TIMEOUT
        case Int64(TP_ERR_CLOSED): return MBEDTLS_ERR_NET_CONN_RESET
        default: return otherwise
        }
    }

    /// mbedTLS's random generator (the ClientHello random, ECDHE keys and their blinding):
    /// the kernel's generator, getrandom(), called directly. No DRBG context (392 bytes of
    /// heap per transport) and no mbedtls_entropy_context (38 KB); a handshake draws a few
    /// hundred bytes in a few dozen calls.
    static let random: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int) -> Int32 = { _, buffer, length in
        tp_random(buffer, length) == Int32(TP_OK) ? 0 : MBEDTLS_ERR_ENTROPY_SOURCE_FAILED
    }
}
