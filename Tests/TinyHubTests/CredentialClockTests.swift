import Testing
@testable import TinyHub
import TinyTLS

/// A wall clock far off either way (never set, garbage) mints a token without trapping, and
/// a nonsense clock does not make the client renew on every poll.
@Suite struct CredentialClockTests {
    func credentials(_ storage: UnsafeMutableRawBufferPointer) throws -> HubCredentials {
        try withBytes(httpsConnectionString) { text throws(HubCredentialsError) in
            try HubCredentials(copying: text, into: storage, crypto: MbedTLSCrypto())
        }
    }

    @Test(arguments: [Int64.min, -1, 0, Int64.max, Int64.max - 3_600])
    func extremeClocksMintTokens(now: Int64) throws {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 1_024, alignment: 8)
        defer { storage.deallocate() }
        var c = try credentials(storage)
        try c.renew(now: now, lifetime: 3_600, renewPercent: 80)
        #expect(c.expiry > 0)
        #expect(!c.needsRenewal(now: now), "renewed just now: not due again at once")
    }

    @Test func anOrdinaryClockRenewsAtEightyPercent() throws {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 1_024, alignment: 8)
        defer { storage.deallocate() }
        var c = try credentials(storage)
        try c.renew(now: 1_800_000_000, lifetime: 3_600, renewPercent: 80)
        #expect(c.expiry == 1_800_003_600)
        #expect(!c.needsRenewal(now: 1_800_002_879))
        #expect(c.needsRenewal(now: 1_800_002_880))
    }
}
