/// Behaviour of a `HubHTTPSClient`.
public struct HubHTTPSOptions {
    /// The device REST `api-version` sent on every request.
    public static let apiVersion: StaticString = "2020-03-13"
    /// The `User-Agent` sent on every request.
    public static let userAgent: StaticString = TinyHubVersion.product
    /// The HTTPS port of IoT Hub.
    public static let port: UInt16 = 443

    /// SAS token lifetime in seconds (default 3600).
    public var sasLifetimeSeconds: UInt32 = 3_600
    /// Reuse a token until this share of its lifetime has passed (default 80 %), then mint a new one.
    public var renewAtPercent: UInt32 = 80
    /// How often and how much the client fetches cloud-to-device messages.
    public var polling = C2DPollingPolicy.default
    /// Deadline for one whole exchange: connect, TLS handshake, request and response (a resend
    /// on a stale kept-alive connection included), default 30 s.
    public var timeoutMs: Int32 = 30_000
    /// Back-off after a 429/503 that carried no usable `Retry-After`.
    public var defaultRetryAfterSeconds: UInt32 = 10
    /// After this many consecutive 401/403/404 answers the client stops sending until
    /// `resume()` (auth failures are never retried forever). At least 1.
    public var maxAuthenticationFailures: UInt8 = 3

    /// The defaults above.
    public init() {}
}
