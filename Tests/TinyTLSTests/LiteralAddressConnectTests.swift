import CTestSupport
import CTinyPlatform
import Glibc
import Testing

/// `tp_tcp_connect` given a literal address connects without the resolver: it allocates
/// nothing (glibc's getaddrinfo keeps about 5.6 KB of NSS state for the rest of the process),
/// for IPv4 and IPv6, and a refused literal is still reported as refused.
@Suite struct LiteralAddressConnectTests {
    /// A loopback socket of `family` listening on a port the kernel chose, or nil when the
    /// host has no such loopback address (IPv6 switched off).
    static func listener(family: Int32) -> (descriptor: Int32, port: UInt16)? {
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var storage = sockaddr_storage()
        var length: socklen_t
        if family == AF_INET {
            withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    address.pointee.sin_family = sa_family_t(AF_INET)
                    address.pointee.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
                }
            }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        } else {
            withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    address.pointee.sin6_family = sa_family_t(AF_INET6)
                    address.pointee.sin6_addr = in6addr_loopback
                }
            }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        }
        let bound = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 }
        }
        guard bound, listen(descriptor, 4) == 0 else { close(descriptor); return nil }
        let named = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) == 0 }
        }
        guard named else { close(descriptor); return nil }
        // sin_port and sin6_port sit at the same offset, in network byte order.
        let port = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
        return (descriptor, port)
    }

    static let hasIPv6Loopback: Bool = {
        guard let server = listener(family: AF_INET6) else { return false }
        close(server.descriptor)
        return true
    }()

    /// Connects to `host` (a C string made before counting) and returns the result, the
    /// descriptor and the number of allocations the call made on this thread.
    func connect(_ host: [CChar], port: UInt16) -> (result: Int32, descriptor: Int32, allocations: UInt64) {
        var descriptor: Int32 = -1
        var error: Int32 = 0
        let before = cts_thread_allocations()
        let result = host.withUnsafeBufferPointer { tp_tcp_connect($0.baseAddress, port, 5_000, &descriptor, &error) }
        return (result, descriptor, cts_thread_allocations() - before)
    }

    /// Connects to the literal `host` of a listener of `family` and expects success without
    /// an allocation; the listener accepts the connection.
    func expectConnectsWithoutAllocating(_ host: String, family: Int32) throws {
        let server = try #require(Self.listener(family: family))
        defer { close(server.descriptor) }
        let outcome = connect(Array(host.utf8CString), port: server.port)
        #expect(outcome.result == Int32(TP_OK))
        #expect(outcome.allocations == 0)
        let accepted = accept(server.descriptor, nil, nil)
        #expect(accepted >= 0)
        close(accepted)
        close(outcome.descriptor)
    }

    @Test func anIPv4LiteralConnectsWithoutAllocating() throws {
        try expectConnectsWithoutAllocating("127.0.0.1", family: AF_INET)
    }

    @Test(.enabled(if: hasIPv6Loopback, "this host has no IPv6 loopback"))
    func anIPv6LiteralConnectsWithoutAllocating() throws {
        try expectConnectsWithoutAllocating("::1", family: AF_INET6)
    }

    @Test func aRefusedLiteralIsReportedAsRefused() throws {
        // A port that was listening a moment ago and is closed now: nothing accepts there.
        let server = try #require(Self.listener(family: AF_INET))
        close(server.descriptor)
        let outcome = connect(Array("127.0.0.1".utf8CString), port: server.port)
        #expect(outcome.result == Int32(TP_ERR_REFUSED))
        #expect(outcome.allocations == 0)
    }
}
