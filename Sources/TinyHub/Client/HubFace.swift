import TinyPlatform

/// One protocol face of a `HubClient`: `MQTTFace` (MQTT 3.1.1: telemetry, pushed cloud-to-device
/// messages, twin, direct methods) or `HTTPSFace` (the device REST API: telemetry, batches, polled
/// cloud-to-device messages). What both faces do is declared here, so code generic over `HubFace`
/// runs over either:
///
/// ```swift
/// func report<Face: HubFace>(_ client: HubClient<Face>, _ reading: StaticString) throws(HubError) {
///     _ = try client.sendTelemetry(reading)
/// }
/// ```
///
/// What only one protocol has is declared on that face and on `HubClient` where its `Face` is
/// that face (`MQTTFaceKind`, `HTTPSFaceKind`), so using it over the other protocol does not compile.
public protocol HubFace: AnyObject {
    /// What sending a telemetry message returns: the MQTT packet id (`UInt16`, acknowledged later
    /// by an event) or nothing over HTTPS (acknowledged when the call returns).
    associatedtype TelemetryReceipt

    /// The parsed connection string; its slices point into the client's identity buffer.
    var connection: ConnectionString { get }

    /// The host the transport must connect to: `GatewayHostName` if set, else `HostName`.
    var connectHost: UnsafeRawBufferPointer { get }

    /// When the current SAS token expires (Unix seconds; 0 with X.509).
    var sasExpiry: Int64 { get }

    /// Hub time minus device time, in seconds, as the last clock check found it.
    var clockOffsetSeconds: Int64 { get }

    /// Sends one telemetry message: over MQTT queued at QoS 1 (acknowledged by an event from
    /// `poll`), over HTTPS posted and acknowledged before the call returns.
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: the system properties (message id, content type...).
    ///   - properties: the application properties.
    /// - Returns: the face's `TelemetryReceipt`.
    /// - Throws: `HubError` (`.messageTooLarge`, `.inflightWindowFull`, `.unauthorized`, `.throttled`...).
    func sendTelemetry(_ payload: UnsafeRawBufferPointer, system: TelemetrySystemProperties,
                       properties: UnsafeBufferPointer<MessageProperty>) throws(HubError) -> TelemetryReceipt

    /// Ends the connection: MQTT DISCONNECT (queued QoS 1 telemetry stays queued), or the HTTPS
    /// connection's TLS close. MQTT reconnects from `connect`/`start`, HTTPS at the next request.
    func close()
}

/// The MQTT face as a constraint: `HubClient` offers the MQTT-only API (poll and events, twin,
/// direct methods, QoS) where `Face: MQTTFaceKind`. Only `MQTTFace` conforms.
public protocol MQTTFaceKind: HubFace where TelemetryReceipt == UInt16 {
    /// The face's transport.
    associatedtype FaceTransport: Transport
    /// The face's platform.
    associatedtype FacePlatform: Platform

    /// This face as its class.
    var mqtt: MQTTFace<FaceTransport, FacePlatform> { get }
}

/// The HTTPS face as a constraint: `HubClient` offers the HTTPS-only API (receive, complete,
/// reject, abandon, batches) where `Face: HTTPSFaceKind`. Only `HTTPSFace` conforms.
public protocol HTTPSFaceKind: HubFace where TelemetryReceipt == Void {
    /// The face's transport.
    associatedtype FaceTransport: Transport
    /// The face's platform.
    associatedtype FacePlatform: Platform

    /// This face as its class.
    var https: HTTPSFace<FaceTransport, FacePlatform> { get }
}

extension MQTTFace: MQTTFaceKind {
    /// This face (`MQTTFaceKind`).
    public var mqtt: MQTTFace<T, P> { self }

    /// Closes the connection cleanly (DISCONNECT), as `disconnect()`.
    public func close() { disconnect() }
}

extension HTTPSFace: HTTPSFaceKind {
    /// This face (`HTTPSFaceKind`).
    public var https: HTTPSFace<T, P> { self }
}
