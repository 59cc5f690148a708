import CMbedTLS
import CTinyPlatform
import Foundation
import Testing
import TinyPlatform
@testable import TinyTLS

/// What the client offers in its ClientHello, and how a connection may end. Every peer is
/// a real socket on 127.0.0.1 driven by Python's `ssl` (OpenSSL), not by TinyTLS.
@Suite struct TLSPolicyTests {
    /// IANA ids (RFC 5289) of the only suites IoT Hub recommends and the client may offer.
    static let allowedSuites = [
        "C02C", // TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
        "C02B", // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        "C030", // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
        "C02F", // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    ]
    /// IANA group ids (RFC 8422, RFC 7748) of the curves offered, in order: secp256r1, x25519,
    /// secp384r1, secp521r1.
    static let offeredCurves = ["0017", "001D", "0018", "0019"]
    /// TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746): a signal, not a suite.
    static let renegotiationSignal = "00FF"

    func transport(port: UInt16, certificates: TestCertificates) throws -> TLSTransport {
        try TLSTransport(TLSConfiguration(host: "localhost", port: port, trustAnchors: .file(certificates.caPath)))
    }

    /// Receives until bytes arrive or the connection ends (each wait bounded by the peer's own exit).
    func receive(_ transport: TLSTransport) -> Result<[UInt8], TransportError> {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        defer { buffer.deallocate() }
        for _ in 0..<20 {
            do throws(TransportError) {
                let n = try transport.receive(into: buffer, timeoutMs: 1_000)
                if n > 0 { return .success(Array(buffer[0..<n])) }
            } catch {
                return .failure(error)
            }
        }
        return .failure(.timeout)
    }

    @Test func clientHelloOffersOnlyECDHEWithAESGCM() throws {
        let peer = try ScriptedPeer(["hello"])
        let client = try TLSTransport(TLSConfiguration(host: "localhost", port: peer.port))
        // The peer closes once it has read the ClientHello.
        #expect(throws: TransportError.closed) { try client.open(timeoutMs: 10_000) }
        let offered = try #require(peer.readLine()).split(separator: ",").map(String.init)
        #expect(offered.filter { $0 != Self.renegotiationSignal } == Self.allowedSuites)
        let curves = try #require(peer.readLine()).split(separator: ",").map(String.init)
        #expect(curves == Self.offeredCurves)
    }

    @Test func theCurveListIsInOrderOfPreference() {
        // Debian's mbedTLS has all four curves, so the list is all of them, P-256 first.
        let expected: [mbedtls_ecp_group_id] = [MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP384R1,
                                                MBEDTLS_ECP_DP_SECP521R1, MBEDTLS_ECP_DP_NONE]
        let list = tinyhub_tls_curves()!
        #expect((0..<5).map { list[$0] } == expected)
    }

    @Test(arguments: ["prime256v1", "X25519", "secp384r1", "secp521r1"])
    func aServerWithOneOfferedCurveCompletesTheHandshake(curve: String) throws {
        let certificates = try TestCertificates.get()
        let peer = try ScriptedPeer(["serve", "ECDHE-RSA-AES128-GCM-SHA256", "notify", curve], certificates: certificates)
        let client = try transport(port: peer.port, certificates: certificates)
        try client.open(timeoutMs: 10_000)
        #expect(peer.readLine() == "handshake-ok")
        #expect(receive(client) == .success(Array("ok".utf8)))
    }

    @Test func aServerWithoutAnOfferedCurveFailsTheHandshake() throws {
        let certificates = try TestCertificates.get()
        let peer = try ScriptedPeer(["serve", "ECDHE-RSA-AES128-GCM-SHA256", "notify", "secp224r1"], certificates: certificates)
        let client = try transport(port: peer.port, certificates: certificates)
        #expect(throws: TransportError.self) { try client.open(timeoutMs: 10_000) }
        #expect(peer.readLine() == "handshake-failed")
        #expect(!client.isOpen)
    }

    @Test func theShimsSuiteListIsMbedTLSsECDHEGCMSuites() {
        // mbedTLS's own constants, from its headers, in the shim's order of preference.
        let expected: [Int32] = [MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                                 MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
        let list = tp_tls_ciphersuites()!
        #expect((0..<5).map { list[$0] } == expected + [0])
    }

    @Test func aServerWithECDHERSAAESGCMCompletesTheHandshake() throws {
        let certificates = try TestCertificates.get()
        let peer = try ScriptedPeer(["serve", "ECDHE-RSA-AES128-GCM-SHA256", "notify"], certificates: certificates)
        let client = try transport(port: peer.port, certificates: certificates)
        try client.open(timeoutMs: 10_000)
        #expect(peer.readLine() == "handshake-ok")
        #expect(receive(client) == .success(Array("ok".utf8)))
        // close_notify, then the TCP close: a clean end.
        #expect(receive(client) == .failure(.closed))
    }

    @Test(arguments: ["ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384", "AES128-GCM-SHA256", "AES256-SHA",
                      "ECDHE-RSA-CHACHA20-POLY1305", "DHE-RSA-AES128-GCM-SHA256"])
    func aServerWithoutAnOfferedSuiteFailsTheHandshake(serverSuite: String) throws {
        let certificates = try TestCertificates.get()
        let peer = try ScriptedPeer(["serve", serverSuite, "notify"], certificates: certificates)
        let client = try transport(port: peer.port, certificates: certificates)
        // The server's handshake_failure alert (or its close, should that overtake the alert).
        let error = #expect(throws: TransportError.self) { try client.open(timeoutMs: 10_000) }
        switch error {
        case .tls(code: MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE)?, .closed?: break
        default: Issue.record("\(String(describing: error))")
        }
        #expect(peer.readLine() == "handshake-failed")
        #expect(!client.isOpen)
    }

    @Test(arguments: ["bare", "midrecord"])
    func aTCPCloseBeforeCloseNotifyIsTruncated(ending: String) throws {
        let certificates = try TestCertificates.get()
        let peer = try ScriptedPeer(["serve", "ECDHE-RSA-AES128-GCM-SHA256", ending], certificates: certificates)
        let client = try transport(port: peer.port, certificates: certificates)
        try client.open(timeoutMs: 10_000)
        #expect(receive(client) == .success(Array("ok".utf8)))
        #expect(receive(client) == .failure(.truncated))
        #expect(!client.isOpen)
    }

    @Test func truncatedHasItsOwnSummary() {
        #expect(TransportError.truncated != .closed)
        let summary = TransportError.truncated.summary
        let text = String(decoding: UnsafeRawBufferPointer(start: summary.utf8Start, count: summary.utf8CodeUnitCount), as: UTF8.self)
        #expect(text.contains("close_notify"))
    }
}
