import Testing
@testable import TinyHub

/// The parsed fields as Swift strings (the parser's slices die with the byte storage).
struct Parsed: Equatable {
    var host = "", device = "", module: String?, key: String?, keyName: String?, gateway: String?
    var x509 = false, unknown = 0, firstUnknown: String?, connectHost = ""
}

func parse(_ s: String) throws -> Parsed {
    try withBytes(s) { bytes in
        let cs = try ConnectionString.parse(bytes)
        return Parsed(host: text(cs.hostName), device: text(cs.deviceID), module: cs.moduleID.map(text),
                      key: cs.sharedAccessKey.map(text), keyName: cs.sharedAccessKeyName.map(text),
                      gateway: cs.gatewayHostName.map(text), x509: cs.usesX509, unknown: cs.unknownKeyCount,
                      firstUnknown: cs.firstUnknownKey.map(text), connectHost: text(cs.connectHostName))
    }
}

let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

@Suite struct ConnectionStringTests {
    @Test func deviceWithKey() throws {
        let p = try parse("HostName=hub.azure-devices.net;DeviceId=dev1;SharedAccessKey=\(key)")
        #expect(p == Parsed(host: "hub.azure-devices.net", device: "dev1", key: key, connectHost: "hub.azure-devices.net"))
    }

    @Test func moduleGatewayKeyNameUnknownAndTrailingSemicolons() throws {
        let p = try parse("HostName=h.x;DeviceId=d;ModuleId=m;SharedAccessKeyName=device;SharedAccessKey=\(key);"
                          + "GatewayHostName=edge.local;Foo=bar;UseProvisioning=true;;")
        #expect(p.module == "m")
        #expect(p.keyName == "device")
        #expect(p.gateway == "edge.local")
        #expect(p.connectHost == "edge.local")
        #expect(p.host == "h.x")
        #expect(p.unknown == 2)
        #expect(p.firstUnknown == "Foo")
    }

    @Test func x509AndValueWithEquals() throws {
        let p = try parse("HostName=h.x;DeviceId=a=b;x509=true")
        #expect(p.x509)
        #expect(p.key == nil)
        #expect(p.device == "a=b")
    }

    /// A host name without a dot: a local broker, an IoT Edge gateway name.
    @Test(arguments: ["localhost", "edge-gateway", "hub"])
    func hostNameWithoutDot(host: String) throws {
        let p = try parse("HostName=\(host);DeviceId=d;SharedAccessKey=\(key)")
        #expect(p.host == host)
        #expect(p.connectHost == host)
    }

    /// Each error's line names the field and its problem (texts written out here).
    @Test(arguments: [
        ("", "invalid connection string: it is empty (need HostName, DeviceId and SharedAccessKey or x509=true)"),
        ("HostName", "invalid connection string: a segment has no '=' (expected Key=value;Key=value)"),
        ("=x;HostName=h.x", "invalid connection string: a segment has no key before its '='"),
        ("HostName=h;DeviceId=d;DeviceId=e;x509=true", "invalid connection string: duplicate key DeviceId"),
        ("HostName=h;DeviceId=d;x509=true;x509=true", "invalid connection string: duplicate key x509"),
        ("HostName=h;GatewayHostName=g;GatewayHostName=g;DeviceId=d;x509=true",
         "invalid connection string: duplicate key GatewayHostName"),
        ("HostName=;DeviceId=d;x509=true", "invalid connection string: HostName is empty"),
        ("HostName=h;DeviceId=;x509=true", "invalid connection string: DeviceId is empty"),
        ("HostName=h;DeviceId=d;SharedAccessKey=", "invalid connection string: SharedAccessKey is empty"),
        ("DeviceId=d;x509=true", "invalid connection string: HostName is missing"),
        ("HostName=h;x509=true", "invalid connection string: DeviceId is missing"),
        ("HostName=h;DeviceId=d;x509=yes", "invalid connection string: x509 must be exactly true"),
        ("HostName=h;DeviceId=d;x509=true;SharedAccessKey=\(key)",
         "invalid connection string: x509=true and SharedAccessKey both given (use one)"),
        ("HostName=h;DeviceId=d", "invalid connection string: SharedAccessKey is missing (or x509=true for a certificate)"),
        ("HostName=h;DeviceId=d;SharedAccessKey=not base64!", "invalid connection string: SharedAccessKey is not valid base64"),
        ("HostName=h;DeviceId=d;SharedAccessKey=\(String(repeating: "QUJD", count: 44))",
         "invalid connection string: SharedAccessKey is too long (at most 128 bytes decoded)"),
        ("HostName=h;DeviceId=d;SharedAccessSignature=sr=x",
         "invalid connection string: SharedAccessSignature is not supported (give SharedAccessKey)"),
        (String(repeating: ";", count: 4097), "invalid connection string: longer than 4096 bytes"),
    ])
    func errorLines(input: String, line: String) {
        do {
            _ = try parse(input)
            Issue.record("accepted: \(input)")
        } catch let error as ConnectionStringError {
            #expect(error.summary.description == line)
            #expect(HubError.connectionString(error).summary.description == line)
            #expect(HubError.connectionString(error).summary.description == line)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    /// The numbers in the lines above are the parser's limits.
    @Test func limitsNamedInTheLines() {
        #expect(ConnectionString.maxLength == 4096)
        #expect(SASToken.maxKeyLength == 128)
    }

    @Test(arguments: [
        ("", ConnectionStringError.empty),
        (";;;", .empty),
        ("HostName", .missingEquals(offset: 0)),
        ("HostName=h.x;DeviceId", .missingEquals(offset: 13)),
        ("=x;HostName=h.x", .emptyKey(offset: 0)),
        ("HostName=h.x;HostName=h.y;DeviceId=d;x509=true", .duplicateKey(.hostName)),
        ("HostName=h.x;DeviceId=d;x509=true;x509=true", .duplicateKey(.x509)),
        ("HostName=;DeviceId=d;x509=true", .emptyValue(.hostName)),
        ("HostName=h.x;DeviceId=;x509=true", .emptyValue(.deviceID)),
        ("DeviceId=d;x509=true", .missingHostName),
        ("HostName=h.x;x509=true", .missingDeviceID),
        ("HostName=h.x;DeviceId=d;x509=True", .invalidX509Value),
        ("HostName=h.x;DeviceId=d;x509=", .invalidX509Value),
        ("HostName=h.x;DeviceId=d;x509=false", .invalidX509Value),
        ("HostName=h.x;DeviceId=d;x509=true;SharedAccessKey=\(key)", .mixedAuthentication),
        ("HostName=h.x;DeviceId=d", .missingCredentials),
        ("HostName=h.x;DeviceId=d;SharedAccessKeyName=device", .missingCredentials),
        ("HostName=h.x;DeviceId=d;SharedAccessKey=not*base64", .invalidSharedAccessKey),
        ("HostName=h.x;DeviceId=d;SharedAccessKey=abc", .invalidSharedAccessKey),
        ("HostName=h.x;DeviceId=d;SharedAccessKey==", .invalidSharedAccessKey),
        ("HostName=h.x;DeviceId=d;SharedAccessKey=\(String(repeating: "QUJD", count: 44))", .sharedAccessKeyTooLong),
        ("HostName=h.x;DeviceId=d;SharedAccessKey=\(String(repeating: "QUJD", count: 43))", .sharedAccessKeyTooLong),
        ("HostName=h.x;DeviceId=d;SharedAccessSignature=SharedAccessSignature sr=x", .sharedAccessSignatureNotSupported),
        ("hostname=h.x;DeviceId=d;x509=true", .missingHostName), // keys are case-sensitive
        ("HostName=h.x;DeviceId=d;x509=;x509=true", .duplicateKey(.x509)), // an empty x509 counts as given
        ("Host=h.x;HostNames=h.y;DeviceId=d;x509=true", .missingHostName), // whole names only
        ("HostName=h.x;DeviceId=d;SharedAccessKeyNam=k;SharedAccessKeyName=", .emptyValue(.sharedAccessKeyName)),
        ("HostName=h.x;DeviceId=d;ModuleId=m;GatewayHostName=g;ModuleId=n;x509=true", .duplicateKey(.moduleID)),
        ("HostName=h.x;DeviceId=d;GatewayHostName=;x509=true", .emptyValue(.gatewayHostName)),
        ("HostName=h.x;DeviceId=d;SharedAccessKey=;x509=true", .emptyValue(.sharedAccessKey)),
    ])
    func rejects(input: String, error: ConnectionStringError) {
        #expect(throws: error) { try parse(input) }
    }

    @Test func rejectsHugeInput() {
        let huge = "HostName=h.x;DeviceId=d;x509=true;" + String(repeating: "A", count: ConnectionString.maxLength)
        #expect(throws: ConnectionStringError.tooLong(maxLength: ConnectionString.maxLength)) { try parse(huge) }
    }

    /// Random bytes and random sequences of keys and values never trap; whatever is accepted
    /// obeys the documented rules, checked on the input text itself: a `HostName=` and a
    /// `DeviceId=` segment, a host with a dot inside it, X.509 or a key but not both, every
    /// field a slice of the input. Seeded: see SeededRandom.swift to replay a failure.
    @Test func hostileBytesNeverTrap() throws {
        var rng = SeededRandom()
        let alphabet = Array("HostName=DeviceId;x509true.ab=;%\u{0}".utf8)
        // Every other input is made of whole `key=value` segments: the required keys (each
        // sometimes left out), a few more, in random order, values mostly well-formed.
        let good = ["HostName": "h.x", "DeviceId": "d", "ModuleId": "m", "GatewayHostName": "g.x", "SharedAccessKeyName": "n",
                    "x509": "true", "SharedAccessKey": key, "Other": "o", "": "e"]
        let bad = ["", "hx", ".x", "a=b", "%\u{0}", "false"]
        var accepted = 0
        for i in 0..<4000 {
            let bytes: [UInt8]
            if i % 2 == 0 {
                bytes = (0..<Int.random(in: 0..<60, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            } else {
                var names = ["HostName", "DeviceId", Bool.random(using: &rng) ? "x509" : "SharedAccessKey"]
                    .filter { _ in Int.random(in: 0..<8, using: &rng) != 0 }
                for _ in 0..<Int.random(in: 0...3, using: &rng) { names.append(good.keys.sorted().randomElement(using: &rng)!) }
                names.shuffle(using: &rng)
                bytes = Array(names.map { name in
                    let value = Int.random(in: 0..<4, using: &rng) == 0 ? bad.randomElement(using: &rng)! : good[name]!
                    return name + (Int.random(in: 0..<16, using: &rng) == 0 ? "" : "=") + value
                }.joined(separator: ";").utf8)
            }
            // `#require` ends the test at the first failing input; its seed replays it.
            try bytes.withUnsafeBytes { input in
                guard let cs = try? ConnectionString.parse(input) else { return }
                accepted += 1
                let note = rng.comment(String(decoding: bytes, as: UTF8.self).debugDescription)
                let segments = String(decoding: bytes, as: UTF8.self).split(separator: ";")
                try #require(segments.contains { $0.hasPrefix("HostName=") }, note)
                try #require(segments.contains { $0.hasPrefix("DeviceId=") }, note)
                try #require(segments.contains("x509=true") == cs.usesX509, note)
                try #require(cs.usesX509 != (cs.sharedAccessKey != nil), note)
                let host = Array(text(cs.hostName).utf8)
                try #require(!host.isEmpty, note)
                try #require(cs.deviceID.count > 0, note)
                for field in [cs.hostName, cs.deviceID] + [cs.moduleID, cs.sharedAccessKey, cs.gatewayHostName].compactMap({ $0 }) {
                    try #require(field.baseAddress! >= input.baseAddress! && field.baseAddress! + field.count <= input.baseAddress! + input.count,
                                 note)
                }
            }
        }
        #expect(accepted > 0, rng.comment)
    }
}
