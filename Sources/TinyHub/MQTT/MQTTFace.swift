import TinyBytes
import TinyMQTT
import TinyPlatform

/// The MQTT face of `HubClient` (MQTT 3.1.1): SAS authentication with
/// renewal, telemetry, cloud-to-device messages, device twin and direct methods.
///
/// Single-threaded and allocation-free after `init`: the application owns `HubBuffers`
/// and drives the client from its loop with `poll`. The transport (normally `TLSTransport`
/// to `connectHost`, port 8883) is the application's choice; this layer knows no TLS.
/// Applications make it through `HubClient(configuration:transport:platform:crypto:buffers:options:)`
/// with `HubBuffers` and use it through the client; its own members are internal.
public final class MQTTFace<T: Transport, P: Platform> {
    /// The MQTT session underneath (for diagnostics; do not publish on hub topics directly).
    let session: MQTTSession<T, P>
    /// The MQTT fields of the options given at init.
    let settings: HubMQTTSettings

    let platform: P
    let topicBuffer: UnsafeMutableRawBufferPointer
    private var credentials: HubCredentials
    private var clientIDRange = 0..<0
    private var usernameRange = 0..<0
    private var cloudToDeviceFilterRange = 0..<0
    private var subscriptionID: UInt16 = 0
    /// Set by an event inside the session's callback, acted on once the session's `poll`
    /// has returned: the client never calls back into the session from its callback.
    private var subscribeDue = false
    /// What a refusal thrown by the session's `poll` goes through: set by `enableClockCheck` only
    /// (it checks the hub's clock after an authentication refusal), so a client that never enables
    /// the check links none of its code. Until then the refusal is thrown as it is.
    private var refusalCheck: (MQTTFace, MQTTError, (HubEvent) -> Void) throws(HubError) -> Void = { (_, error, _) throws(HubError) in
        throw HubError(error)
    }
    /// Hub time minus device time, in seconds, as the last clock check found it.
    public private(set) var clockOffsetSeconds: Int64 = 0
    /// Whether the clock was checked since the last accepted connection: only the first
    /// refusal of a streak suspects the clock, a second one is final.
    private var clockChecked = false
    private var twinGetDue = false
    var twin = TwinState()
    /// The telemetry topic and fixed properties, ready between messages.
    var telemetryTopic = TelemetryTopicCache()
    /// The code of cloud-to-device messages, twin and methods, or nil in a telemetry-only client
    /// (`init(sendingTelemetryOnly:...)`): only the initialiser that sets it links that code.
    private let features: HubFeatureRoute<T, P>?

    /// Prepares the session for the device of `configuration`: its text goes into
    /// `buffers.identity` (copied, unless the configuration keeps it there), followed by the
    /// client id, the user name and a SAS token signed now. Opens no connection: call
    /// `connect()` or `start()`.
    ///
    /// The client subscribes to `options.features` and reports their messages, so a program that
    /// makes its client here links the code of cloud-to-device messages, twin and direct methods;
    /// one that only sends telemetry uses `init(sendingTelemetryOnly:transport:platform:crypto:buffers:options:)`.
    ///
    /// - Parameters:
    ///   - configuration: the device's identity and credential.
    ///   - transport: the connection to `configuration.connectHost`, normally TLS to port 8883.
    ///   - platform: clocks and randomness.
    ///   - crypto: signs the SAS tokens (`MbedTLSCrypto()` from TinyTLS, or your own `CryptoProvider`).
    ///   - buffers: all the memory the client uses; the caller keeps it alive while the client is.
    ///   - options: behaviour (features to subscribe to, SAS lifetime, keep-alive...).
    /// - Throws: `HubError.bufferTooSmall` when the identity buffer cannot hold the identity
    ///   and a token, `.topic` for an id MQTT cannot carry, `.sasToken` when the token cannot be
    ///   signed. A failed init wipes the identity buffer.
    convenience init<C: CryptoProvider>(configuration: HubConfiguration, transport: T, platform: P, crypto: C,
                                               buffers: HubBuffers, options: HubOptions = HubOptions()) throws(HubError) {
        // Generic and convenience: Embedded Swift allows no generic designated initialiser in a class.
        self.init(credentials: try Self.credentials(configuration, buffers, StoredCrypto(crypto)), transport: transport,
                  platform: platform, buffers: buffers, options: options, features: routeHubFeatures)
        try prepareIdentity(modelID: options.modelID, buffers)
    }

    /// A client that only sends telemetry: it subscribes to nothing (`options.features` is not
    /// used) and ignores any message the hub sends down. A program that makes its clients only
    /// this way links no cloud-to-device, twin or direct-method code.
    ///
    /// - Parameters:
    ///   - configuration: the device's identity and credential.
    ///   - transport: the connection to `configuration.connectHost`, normally TLS to port 8883.
    ///   - platform: clocks and randomness.
    ///   - crypto: signs the SAS tokens (`MbedTLSCrypto()` from TinyTLS, or your own `CryptoProvider`).
    ///   - buffers: all the memory the client uses (a small receive buffer will do: only
    ///     acknowledgements arrive).
    ///   - options: SAS lifetime and keep-alive (`features` is not used).
    /// - Throws: as `init(configuration:transport:platform:crypto:buffers:options:)`.
    convenience init<C: CryptoProvider>(sendingTelemetryOnly configuration: HubConfiguration, transport: T, platform: P,
                                               crypto: C, buffers: HubBuffers, options: HubOptions = HubOptions()) throws(HubError) {
        var options = options
        options.features = []
        self.init(credentials: try Self.credentials(configuration, buffers, StoredCrypto(crypto)), transport: transport,
                  platform: platform, buffers: buffers, options: options, features: nil)
        try prepareIdentity(modelID: options.modelID, buffers)
    }

    /// The credentials of `configuration` in `buffers.identity`, or the error for the application.
    private static func credentials(_ configuration: HubConfiguration, _ buffers: HubBuffers,
                                    _ crypto: StoredCrypto) throws(HubError) -> HubCredentials {
        do throws(HubCredentialsError) {
            return try HubCredentials(configuration, in: buffers.identity, crypto: crypto)
        } catch {
            throw HubError(error)
        }
    }

    // Nothing in here throws: a throwing class initialiser pays for releasing a half-made
    // object at every throw. What can fail comes before (`credentials`) or after (`prepareIdentity`).
    private init(credentials: HubCredentials, transport: T, platform: P, buffers: HubBuffers,
                 options: HubOptions, features: HubFeatureRoute<T, P>?) {
        self.features = features
        self.credentials = credentials
        settings = HubMQTTSettings(options)
        self.platform = platform
        self.topicBuffer = buffers.topic
        session = MQTTSession(transport: transport, platform: platform, buffers: buffers.mqtt)
    }

    /// Writes the client id and the user name after the connection string, lets the features
    /// note what they need, and signs the first token (not with X.509). On failure it leaves no
    /// key behind: the credentials keep everything in the identity buffer, wiped here directly,
    /// since calling their `wipe()` would copy them first.
    private func prepareIdentity(modelID: StaticString?, _ buffers: HubBuffers) throws(HubError) {
        do throws(HubError) {
            let connection = credentials.connection
            do throws(TopicError) {
                var length = try HubMQTTIdentity.clientID(for: connection, into: credentials.freeSpace)
                clientIDRange = credentials.keep(length)
                length = try HubMQTTIdentity.username(for: connection, modelID: modelID.map(Bytes.view), into: credentials.freeSpace)
                usernameRange = credentials.keep(length)
            } catch {
                throw identityError(error)
            }
            if let features { _ = try features(self, .prepare, { _ in }) }
            if !connection.usesX509 { try renewToken() }
        } catch {
            zeroize(buffers.identity)
            throw error
        }
    }

    /// The error for a value derived from the identity that could not be written.
    private func identityError(_ error: TopicError) -> HubError {
        if case .bufferTooSmall(let needed) = error { return .bufferTooSmall(needed: credentials.used + needed) }
        return .topic(error)
    }

    /// Notes the cloud-to-device subscription filter in the identity buffer, when enabled.
    func prepareCloudToDevice() throws(HubError) {
        guard connection.moduleID == nil, settings.features.contains(.cloudToDevice) else { return }
        do throws(TopicError) {
            let length = try HubTopics.cloudToDeviceFilter(deviceID: connection.deviceID, into: credentials.freeSpace)
            cloudToDeviceFilterRange = credentials.keep(length)
        } catch {
            throw identityError(error)
        }
    }

    // MARK: - Connection

    /// The host the transport must connect to: `GatewayHostName` if set, else `HostName`.
    public var connectHost: UnsafeRawBufferPointer { connection.connectHostName }

    /// Whether the MQTT connection is up.
    var isConnected: Bool { session.isConnected }

    /// The parsed connection string; its slices point into the client's identity buffer.
    public var connection: ConnectionString { credentials.connection }

    /// When the current SAS token expires (Unix seconds; 0 with X.509).
    public var sasExpiry: Int64 { credentials.expiry }

    /// Connects, subscribes to the enabled features and (if enabled) requests the twin.
    /// Throws on failure; an authentication refusal is permanent (`isAuthenticationFailure`).
    ///
    /// - Throws: `HubError.transport` when the transport cannot open, `.connectionRefused` or
    ///   `.clockUnchecked` when the hub refuses the CONNECT, `.sasToken` when no token could be
    ///   made, `.mqtt` for a protocol failure.
    func connect() throws(HubError) {
        do throws(MQTTError) {
            _ = try session.connect(connectOptions)
        } catch {
            throw HubError(error)
        }
        if let features { _ = try features(self, .subscribe, { _ in }) }
    }

    /// Connects from the next `poll` instead of now, so a first attempt that fails for a
    /// transient reason (hub busy, network down, timeout) is retried with the backoff like
    /// any later reconnect. Only a permanent refusal is thrown, from `poll`. Give up after a
    /// budget of your choice with `failingSinceMs`.
    func start() {
        session.start(connectOptions)
    }

    /// Lets the client recover from a wrong device clock, the most common reason a device
    /// with a good key is refused (no battery-backed clock, NTP not synchronised yet).
    ///
    /// On an authentication refusal (CONNACK 4 or 5) the client suspects its clock once: it
    /// calls `hubTime` (normally `HubClockCheck.hubTime(for:)`), keeps the offset between the
    /// hub's time and the device's, mints a new SAS token from the hub's time and connects
    /// again; `poll` reports `.clockAdjusted`. A second refusal is final (thrown from `poll`),
    /// and so is the first when `hubTime` returns nil (`HubError.clockUnchecked`). A device
    /// clock earlier than `HubClockCheckPolicy.earliestPlausibleTime` is not trusted at all: the hub's
    /// time is read at once, before the first connection.
    ///
    /// - Parameter hubTime: returns the hub's time in Unix seconds, or nil when it cannot.
    func enableClockCheck(_ hubTime: @escaping (ConnectionString) -> Int64?) {
        // The client comes as an argument, not captured: the closure keeps no reference to it.
        refusalCheck = { (client, error, handler) throws(HubError) in try client.suspectClock(after: error, hubTime, handler) }
        guard !connection.usesX509, platform.wallSeconds() < HubClockCheckPolicy.earliestPlausibleTime,
              let now = hubTime(connection) else { return }
        clockOffsetSeconds = now - platform.wallSeconds()
        try? renewToken()
    }

    /// The device's idea of the hub's time: the wall clock corrected by the last clock check.
    private var hubNow: Int64 { platform.wallSeconds() &+ clockOffsetSeconds }

    /// When the current streak of failed connection attempts began (monotonic ms, the start
    /// of its first attempt), or nil while connected or before any attempt failed.
    var failingSinceMs: UInt64? { session.failingSinceMs }

    /// Closes the connection cleanly (DISCONNECT). Queued QoS 1 telemetry stays queued.
    func disconnect() { session.disconnect() }

    var connectOptions: MQTTConnectOptions {
        let password = connection.usesX509 ? nil : credentials.token
        return MQTTConnectOptions(clientID: credentials.bytes(clientIDRange), username: credentials.bytes(usernameRange),
                                  password: password, cleanSession: false, keepAliveSeconds: settings.keepAliveSeconds)
    }

    /// Mints a fresh SAS token and hands it to the session for the next (re)connect.
    private func renewToken() throws(HubError) {
        do throws(HubCredentialsError) {
            try credentials.renew(now: hubNow, lifetime: settings.sasLifetimeSeconds,
                                  renewPercent: settings.renewAtPercent)
        } catch {
            throw HubError(error)
        }
        session.updateConnectOptions(connectOptions)
    }

    /// Subscribes (QoS 1 for C2D, QoS 0 for twin and methods, as the C SDK does).
    func subscribeFeatures() throws(MQTTError) {
        var filters = InlineArray<4, MQTTSubscription>(repeating: MQTTSubscription(filter: UnsafeRawBufferPointer(start: nil, count: 0), qos: .atMostOnce))
        var count = 0
        func add(_ filter: UnsafeRawBufferPointer, _ qos: MQTTQoS) {
            filters[count] = MQTTSubscription(filter: filter, qos: qos)
            count += 1
        }
        func add(_ filter: StaticString, _ qos: MQTTQoS) {
            add(UnsafeRawBufferPointer(start: filter.utf8Start, count: filter.utf8CodeUnitCount), qos)
        }
        if !cloudToDeviceFilterRange.isEmpty { add(credentials.bytes(cloudToDeviceFilterRange), .atLeastOnce) }
        if settings.features.contains(.twin) {
            add(HubTopics.twinResponseFilter, .atMostOnce)
            add(HubTopics.twinDesiredFilter, .atMostOnce)
        }
        if settings.features.contains(.methods) { add(HubTopics.methodsFilter, .atMostOnce) }
        guard count > 0 else { return }
        let total = count
        subscriptionID = try filters.span.withUnsafeBufferPointer { (all) throws(MQTTError) -> UInt16 in
            try session.subscribe(UnsafeBufferPointer(rebasing: all[0..<total]))
        }
    }

    // MARK: - Poll

    /// Runs the client for up to `timeoutMs`: renews the SAS token when due, reconnects
    /// after losses, and reports hub events. Throws only when it cannot go on (a permanent
    /// refusal such as a bad key, or `disconnect` was called).
    ///
    /// - Parameters:
    ///   - timeoutMs: how long to wait for inbound packets at most.
    ///   - handler: receives each hub event; it runs after the session's state is updated and
    ///     may call the client's send functions.
    /// - Throws: only when the client cannot go on: a permanent refusal (`isAuthenticationFailure`,
    ///   for example a bad key), `.sasToken` when no token can be made, or the session's error
    ///   after `disconnect`.
    func poll(timeoutMs: UInt32, _ handler: (HubEvent) -> Void) throws(HubError) {
        let now = hubNow // read first: read inside the call's arguments, it makes the call copy the credentials
        if credentials.needsRenewal(now: now) {
            try renewToken()
            handler(.tokenRenewed(expiry: credentials.expiry))
            // A clean DISCONNECT + reconnect: IoT Hub has no in-band token refresh.
            session.reconnect()
        }
        if feature(.expireRequests, handler) {
            // An unanswered twin request means a deaf connection, like an unanswered SUBSCRIBE.
            session.abandonConnection(.ackTimeout)
        }
        do {
            // The closure runs only inside this call, while the caller keeps `self` alive: an
            // unretained reference used as a guaranteed one spares a retain and release on every
            // path of the session's poll (hub-minimal: 1.1 KB of code).
            let client = Unmanaged.passUnretained(self)
            try session.poll(timeoutMs: timeoutMs) { event in client._withUnsafeGuaranteedRef { $0.route(event, handler) } }
        } catch {
            try refusalCheck(self, error, handler)
            return
        }
        _ = feature(.applyDueActions, handler)
    }

    /// After a refusal: checks the clock with `hubTime` once per streak and reconnects with a
    /// token minted from the hub's time, or rethrows.
    private func suspectClock(after error: MQTTError, _ hubTime: (ConnectionString) -> Int64?,
                              _ handler: (HubEvent) -> Void) throws(HubError) {
        guard case .connectionRefused(let code) = error, code == .notAuthorized || code == .badUsernameOrPassword,
              !connection.usesX509, !clockChecked else { throw HubError(error) }
        clockChecked = true
        guard let now = hubTime(connection) else { throw .clockUnchecked(code) }
        clockOffsetSeconds = now - platform.wallSeconds()
        try renewToken()
        handler(.clockAdjusted(offsetSeconds: clockOffsetSeconds))
        session.start(connectOptions)
    }

    /// What events asked for, done after the session's `poll` returned. A failure here is
    /// a failed connection: the session reconnects (and the client subscribes again), it
    /// is never thrown to the application.
    func applyDueActions() {
        if subscribeDue {
            subscribeDue = false
            do throws(MQTTError) { try subscribeFeatures() } catch {
                session.abandonConnection(error)
                return
            }
        }
        if twinGetDue {
            twinGetDue = false
            // A failed send is reported by the next poll as a lost connection; a full request
            // table means a GET is already on its way.
            _ = try? requestTwin()
        }
    }

    /// Turns one MQTT event into hub events.
    private func route(_ event: MQTTEvent, _ handler: (HubEvent) -> Void) {
        switch event {
        case .connected(let present):
            handler(.connected(sessionPresent: present))
            clockChecked = false
            _ = feature(.connected, handler)
        case .subscribed(let id, let codes):
            _ = feature(.subscribed(packetID: id, returnCodes: codes), handler)
        case .delivered(let id):
            handler(.telemetryAcknowledged(packetID: id))
        case .message(let message):
            _ = feature(.message(message), handler)
        case .oversizedPacketDropped(_, let length):
            handler(.messageDropped(length: length))
        case .connectionLost(let error):
            handler(.connectionLost(error))
        case .reconnectScheduled(let delay, let attempt):
            handler(.reconnectScheduled(delayMs: delay, attempt: attempt))
        case .unsubscribed, .ackTimedOut:
            break
        }
    }

    /// Hands `step` to the features' code, if the client has any (a failure there is not the
    /// application's: it is dropped); returns the step's result. One call site for the poll's
    /// steps, so the optional closure is loaded, retained and released in one place.
    @inline(never)
    private func feature(_ step: HubFeatureStep, _ handler: (HubEvent) -> Void) -> Bool {
        guard let features else { return false }
        return (try? features(self, step, handler)) == true
    }

    /// After a connection: answers to requests of the old one will not come; subscribe again.
    func featuresConnected(_ handler: (HubEvent) -> Void) {
        failTwinRequests(handler)
        subscribeDue = true
        twinGetDue = false
    }

    /// The SUBACK of the features' subscription.
    func featuresSubscribed(_ id: UInt16, _ codes: UnsafeRawBufferPointer, _ handler: (HubEvent) -> Void) {
        guard id == subscriptionID else { return }
        for code in codes where code == 0x80 { handler(.subscriptionRefused); return }
        handler(.subscribed)
        twinGetDue = settings.features.contains(.twin) && settings.getTwinOnConnect
    }

    func routeMessage(_ message: MQTTPublish, _ handler: (HubEvent) -> Void) {
        let topic: HubTopic
        do { topic = try HubTopics.classify(message.topic) } catch { return } // not ours: ignore
        switch topic {
        case .cloudToDevice(let properties):
            handler(.cloudToDevice(CloudToDeviceMessage(payload: message.payload, propertyBag: properties)))
        case .twinResponse(let status, let requestID, let version):
            twinResponse(status: status, requestID: requestID, version: version, body: message.payload, handler)
        case .twinDesiredPatch(let version):
            twin.lastDesiredVersion = version
            handler(.desiredProperties(version: version, body: message.payload))
        case .methodRequest(let name, let requestID):
            handler(.methodRequest(MethodRequest(name: name, requestID: requestID, payload: message.payload)))
        case .unrecognized:
            break
        }
    }
}
