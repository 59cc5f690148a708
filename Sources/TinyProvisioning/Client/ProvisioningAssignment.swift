import TinyBytes
import TinyMQTT
import TinyPlatform
import TinyHub

/// What DPS assigned: the IoT Hub the device belongs to and its device id there, plus the
/// key it authenticates with (for symmetric-key and group enrollments).
///
/// The byte views point into the `ProvisioningClient`'s fixed storage: they stay valid while
/// the client exists and until its next `register`. Copy them (or write a connection string
/// with `writeConnectionString(into:)`) to keep them longer.
///
/// ```swift
/// let assignment = try dps.register(idScope: "0ne00000A0A", registrationID: "dev-1", credential: .symmetricKey(key))
/// print(assignment.assignedHubText, assignment.deviceIDText)
/// let configuration = try assignment.hubConfiguration(storage: hubBuffers.identity)
/// ```
public struct ProvisioningAssignment {
    /// The assigned hub's host name, e.g. `myhub.azure-devices.net`.
    public let assignedHub: UnsafeRawBufferPointer
    /// The device id in the assigned hub.
    public let deviceID: UnsafeRawBufferPointer
    /// The Base64 key the hub will accept: the individual enrollment key, or the key derived
    /// from the group key. nil with X.509 (the certificate authenticates to the hub too).
    public let deviceKey: UnsafeRawBufferPointer?

    /// An assignment from its parts: DPS's answer, or one the application kept from an earlier
    /// registration (the examples' cache).
    package init(assignedHub: UnsafeRawBufferPointer, deviceID: UnsafeRawBufferPointer, deviceKey: UnsafeRawBufferPointer?) {
        self.assignedHub = assignedHub
        self.deviceID = deviceID
        self.deviceKey = deviceKey
    }

    /// `assignedHub` as a `String` (allocates; for printing).
    public var assignedHubText: String { String(decoding: assignedHub, as: UTF8.self) }
    /// `deviceID` as a `String` (allocates; for printing).
    public var deviceIDText: String { String(decoding: deviceID, as: UTF8.self) }

    /// The longest connection string `writeConnectionString` can write.
    public var connectionStringLength: Int {
        Bytes.length("HostName=") + assignedHub.count + Bytes.length(";DeviceId=") + deviceID.count
            + (deviceKey.map { Bytes.length(";SharedAccessKey=") + $0.count } ?? Bytes.length(";x509=true"))
    }

    /// Writes the IoT Hub device connection string for this assignment:
    /// `HostName={hub};DeviceId={id};SharedAccessKey={key}`, or `…;x509=true` with X.509,
    /// ready for `HubConfiguration(connectionString:storage:)`. It holds the device key: wipe it after use.
    ///
    /// - Parameter output: where to write.
    /// - Returns: its length.
    /// - Throws: `bufferTooSmall` when `output` is shorter than `connectionStringLength`.
    public func writeConnectionString(into output: UnsafeMutableRawBufferPointer) throws(ProvisioningProtocolError) -> Int {
        var sink = ByteSink(output)
        sink.literal("HostName=")
        sink.bytes(assignedHub)
        sink.literal(";DeviceId=")
        sink.bytes(deviceID)
        if let deviceKey {
            sink.literal(";SharedAccessKey=")
            sink.bytes(deviceKey)
        } else {
            sink.literal(";x509=true")
        }
        guard !sink.overflowed else { throw .bufferTooSmall(needed: sink.count) }
        return sink.count
    }

    /// The hub configuration for this assignment: the connection string
    /// `writeConnectionString` writes, kept in `storage` and parsed there, ready for
    /// `HubClient(configuration:…)` (MQTT or HTTPS, by the buffers given).
    ///
    /// ```swift
    /// let assignment = try provisioning.register(idScope: scope, registrationID: id, credential: .symmetricKey(key))
    /// let configuration = try assignment.hubConfiguration(storage: buffers.identity)
    /// ```
    ///
    /// - Parameter storage: where the configuration keeps its text (at least
    ///   `connectionStringLength` bytes; the client's identity buffer is a good place). It
    ///   holds the device key: wipe it after use.
    /// - Returns: the configuration, independent of this client's storage.
    /// - Throws: `HubError.bufferTooSmall` when `storage` is too short, `HubError.connectionString`
    ///   when the assignment cannot make a valid connection string (an empty hub or device id).
    public func hubConfiguration(storage: UnsafeMutableRawBufferPointer) throws(HubError) -> HubConfiguration {
        let length: Int
        do throws(ProvisioningProtocolError) {
            length = try writeConnectionString(into: storage)
        } catch {
            zeroize(storage)
            throw .bufferTooSmall(needed: connectionStringLength)
        }
        return try HubConfiguration(connectionString: UnsafeRawBufferPointer(rebasing: storage[0..<length]), storage: storage)
    }
}
