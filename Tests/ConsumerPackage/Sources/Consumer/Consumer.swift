import TinyHTTP
import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// Uses every library product the way firmware would, without a network: encodes a CONNECT,
/// sets up a TLS client, builds the README's hub client (connection string parsed, SAS token
/// signed, no connection opened) and sees a malformed string refused with its typed error,
/// writes an HTTP request and parses a response. The README's network code (ReadmeMQTT.swift,
/// ReadmeHub.swift, kept identical to the README by scripts/check/consumer.sh) is compiled,
/// not run. Prints one line per check; exits non-zero if any fails.
@main
struct Consumer {
    static func main() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 1)
        do throws(MQTTCodecError) {
            let length = try MQTTEncoder.connect(MQTTConnectOptions(clientID: bytes("consumer")), into: buffer)
            Console.write("CONNECT bytes: ")
            Console.write(int: Int64(length))
            Console.write("\n")
        } catch {
            fail("CONNECT encoding failed")
        }
        do throws(TransportError) {
            _ = try TLSTransport(TLSConfiguration(host: "example.azure-devices.net", port: 8883))
            Console.write("TLS client ready\n")
        } catch {
            fail(error.summary)
        }
        hubClient()
        http(buffer)
    }

    /// The README's `makeHubClient` with a well-formed and with a malformed connection string.
    static func hubClient() {
        do throws(HubError) {
            let client = try makeHubClient(
                connectionString: "HostName=consumer.azure-devices.net;DeviceId=consumer-device;SharedAccessKey=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
            guard !client.isConnected, client.sasExpiry > SystemPlatform().wallSeconds() else { fail("hub client state") }
            Console.write("hub client ready: ")
            Console.write(bytes: client.connection.deviceID)
            Console.write(" at ")
            Console.write(bytes: client.connectHost)
            Console.write(", SAS token signed, not connected\n")
        } catch {
            fail(error.summary)
        }
        do throws(HubError) {
            _ = try makeHubClient(connectionString: "HostName=consumer.azure-devices.net;SharedAccessKey=MDEy")
            fail("a connection string without DeviceId was accepted")
        } catch {
            guard case .connectionString(.missingDeviceID) = error else { fail(error.summary) }
            Console.write("connection string without DeviceId refused\n")
        }
    }

    /// Writes a GET with TinyHTTP and parses a canned 204 answer.
    static func http(_ buffer: UnsafeMutableRawBufferPointer) {
        do throws(HTTPEncodeError) {
            var writer = HTTPRequestWriter(buffer: buffer)
            try writer.start(method: .get, path: bytes("/devices/consumer-device/messages/deviceBound?api-version=2020-03-13"),
                             host: bytes("consumer.azure-devices.net"))
            Console.write("HTTP request bytes: ")
            Console.write(int: Int64(try writer.finish()))
            Console.write("\n")
        } catch {
            fail("HTTP request writing failed")
        }
        let header = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 1)
        let body = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        var parser = HTTPResponseParser(headerBuffer: header, bodyBuffer: body)
        do throws(HTTPParseError) {
            _ = try parser.feed(bytes("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"))
            guard parser.isComplete else { fail("HTTP response incomplete") }
            Console.write("HTTP status: ")
            Console.write(int: Int64(parser.statusCode))
            Console.write("\n")
        } catch {
            fail("HTTP response parsing failed")
        }
    }

    static func fail(_ why: StaticString) -> Never {
        Console.write("consumer: ", to: .err)
        Console.write(why, to: .err)
        Console.write("\n", to: .err)
        Console.exit(1)
    }
}
