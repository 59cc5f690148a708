import Foundation
import Testing
import TinyMQTT
import TinyPlatform
import TinyProvisioning
import TinyTLS
import TinyWebSocket

/// Provisioning over MQTT over WebSockets, as a device behind a 443-only firewall does it: the
/// unchanged `ProvisioningClient` over `WebSocketTransport` over real TLS to the WebSocket
/// endpoint fixture, which checks the upgrade and every frame and relays MQTT to the DPS stand-in.
@Suite struct ProvisioningOverWebSocketTests {
    @Test func individualKeyRegistersOverWebSockets() throws {
        let dps = try DPSFixture(enrollments: [DPSFixture.individual("ws-dev", deviceID: "hub-ws-dev")])
        let bridge = try WebSocketBridge(targetPort: dps.port, pki: dps.pki, config: ["frame_size": 7, "pings": true])
        var options = ProvisioningOptions()
        options.session.backoff = Backoff(baseMs: 50, capMs: 200)
        options.registrationTimeoutMs = 60_000
        guard let client = ProvisioningClient(transport: try bridge.transport(), platform: ShiftedPlatform(), crypto: MbedTLSCrypto(), options: options) else {
            throw HarnessError("out of memory")
        }
        let scope = Array(DPSFixture.idScope.utf8), id = Array("ws-dev".utf8), key = Array(DPSFixture.individualKey.utf8)
        var hub = "", device = ""
        try scope.withUnsafeBytes { scope in
            try id.withUnsafeBytes { id in
                try key.withUnsafeBytes { key in
                    let assignment = try client.register(idScope: scope, registrationID: id, credential: .symmetricKey(key))
                    hub = assignment.assignedHubText
                    device = assignment.deviceIDText
                }
            }
        }
        #expect(hub == DPSFixture.assignedHub && device == "hub-ws-dev")
        #expect(dps.connects.count == 1 && dps.connects.first?.bool("accepted") == true, "\(dps.connects)")
        #expect(dps.requests.map { $0.string("kind") } == ["register", "status"])
        #expect(dps.violations.isEmpty, "\(dps.violations)")
        let upgrade = try #require(bridge.upgrades.first)
        #expect(upgrade.bool("accepted") == true && upgrade.string("path") == "/$iothub/websocket"
                && upgrade.string("query") == "iothub-no-client-cert=true", "\(upgrade)")
        #expect(bridge.violations.isEmpty && bridge.pongs.allSatisfy { $0.bool("expected") == true })
    }
}
