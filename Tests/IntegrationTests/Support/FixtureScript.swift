import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A Python fixture from `Tests/Fixtures/` started as a child process that prints its ports,
/// one per line, on stdout once it listens (the IoT Hub gate, the DPS stand-in, the proxy).
enum FixtureScript {
    /// The path of `Tests/Fixtures/{name}`.
    static func path(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
    }

    /// Starts `python3 Tests/Fixtures/{name} arguments…` with stdout and stderr in `directory`
    /// and waits (at most 10 s) for `ports` port lines.
    ///
    /// - Returns: the process and the ports, in the order printed.
    /// - Throws: `HarnessError` with the fixture's stderr when it exits or prints nothing usable.
    static func start(_ name: String, _ arguments: [String], directory: String,
                      ports count: Int) throws -> (process: ChildProcess, ports: [UInt16]) {
        let outPath = directory + "/\(name).out", errPath = directory + "/\(name).err"
        let out = try openOutputFile(outPath)
        defer { close(out) }
        let err = try openOutputFile(errPath)
        defer { close(err) }
        let child = try ChildProcess("/usr/bin/python3", [path(name)] + arguments, stdout: .descriptor(out),
                                     stderr: .descriptor(err))
        let deadline = Date().addingTimeInterval(10)
        while true {
            let text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
            let ports = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().compactMap { UInt16($0) }
            if ports.count >= count { return (child, Array(ports.prefix(count))) }
            if child.exitStatus != nil || Date() >= deadline {
                child.terminate(grace: 1)
                let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
                throw HarnessError("\(name) did not start (python3 \(arguments.joined(separator: " "))): \(stderr)")
            }
            usleep(10_000)
        }
    }

    /// Sends one JSON command to a fixture's control port and returns its JSON answer.
    ///
    /// - Throws: `HarnessError` when the port refuses or the answer is not `"ok": true`.
    static func control(port: UInt16, _ command: [String: Any]) throws -> [String: Any] {
        guard let fd = Loopback.connect(port: port) else { throw HarnessError("control port \(port) refused") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let line = try JSONSerialization.data(withJSONObject: command) + Data([0x0A])
        _ = line.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var answer = [UInt8]()
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1, byte != 0x0A { answer.append(byte) }
        guard let reply = (try? JSONSerialization.jsonObject(with: Data(answer))) as? [String: Any], reply["ok"] as? Bool == true else {
            throw HarnessError("control \(command) answered \(String(decoding: answer, as: UTF8.self))")
        }
        return reply
    }

    /// The JSON lines of a fixture's record file, in order.
    static func records(_ logPath: String) -> [GateRecord] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }.map(GateRecord.init)
    }
}
