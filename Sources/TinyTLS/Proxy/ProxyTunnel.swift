import CTinyPlatform
import TinyPlatform

/// The CONNECT exchange of a `TLSTransport` that goes through an HTTP proxy: after the TCP
/// connect to the proxy, `open` sends the request and reads the answer, on the same socket and
/// within the same deadline as the rest of `TLSTransport.open`. A proxy that trickles its
/// answer or never ends it runs into that deadline (`.timeout`); one that answers too much
/// fills the header buffer (`.proxyInvalidResponse`).
///
/// Memory: one allocation at init (the request, credentials included, then a 1 KB header
/// buffer and a 256-byte receive buffer), zeroed and freed by `release`; none per `open`.
struct ProxyTunnel {
    /// The largest answer head accepted, status line included.
    static let headBytes = 1_024
    /// How much of the answer is read per socket read.
    static let receiveBytes = 256

    private let storage: UnsafeMutableRawBufferPointer
    private let requestLength: Int

    /// Builds the CONNECT request for `host:port` through `proxy`. Throws `invalidConfiguration`
    /// for a host or credentials that cannot go into it, `outOfMemory` when its buffer does not fit.
    init(destination host: String, port: UInt16, proxy: ProxyConfiguration) throws(TransportError) {
        let credentialCount = try ProxyConnectRequest.credentialCount(proxy.credentials)
        var name = host
        let capacity = ProxyConnectRequest.capacity(hostCount: name.utf8.count, credentialCount: credentialCount)
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity + Self.headBytes + Self.receiveBytes, alignment: 8)
        guard storage.baseAddress != nil else { throw .outOfMemory }
        var failure: TransportError? = nil
        let length = name.withUTF8 { utf8 -> Int in
            do throws(TransportError) {
                return try ProxyConnectRequest.write(into: UnsafeMutableRawBufferPointer(rebasing: storage[0..<capacity]),
                                                     host: UnsafeRawBufferPointer(utf8), port: port, credentials: proxy.credentials)
            } catch {
                failure = error
                return 0
            }
        }
        if let failure {
            zeroize(storage)
            storage.deallocate()
            throw failure
        }
        self.storage = storage
        requestLength = length
    }

    /// The request as it goes on the wire.
    var request: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[0..<requestLength]) }

    /// Sends the request on the socket `descriptor` (connected to the proxy) and reads the answer
    /// until the tunnel is open, all before `deadline` (monotonic ms). Throws the socket's failure
    /// (`.timeout` once the deadline passes, `.closed` when the proxy hangs up before answering),
    /// `proxyRefused(status)` or `proxyInvalidResponse`.
    func open(descriptor: Int32, deadline: UInt64) throws(TransportError) {
        var err: Int32 = 0
        let sent = tp_send_all_by(descriptor, storage.baseAddress, requestLength, deadline, &err)
        if sent < 0 { throw TCPTransport.error(code: sent, errno: err) }
        let headStart = storage.count - Self.headBytes - Self.receiveBytes
        let head = UnsafeMutableRawBufferPointer(rebasing: storage[headStart..<(headStart + Self.headBytes)])
        let chunk = UnsafeMutableRawBufferPointer(rebasing: storage[(headStart + Self.headBytes)...])
        var answer = ProxyAnswer(headerBuffer: head)
        while true {
            // A proxy that never lets a read wait (endless 1xx answers) still meets the deadline.
            guard tp_remaining_ms(deadline) != 0 else { throw .timeout }
            let n = tp_recv_by(descriptor, chunk.baseAddress, chunk.count, deadline, &err)
            if n <= 0 { throw TCPTransport.error(code: n, errno: err) }
            if try answer.feed(UnsafeRawBufferPointer(rebasing: chunk[0..<Int(n)])) { return }
        }
    }

    /// Zeroes the request (it holds the Base64 credentials) and frees the buffer.
    func release() {
        zeroize(storage)
        storage.deallocate()
    }
}
