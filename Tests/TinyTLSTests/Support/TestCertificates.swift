import Foundation

/// A throw-away CA and a `localhost` server certificate (RSA 2048, SHA-256), made once per test
/// run with the `openssl` CLI in a temporary directory, independent of the code under test.
final class TestCertificates: Sendable {
    let directory: String
    var caPath: String { directory + "/ca.pem" }
    var serverCertificatePath: String { directory + "/server.pem" }
    var serverKeyPath: String { directory + "/server.key" }

    /// Shared by every test of the run (made on first use).
    static let shared: Result<TestCertificates, any Error> = Result { try TestCertificates() }

    static func get() throws -> TestCertificates { try shared.get() }

    private init() throws {
        directory = NSTemporaryDirectory() + "tinytls-tests-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let extensions = directory + "/server.ext"
        try "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
            .write(toFile: extensions, atomically: true, encoding: .utf8)
        try Self.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
                          "-keyout", directory + "/ca.key", "-out", caPath, "-subj", "/CN=TinyTLS Test CA",
                          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try Self.openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", serverKeyPath,
                          "-out", directory + "/server.csr", "-subj", "/CN=localhost"])
        try Self.openssl(["x509", "-req", "-in", directory + "/server.csr", "-CA", caPath, "-CAkey", directory + "/ca.key",
                          "-CAcreateserial", "-sha256", "-days", "2", "-extfile", extensions, "-out", serverCertificatePath])
    }

    struct CommandFailed: Error { let arguments: [String] }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CommandFailed(arguments: arguments) }
    }
}
