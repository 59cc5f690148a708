import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Small POSIX socket helpers for the harness (IPv4 loopback only).
enum Loopback {
    static func address(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian // 127.0.0.1
        return address
    }

    /// A TCP socket bound to 127.0.0.1:`port` (0 = kernel's choice). Returns the fd and the bound port.
    static func bind(port: UInt16 = 0, listen backlog: Int32? = nil) throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket() failed: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Loopback.address(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            let error = errno
            close(fd)
            throw HarnessError("bind(127.0.0.1:\(port)) failed: errno \(error)")
        }
        if let backlog, Glibc.listen(fd, backlog) != 0 {
            let error = errno
            close(fd)
            throw HarnessError("listen() failed: errno \(error)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: actual.sin_port))
    }

    /// A loopback port that was free a moment ago (bind to port 0, read it, close).
    /// Another process may take it before it is used: callers that start servers retry.
    static func freePort() throws -> UInt16 {
        let (fd, port) = try bind(port: 0)
        close(fd)
        return port
    }

    /// A blocking TCP connection to 127.0.0.1:`port`, or nil if refused.
    static func connect(port: UInt16) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = Loopback.address(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port` right now.
    static func accepts(port: UInt16) -> Bool {
        guard let fd = connect(port: port) else { return false }
        close(fd)
        return true
    }

    /// accept() with close-on-exec set (accept4 is not visible from Swift without _GNU_SOURCE;
    /// ChildProcess also closes inherited descriptors, which covers the short window).
    static func accept(_ listenFD: Int32) -> Int32 {
        let fd = Glibc.accept(listenFD, nil, nil)
        if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return fd
    }

    /// Sets SO_LINGER {on, 0} so that close() sends RST instead of FIN.
    static func setAbortiveClose(_ fd: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }
}
