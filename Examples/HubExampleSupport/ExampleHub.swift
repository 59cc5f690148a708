import TinyHub
import TinyMQTT
import TinyPlatform
import TinyTLS

/// Settings every hub example reads from the environment (the examples' contract):
/// `IOTHUB_DEVICE_CONNECTION_STRING` (or the DPS settings of `ExampleProvisioning`), `IOTHUB_TRUSTED_CA_FILE` (PEM roots instead of
/// the built-in Azure roots), `IOTHUB_MQTT_PORT` / `IOTHUB_HTTPS_PORT` (default 8883 / 443),
/// `IOTHUB_SAS_TTL_S` (SAS lifetime, default 3600), `IOTHUB_CONNECT_RETRY_S` (how long a streak of
/// failed connection attempts may last before the example gives up, default 60). Optional X.509 device identity:
/// `IOTHUB_DEVICE_CERT_FILE` + `IOTHUB_DEVICE_KEY_FILE` (with `x509=true` in the connection string).
/// An HTTP proxy for every connection: `IOTHUB_PROXY` and its credentials (`ExampleProxy`).
/// With `--transport mqtt-ws`, MQTT (to the hub and to DPS) goes over WebSockets on the HTTPS port.
public struct ExampleEnvironment {
    /// The device connection string.
    public var connectionString: String
    /// Trust anchors for TLS.
    public var trustAnchors: TrustAnchors
    /// MQTT port.
    public var mqttPort: UInt16
    /// HTTPS port.
    public var httpsPort: UInt16
    /// SAS lifetime in seconds.
    public var sasLifetime: UInt32
    /// Client certificate for X.509 authentication, if configured.
    public var clientIdentity: ClientIdentity?
    /// How the device was named through DPS, when it was (no connection string).
    var provisioning: ExampleProvisioning? = nil
    /// Whether MQTT (hub and DPS) goes over WebSockets on the HTTPS ports (`--transport mqtt-ws`).
    public var webSockets = false

    /// Reads the environment; exits with a clear message when something is missing or malformed.
    /// Names the device through DPS first when the DPS settings are there (over WebSockets with
    /// `.mqttWebSocket`).
    ///
    /// - Parameter transport: The example's `--transport` (default `mqtt`).
    public static func read(transport: ExampleTransport = .mqtt) -> ExampleEnvironment {
        let connectionString = ProcessEnvironment.value("IOTHUB_DEVICE_CONNECTION_STRING")
        if connectionString == nil, ProcessEnvironment.value("IOTHUB_DPS_ID_SCOPE") == nil {
            ExampleOutput.fail("IOTHUB_DEVICE_CONNECTION_STRING is not set (nor IOTHUB_DPS_ID_SCOPE, to provision through DPS)")
        }
        let anchors: TrustAnchors = ProcessEnvironment.value("IOTHUB_TRUSTED_CA_FILE").map { .file($0) } ?? .azureRoots
        func port(_ name: StaticString, _ fallback: UInt16) -> UInt16 {
            guard let text = ProcessEnvironment.value(name) else { return fallback }
            guard let value = DecimalParser.parse(text, limit: 65_535), value > 0 else { ExampleOutput.fail("invalid port in ", name) }
            return UInt16(value)
        }
        var ttl: UInt32 = 3_600
        if let text = ProcessEnvironment.value("IOTHUB_SAS_TTL_S") {
            guard let value = DecimalParser.parse(text, limit: 31_536_000), value >= 5 else {
                ExampleOutput.fail("IOTHUB_SAS_TTL_S must be a number of seconds >= 5")
            }
            ttl = UInt32(value)
        }
        if let text = ProcessEnvironment.value("IOTHUB_CONNECT_RETRY_S") {
            guard let value = DecimalParser.parse(text, limit: 31_536_000) else {
                ExampleOutput.fail("IOTHUB_CONNECT_RETRY_S must be a number of seconds")
            }
            ConnectionBudget.retryMs = value * 1_000
        }
        var identity: ClientIdentity? = nil
        let certificate = ProcessEnvironment.value("IOTHUB_DEVICE_CERT_FILE")
        let key = ProcessEnvironment.value("IOTHUB_DEVICE_KEY_FILE")
        if let certificate, let key {
            identity = .files(certificate: certificate, key: key)
        } else if certificate != nil || key != nil {
            ExampleOutput.fail("IOTHUB_DEVICE_CERT_FILE and IOTHUB_DEVICE_KEY_FILE go together: set both or neither")
        }
        var environment = ExampleEnvironment(connectionString: connectionString ?? "", trustAnchors: anchors,
                                             mqttPort: port("IOTHUB_MQTT_PORT", 8883), httpsPort: port("IOTHUB_HTTPS_PORT", 443),
                                             sasLifetime: ttl, clientIdentity: identity)
        environment.webSockets = transport == .mqttWebSocket
        if connectionString == nil { environment.provision(port: port) }
        return environment
    }

    /// Builds an MQTT hub client over TLS (or WebSockets, `webSockets`) with these settings and starts connecting: the
    /// connection is made by the example's `pollOrExit` loop, so a hub that is busy or out
    /// of reach at first is retried with the library's backoff (see `pollOrExit`).
    public func connectMQTT(buffers: HubBuffers, options: HubOptions) -> ExampleHubClient {
        var options = options
        options.sasLifetimeSeconds = sasLifetime
        // Parsed once, in the client's identity buffer: the client finds it there.
        let configuration = configuration(storage: buffers.identity)
        let transport = ExampleLink.make(host: configuration.connectHostText, port: mqttPort,
                                         webSocketPort: httpsPort, webSockets: webSockets, trustAnchors: trustAnchors,
                                         clientIdentity: clientIdentity, clientCertificate: configuration.usesX509,
                                         failure: "TLS setup failed: ", session: ExampleTLSSession.fromEnvironment())
        let client: ExampleHubClient
        // Embedded Swift traps when a class instance cannot be allocated: the client and its
        // session (each under 1 KB) and the SAS signature's digest context must fit.
        guard Heap.canAllocate(2 * MQTTSession<ExampleLink, SystemPlatform>.objectBytes) else {
            ExampleOutput.fail("out of memory: no room for the hub client")
        }
        do throws(HubError) {
            client = try HubClient(configuration: configuration, transport: transport, platform: SystemPlatform(),
                                   crypto: MbedTLSCrypto(), buffers: buffers, options: options)
        } catch {
            ExampleOutput.fail("cannot start: ", error.summary)
        }
        // A refused token may be the device's clock: read the hub's once over HTTPS (same host,
        // IOTHUB_HTTPS_PORT) and try again. The TLS session exists only while it is used.
        let anchors = trustAnchors, port = httpsPort
        client.enableClockCheck { connection in
            let host = String(decoding: connection.connectHostName, as: UTF8.self)
            guard let transport = try? TLSTransport(TLSConfiguration(host: host, port: port, trustAnchors: anchors,
                                                                     proxy: ExampleProxy.configuration())),
                  let check = HubClockCheck(transport: transport) else { return nil }
            return check.hubTime(for: connection)
        }
        client.start()
        return confirmProvisioned(client, buffers: buffers, options: options)
    }
}

/// The MQTT hub client of every example: over TLS or over WebSockets (`ExampleLink`).
public typealias ExampleHubClient = HubClient<MQTTFace<ExampleLink, SystemPlatform>>

/// The HTTPS hub client of the examples: over TLS.
public typealias ExampleHTTPSClient = HubClient<HTTPSFace<TLSTransport, SystemPlatform>>

extension ExampleEnvironment {
    /// The device's configuration, parsed once from the connection string into `storage` (the
    /// client's identity buffer) and checked for what the examples need. Exits with one clear
    /// stderr line when the string is malformed or asks for X.509 without a certificate.
    func configuration(storage: UnsafeMutableRawBufferPointer) -> HubConfiguration {
        let configuration: HubConfiguration
        do throws(HubError) {
            configuration = try HubConfiguration(connectionString: connectionString, storage: storage)
        } catch {
            ExampleOutput.fail("cannot start: ", error.summary)
        }
        if configuration.usesX509, clientIdentity == nil {
            ExampleOutput.fail("x509=true needs IOTHUB_DEVICE_CERT_FILE and IOTHUB_DEVICE_KEY_FILE")
        }
        return configuration
    }

    /// Builds an HTTPS hub client over TLS (port `IOTHUB_HTTPS_PORT`, default 443) with these
    /// settings. No connection is opened yet: the first request does that, so connection and
    /// authentication failures surface there (`HubError.isAuthenticationFailure`: exit 2).
    /// The client's one-line notices (development polling mode, ...) go to stderr.
    public func makeHTTPS(buffers: HubHTTPSBuffers, options: HubOptions) -> ExampleHTTPSClient {
        var options = options
        options.sasLifetimeSeconds = sasLifetime
        // Parsed once, in the client's identity buffer: the client finds it there.
        let configuration = configuration(storage: buffers.identity)
        let transport: TLSTransport
        do throws(TransportError) {
            transport = try TLSTransport(TLSConfiguration(host: configuration.connectHostText, port: httpsPort,
                                                          trustAnchors: trustAnchors, clientIdentity: clientIdentity,
                                                          proxy: ExampleProxy.configuration()))
        } catch {
            ExampleOutput.fail("TLS setup failed: ", error.summary)
        }
        do throws(HubError) {
            return try HubClient(configuration: configuration, transport: transport, platform: SystemPlatform(),
                                      crypto: MbedTLSCrypto(), buffers: buffers, options: options,
                                      log: { notice in
                                          Console.write(notice, to: .err)
                                          Console.write("\n", to: .err)
                                      })
        } catch {
            ExampleOutput.fail("cannot start: ", error.summary)
        }
    }
}

/// Exits with one clear stderr line for an HTTPS failure (code 2 for authentication failures).
public func failHTTPS(_ prefix: StaticString, _ error: HubError) -> Never {
    if case .transport(let transport) = error { ExampleProxy.exitIfProxyFailure(transport) }
    ExampleOutput.fail(prefix, error.summary, code: error.isAuthenticationFailure ? 2 : 1)
}

/// Reports hub events common to every example on stderr (connection loss, reconnects,
/// token renewal). Returns true if the event was one of them.
@discardableResult
public func reportConnectionEvent(_ event: HubEvent) -> Bool {
    switch event {
    case .connectionLost(let error):
        Console.write("connection lost: ", to: .err)
        Console.write(error.summary, to: .err)
        Console.write("\n", to: .err)
    case .reconnectScheduled(let delay, let attempt):
        Console.write("reconnect attempt ", to: .err)
        Console.write(int: Int64(attempt), to: .err)
        Console.write(" in ", to: .err)
        Console.write(int: Int64(delay), to: .err)
        Console.write(" ms\n", to: .err)
    case .tokenRenewed(let expiry):
        Console.write("SAS token renewed, expires at ", to: .err)
        Console.write(int: expiry, to: .err)
        Console.write("\n", to: .err)
    case .connected:
        Console.write("connected\n", to: .err)
    case .clockAdjusted(let offset):
        Console.write("the hub refused the token; its clock differs from the device's by ", to: .err)
        Console.write(int: offset, to: .err)
        Console.write(" s: retrying with the hub's time\n", to: .err)
    case .subscriptionRefused:
        ExampleOutput.fail("the hub refused a subscription")
    case .messageDropped(let length):
        Console.write("dropped an inbound message of ", to: .err)
        Console.write(int: Int64(length), to: .err)
        Console.write(" bytes (larger than the receive buffer)\n", to: .err)
    default:
        return false
    }
    return true
}

/// Polls `client`, and exits with one clear line if it cannot go on: a permanent refusal
/// (exit 2 for authentication), a failure no retry can mend (certificate, out of memory:
/// exit 1 at once), or a streak of failed connection attempts that has lasted
/// `IOTHUB_CONNECT_RETRY_S` seconds since the start of its first attempt (exit 1).
public func pollOrExit(_ client: ExampleHubClient, timeoutMs: UInt32, _ handler: (HubEvent) -> Void) {
    pollOrExit(client, timeoutMs: timeoutMs, refused: nil, handler)
}

/// `pollOrExit`; an authentication refusal calls `refused` (when given) instead of exiting.
func pollOrExit(_ client: ExampleHubClient, timeoutMs: UInt32, refused: (() -> Void)?,
                _ handler: (HubEvent) -> Void) {
    do throws(HubError) {
        try client.poll(timeoutMs: timeoutMs) { event in
            if case .connectionLost(let error) = event {
                ConnectionBudget.lastFailure = error.summary
                ExampleProxy.exitIfProxyFailure(error)
                if ConnectionBudget.isPermanent(error) { ExampleOutput.fail("hub connection failed: ", error.summary) }
            }
            handler(event)
        }
    } catch {
        if case .transport(let transport) = error { ExampleProxy.exitIfProxyFailure(transport) }
        if error.isAuthenticationFailure, let refused { return refused() }
        ExampleOutput.fail("hub connection failed: ", error.summary, code: error.isAuthenticationFailure ? 2 : 1)
    }
    if let since = client.failingSinceMs, ConnectionBudget.elapsed(since: since) >= ConnectionBudget.retryMs {
        ExampleOutput.fail("gave up connecting (IOTHUB_CONNECT_RETRY_S): ", ConnectionBudget.lastFailure)
    }
}

/// The examples' patience with a hub they cannot reach, and what went wrong last.
enum ConnectionBudget {
    /// How long a streak of failed attempts may last (IOTHUB_CONNECT_RETRY_S, default 60 s).
    nonisolated(unsafe) static var retryMs: UInt64 = 60_000
    /// The last connection failure, for the give-up line.
    nonisolated(unsafe) static var lastFailure: StaticString = "no connection attempt finished"

    /// Milliseconds since `start` on the monotonic clock (zero if `start` is later).
    static func elapsed(since start: UInt64) -> UInt64 {
        let now = SystemPlatform().monotonicMs()
        return now > start ? now - start : 0
    }

    /// Failures a retry with the same settings cannot mend: the example stops at once.
    static func isPermanent(_ error: MQTTError) -> Bool {
        switch error {
        case .transport(let transport): return isPermanent(transport)
        case .encoding: return true
        default: return false
        }
    }

    /// Transport failures a retry cannot mend: certificates, memory, configuration.
    static func isPermanent(_ error: TransportError) -> Bool {
        switch error {
        case .untrustedCertificate, .hostnameMismatch, .certificateExpired, .outOfMemory, .invalidConfiguration,
             .proxyRefused, .proxyInvalidResponse, .webSocketUpgradeInvalid: return true
        default: return error.isRefusal // a WebSocket upgrade refused with a 4xx
        }
    }
}

/// Retries of HTTPS requests in the examples, by the same rule as MQTT reconnects: transient
/// failures (network, timeouts, 429, 5xx) are retried after the backoff (or the hub's
/// `Retry-After`, if longer) until a streak of failures has lasted `IOTHUB_CONNECT_RETRY_S`
/// seconds, counted from the start of its first attempt; a success ends the streak.
public struct HTTPSRetry {
    private var failingSinceMs: UInt64? = nil
    private var attempt: UInt32 = 0
    private let backoff = Backoff()

    /// A streak with no failure yet.
    public init() {}

    /// The request succeeded: the streak ends.
    public mutating func succeeded() {
        failingSinceMs = nil
        attempt = 0
    }

    /// Records a failed request that started at `startedMs`. Exits (one stderr line: 2 for
    /// authentication, 1 otherwise) when the failure is permanent or the streak has used up
    /// its budget; otherwise returns how long to wait before the next attempt.
    public mutating func failed(_ error: HubError, startedMs: UInt64, prefix: StaticString) -> UInt64 {
        if !error.isTransient { failHTTPS(prefix, error) }
        if case .transport(let transport) = error, ConnectionBudget.isPermanent(transport) { failHTTPS(prefix, error) }
        if failingSinceMs == nil { failingSinceMs = startedMs }
        if let since = failingSinceMs, ConnectionBudget.elapsed(since: since) >= ConnectionBudget.retryMs {
            ExampleOutput.fail("gave up (IOTHUB_CONNECT_RETRY_S): ", error.summary)
        }
        if attempt < UInt32.max { attempt += 1 }
        var waitMs = UInt64(backoff.delay(attempt: attempt, random: SystemPlatform().random32()))
        switch error {
        case .throttled(let seconds), .serviceUnavailable(let seconds): waitMs = max(waitMs, UInt64(max(1, seconds)) * 1_000)
        case .backingOff(let remaining): waitMs = max(waitMs, remaining)
        default: break
        }
        return waitMs
    }
}
