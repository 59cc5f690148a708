import Foundation
import TinyTLS
#if canImport(Glibc)
import Glibc
#endif

/// The CONNECT proxy fixture (`Tests/Fixtures/connect_proxy.py`) on 127.0.0.1 and a free port,
/// one process per test, with its JSON-lines log of every request it answered.
final class ConnectProxy: @unchecked Sendable {
    let port: UInt16
    let logPath: String
    private let directory: String
    private var process: ChildProcess?
    /// Credentials handed to `configuration` live here (the transport reads them at init).
    private var credentialBytes: [UnsafeMutableRawBufferPointer] = []

    /// - Parameters:
    ///   - mode: `tunnel`, `status`, `trickle`, `garbage`, `oversize` or `early` (see the script).
    ///   - status: the answer in `status` mode.
    ///   - user, password: credentials the proxy requires (tunnel mode).
    init(mode: String = "tunnel", status: Int = 407, user: String? = nil, password: String? = nil) throws {
        directory = try makeTemporaryDirectory(prefix: "tinyhub-proxy")
        logPath = directory + "/proxy.jsonl"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/connect_proxy.py").path
        var arguments = [script, "--mode", mode, "--status", String(status), "--log", logPath, "--exit-with-parent"]
        if let user { arguments += ["--user", user] }
        if let password { arguments += ["--password", password] }
        let outPath = directory + "/proxy.out", errPath = directory + "/proxy.err"
        let out = try openOutputFile(outPath)
        defer { close(out) }
        let err = try openOutputFile(errPath)
        defer { close(err) }
        let child = try ChildProcess("/usr/bin/python3", arguments, stdout: .descriptor(out), stderr: .descriptor(err))
        process = child
        let deadline = Date().addingTimeInterval(10)
        var found: UInt16? = nil
        while found == nil {
            let text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
            if text.hasSuffix("\n") { found = UInt16(text.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if found != nil { break }
            if child.exitStatus != nil || Date() >= deadline {
                child.terminate(grace: 1)
                let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
                throw HarnessError("the CONNECT proxy did not start: \(stderr)")
            }
            usleep(10_000)
        }
        port = found!
    }

    deinit {
        for bytes in credentialBytes { bytes.deallocate() }
        process?.terminate(grace: 2)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A proxy configuration for this fixture (at 127.0.0.1: a name the hub's certificate does
    /// not hold, so a handshake that checked the proxy's name would fail).
    func configuration(user: String? = nil, password: String = "") -> ProxyConfiguration {
        guard let user else { return ProxyConfiguration(host: "127.0.0.1", port: port) }
        func stable(_ text: String) -> UnsafeRawBufferPointer {
            let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, text.utf8.count), alignment: 1)
            bytes.copyBytes(from: Array(text.utf8))
            credentialBytes.append(bytes)
            return UnsafeRawBufferPointer(rebasing: bytes[0..<text.utf8.count])
        }
        let u = stable(user), p = stable(password)
        return ProxyConfiguration(host: "127.0.0.1", port: port, credentials: ProxyCredentials(user: u, password: p))
    }

    /// Every request the proxy answered so far, in order (one JSON object each).
    var records: [[String: Any]] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }
}
