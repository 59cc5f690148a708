import Foundation
import Testing
import TinyPlatform
@testable import TinyTLS

/// The built-in trust anchors must be exactly the three roots IoT Hub chains to. The
/// fingerprints are checked by openssl (independent of TinyTLS) against the published values.
@Suite struct AzureRootCertificateTests {
    static let expected: [(name: String, pem: StaticString, sha256: String, subject: String)] = [
        ("DigiCert Global Root G2", AzureRootCertificates.digiCertGlobalRootG2,
         "CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F",
         "CN = DigiCert Global Root G2"),
        ("Microsoft RSA Root Certificate Authority 2017", AzureRootCertificates.microsoftRSARoot2017,
         "C7:41:F7:0F:4B:2A:8D:88:BF:2E:71:C1:41:22:EF:53:EF:10:EB:A0:CF:A5:E6:4C:FA:20:F4:18:85:30:73:E0",
         "CN = Microsoft RSA Root Certificate Authority 2017"),
        // DigiCert's published value for Global Root G3 (the ECC root of IoT Hub's ECDSA certificates).
        ("DigiCert Global Root G3", AzureRootCertificates.digiCertGlobalRootG3,
         "31:AD:66:48:F8:10:41:38:C7:38:F3:9E:A4:32:01:33:39:3E:3A:18:CC:02:29:6E:F9:7C:2A:C9:EF:67:31:D0",
         "CN = DigiCert Global Root G3"),
    ]

    func openssl(_ arguments: [String], input: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "openssl \(arguments)")
        return String(decoding: output, as: UTF8.self)
    }

    @Test(arguments: 0..<3)
    func builtInRootHasThePublishedFingerprint(index: Int) throws {
        let root = Self.expected[index]
        let pem = String(decoding: UnsafeRawBufferPointer(start: root.pem.utf8Start, count: root.pem.utf8CodeUnitCount), as: UTF8.self)
        let fingerprint = try openssl(["x509", "-noout", "-fingerprint", "-sha256"], input: pem)
        #expect(fingerprint.trimmingCharacters(in: .whitespacesAndNewlines) == "sha256 Fingerprint=\(root.sha256)", "\(root.name)")
        let subject = try openssl(["x509", "-noout", "-subject"], input: pem)
        #expect(subject.contains(root.subject))
    }

    @Test func everyRootParsesIntoTheTrustChain() throws {
        // TLSTransport's init parses every built-in root with mbedTLS and throws if either fails.
        _ = try TLSTransport(TLSConfiguration(host: "example.azure-devices.net", port: 8883))
    }

    @Test func garbageTrustAnchorsAreAConfigurationError() {
        let garbage: StaticString = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
        do {
            _ = try TLSTransport(TLSConfiguration(host: "localhost", port: 1, trustAnchors: .pem(garbage)))
            Issue.record("accepted garbage")
        } catch {
            guard case .invalidConfiguration = error else { Issue.record("got \(error)"); return }
        }
    }

    @Test func allocationFailureCodesAreRecognised() {
        #expect(isAllocationFailure(-0x7F00))             // SSL
        #expect(isAllocationFailure(-0x2880))             // X509
        #expect(isAllocationFailure(-(0x2200 | 0x0010)))  // X509 signature + MPI alloc
        #expect(!isAllocationFailure(-0x2700))            // X509 verify failed
        #expect(!isAllocationFailure(-0x7780))            // SSL fatal alert
        #expect(!isAllocationFailure(0))
    }
}
