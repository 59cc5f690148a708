import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Errors raised by the integration-test harness. Every message says what to do about it.
struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Paths of the external tools the harness drives (Debian packages mosquitto, mosquitto-clients, openssl).
enum HarnessTools {
    static let mosquitto = "/usr/sbin/mosquitto"
    static let mosquittoSub = "/usr/bin/mosquitto_sub"
    static let mosquittoPub = "/usr/bin/mosquitto_pub"
    static let openssl = "/usr/bin/openssl"
    static let stdbuf = "/usr/bin/stdbuf"

    /// Throws a clear error (never skips) when a tool is missing.
    static func require(_ path: String) throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            let package: String
            switch path {
            case mosquitto: package = "mosquitto"
            case mosquittoSub, mosquittoPub: package = "mosquitto-clients"
            case stdbuf: package = "coreutils"
            default: package = "openssl"
            }
            throw HarnessError("\(path) is missing: the integration tests need it (apt-get install \(package)).")
        }
    }
}

/// Result of a finished child process.
struct ProcessResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    var succeeded: Bool { status == 0 }
}

/// Creates a fresh private temporary directory, e.g. `/tmp/tinyhub-pki.ab12Cd`.
func makeTemporaryDirectory(prefix: String) throws -> String {
    var template = Array((NSTemporaryDirectory() + "/\(prefix).XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    guard made != nil else { throw HarnessError("mkdtemp failed for \(prefix): errno \(errno)") }
    return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Runs `executable` to completion (bounded by `timeout` seconds; killed after that) and
/// captures its output. Output goes through temporary files so large output cannot deadlock.
@discardableResult
func runProcess(_ executable: String, _ arguments: [String], timeout: Double = 30) throws -> ProcessResult {
    try HarnessTools.require(executable)
    let scratch = try makeTemporaryDirectory(prefix: "tinyhub-run")
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let outPath = scratch + "/stdout", errPath = scratch + "/stderr"
    let out = try openOutputFile(outPath)
    defer { close(out) }
    let err = try openOutputFile(errPath)
    defer { close(err) }
    let child = try ChildProcess(executable, arguments, stdout: .descriptor(out), stderr: .descriptor(err))
    let status = child.wait(timeout: timeout)
    if status == nil { child.terminate(grace: 1) }
    let result = ProcessResult(status: status ?? -1,
                               stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                               stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    if status == nil {
        throw HarnessError("\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout) s; "
            + "stdout: \(result.stdout) stderr: \(result.stderr)")
    }
    return result
}

/// Runs a command and throws (with its output) unless it exits 0.
@discardableResult
func runChecked(_ executable: String, _ arguments: [String], timeout: Double = 30) throws -> ProcessResult {
    let result = try runProcess(executable, arguments, timeout: timeout)
    guard result.succeeded else {
        throw HarnessError("\(executable) \(arguments.joined(separator: " ")) failed with status \(result.status):\n"
            + result.stdout + result.stderr)
    }
    return result
}
