import HubExampleSupport
import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// hub-telemetry's crash-proof telemetry outbox (README): `IOTHUB_OUTBOX_FILE=path` keeps every
/// QoS 1 message in that file, synced before its PUBLISH goes out, until the hub acknowledged
/// it; `IOTHUB_OUTBOX_BYTES` is the file's size (default 65,536; a file formatted for another
/// size is refused). A later run over the same file sends what is left first, with the original
/// message ids. Here rather than in HubExampleSupport: the other examples would link the outbox's
/// code without using it (the linker keeps the specialised class metadata of a support module).
struct ExampleOutbox {
    /// The store file.
    var path: String
    /// Its size in bytes.
    var bytes: Int

    /// The default store size.
    static let defaultBytes = 65_536
    /// The smallest store the outbox accepts (two checkpoint slots and room for records).
    static let minimumBytes: UInt64 = 256

    /// The settings, or nil when `IOTHUB_OUTBOX_FILE` is not set. A malformed setting is a
    /// usage error: one stderr line, exit 1.
    static func read() -> ExampleOutbox? {
        var bytes = defaultBytes
        if let text = ProcessEnvironment.value("IOTHUB_OUTBOX_BYTES") {
            guard let value = DecimalParser.parse(text, limit: UInt64(UInt32.max)), value >= minimumBytes else {
                ExampleOutput.fail("IOTHUB_OUTBOX_BYTES must be a number of bytes from 256 to 4294967295")
            }
            bytes = Int(value)
        }
        guard let path = ProcessEnvironment.value("IOTHUB_OUTBOX_FILE") else { return nil }
        guard !path.utf8.isEmpty else { ExampleOutput.fail("IOTHUB_OUTBOX_FILE must name a file") }
        return ExampleOutbox(path: path, bytes: bytes)
    }

    /// Opens (creating it if missing) the store and the outbox over it, which recovers what an
    /// earlier run left. Exits 1 with one stderr line when that fails.
    func open(buffers: OutboxBuffers) -> TelemetryOutbox<StorageFile> {
        let file: StorageFile
        do throws(StorageError) {
            file = try StorageFile.open(path: path, size: bytes)
        } catch {
            ExampleOutput.fail("cannot open IOTHUB_OUTBOX_FILE: ", error.summary)
        }
        // Embedded Swift traps when a class instance cannot be allocated.
        guard Heap.canAllocate(256) else { ExampleOutput.fail("out of memory: no room for the outbox") }
        do throws(OutboxError) {
            return try TelemetryOutbox(storage: file, buffers: buffers)
        } catch {
            ExampleOutput.fail("cannot open IOTHUB_OUTBOX_FILE: ", error.summary)
        }
    }
}

/// Like `pollOrExit`, through `outbox`: notes the acknowledgements of its messages, writes the
/// acknowledged-up-to marker when they moved it and keeps the session's window filled with
/// stored messages. Exits 1 with one stderr line when the store fails.
func pollOrExit(_ outbox: TelemetryOutbox<StorageFile>, _ client: ExampleHubClient,
                       timeoutMs: UInt32, _ handler: (HubEvent) -> Void) {
    updateOrExit(outbox, client)
    pollOrExit(client, timeoutMs: timeoutMs) { event in
        outbox.handle(event)
        handler(event)
    }
    updateOrExit(outbox, client)
}

private func updateOrExit(_ outbox: TelemetryOutbox<StorageFile>, _ client: ExampleHubClient) {
    do throws(OutboxError) { try outbox.update(client) } catch { ExampleOutput.fail("outbox failed: ", error.summary) }
}
