/// What `HTTPSFace` keeps of its `HubOptions` after init: the HTTPS fields it reads
/// later, and nothing of the MQTT ones (the polling policy lives in the client's
/// `C2DPollSchedule`). Each field is stored once, inside the client object, so one options
/// type for both protocols costs no heap.
struct HubHTTPSSettings {
    /// SAS token lifetime in seconds.
    let sasLifetimeSeconds: UInt32
    /// Share of the lifetime after which a new token is minted.
    let renewAtPercent: UInt32
    /// Deadline for one whole exchange.
    let timeoutMs: Int32
    /// Back-off after a 429/503 without a usable `Retry-After`.
    let defaultRetryAfterSeconds: UInt32
    /// Consecutive 401/403/404 answers after which the client stops (at least 1).
    let maxAuthenticationFailures: UInt8

    /// The HTTPS fields of `options`.
    init(_ options: HubOptions) {
        sasLifetimeSeconds = options.sasLifetimeSeconds
        renewAtPercent = options.renewAtPercent
        timeoutMs = options.timeoutMs
        defaultRetryAfterSeconds = options.defaultRetryAfterSeconds
        maxAuthenticationFailures = max(options.maxAuthenticationFailures, 1)
    }
}
