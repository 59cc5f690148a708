import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// TLS options shared by the mosquitto_sub / mosquitto_pub helpers.
struct MosquittoClientTLS: Sendable {
    /// Trust anchor file (`--cafile`).
    var caFile: String
    /// Client certificate + key (`--cert`/`--key`) for brokers with `require_certificate`.
    var clientCertificate: TestPKI.Credential?

    init(caFile: String, clientCertificate: TestPKI.Credential? = nil) {
        self.caFile = caFile
        self.clientCertificate = clientCertificate
    }

    var arguments: [String] {
        var list = ["--cafile", caFile]
        if let clientCertificate { list += ["--cert", clientCertificate.certificatePath, "--key", clientCertificate.keyPath] }
        return list
    }
}

/// `mosquitto_sub` running in the background, collecting received messages as lines.
///
/// `init` returns once the broker acknowledged the subscription (SUBACK seen in `-d` output), so a
/// publish made afterwards is not lost. Each message becomes one line: `"<topic> <payload>"` with
/// `verbose`, else `"<payload>"` (a payload containing newlines becomes several lines).
final class MosquittoSubscriber: @unchecked Sendable {
    /// Marker mosquitto_sub prints before each message (-F) to tell messages from `-d` debug lines.
    /// Note: `@` and `%` are format characters in -F, so the marker avoids them.
    private static let marker = "TINYHUB-MSG "

    let topic: String
    private var process: ChildProcess?
    private let reader = LineReader(marker: MosquittoSubscriber.marker)
    private var condition: NSCondition { reader.condition }

    /// - Parameters:
    ///   - port: broker port; `tls` nil means a plain TCP listener.
    ///   - topic: topic filter; `qos` 0 or 1; `verbose` prefixes each line with the topic (-v semantics).
    ///   - clientID: `-i`, or nil for mosquitto's random id.
    ///   - subscribeTimeout: bounded wait for the SUBACK.
    init(host: String = "localhost", port: UInt16, topic: String, tls: MosquittoClientTLS?, qos: Int = 1,
         verbose: Bool = true, clientID: String? = nil, extraArguments: [String] = [],
         subscribeTimeout: Double = 10) throws {
        try HarnessTools.require(HarnessTools.mosquittoSub)
        try HarnessTools.require(HarnessTools.stdbuf)
        self.topic = topic
        var arguments = ["-d", "-h", host, "-p", String(port), "-t", topic, "-q", String(qos),
                         "-F", MosquittoSubscriber.marker + (verbose ? "%t %p" : "%p")]
        if let tls { arguments += tls.arguments }
        if let clientID { arguments += ["-i", clientID] }
        arguments += extraArguments
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw HarnessError("pipe() failed: errno \(errno)") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) } // never leak into other tests' children
        let readFD = fds[0], writeFD = fds[1]
        do {
            // mosquitto_sub's stdout is block-buffered on a pipe: without stdbuf the SUBACK line and
            // the messages would only arrive when it exits.
            process = try ChildProcess(HarnessTools.stdbuf, ["-oL", "-eL", HarnessTools.mosquittoSub] + arguments,
                                       stdout: .descriptor(writeFD), stderr: .descriptor(writeFD))
        } catch {
            close(readFD)
            close(writeFD)
            throw error
        }
        close(writeFD) // our copy: the reader sees EOF when mosquitto_sub exits
        let reader = self.reader
        let thread = Thread {
            reader.readLoop(fd: readFD)
            close(readFD)
        }
        thread.name = "MosquittoSubscriber:\(topic)"
        thread.start()

        condition.lock()
        let deadline = Date().addingTimeInterval(subscribeTimeout)
        while !reader.subscribed, !reader.finished, condition.wait(until: deadline) {}
        let ok = reader.subscribed
        let log = reader.debug.joined(separator: "\n")
        condition.unlock()
        if !ok {
            stop()
            throw HarnessError("mosquitto_sub \(arguments.joined(separator: " ")) did not subscribe within "
                + "\(subscribeTimeout) s; its output:\n\(log)")
        }
    }

    deinit { stop() }

    /// Message lines received so far.
    var lines: [String] {
        condition.lock(); defer { condition.unlock() }
        return reader.received
    }

    /// mosquitto_sub's debug output and errors so far (for failure messages).
    var output: String {
        condition.lock(); defer { condition.unlock() }
        return reader.debug.joined(separator: "\n")
    }

    /// Waits until at least `count` lines arrived or `timeout` seconds passed; returns the lines so far.
    @discardableResult
    func waitForLines(_ count: Int, timeout: Double = 10) -> [String] {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(timeout)
        while reader.received.count < count, !reader.finished, condition.wait(until: deadline) {}
        return reader.received
    }

    /// Terminates mosquitto_sub. Idempotent.
    func stop() {
        process?.terminate(grace: 1)
        condition.lock()
        let deadline = Date().addingTimeInterval(5)
        while !reader.finished, condition.wait(until: deadline) {}
        condition.unlock()
    }
}

/// The reader thread's state, separate from MosquittoSubscriber so the thread does not keep the
/// subscriber alive (its deinit stops mosquitto_sub).
private final class LineReader: @unchecked Sendable {
    let marker: String
    let condition = NSCondition()
    var received: [String] = []
    var debug: [String] = []
    var subscribed = false
    var finished = false
    private var pending = [UInt8]()

    init(marker: String) { self.marker = marker }

    func readLoop(fd: Int32) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            condition.lock()
            pending += chunk[0..<count]
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if line.hasPrefix(marker) {
                    received.append(String(line.dropFirst(marker.count)))
                } else {
                    debug.append(line)
                    if line.hasPrefix("Subscribed (mid:") { subscribed = true }
                }
            }
            condition.broadcast()
            condition.unlock()
        }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Publishes one message with `mosquitto_pub` and waits for it to finish (QoS 1: until PUBACK).
/// Throws with mosquitto_pub's output if it fails.
@discardableResult
func mosquittoPublish(host: String = "localhost", port: UInt16, topic: String, message: String,
                      tls: MosquittoClientTLS?, qos: Int = 1, retain: Bool = false, clientID: String? = nil,
                      extraArguments: [String] = [], timeout: Double = 15) throws -> ProcessResult {
    var arguments = ["-d", "-h", host, "-p", String(port), "-t", topic, "-m", message, "-q", String(qos)]
    if retain { arguments.append("-r") }
    if let tls { arguments += tls.arguments }
    if let clientID { arguments += ["-i", clientID] }
    arguments += extraArguments
    return try runChecked(HarnessTools.mosquittoPub, arguments, timeout: timeout)
}
