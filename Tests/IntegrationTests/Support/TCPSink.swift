import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP server that accepts connections and counts the bytes it receives (never answers).
/// Useful as a FaultProxy target to see exactly what got through.
final class TCPSinkEngine: @unchecked Sendable {
    let port: UInt16
    private let listenFD: Int32
    private let condition = NSCondition()
    private var stopped = false
    private var running = 0
    private var received = 0
    private var accepted = 0

    init() throws {
        let (fd, bound) = try Loopback.bind(port: 0, listen: 16)
        listenFD = fd
        port = bound
        running = 1
        Thread { [self] in acceptLoop() }.start()
    }


    var bytesReceived: Int { condition.lock(); defer { condition.unlock() }; return received }
    var acceptedConnections: Int { condition.lock(); defer { condition.unlock() }; return accepted }

    /// Waits until at least `count` bytes arrived (or timeout); returns the count so far.
    @discardableResult
    func waitForBytes(_ count: Int, timeout: Double = 10) -> Int {
        condition.lock(); defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(timeout)
        while received < count, condition.wait(until: deadline) {}
        return received
    }

    func stop() {
        condition.lock()
        stopped = true
        let deadline = Date().addingTimeInterval(5)
        while running > 0, condition.wait(until: deadline) {}
        condition.unlock()
        close(listenFD)
    }

    private var isStopped: Bool { condition.lock(); defer { condition.unlock() }; return stopped }

    private func acceptLoop() {
        var clients: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !isStopped {
            var fds = [pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)]
                + clients.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), 50) > 0 else { continue }
            if fds[0].revents != 0 {
                let client = Loopback.accept(listenFD)
                if client >= 0 {
                    clients.append(client)
                    condition.lock(); accepted += 1; condition.broadcast(); condition.unlock()
                }
            }
            for entry in fds.dropFirst() where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    condition.lock(); received += count; condition.broadcast(); condition.unlock()
                } else {
                    close(entry.fd)
                    clients.removeAll { $0 == entry.fd }
                }
            }
        }
        for client in clients { close(client) }
        condition.lock(); running = 0; condition.broadcast(); condition.unlock()
    }
}

/// Wrapper whose deinit stops the engine (the engine's thread keeps the engine alive).
final class TCPSink: @unchecked Sendable {
    private let engine: TCPSinkEngine
    init() throws { engine = try TCPSinkEngine() }
    deinit { engine.stop() }
    var port: UInt16 { engine.port }
    var bytesReceived: Int { engine.bytesReceived }
    var acceptedConnections: Int { engine.acceptedConnections }
    @discardableResult
    func waitForBytes(_ count: Int, timeout: Double = 10) -> Int { engine.waitForBytes(count, timeout: timeout) }
    func stop() { engine.stop() }
}

extension Loopback {
    /// Sends all of `bytes` (MSG_NOSIGNAL); false if the connection failed.
    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0, errno == EINTR { continue }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    /// Reads until `count` bytes, EOF, error or `timeout`. Returns the bytes and whether the peer
    /// closed/reset the connection.
    static func read(_ fd: Int32, upTo count: Int, timeout: Double = 10) -> (bytes: [UInt8], closed: Bool) {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(timeout)
        while result.count < count {
            let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            if left == 0 { return (result, false) }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, left)
            if ready < 0, errno == EINTR { continue }
            if ready <= 0 { return (result, false) }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, min($0.count, count - result.count)) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return (result, true) }
            result += buffer[0..<n]
        }
        return (result, false)
    }
}
