import TinyBytes
import TinyPlatform

/// Who the device is and where it connects, made once and given to either client
/// (``HubClient`` over MQTT or HTTPS).
///
/// A configuration is made from a connection string, from its parts, or from a Device
/// Provisioning Service assignment (`ProvisioningAssignment.hubConfiguration(storage:)`). It
/// knows the identity (`HostName`, `DeviceId`, optional `ModuleId`), the credential (a shared
/// access key or X.509) and the host the transport must open: ``connectHost`` (the
/// `GatewayHostName` when there is one, else the `HostName`). The text is checked once, here;
/// a client made from the configuration does not parse it again.
///
/// The configuration keeps the connection string in `storage`, memory the caller owns and
/// keeps alive, unchanged, as long as the configuration is used: nothing is allocated. Pass
/// the client's identity buffer (`HubBuffers.identity` or `HubHTTPSBuffers.identity`) as the
/// storage and the client finds the text already in place: nothing is copied. The storage
/// holds the key: ``wipe()`` it (or the buffers) when done.
///
/// ```swift
/// let configuration = try HubConfiguration(connectionString: text, storage: buffers.identity)
/// let transport = try TLSTransport(TLSConfiguration(host: configuration.connectHostText, port: 8883))
/// let client = try HubClient(configuration: configuration, transport: transport,
///                            platform: SystemPlatform(), crypto: MbedTLSCrypto(), buffers: buffers)
/// ```
public struct HubConfiguration {
    /// The parsed connection string; its fields are slices of the storage.
    public let connectionString: ConnectionString
    /// The storage given at init; the text occupies its first `textLength` bytes.
    let storage: UnsafeMutableRawBufferPointer
    /// Length of the connection string text in `storage`.
    let textLength: Int

    /// Copies `text` into `storage` and parses it there, so the caller's bytes may go away.
    ///
    /// - Parameters:
    ///   - text: the bytes of `HostName=…;DeviceId=…;SharedAccessKey=…` (or `…;x509=true`,
    ///     optional `ModuleId=`, `GatewayHostName=`, `SharedAccessKeyName=`).
    ///   - storage: where the text is kept: at least `text.count` bytes, alive and unchanged
    ///     while the configuration is used (a client's identity buffer is a good place).
    /// - Throws: `HubError.connectionString` naming the field at fault (the storage is then
    ///   wiped), or `HubError.bufferTooSmall` when `storage` is shorter than `text`.
    public init(connectionString text: UnsafeRawBufferPointer, storage: UnsafeMutableRawBufferPointer) throws(HubError) {
        guard text.count <= ConnectionString.maxLength else { throw .connectionString(.tooLong(maxLength: ConnectionString.maxLength)) }
        guard text.count <= storage.count else { throw .bufferTooSmall(needed: text.count) }
        if text.baseAddress != UnsafeRawPointer(storage.baseAddress) {
            UnsafeMutableRawBufferPointer(rebasing: storage[0..<text.count]).copyMemory(from: text)
        }
        do {
            connectionString = try ConnectionString.parse(UnsafeRawBufferPointer(rebasing: storage[0..<text.count]))
        } catch {
            zeroize(storage)
            throw .connectionString(error)
        }
        self.storage = storage
        textLength = text.count
    }

    /// Copies the UTF-8 bytes of `text` into `storage` and parses them there.
    ///
    /// - Parameters:
    ///   - text: `HostName=…;DeviceId=…;SharedAccessKey=…` (or another accepted form).
    ///   - storage: where the text is kept (as for the byte form).
    /// - Throws: `HubError.connectionString` naming the field at fault, or
    ///   `HubError.bufferTooSmall` when `storage` is too short.
    public init(connectionString text: String, storage: UnsafeMutableRawBufferPointer) throws(HubError) {
        var text = text
        let result: Result<HubConfiguration, HubError> = text.withUTF8 { bytes in
            do throws(HubError) {
                return .success(try HubConfiguration(connectionString: UnsafeRawBufferPointer(bytes), storage: storage))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    /// A configuration from its parts, as a connection string would give them.
    ///
    /// - Parameters:
    ///   - hostName: the hub, e.g. `myhub.azure-devices.net` (a name without a dot is accepted).
    ///   - deviceID: the device id.
    ///   - moduleID: the module id for a module identity, else nil.
    ///   - gatewayHostName: the host to connect to instead of `hostName` (an IoT Edge gateway), or nil.
    ///   - authentication: a shared access key (Base64) or X.509.
    ///   - storage: where the assembled connection string is kept (as for a
    ///     connection string).
    /// - Throws: `HubError.connectionString` naming the part at fault (empty, a `;` in it, a
    ///   key that is not Base64), or `HubError.bufferTooSmall` when `storage` is too short.
    public init(hostName: String, deviceID: String, moduleID: String? = nil, gatewayHostName: String? = nil,
                authentication: HubAuthentication, storage: UnsafeMutableRawBufferPointer) throws(HubError) {
        var sink = ByteSink(storage)
        func part(_ key: StaticString, _ value: String?) throws(HubError) {
            guard var value else { return }
            guard !value.utf8.contains(0x3B) else { throw .connectionString(.separatorInValue) } // ';'
            sink.literal(key)
            value.withUTF8 { sink.bytes(UnsafeRawBufferPointer($0)) }
        }
        try part("HostName=", hostName)
        try part(";DeviceId=", deviceID)
        try part(";ModuleId=", moduleID)
        try part(";GatewayHostName=", gatewayHostName)
        switch authentication {
        case .sharedAccessKey(let key): try part(";SharedAccessKey=", key)
        case .x509: sink.literal(";x509=true")
        }
        guard !sink.overflowed else {
            zeroize(storage)
            throw .bufferTooSmall(needed: sink.count)
        }
        try self.init(connectionString: UnsafeRawBufferPointer(rebasing: storage[0..<sink.count]), storage: storage)
    }

    /// The host the transport must open: `GatewayHostName` if given, else `HostName`.
    public var connectHost: UnsafeRawBufferPointer { connectionString.connectHostName }

    /// ``connectHost`` as a `String`, for `TLSConfiguration(host:…)` (allocates).
    public var connectHostText: String { String(decoding: connectHost, as: UTF8.self) }

    /// `HostName`: the hub, named in the MQTT user name and the SAS token's resource.
    public var hostName: UnsafeRawBufferPointer { connectionString.hostName }

    /// `DeviceId`.
    public var deviceID: UnsafeRawBufferPointer { connectionString.deviceID }

    /// `ModuleId`, or nil for a device identity.
    public var moduleID: UnsafeRawBufferPointer? { connectionString.moduleID }

    /// Whether the device authenticates with an X.509 certificate (the transport carries it)
    /// rather than a SAS token signed with a shared access key.
    public var usesX509: Bool { connectionString.usesX509 }

    /// The connection string text, as kept in the storage.
    var text: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[0..<textLength]) }

    /// Overwrites the storage (connection string and key) with zeros. The configuration, and
    /// clients whose identity buffer it is, are unusable afterwards.
    public func wipe() { zeroize(storage) }
}

/// How a device proves its identity to the hub.
public enum HubAuthentication {
    /// A shared access key (the Base64 text of the device's primary or secondary key): the
    /// client signs SAS tokens with it and renews them.
    case sharedAccessKey(String)
    /// An X.509 certificate, presented by the TLS transport; no SAS token.
    case x509
}
