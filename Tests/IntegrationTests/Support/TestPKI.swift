import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throw-away PKI made with the `openssl` CLI in a fresh temporary directory:
///
/// - `ca`: the test CA (basicConstraints critical CA:TRUE, keyCertSign)
/// - `otherCA`: a second, unrelated CA (for "wrong trust anchor" tests)
/// - `server`: CN/SAN `localhost`, signed by `ca`, valid now (-1 day ... +10 years)
/// - `wrongNameServer`: CN/SAN `wrong.example`, signed by `ca`, valid now (hostname-mismatch tests)
/// - `expiredServer`: CN/SAN `localhost`, signed by `ca`, valid 2020-01-01 ... 2020-02-01 (made with `openssl ca`,
///   because OpenSSL 3.0's `x509 -req` cannot set past dates)
/// - `client`: CN `clientCommonName`, extendedKeyUsage clientAuth, signed by `ca` (X.509 client auth)
/// - `untrustedClient`: a client certificate signed by `otherCA` (rejected by a broker that trusts `ca` only)
///
/// All certificates are X.509 v3, SHA-256, with EC P-256 keys (default) or RSA 2048 keys; both work with mbedTLS 2.28.
/// Keys are unencrypted PKCS#8 PEM. The directory is removed on deinit unless `keepFiles` is set.
final class TestPKI: @unchecked Sendable {
    enum KeyType: Sendable {
        case ecP256
        case rsa2048
    }

    /// A certificate (PEM file) and its private key (PEM file), with the PEM text loaded.
    struct Credential: Sendable {
        var certificatePath: String
        var keyPath: String
        var certificatePEM: String
        var keyPEM: String
        /// The DER bytes of the certificate (handy for APIs that take DER).
        var certificateDER: [UInt8] { TestPKI.der(fromPEM: certificatePEM) }
    }

    let directory: String
    let keyType: KeyType
    let clientCommonName: String
    let ca: Credential
    let otherCA: Credential
    let server: Credential
    let wrongNameServer: Credential
    let expiredServer: Credential
    let client: Credential
    let untrustedClient: Credential
    /// Set to true to keep the directory for debugging.
    var keepFiles = false

    /// Convenience paths/PEM of the trust anchors.
    var caCertificatePath: String { ca.certificatePath }
    var caCertificatePEM: String { ca.certificatePEM }
    var otherCACertificatePath: String { otherCA.certificatePath }
    var otherCACertificatePEM: String { otherCA.certificatePEM }

    init(keyType: KeyType = .ecP256, clientCommonName: String = "test-device") throws {
        try HarnessTools.require(HarnessTools.openssl)
        self.keyType = keyType
        self.clientCommonName = clientCommonName
        let dir = try makeTemporaryDirectory(prefix: "tinyhub-pki")
        directory = dir
        do {
            let maker = Maker(directory: dir, keyType: keyType)
            ca = try maker.makeCA(name: "ca", commonName: "TinyHub Test CA")
            otherCA = try maker.makeCA(name: "other-ca", commonName: "Unrelated Test CA")
            server = try maker.makeLeaf(name: "server", commonName: "localhost", issuer: ca,
                                        extensions: Maker.serverExtensions(dnsName: "localhost"))
            wrongNameServer = try maker.makeLeaf(name: "wrong-name-server", commonName: "wrong.example", issuer: ca,
                                                 extensions: Maker.serverExtensions(dnsName: "wrong.example"))
            expiredServer = try maker.makeExpiredServer(name: "expired-server", issuer: ca)
            client = try maker.makeLeaf(name: "client", commonName: clientCommonName, issuer: ca,
                                        extensions: Maker.clientExtensions)
            untrustedClient = try maker.makeLeaf(name: "untrusted-client", commonName: clientCommonName,
                                                 issuer: otherCA, extensions: Maker.clientExtensions)
        } catch {
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
    }

    deinit {
        if !keepFiles { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// One PKI shared by every test in the process (made on first use; thread-safe).
    /// Brokers may all share it: they only read the files.
    static func shared() throws -> TestPKI {
        sharedLock.lock()
        defer { sharedLock.unlock() }
        if let sharedPKI { return sharedPKI }
        let made = try TestPKI()
        sharedPKI = made
        // Static values are never deinitialised: remove the directory when the test process exits.
        sharedDirectoryForCleanup = made.directory
        atexit {
            if let directory = TestPKI.sharedDirectoryForCleanup { try? FileManager.default.removeItem(atPath: directory) }
        }
        return made
    }
    private static let sharedLock = NSLock()
    nonisolated(unsafe) private static var sharedPKI: TestPKI?
    nonisolated(unsafe) private static var sharedDirectoryForCleanup: String?

    /// `openssl verify -CAfile caFile [-verify_hostname host] certificate`: (passed, output).
    func verify(_ certificatePath: String, caFile: String, hostname: String? = nil) throws -> (passed: Bool, output: String) {
        var arguments = ["verify", "-CAfile", caFile]
        if let hostname { arguments += ["-verify_hostname", hostname] }
        arguments.append(certificatePath)
        let result = try runProcess(HarnessTools.openssl, arguments)
        return (result.succeeded, result.stdout + result.stderr)
    }

    /// `notAfter=...` of a certificate file, parsed to a Date (nil if unparsable).
    func notAfter(_ certificatePath: String) throws -> Date? {
        let out = try runChecked(HarnessTools.openssl, ["x509", "-noout", "-enddate", "-in", certificatePath]).stdout
        return TestPKI.parseOpenSSLDate(out.replacingOccurrences(of: "notAfter=", with: ""))
    }

    /// `openssl x509 -noout -text` of a certificate file.
    func text(_ certificatePath: String) throws -> String {
        try runChecked(HarnessTools.openssl, ["x509", "-noout", "-text", "-in", certificatePath]).stdout
    }

    /// Parses openssl's "Feb  1 00:00:00 2020 GMT".
    static func parseOpenSSLDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "MMM d HH:mm:ss yyyy zzz"
        let squeezed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        return formatter.date(from: squeezed)
    }

    /// The bytes of the first PEM block in `pem`.
    static func der(fromPEM pem: String) -> [UInt8] {
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        return Data(base64Encoded: body).map { [UInt8]($0) } ?? []
    }

    // MARK: - openssl driving

    private struct Maker {
        let directory: String
        let keyType: KeyType

        static func serverExtensions(dnsName: String) -> String {
            """
            basicConstraints = critical, CA:FALSE
            keyUsage = critical, digitalSignature, keyEncipherment
            extendedKeyUsage = serverAuth
            subjectAltName = DNS:\(dnsName)
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid, issuer

            """
        }

        static let clientExtensions = """
            basicConstraints = critical, CA:FALSE
            keyUsage = critical, digitalSignature, keyEncipherment
            extendedKeyUsage = clientAuth
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid, issuer

            """

        func path(_ file: String) -> String { directory + "/" + file }

        func openssl(_ arguments: [String]) throws {
            try runChecked(HarnessTools.openssl, arguments)
        }

        func write(_ text: String, to file: String) throws {
            try text.write(toFile: path(file), atomically: true, encoding: .utf8)
        }

        func makeKey(_ file: String) throws {
            switch keyType {
            case .ecP256:
                try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                             "-pkeyopt", "ec_param_enc:named_curve", "-out", path(file)])
            case .rsa2048:
                try openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path(file)])
            }
        }

        func load(_ name: String) throws -> Credential {
            Credential(certificatePath: path(name + ".pem"), keyPath: path(name + ".key"),
                       certificatePEM: try String(contentsOfFile: path(name + ".pem"), encoding: .utf8),
                       keyPEM: try String(contentsOfFile: path(name + ".key"), encoding: .utf8))
        }

        func makeCA(name: String, commonName: String) throws -> Credential {
            try makeKey(name + ".key")
            try write("""
                [ req ]
                distinguished_name = dn
                prompt = no
                x509_extensions = v3_ca
                [ dn ]
                CN = \(commonName)
                O = TinyHub Tests
                [ v3_ca ]
                basicConstraints = critical, CA:TRUE
                keyUsage = critical, keyCertSign, cRLSign, digitalSignature
                subjectKeyIdentifier = hash
                authorityKeyIdentifier = keyid:always, issuer

                """, to: name + ".cnf")
            try openssl(["req", "-x509", "-new", "-sha256", "-config", path(name + ".cnf"), "-key", path(name + ".key"),
                         "-days", "3650", "-set_serial", "0x\(randomSerial())", "-out", path(name + ".pem")])
            return try load(name)
        }

        /// A leaf certificate valid from now - 1 day (clock skew) for 10 years.
        func makeLeaf(name: String, commonName: String, issuer: Credential, extensions: String) throws -> Credential {
            try makeKey(name + ".key")
            try openssl(["req", "-new", "-sha256", "-key", path(name + ".key"), "-subj", "/CN=\(commonName)/O=TinyHub Tests",
                         "-out", path(name + ".csr")])
            try write(extensions, to: name + ".ext")
            // `openssl ca` gives control over both dates; -startdate in the past avoids "not yet valid" on skew.
            try signWithCA(name: name, issuer: issuer, extensions: extensions,
                           startDate: TestPKI.Maker.asn1Time(Date().addingTimeInterval(-86_400)),
                           endDate: TestPKI.Maker.asn1Time(Date().addingTimeInterval(10 * 365 * 86_400)))
            return try load(name)
        }

        func makeExpiredServer(name: String, issuer: Credential) throws -> Credential {
            try makeKey(name + ".key")
            try openssl(["req", "-new", "-sha256", "-key", path(name + ".key"), "-subj", "/CN=localhost/O=TinyHub Tests",
                         "-out", path(name + ".csr")])
            try signWithCA(name: name, issuer: issuer, extensions: Maker.serverExtensions(dnsName: "localhost"),
                           startDate: "20200101000000Z", endDate: "20200201000000Z")
            return try load(name)
        }

        /// Signs `<name>.csr` with `openssl ca` (explicit start/end dates) into `<name>.pem`.
        func signWithCA(name: String, issuer: Credential, extensions: String, startDate: String, endDate: String) throws {
            let db = path(name + ".db")
            try FileManager.default.createDirectory(atPath: db, withIntermediateDirectories: true)
            try write("", to: name + ".db/index.txt")
            try write(randomSerial() + "\n", to: name + ".db/serial")
            try write("""
                [ ca ]
                default_ca = signer
                [ signer ]
                database = \(db)/index.txt
                new_certs_dir = \(db)
                serial = \(db)/serial
                certificate = \(issuer.certificatePath)
                private_key = \(issuer.keyPath)
                default_md = sha256
                policy = anything
                unique_subject = no
                copy_extensions = none
                email_in_dn = no
                preserve = yes
                [ anything ]
                commonName = supplied
                organizationName = optional
                [ leaf ]
                \(extensions)
                """, to: name + ".ca.cnf")
            try openssl(["ca", "-batch", "-config", path(name + ".ca.cnf"), "-extensions", "leaf", "-notext",
                         "-startdate", startDate, "-enddate", endDate,
                         "-in", path(name + ".csr"), "-out", path(name + ".pem")])
        }

        /// 16 random hex digits with the top bit clear (positive serial).
        func randomSerial() -> String {
            var value = UInt64.random(in: 1...UInt64.max) & 0x7FFF_FFFF_FFFF_FFFF
            if value < 0x1000_0000_0000_0000 { value |= 0x1000_0000_0000_0000 }
            return String(value, radix: 16, uppercase: true)
        }

        /// YYYYMMDDHHMMSSZ in UTC (openssl ca -startdate/-enddate, GeneralizedTime form).
        static func asn1Time(_ date: Date) -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyyMMddHHmmss"
            return formatter.string(from: date) + "Z"
        }
    }
}
