import HubExampleSupport
import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

extension HubTelemetry {
    /// MQTT through the outbox in `IOTHUB_OUTBOX_FILE`: what an earlier run left unacknowledged
    /// goes out first with its original message ids (`recovered K` on stdout when K > 0), then
    /// this run's messages, each synced to the file before its PUBLISH. A full store holds the
    /// next message back until acknowledgements make room (one stderr note per wait). Returns
    /// once every message in the store is acknowledged, recovered ones included.
    static func sendThroughOutbox(_ plan: Plan, store: ExampleOutbox, environment: ExampleEnvironment, platform: SystemPlatform) {
        var options = HubOptions()
        options.features = []
        guard let buffers = HubBuffers.allocate(maxMessage: 1_024, receive: 1_024, window: 8),
              let outboxBuffers = OutboxBuffers.allocate(maxMessage: 1_024, window: 8) else {
            ExampleOutput.fail("out of memory: could not allocate the hub and outbox buffers")
        }
        let outbox = store.open(buffers: outboxBuffers)
        if outbox.recoveredCount > 0 { ExampleOutput.line("recovered ", Int64(outbox.recoveredCount)) }
        let client = environment.connectMQTT(buffers: buffers, options: options)
        var sent: UInt64 = 0
        var nextSendMs = platform.monotonicMs()
        var waitingForRoom = false
        while sent < plan.count || outbox.pendingCount > 0 {
            let now = platform.monotonicMs()
            if sent < plan.count, now >= nextSendMs {
                let (system, payload) = plan.message(sent + 1, wall: platform.wallSeconds())
                do throws(OutboxError) {
                    try outbox.send(payload, system: system, properties: plan.properties.list, through: client)
                    sent += 1
                    waitingForRoom = false
                    nextSendMs = now + plan.intervalMs
                    continue
                } catch {
                    guard case .full = error else { ExampleOutput.fail("send failed: ", error.summary) }
                    if !waitingForRoom { ExampleOutput.note("outbox full: waiting for acknowledgements") }
                    waitingForRoom = true
                }
            }
            let wait = sent < plan.count && plan.intervalMs > 0 && !waitingForRoom
                ? UInt32(clamping: max(1, Int64(nextSendMs) - Int64(now))) : 1_000
            pollOrExit(outbox, client, timeoutMs: min(wait, 1_000)) { event in reportConnectionEvent(event) }
        }
        client.disconnect()
    }
}
