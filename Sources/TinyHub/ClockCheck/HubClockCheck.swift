import TinyHTTP
import TinyPlatform

/// Reads IoT Hub's clock, so a device whose own clock is wrong (no battery-backed clock, no
/// NTP yet) can still mint a SAS token the hub accepts.
///
/// It sends one unauthenticated `GET /devices/{id}/messages/deviceBound` to the hub's HTTPS
/// endpoint over the (verified) TLS transport it is given, and reads the `Date` header of
/// the answer: IoT Hub refuses the request with 401 but dates the refusal. Nothing else of
/// the answer is used. Enable it on a client with `HubClient.enableClockCheck(_:)`; a
/// program that never does links none of this (nor TinyHTTP).
///
/// Memory: about 1.5 KB, allocated at init; nothing afterwards.
///
/// ```swift
/// let https = try TLSTransport(TLSConfiguration(host: "myhub.azure-devices.net", port: 443))
/// guard let check = HubClockCheck(transport: https) else { /* out of memory */ }
/// client.enableClockCheck { connection in check.hubTime(for: connection) }
/// ```
public final class HubClockCheck<T: Transport> {
    private let reader: ServiceClockReader<T>

    /// Prepares a check over `transport` (TLS to the hub's HTTPS port, normally 443).
    ///
    /// - Parameters:
    ///   - transport: the connection to use; opened and closed by each `hubTime(for:)`.
    ///   - timeoutMs: the bound on the whole exchange (connect, request, answer's head).
    /// - Returns: nil when the buffers cannot be allocated.
    public init?(transport: T, timeoutMs: Int32 = 10_000) {
        guard let reader = ServiceClockReader(transport: transport, timeoutMs: timeoutMs) else { return nil }
        self.reader = reader
    }

    deinit {
        reader.deallocate()
    }

    /// The hub's time in Unix seconds, or nil when it could not be read (no connection, no
    /// answer within the timeout, no valid `Date` header).
    ///
    /// - Parameter connection: names the hub (`HostName`, for the `Host` header) and the device.
    /// - Returns: Unix seconds from the hub's `Date` header.
    public func hubTime(for connection: ConnectionString) -> Int64? {
        reader.serviceTime(host: connection.hostName) { (writer) throws(HTTPEncodeError) in
            try writer.appendTarget("/devices/")
            try writer.appendPercentEncodedTarget(connection.deviceID)
            try writer.appendTarget("/messages/deviceBound?api-version=")
            try writer.appendTarget(HubHTTPSProtocol.apiVersion)
        }
    }
}
