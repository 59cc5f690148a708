import TinyPlatform
import TinyTLS

/// The hub's TLS session kept between runs (`IOTHUB_TLS_SESSION_FILE`), so that a device that
/// wakes, sends and sleeps resumes the session at its next start: an abbreviated handshake (no
/// certificate chain, no key exchange) instead of a full one. MQTT and MQTT over WebSockets.
///
/// A file of fixed size (mode 0600): the record's length (2 bytes, big-endian), then the record
/// `TLSTransport.storedSession` gave (bound to the hub's host and port), zero-padded. It is
/// rewritten after every handshake and not synced: a lost or torn record only costs a full
/// handshake, which is also what anything that is not a record for this hub costs. The record
/// holds the session's master secret: the file must be as private as the device's key.
public final class ExampleTLSSession {
    /// The room for a record: a session with the server's certificate and ticket.
    public static let recordBytes = 4_096
    private let file: StorageFile

    /// The session file named by `IOTHUB_TLS_SESSION_FILE`, nil when the variable is unset.
    /// Exits 1 with one line when the file cannot be opened or created.
    public static func fromEnvironment() -> ExampleTLSSession? {
        guard let path = ProcessEnvironment.value("IOTHUB_TLS_SESSION_FILE") else { return nil }
        guard Heap.canAllocate(64) else { ExampleOutput.fail("out of memory: no room for the TLS session file") }
        do throws(StorageError) {
            return ExampleTLSSession(file: try StorageFile.open(path: path, size: 2 + recordBytes))
        } catch {
            ExampleOutput.fail("cannot open IOTHUB_TLS_SESSION_FILE: ", error.summary)
        }
    }

    private init(file: StorageFile) {
        self.file = file
    }

    /// Offers the stored record to `tls` for its next handshake (a record for another hub, or
    /// none, is not taken).
    ///
    /// - Parameter tls: The hub's TLS transport, not yet open.
    func restore(into tls: TLSTransport) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2 + Self.recordBytes, alignment: 1)
        guard buffer.baseAddress != nil else { return }
        defer {
            zeroize(buffer)
            buffer.deallocate()
        }
        do throws(StorageError) { try file.read(at: 0, into: buffer) } catch { return }
        let length = Int(buffer[0]) << 8 | Int(buffer[1])
        guard length > 0, length <= Self.recordBytes else { return }
        tls.restoreSession(UnsafeRawBufferPointer(rebasing: buffer[2..<(2 + length)]))
    }

    /// Writes the session of `tls`'s last handshake (or an empty record when it kept none).
    /// A failed write is reported on stderr and otherwise ignored.
    ///
    /// - Parameter tls: The hub's TLS transport, just opened.
    func store(from tls: TLSTransport) {
        let record = tls.storedSession
        var length = (UInt8(truncatingIfNeeded: record.count >> 8), UInt8(truncatingIfNeeded: record.count))
        do throws(StorageError) {
            try withUnsafeBytes(of: &length) { (bytes) throws(StorageError) in try file.write(at: 0, bytes) }
            try file.write(at: 2, record)
        } catch {
            Console.write("IOTHUB_TLS_SESSION_FILE: ", to: .err)
            Console.write(error.summary, to: .err)
            Console.write(": the TLS session was not kept\n", to: .err)
        }
    }
}
