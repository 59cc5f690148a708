import TinyHTTP
import TinyPlatform

/// The HTTPS face of `HubClient` (the device REST API,
/// `api-version=2020-03-13`): telemetry, telemetry batches, and cloud-to-device messages
/// fetched by polling under the 25-minute rule (`C2DPollingPolicy`).
///
/// - Authentication: `Authorization: SharedAccessSignature …` minted from the device key
///   (same `ConnectionString`/`SASToken` code as `MQTTFace`), reused until 80 % of its
///   lifetime; X.509 (`x509=true`) sends no `Authorization` (the transport carries the client certificate).
/// - One connection, kept alive across requests; reopened when the server says
///   `Connection: close` or the socket died (a request that found a stale connection is
///   sent once more on a fresh one, if no response byte had arrived).
/// - 429/503: requests are refused locally until `Retry-After` passed. Repeated 401/403/404:
///   the client stops until `resume()`.
///
/// Single-threaded and allocation-free after `init`: the application owns `HubHTTPSBuffers`.
/// The transport is normally `TLSTransport` to `connectHost`, port 443. Applications make it
/// through `HubClient(configuration:transport:platform:crypto:buffers:options:log:)` with
/// `HubHTTPSBuffers` and use it through the client; its own members are internal.
public final class HTTPSFace<T: Transport, P: Platform> {
    let transport: T
    let platform: P
    let requestBuffer: UnsafeMutableRawBufferPointer
    let bodyBuffer: UnsafeMutableRawBufferPointer
    var parser: HTTPResponseParser
    var schedule: C2DPollSchedule
    private var credentials: HubCredentials
    private let log: ((StaticString) -> Void)?
    var backoffUntilMs: UInt64 = 0
    /// The HTTPS fields of the options given at init. Declared here, before the one-byte
    /// fields: its 17 bytes and theirs share one 8-byte-aligned run of the object, 8 bytes
    /// less than at the top (Swift lays stored properties out in declaration order).
    let settings: HubHTTPSSettings
    var authFailures: UInt8 = 0
    var stopped = false
    var noBytesReceived = true
    /// Responses read so far (wrapping): a received message records the number of its response,
    /// so settling it after a later response overwrote its headers is refused.
    var responsesRead: UInt32 = 0
    /// Hub time minus device time, in seconds, from the `Date` of the last suspicious 401.
    public internal(set) var clockOffsetSeconds: Int64 = 0
    /// Whether a 401 already led to a clock check since the last success.
    var clockChecked = false

    /// Connections opened so far (diagnostics: with keep-alive this stays at 1 while the
    /// server keeps the connection).
    var connectionsOpened = 0

    /// Prepares requests for the device of `configuration`: its text goes into
    /// `buffers.identity` (copied, unless the configuration keeps it there), followed by a SAS
    /// token signed now. No connection is opened yet: the first request does that.
    ///
    /// - Parameters:
    ///   - configuration: the device's identity and credential.
    ///   - transport: the connection to `configuration.connectHost`, normally TLS to port 443.
    ///   - platform: clocks and randomness.
    ///   - crypto: signs the SAS tokens (`MbedTLSCrypto()` from TinyTLS, or your own `CryptoProvider`).
    ///   - buffers: all the memory the client uses; the caller keeps it alive while the client is.
    ///   - options: behaviour (SAS lifetime, polling policy, timeouts).
    ///   - log: receives one-line notices (development polling mode, stopping after
    ///     authentication failures); nothing is printed.
    /// - Throws: `HubError.bufferTooSmall` when the identity buffer cannot hold the
    ///   identity and a token, `.sasToken` when the token cannot be signed. A failed init wipes
    ///   the identity buffer.
    convenience init<C: CryptoProvider>(configuration: HubConfiguration, transport: T, platform: P, crypto: C,
                                               buffers: HubHTTPSBuffers, options: HubOptions = HubOptions(),
                                               log: ((StaticString) -> Void)? = nil) throws(HubError) {
        // Generic and convenience: Embedded Swift allows no generic designated initialiser in a class.
        try self.init(configuration: configuration, transport: transport, platform: platform, signer: StoredCrypto(crypto),
                      buffers: buffers, options: options, log: log)
    }

    /// The designated initialiser behind the generic one: `signer` keeps the crypto given.
    init(configuration: HubConfiguration, transport: T, platform: P, signer crypto: StoredCrypto,
         buffers: HubHTTPSBuffers, options: HubOptions = HubOptions(),
         log: ((StaticString) -> Void)? = nil) throws(HubError) {
        do throws(HubCredentialsError) {
            credentials = try HubCredentials(configuration, in: buffers.identity, crypto: crypto)
        } catch {
            throw HubError(error)
        }
        self.transport = transport
        self.platform = platform
        settings = HubHTTPSSettings(options)
        self.log = log
        requestBuffer = buffers.request
        bodyBuffer = buffers.body
        parser = HTTPResponseParser(headerBuffer: buffers.responseHeaders, bodyBuffer: buffers.body, maxHeaderCount: 64)
        schedule = C2DPollSchedule(policy: options.polling)
        if !credentials.connection.usesX509 {
            do throws(HubError) { try renewToken() } catch { credentials.wipe(); throw error } // no key left behind
        }
        if options.polling.isDevelopment {
            log?("TinyHub HTTPS: C2D development polling mode: polling faster than the 25-minute production rule; do not ship this")
        }
    }

    // MARK: - Connection

    /// The parsed connection string; its slices point into the client's identity buffer.
    public var connection: ConnectionString { credentials.connection }

    /// The host the transport must connect to: `GatewayHostName` if set, else `HostName`.
    public var connectHost: UnsafeRawBufferPointer { connection.connectHostName }

    /// When the current SAS token expires (Unix seconds; 0 with X.509).
    public var sasExpiry: Int64 { credentials.expiry }

    /// Milliseconds until the polling policy (and any `Retry-After`) allows the next C2D GET.
    var nextPollInMs: UInt64 {
        let now = platform.monotonicMs()
        let backoff = backoffUntilMs > now ? backoffUntilMs - now : 0
        return max(schedule.waitMs(now: now), backoff)
    }

    /// Poll cycles started so far (diagnostics).
    var pollCyclesStarted: Int { schedule.cyclesStarted }

    /// Clears a stop after repeated authentication failures (after fixing the key, the
    /// clock or the registration). The next request mints a fresh token.
    func resume() {
        stopped = false
        authFailures = 0
        credentials.invalidate()
    }

    /// Closes the connection (TLS close_notify). The next request opens a new one.
    public func close() { transport.close() }

    // MARK: - Token

    /// The `Authorization` value for the next request, renewed when due; nil with X.509.
    func authorization() throws(HubError) -> UnsafeRawBufferPointer? {
        guard !connection.usesX509 else { return nil }
        if credentials.needsRenewal(now: platform.wallSeconds() &+ clockOffsetSeconds) { try renewToken() }
        return credentials.token
    }

    /// Forces a new token before the next request (after a 401: the clock may have been fixed since).
    func invalidateToken() { credentials.invalidate() }

    /// Mints a fresh SAS token into the identity buffer after the connection string.
    private func renewToken() throws(HubError) {
        do throws(HubCredentialsError) {
            try credentials.renew(now: platform.wallSeconds() &+ clockOffsetSeconds, lifetime: settings.sasLifetimeSeconds,
                                  renewPercent: settings.renewAtPercent)
        } catch {
            throw HubError(error)
        }
    }

    /// Reports a notice through the log hook.
    func notice(_ text: StaticString) { log?(text) }
}
