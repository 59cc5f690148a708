import TinyBytes
import TinyHub

/// Builds the DPS request topics (request ids are decimal numbers chosen by the client).
public enum ProvisioningTopics {
    /// Subscription filter for every DPS answer (subscribe before the first request).
    public static let responseFilter: StaticString = "$dps/registrations/res/#"
    /// Longest operation id accepted in a status request.
    public static let maxOperationIDLength = 128

    /// `$dps/registrations/PUT/iotdps-register/?$rid={requestID}`; returns its length.
    ///
    /// - Parameters:
    ///   - requestID: the `$rid` that pairs the answer with the request.
    ///   - output: where the topic goes.
    /// - Returns: its length.
    /// - Throws: `ProvisioningProtocolError`: `bufferTooSmall`.
    public static func writeRegister(requestID: UInt32,
                                     into output: UnsafeMutableRawBufferPointer) throws(ProvisioningProtocolError) -> Int {
        var sink = ByteSink(output)
        sink.literal("$dps/registrations/PUT/iotdps-register/?$rid=")
        sink.decimal(UInt64(requestID))
        guard !sink.overflowed else { throw .bufferTooSmall(needed: sink.count) }
        return sink.count
    }

    /// `$dps/registrations/GET/iotdps-get-operationstatus/?$rid={requestID}&operationId={operationID}`;
    /// returns its length. The operation id comes from DPS and is checked, not trusted.
    ///
    /// - Parameters:
    ///   - requestID: the `$rid` that pairs the answer with the request.
    ///   - operationID: the operation id from DPS's `202` answer.
    ///   - output: where the topic goes.
    /// - Returns: its length.
    /// - Throws: `ProvisioningProtocolError`: `invalidOperationID`, `bufferTooSmall`.
    public static func writeOperationStatus(requestID: UInt32, operationID: UnsafeRawBufferPointer,
                                            into output: UnsafeMutableRawBufferPointer) throws(ProvisioningProtocolError) -> Int {
        guard operationID.count > 0, operationID.count <= maxOperationIDLength else { throw .invalidOperationID }
        for byte in operationID where !PercentEncoding.isUnreserved(byte) { throw .invalidOperationID }
        var sink = ByteSink(output)
        sink.literal("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=")
        sink.decimal(UInt64(requestID))
        sink.literal("&operationId=")
        sink.bytes(operationID)
        guard !sink.overflowed else { throw .bufferTooSmall(needed: sink.count) }
        return sink.count
    }
}
