import TinyMQTT
import TinyPlatform
import TinyTLS

/// Encodes a CONNECT with TinyHub's codec and sets up a TLS client with the built-in
/// Azure roots; prints the packet length. Exits non-zero if either fails.
@main
struct Consumer {
    static func main() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        let id: StaticString = "consumer"
        do throws(MQTTCodecError) {
            let length = try MQTTEncoder.connect(
                MQTTConnectOptions(clientID: UnsafeRawBufferPointer(start: id.utf8Start, count: id.utf8CodeUnitCount)), into: buffer)
            Console.write("CONNECT bytes: ")
            Console.write(int: Int64(length))
            Console.write("\n")
        } catch {
            Console.exit(1)
        }
        do throws(TransportError) {
            _ = try TLSTransport(TLSConfiguration(host: "example.azure-devices.net", port: 8883))
            Console.write("TLS client ready\n")
        } catch {
            Console.write(error.summary, to: .err)
            Console.exit(1)
        }
    }
}
