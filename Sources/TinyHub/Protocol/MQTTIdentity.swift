import TinyBytes

/// The MQTT CONNECT identity IoT Hub expects: client id and user name
/// (as Azure SDK for Embedded C builds them, `az_iot_hub_client.c:22-137`). The password is a
/// `SASToken` (nothing for X.509).
package enum HubMQTTIdentity {
    /// The `api-version` sent in the user name.
    package static let apiVersion: StaticString = "2020-09-30"
    /// The `DeviceClientType` sent in the user name (percent-encoded on the wire).
    package static let deviceClientType: StaticString = TinyHubVersion.product

    /// What the user name carries after the ids: `/?api-version={apiVersion}&DeviceClientType=`
    /// and `deviceClientType` percent-encoded, as one constant (a test checks it against both).
    package static let usernameQuery: StaticString = "/?api-version=2020-09-30&DeviceClientType=tinyhub%2F0.2.0"

    /// `{host}/{deviceId}[/{moduleId}]/?api-version=2020-09-30&DeviceClientType=tinyhub%2F0.2.0[&model-id={urlenc}]`.
    /// Ids are raw; query values are percent-encoded. Returns the length written.
    package static func username(host: UnsafeRawBufferPointer, deviceID: UnsafeRawBufferPointer,
                                moduleID: UnsafeRawBufferPointer? = nil, modelID: UnsafeRawBufferPointer? = nil,
                                into output: UnsafeMutableRawBufferPointer) throws(TopicError) -> Int {
        try HubTopics.checkIdentifier(host, inTopic: false)
        var sink = ByteSink(output)
        sink.bytes(host)
        sink.byte(0x2F)
        try appendClientID(deviceID: deviceID, moduleID: moduleID, to: &sink)
        sink.literal(usernameQuery)
        if let modelID {
            sink.literal("&model-id=")
            sink.percentEncoded(modelID)
        }
        return try HubTopics.finish(sink)
    }

    /// Client id `{deviceId}` or `{deviceId}/{moduleId}` (no host). Returns the length written.
    package static func clientID(deviceID: UnsafeRawBufferPointer, moduleID: UnsafeRawBufferPointer? = nil,
                                into output: UnsafeMutableRawBufferPointer) throws(TopicError) -> Int {
        var sink = ByteSink(output)
        try appendClientID(deviceID: deviceID, moduleID: moduleID, to: &sink)
        return try HubTopics.finish(sink)
    }

    /// Checks the ids and appends the client id `{deviceId}[/{moduleId}]` (also the middle of
    /// the user name).
    private static func appendClientID(deviceID: UnsafeRawBufferPointer, moduleID: UnsafeRawBufferPointer?,
                                       to sink: inout ByteSink) throws(TopicError) {
        try HubTopics.checkIdentifier(deviceID, inTopic: false)
        if let moduleID { try HubTopics.checkIdentifier(moduleID, inTopic: false) }
        sink.bytes(deviceID)
        if let moduleID {
            sink.byte(0x2F)
            sink.bytes(moduleID)
        }
    }

    /// The user name for a parsed connection string (`HostName`, not `GatewayHostName`).
    package static func username(for connection: ConnectionString, modelID: UnsafeRawBufferPointer? = nil,
                                into output: UnsafeMutableRawBufferPointer) throws(TopicError) -> Int {
        try username(host: connection.hostName, deviceID: connection.deviceID, moduleID: connection.moduleID,
                     modelID: modelID, into: output)
    }

    /// The client id for a parsed connection string.
    package static func clientID(for connection: ConnectionString,
                                into output: UnsafeMutableRawBufferPointer) throws(TopicError) -> Int {
        try clientID(deviceID: connection.deviceID, moduleID: connection.moduleID, into: output)
    }
}
