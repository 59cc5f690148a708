import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A byte-relaying TCP proxy on 127.0.0.1:`port` that forwards every accepted connection to
/// 127.0.0.1:`targetPort` (TLS passes through untouched; clients still use the host name `localhost`).
///
/// Faults:
/// - `cutAllConnections()`: abortively closes both sides (RST) of every current connection and
///   returns once they are gone.
/// - `dropAfterBytes(n)`: each connection is cut after it has forwarded `n` client→server bytes
///   (exactly `n` reach the server). `dropAfterBytes(nil)` turns it off. Applies to current and new connections.
/// - `acceptsConnections = false`: new connections are accepted and reset at once (a "down" server).
///
/// One accept thread plus one relay thread per connection. `stop()` (also in deinit) closes the
/// listener, cuts every connection and joins the threads.
final class FaultProxyEngine: @unchecked Sendable {
    let port: UInt16
    let targetPort: UInt16
    let host = "localhost"

    private let lock = NSCondition()
    private let listenFD: Int32
    private var stopped = false
    private var acceptThreadRunning = true
    private var connections: [Int: Connection] = [:]
    private var nextID = 0
    private var dropLimit: Int?
    private var refuse = false
    private var accepted = 0
    private var bytesUp = 0
    private var bytesDown = 0

    /// Connections accepted so far (including refused ones).
    var acceptedConnections: Int { lock.lock(); defer { lock.unlock() }; return accepted }
    /// Connections being relayed right now.
    var activeConnections: Int { lock.lock(); defer { lock.unlock() }; return connections.count }
    /// Total bytes forwarded client→server and server→client.
    var bytesClientToServer: Int { lock.lock(); defer { lock.unlock() }; return bytesUp }
    var bytesServerToClient: Int { lock.lock(); defer { lock.unlock() }; return bytesDown }

    /// When false, new connections are reset immediately (existing ones are not touched).
    var acceptsConnections: Bool {
        get { lock.lock(); defer { lock.unlock() }; return !refuse }
        set { lock.lock(); refuse = !newValue; lock.unlock() }
    }

    init(targetPort: UInt16) throws {
        self.targetPort = targetPort
        let (fd, bound) = try Loopback.bind(port: 0, listen: 64)
        listenFD = fd
        port = bound
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "FaultProxy.accept:\(bound)"
        thread.start()
    }


    /// Cut each connection after it forwarded `limit` client→server bytes (nil: never).
    func dropAfterBytes(_ limit: Int?) {
        lock.lock()
        dropLimit = limit
        let current = Array(connections.values)
        lock.unlock()
        for connection in current { connection.wake() } // re-check the limit now
    }

    /// Resets every current connection (both sides) and waits (up to 5 s) until they are closed.
    func cutAllConnections() {
        lock.lock()
        let current = Array(connections.values)
        lock.unlock()
        for connection in current { connection.cut() }
        lock.lock()
        let deadline = Date().addingTimeInterval(5)
        while current.contains(where: { connections[$0.id] != nil }), lock.wait(until: deadline) {}
        lock.unlock()
    }

    /// Stops accepting, cuts every connection and joins the threads. Idempotent.
    func stop() {
        lock.lock()
        if stopped {
            lock.unlock()
            return
        }
        stopped = true
        lock.unlock()
        cutAllConnections()
        lock.lock()
        let deadline = Date().addingTimeInterval(5)
        while acceptThreadRunning || !connections.isEmpty, lock.wait(until: deadline) {}
        lock.unlock()
        close(listenFD)
    }

    // MARK: - Threads

    private func isStopped() -> Bool {
        lock.lock(); defer { lock.unlock() }
        return stopped
    }

    private func acceptLoop() {
        defer {
            lock.lock()
            acceptThreadRunning = false
            lock.broadcast()
            lock.unlock()
        }
        while !isStopped() {
            var poller = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 50)
            if ready <= 0 { continue }
            let client = Loopback.accept(listenFD)
            if client < 0 { continue }
            lock.lock()
            accepted += 1
            let refusing = refuse || stopped
            lock.unlock()
            guard !refusing, let server = Loopback.connect(port: targetPort) else {
                Loopback.setAbortiveClose(client)
                close(client)
                continue
            }
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(server, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            lock.lock()
            let id = nextID
            nextID += 1
            guard let connection = Connection(id: id, client: client, server: server) else {
                lock.unlock()
                close(client)
                close(server)
                continue
            }
            connections[id] = connection
            lock.unlock()
            let thread = Thread { [self] in relay(connection) }
            thread.name = "FaultProxy.relay:\(port)#\(id)"
            thread.start()
        }
    }

    /// Relays both directions until either side closes, the limit is reached or a cut is asked for.
    private func relay(_ connection: Connection) {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        var upstreamSent = 0
        var abortive = false
        loop: while true {
            lock.lock()
            let limit = dropLimit
            lock.unlock()
            if let limit, upstreamSent >= limit {
                abortive = true
                break
            }
            var fds = [
                pollfd(fd: connection.client, events: Int16(POLLIN), revents: 0),
                pollfd(fd: connection.server, events: Int16(POLLIN), revents: 0),
                pollfd(fd: connection.wakeRead, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, 3, 1_000)
            if ready < 0 {
                if errno == EINTR { continue }
                abortive = true
                break
            }
            if fds[2].revents != 0 {
                connection.drainWake()
                if connection.isCut {
                    abortive = true
                    break
                }
                continue // limit changed: re-check at the top
            }
            for (index, entry) in fds.prefix(2).enumerated() where entry.revents != 0 {
                let from = index == 0 ? connection.client : connection.server
                let to = index == 0 ? connection.server : connection.client
                var want = buffer.count
                if index == 0, let limit { want = min(want, limit - upstreamSent) }
                let count = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, want) }
                if count <= 0 { break loop } // orderly close or error: close both
                var offset = 0
                while offset < count {
                    let sent = buffer.withUnsafeBytes {
                        send(to, $0.baseAddress! + offset, count - offset, Int32(MSG_NOSIGNAL))
                    }
                    if sent < 0 {
                        if errno == EINTR { continue }
                        break loop
                    }
                    offset += sent
                }
                lock.lock()
                if index == 0 { bytesUp += count } else { bytesDown += count }
                lock.unlock()
                if index == 0 { upstreamSent += count }
            }
        }
        if abortive {
            Loopback.setAbortiveClose(connection.client)
            Loopback.setAbortiveClose(connection.server)
        }
        connection.closeAll()
        lock.lock()
        connections[connection.id] = nil
        lock.broadcast()
        lock.unlock()
    }

    /// One relayed connection: two sockets and a wake-up pipe.
    private final class Connection: @unchecked Sendable {
        let id: Int
        let client: Int32
        let server: Int32
        let wakeRead: Int32
        let wakeWrite: Int32
        private let flagLock = NSLock()
        private var cutRequested = false
        private var closed = false

        init?(id: Int, client: Int32, server: Int32) {
            var pipeFDs: [Int32] = [0, 0]
            guard pipe(&pipeFDs) == 0 else { return nil } // pipe2 needs _GNU_SOURCE
            for fd in pipeFDs {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
            self.id = id
            self.client = client
            self.server = server
            wakeRead = pipeFDs[0]
            wakeWrite = pipeFDs[1]
        }

        var isCut: Bool { flagLock.lock(); defer { flagLock.unlock() }; return cutRequested }

        func cut() {
            flagLock.lock()
            cutRequested = true
            flagLock.unlock()
            wake()
        }

        func wake() {
            flagLock.lock()
            defer { flagLock.unlock() }
            guard !closed else { return } // the fd number may already belong to someone else
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }

        func drainWake() {
            var scratch = [UInt8](repeating: 0, count: 64)
            while scratch.withUnsafeMutableBytes({ read(wakeRead, $0.baseAddress, 64) }) > 0 {}
        }

        func closeAll() {
            flagLock.lock()
            defer { flagLock.unlock() }
            closed = true
            close(client)
            close(server)
            close(wakeRead)
            close(wakeWrite)
        }
    }
}

/// See `FaultProxyEngine` for the behaviour. This wrapper exists so that `deinit` can stop the
/// engine: the engine's threads keep the engine alive, but not the wrapper.
final class FaultProxy: @unchecked Sendable {
    private let engine: FaultProxyEngine

    /// Starts a proxy on a free 127.0.0.1 port forwarding to 127.0.0.1:`targetPort`.
    init(targetPort: UInt16) throws { engine = try FaultProxyEngine(targetPort: targetPort) }
    deinit { engine.stop() }

    /// The proxy's listening port (connect clients here, as `localhost`).
    var port: UInt16 { engine.port }
    var targetPort: UInt16 { engine.targetPort }
    var host: String { engine.host }
    var acceptedConnections: Int { engine.acceptedConnections }
    var activeConnections: Int { engine.activeConnections }
    var bytesClientToServer: Int { engine.bytesClientToServer }
    var bytesServerToClient: Int { engine.bytesServerToClient }
    var acceptsConnections: Bool {
        get { engine.acceptsConnections }
        set { engine.acceptsConnections = newValue }
    }
    func dropAfterBytes(_ limit: Int?) { engine.dropAfterBytes(limit) }
    func cutAllConnections() { engine.cutAllConnections() }
    func stop() { engine.stop() }
}
