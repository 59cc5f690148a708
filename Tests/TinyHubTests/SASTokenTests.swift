import Testing
@testable import TinyHub
import TinyTLS

/// Expected tokens come from an independent Python implementation, /tmp/sas.py:
///
///     import hmac, hashlib, base64, urllib.parse as u
///     def sas(host, dev, key, exp, mod=None, skn=None):
///         sr = u.quote(host, safe="") + "%2Fdevices%2F" + u.quote(dev, safe="")
///         if mod is not None: sr += "%2Fmodules%2F" + u.quote(mod, safe="")
///         sig = base64.b64encode(hmac.new(base64.b64decode(key), (sr + "\n" + str(exp)).encode(), hashlib.sha256).digest()).decode()
///         t = "SharedAccessSignature sr=" + sr + "&sig=" + u.quote(sig, safe="") + "&se=" + str(exp)
///         if skn: t += "&skn=" + skn
///         return t
///
/// with key "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" (base64 of "0123456789abcdef0123456789abcdef")
/// and expiry 1700000000.
@Suite struct SASTokenTests {
    static let expiry: UInt64 = 1_700_000_000

    func token(host: String, device: String, module: String? = nil, keyName: String? = nil,
               key k: String = key, capacity: Int = 512) throws -> String {
        try withBytes(host) { h in
            try withBytes(device) { d in
                try withBytes(k) { kb in
                    try withBytes(module ?? "") { m in
                        try withBytes(keyName ?? "") { n in
                            try written(capacity) { out in
                                try SASToken.write(host: h, deviceID: d, moduleID: module == nil ? nil : m, key: kb,
                                                   keyName: keyName == nil ? nil : n, expiry: Self.expiry, crypto: MbedTLSCrypto(), into: out)
                            }
                        }
                    }
                }
            }
        }
    }

    // print(sas("myhub.azure-devices.net", "dev1", K, 1700000000))
    @Test func device() throws {
        #expect(try token(host: "myhub.azure-devices.net", device: "dev1") ==
            "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=wosmA3uJK9T0mdB5CIYn%2BsAVA2ODflnucuvNO5S6mbM%3D&se=1700000000")
    }

    // print(sas("myhub.azure-devices.net", "dev1", K, 1700000000, mod="mod-a"))
    @Test func module() throws {
        #expect(try token(host: "myhub.azure-devices.net", device: "dev1", module: "mod-a") ==
            "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1%2Fmodules%2Fmod-a&sig=MBDS%2BjvQexjZCQqTKlOsKH5d%2FIupEev1p3%2FbbNeZFM0%3D&se=1700000000")
    }

    // print(sas("MyHub.azure-devices.net", "dev#1+é", K, 1700000000, mod="my module"))
    @Test func escapedIdsModuleAndHostCasePreserved() throws {
        #expect(try token(host: "MyHub.azure-devices.net", device: "dev#1+é", module: "my module") ==
            "SharedAccessSignature sr=MyHub.azure-devices.net%2Fdevices%2Fdev%231%2B%C3%A9%2Fmodules%2Fmy%20module&sig=pxxip28Zo1w56mxUrMKQjpRpQUd1CTyLy14HU26R%2BYc%3D&se=1700000000")
    }

    // print(sas("myhub.azure-devices.net", "dev #1+é", K, 1700000000))
    @Test func escapedDeviceId() throws {
        #expect(try token(host: "myhub.azure-devices.net", device: "dev #1+é") ==
            "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev%20%231%2B%C3%A9&sig=%2BmTmHE3j3ufcWZSjquHW0l6bv86dOJxbwWWBt5dnbXc%3D&se=1700000000")
    }

    // print(sas("myhub.azure-devices.net", "dev1", K, 1700000000, skn="device"))
    @Test func keyNameAppendsSkn() throws {
        #expect(try token(host: "myhub.azure-devices.net", device: "dev1", keyName: "device") ==
            "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=wosmA3uJK9T0mdB5CIYn%2BsAVA2ODflnucuvNO5S6mbM%3D&se=1700000000&skn=device")
    }

    @Test func fromConnectionString() throws {
        let cs = "HostName=myhub.azure-devices.net;DeviceId=dev1;ModuleId=mod-a;SharedAccessKey=\(key)"
        let out = try withBytes(cs) { bytes in
            let parsed = try ConnectionString.parse(bytes)
            return try written(512) { try SASToken.write(for: parsed, expiry: Self.expiry, crypto: MbedTLSCrypto(), into: $0) }
        }
        #expect(out == "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1%2Fmodules%2Fmod-a&sig=MBDS%2BjvQexjZCQqTKlOsKH5d%2FIupEev1p3%2FbbNeZFM0%3D&se=1700000000")
    }

    @Test func exactBufferFitsAndOneLessFails() throws {
        let full = try token(host: "myhub.azure-devices.net", device: "dev1")
        #expect(try token(host: "myhub.azure-devices.net", device: "dev1", capacity: full.utf8.count) == full)
        #expect(throws: SASTokenError.bufferTooSmall(needed: full.utf8.count)) {
            try token(host: "myhub.azure-devices.net", device: "dev1", capacity: full.utf8.count - 1)
        }
        // Far too small: `needed` is then documented as a lower bound, above the capacity given.
        let error = #expect(throws: SASTokenError.self) { try token(host: "myhub.azure-devices.net", device: "dev1", capacity: 10) }
        guard case .bufferTooSmall(let needed)? = error, needed > 10, needed <= full.utf8.count else {
            Issue.record("\(String(describing: error))"); return
        }
    }

    /// Found by Fuzz/sas-token: with no `+` or `/` in the signature and no key name, the early
    /// `bufferTooSmall` reported one byte more than the whole token.
    @Test func earlyBufferTooSmallIsALowerBound() throws {
        let full = try token(host: "h.b", device: "d0", key: "AA==")
        // 25 ("SharedAccessSignature sr=") + 18 (resource) + 5 ("&sig=") + 46 (44 Base64
        // characters, no `+` or `/`, the `=` as `%3D`) + 14 ("&se=1700000000"): the shortest token.
        #expect(full.utf8.count == 108)
        let error = #expect(throws: SASTokenError.self) { try token(host: "h.b", device: "d0", key: "AA==", capacity: 10) }
        guard case .bufferTooSmall(let needed)? = error, needed > 10, needed <= full.utf8.count else {
            Issue.record("\(String(describing: error)) for a \(full.utf8.count)-byte token"); return
        }
    }

    @Test func errors() {
        #expect(throws: SASTokenError.invalidKey) { try token(host: "h.x", device: "d", key: "***") }
        #expect(throws: SASTokenError.invalidKey) { try token(host: "h.x", device: "d", key: "") }
        #expect(throws: SASTokenError.keyTooLong) { try token(host: "h.x", device: "d", key: String(repeating: "QUJD", count: 60)) }
        #expect(throws: SASTokenError.emptyIdentity) { try token(host: "", device: "d") }
        #expect(throws: SASTokenError.emptyIdentity) { try token(host: "h.x", device: "") }
        #expect(throws: SASTokenError.emptyIdentity) { try token(host: "h.x", device: "d", module: "") }
    }
}
