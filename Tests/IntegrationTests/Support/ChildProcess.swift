import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with posix_spawn and a clean signal state.
///
/// Why not Foundation's `Process`: it spawns from whatever thread calls `run()`, and the child inherits
/// that thread's signal mask. Swift Testing runs tests on worker threads that block almost every signal,
/// so mosquitto (which waits with its inherited mask in pselect/epoll_pwait) and mosquitto_sub never
/// see SIGTERM: `terminate()` did nothing and brokers leaked. Here the child gets an empty mask and
/// default handlers (POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF).
final class ChildProcess: @unchecked Sendable {
    /// Where a standard stream of the child goes.
    enum Stream {
        case null
        /// The child gets a duplicate of this descriptor (the caller keeps and closes its own).
        case descriptor(Int32)
    }

    let pid: pid_t
    let executable: String
    let arguments: [String]
    private let lock = NSLock()
    private var status: Int32?

    init(_ executable: String, _ arguments: [String], stdout: Stream = .null, stderr: Stream = .null) throws {
        try HarnessTools.require(executable)
        self.executable = executable
        self.arguments = arguments

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (target, stream) in [(Int32(1), stdout), (Int32(2), stderr)] {
            switch stream {
            case .null: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            case .descriptor(let fd): posix_spawn_file_actions_adddup2(&actions, fd, target)
            }
        }

        // Tests run in parallel: never let one test's sockets/pipes leak into another test's child
        // (a leaked listening socket keeps a "stopped" proxy's port open). Everything is O_CLOEXEC
        // too; this is the belt to those braces.
        // (glibc >= 2.34; not visible from Swift without _GNU_SOURCE, hence dlsym.)
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let result = argv.withUnsafeBufferPointer { buffer in
            posix_spawn(&child, executable, &actions, &attributes, buffer.baseAddress!, environ)
        }
        guard result == 0 else {
            throw HarnessError("posix_spawn \(executable) failed: error \(result)")
        }
        pid = child
    }

    deinit { terminate() }

    /// Exit status once finished: the exit code, or 128 + signal number.
    var exitStatus: Int32? {
        lock.lock(); defer { lock.unlock() }
        reapLocked(block: false)
        return status
    }

    var isRunning: Bool { exitStatus == nil }

    /// Waits up to `timeout` seconds; returns the exit status or nil if still running.
    @discardableResult
    func wait(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        var pause: useconds_t = 1_000
        while true {
            if let status = exitStatus { return status }
            if Date() >= deadline { return nil }
            usleep(pause)
            pause = min(pause * 2, 20_000)
        }
    }

    /// SIGTERM, up to `grace` seconds, then SIGKILL; always reaps the child. Idempotent.
    func terminate(grace: Double = 3) {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        if wait(timeout: grace) == nil {
            kill(pid, SIGKILL)
            lock.lock()
            reapLocked(block: true)
            lock.unlock()
        }
    }

    private func reapLocked(block: Bool) {
        guard status == nil else { return }
        var raw: Int32 = 0
        while true {
            let result = waitpid(pid, &raw, block ? 0 : WNOHANG)
            if result == pid {
                let signal = raw & 0x7F
                status = signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
                return
            }
            if result == -1, errno == EINTR { continue }
            if result == -1 { status = -1 } // ECHILD: someone else reaped it
            return
        }
    }
}

/// Opens (creating/truncating) a file for a child's output; close-on-exec in this process.
func openOutputFile(_ path: String) throws -> Int32 {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw HarnessError("cannot open \(path): errno \(errno)") }
    return fd
}
