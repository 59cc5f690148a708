import TinyHub
import TinyMQTT
import TinyPlatform

/// A Device Provisioning Service (DPS) client over MQTT 3.1.1: asks DPS which IoT Hub the
/// device belongs to and under which device id, with an individual symmetric key, an
/// enrollment group key or an X.509 certificate.
///
/// Single-threaded and blocking: `register` connects, subscribes to the answers, sends the
/// register request, waits out `retry-after` while DPS assigns (polling the operation status),
/// and disconnects. All memory is allocated once by `init?`; `register` allocates nothing.
/// Every wait is bounded by `ProvisioningOptions.registrationTimeoutMs`.
///
/// The transport is the caller's choice: normally `TLSTransport` to the DPS host
/// (`global.azure-devices-provisioning.net`, port 8883), with the device certificate as the
/// TLS client identity for X.509 enrollments.
///
/// ```swift
/// let tls = try TLSTransport(TLSConfiguration(host: "global.azure-devices-provisioning.net", port: 8883))
/// guard let dps = ProvisioningClient(transport: tls, platform: SystemPlatform(), crypto: MbedTLSCrypto()) else { /* out of memory */ }
/// let https = try TLSTransport(TLSConfiguration(host: "global.azure-devices-provisioning.net", port: 443))
/// if let check = ProvisioningClockCheck(transport: https, host: "global.azure-devices-provisioning.net") {
///     dps.enableClockCheck { scope, id in check.dpsTime(idScope: scope, registrationID: id) }
/// }
/// let assignment = try dps.register(idScope: "0ne00000A0A", registrationID: "my-device-1",
///                                   credential: .symmetricKey(key))   // key: the Base64 key as a String
/// // the hub, the device id and the key it assigned, as the hub clients take them
/// let configuration = try assignment.hubConfiguration(storage: hubBuffers.identity)
/// ```
public final class ProvisioningClient<T: Transport, P: Platform> {
    /// The MQTT session underneath (for diagnostics).
    public let session: MQTTSession<T, P>
    /// Behaviour chosen at init.
    public let options: ProvisioningOptions
    /// DPS time minus device time, in seconds, as the last clock check found it (kept across
    /// `register` calls).
    public internal(set) var clockOffsetSeconds: Int64 = 0
    /// DPS connections the last `register` call opened (attempts, refused ones included).
    public internal(set) var connectionAttempts: UInt32 = 0

    let platform: P
    /// Signs the tokens and derives group device keys: the `CryptoProvider` given at init.
    let crypto: StoredCrypto
    let storage: ProvisioningStorage
    /// Reads DPS's clock after a refusal (see `enableClockCheck`).
    var clockCheck: ((UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Int64?)? = nil
    /// The registration in progress (valid only inside `register`).
    var exchange = ProvisioningExchange()

    /// Prepares a client over `transport` and allocates all its memory.
    ///
    /// - Parameters:
    ///   - transport: the connection to DPS (normally `TLSTransport`, port 8883); opened and
    ///     closed by each `register`.
    ///   - platform: clock, randomness and sleep (`SystemPlatform()` on a device).
    ///   - crypto: signs the SAS tokens and derives group keys (`MbedTLSCrypto()` from TinyTLS,
    ///     or your own `CryptoProvider`).
    ///   - options: deadlines, attempts and buffer sizes.
    /// - Returns: nil when memory ran out.
    public convenience init?<C: CryptoProvider>(transport: T, platform: P, crypto: C,
                                                options: ProvisioningOptions = ProvisioningOptions()) {
        // Generic and convenience: Embedded Swift allows no generic designated initialiser in a class.
        self.init(transport: transport, platform: platform, signer: StoredCrypto(crypto), options: options)
    }

    /// The designated initialiser behind the generic one: `signer` keeps the crypto given.
    init?(transport: T, platform: P, signer crypto: StoredCrypto, options: ProvisioningOptions) {
        guard let storage = ProvisioningStorage(options: options) else { return nil }
        var configuration = options.session
        configuration.reconnect = false // the client counts its connections itself
        self.storage = storage
        self.options = options
        self.platform = platform
        self.crypto = crypto
        session = MQTTSession(transport: transport, platform: platform, buffers: storage.mqtt, configuration: configuration)
    }

    deinit {
        session.disconnect()
        storage.deallocate()
    }

    /// Lets the client recover from a wrong device clock, which makes DPS refuse a good key
    /// (the SAS token's expiry is judged on DPS's clock).
    ///
    /// When DPS refuses the connection (CONNACK 4 or 5), `register` calls `dpsTime` once (normally
    /// `ProvisioningClockCheck.dpsTime(idScope:registrationID:)`), keeps the offset between DPS's
    /// time and the device's, mints a new token and connects once more. A second refusal is
    /// final (`ProvisioningError.notAuthorized`), and so is the first when `dpsTime` returns nil
    /// (`ProvisioningError.clockUnchecked`). A device clock earlier than
    /// `WallClockTrust.earliestPlausibleTime` is not trusted at all: DPS's time is read before
    /// the first connection. So a wrong key costs at most two connections and one HTTPS
    /// exchange. X.509 registrations need no token and never check the clock.
    ///
    /// - Parameter dpsTime: given the ID scope and registration id, returns DPS's time in Unix
    ///   seconds, or nil when it cannot.
    public func enableClockCheck(_ dpsTime: @escaping (_ idScope: UnsafeRawBufferPointer,
                                                       _ registrationID: UnsafeRawBufferPointer) -> Int64?) {
        clockCheck = dpsTime
    }

    /// The device's idea of DPS's time: the wall clock corrected by the last clock check.
    var dpsNow: Int64 { platform.wallSeconds() &+ clockOffsetSeconds }

    /// Registers the device with DPS and returns its assignment.
    ///
    /// Connects (client id = `registrationID`, a SAS token as password unless X.509, clean
    /// session), subscribes to `$dps/registrations/res/#`, publishes the register request and
    /// follows DPS's answers: `202` (assigning) waits `retry-after` (3 s when absent) and asks
    /// for the operation status; `429` (throttled) and `5xx` wait `retry-after` and send the
    /// same request again; `200` with `assigned` ends it. Answers to other requests are ignored.
    /// Transient connection failures are retried up to `ProvisioningOptions.connectAttempts`
    /// connections, with the session's backoff. Disconnects before returning or throwing.
    ///
    /// - Parameters:
    ///   - idScope: the DPS instance's ID scope (e.g. `0ne00000A0A`).
    ///   - registrationID: the enrollment's registration id (for X.509: the certificate's CN).
    ///   - credential: how the device authenticates (see `ProvisioningCredential`).
    ///   - payload: optional custom allocation payload, one complete JSON value sent as
    ///     `"payload"` (at most `ProvisioningOptions.maxPayloadBytes`).
    /// - Returns: the assigned hub and device id (and device key for key credentials), as views
    ///   into the client's storage valid until the next `register`.
    /// - Throws: `ProvisioningError`: `notAuthorized` for a wrong key or unknown scope or
    ///   registration, `assignmentFailed`/`disabled`/`rejected` for DPS's refusals,
    ///   `connectionFailed` or `timedOut` for transient failures (see `isPermanent`).
    public func register(idScope: UnsafeRawBufferPointer, registrationID: UnsafeRawBufferPointer,
                         credential: ProvisioningCredential,
                         payload: UnsafeRawBufferPointer? = nil) throws(ProvisioningError) -> ProvisioningAssignment {
        let deadline = ClockArithmetic.adding(UInt64(options.registrationTimeoutMs), to: platform.monotonicMs())
        connectionAttempts = 0
        exchange = ProvisioningExchange()
        defer {
            session.disconnect()
            session.discardInflight()
            storage.wipeToken()
        }
        let prepared = try prepare(idScope: idScope, registrationID: registrationID, credential: credential, payload: payload)
        try connectAndRegister(prepared, deadline: deadline)
        let keyLength = prepared.keyLength
        return ProvisioningAssignment(
            assignedHub: UnsafeRawBufferPointer(rebasing: storage.assignedHub[0..<exchange.assignedHubLength]),
            deviceID: UnsafeRawBufferPointer(rebasing: storage.deviceID[0..<exchange.deviceIDLength]),
            deviceKey: credential.usesToken ? UnsafeRawBufferPointer(rebasing: storage.deviceKey[0..<keyLength]) : nil)
    }
}
