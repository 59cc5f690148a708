import TinyMQTT
import TinyPlatform
import TinyTLS

/// The examples' HTTP proxy (README contract): `IOTHUB_PROXY=host:port` (also `[v6]:port`, and
/// an `http://` prefix or a trailing `/` are tolerated) sends every TLS connection (MQTT, HTTPS,
/// the clock check) through that proxy with `CONNECT`; `IOTHUB_PROXY_USER` and, optionally,
/// `IOTHUB_PROXY_PASSWORD` add Basic credentials. A refusal by the proxy ends the example at
/// once with exit 1 and one line naming the proxy and its status.
public enum ExampleProxy {
    nonisolated(unsafe) private static var cached: ProxyConfiguration?? = nil
    /// Whether the tunnels are for DPS (while provisioning) rather than the hub, for the refusal line.
    nonisolated(unsafe) static var forDPS = false

    /// The proxy from the environment (read on the first call), or nil without `IOTHUB_PROXY`.
    /// Exits 1 with one line when a setting is malformed.
    public static func configuration() -> ProxyConfiguration? {
        if let cached { return cached }
        let value = read()
        cached = .some(value)
        return value
    }

    private static func read() -> ProxyConfiguration? {
        let user = ProcessEnvironment.value("IOTHUB_PROXY_USER")
        let password = ProcessEnvironment.value("IOTHUB_PROXY_PASSWORD")
        guard let text = ProcessEnvironment.value("IOTHUB_PROXY") else {
            if user != nil || password != nil { ExampleOutput.fail("IOTHUB_PROXY_USER and IOTHUB_PROXY_PASSWORD need IOTHUB_PROXY") }
            return nil
        }
        guard let (host, port) = parse(Array(text.utf8)) else {
            ExampleOutput.fail("IOTHUB_PROXY must be host:port (for example proxy.example.com:3128)")
        }
        var configuration = ProxyConfiguration(host: host, port: port)
        if let user {
            guard !user.utf8.contains(0x3A) else { ExampleOutput.fail("IOTHUB_PROXY_USER must not contain ':' (Basic authentication)") }
            // A copy the credentials own, kept (in `cached`) for every connection of the run.
            configuration.credentials = ProxyCredentials(user: user, password: password ?? "")
        } else if password != nil {
            ExampleOutput.fail("IOTHUB_PROXY_PASSWORD needs IOTHUB_PROXY_USER")
        }
        return configuration
    }

    /// `host:port` or `[v6]:port` (an `http://` prefix and a trailing `/` removed); nil when malformed.
    static func parse(_ text: [UInt8]) -> (String, UInt16)? {
        var bytes = ArraySlice(text)
        let scheme = Array("http://".utf8)
        if bytes.count > scheme.count, bytes.prefix(scheme.count).elementsEqual(scheme) { bytes = bytes.dropFirst(scheme.count) }
        if bytes.last == 0x2F { bytes = bytes.dropLast() }
        guard let colon = bytes.lastIndex(of: 0x3A) else { return nil }
        var host = bytes[bytes.startIndex..<colon]
        let digits = bytes[(colon + 1)...]
        if host.first == 0x5B {
            guard host.count > 2, host.last == 0x5D else { return nil }
            host = host.dropFirst().dropLast()
        } else if host.contains(0x3A) {
            return nil // an IPv6 literal needs brackets
        }
        guard !host.isEmpty, !host.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == 0x2F }) else { return nil }
        guard let port = DecimalParser.parse(String(decoding: digits, as: UTF8.self), limit: 65_535), port > 0 else { return nil }
        return (String(decoding: host, as: UTF8.self), UInt16(port))
    }

    /// Exits 1 with one stderr line naming the proxy when `error` is the proxy's refusal or an
    /// answer that is not a tunnel; returns otherwise.
    public static func exitIfProxyFailure(_ error: MQTTError) {
        if case .transport(let transport) = error { exitIfProxyFailure(transport) }
    }

    /// Exits 1 with one stderr line naming the proxy when `error` is the proxy's refusal
    /// (`proxy HOST:PORT refused the tunnel: HTTP 407 ...`) or an answer that is not a tunnel.
    public static func exitIfProxyFailure(_ error: TransportError) {
        switch error {
        case .proxyRefused(let status):
            writeProxy()
            Console.write(forDPS ? " refused the tunnel to DPS: HTTP " : " refused the tunnel to the hub: HTTP ", to: .err)
            Console.write(int: Int64(status), to: .err)
            ExampleOutput.fail(explanation(status))
        case .proxyInvalidResponse:
            writeProxy()
            ExampleOutput.fail(": its answer to CONNECT is not a usable HTTP response (is IOTHUB_PROXY an HTTP proxy?)")
        default:
            return
        }
    }

    private static func writeProxy() {
        Console.write(forDPS ? "DPS connection failed: proxy " : "hub connection failed: proxy ", to: .err)
        guard let proxy = configuration() else { return }
        Console.write(proxy.host, to: .err)
        Console.write(":", to: .err)
        Console.write(int: Int64(proxy.port), to: .err)
    }

    private static func explanation(_ status: Int) -> StaticString {
        switch status {
        case 407: return " (proxy authentication required: check IOTHUB_PROXY_USER and IOTHUB_PROXY_PASSWORD)"
        case 403: return " (forbidden: the proxy does not allow this host or port)"
        case 502, 503, 504: return " (the proxy could not reach the hub)"
        default: return ""
        }
    }
}
