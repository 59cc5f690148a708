import TinyHTTP
import TinyHub
import TinyPlatform

/// Reads the Device Provisioning Service's clock, so a device whose own clock is wrong can
/// still mint a SAS token DPS accepts.
///
/// It sends one unauthenticated
/// `GET /{idScope}/registrations/{registrationId}?api-version=2019-03-31` to DPS's HTTPS
/// endpoint (port 443) over the verified TLS transport it is given, and reads the `Date`
/// header of the answer: DPS refuses the request with 401 but dates the refusal. Enable it on
/// a client with `ProvisioningClient.enableClockCheck(_:)`.
///
/// Memory: about 1.8 KB, allocated at init; nothing afterwards.
///
/// ```swift
/// let https = try TLSTransport(TLSConfiguration(host: "global.azure-devices-provisioning.net", port: 443))
/// guard let check = ProvisioningClockCheck(transport: https, host: "global.azure-devices-provisioning.net") else {
///     /* out of memory */
/// }
/// client.enableClockCheck { scope, id in check.dpsTime(idScope: scope, registrationID: id) }
/// ```
public final class ProvisioningClockCheck<T: Transport> {
    private let reader: ServiceClockReader<T>
    private let host: UnsafeMutableRawBufferPointer

    /// Longest host name accepted.
    public static var maxHostLength: Int { 255 }

    /// Prepares a check over `transport` (TLS to DPS's HTTPS port).
    ///
    /// - Parameters:
    ///   - transport: the connection to use; opened and closed by each `dpsTime`.
    ///   - host: DPS's host name, for the `Host` header (copied).
    ///   - timeoutMs: the bound on the whole exchange (connect, request, answer's head).
    /// - Returns: nil when the buffers cannot be allocated or `host` is empty or longer than
    ///   `maxHostLength`.
    public init?(transport: T, host: UnsafeRawBufferPointer, timeoutMs: Int32 = 10_000) {
        guard host.count > 0, host.count <= Self.maxHostLength,
              let base = UnsafeMutableRawBufferPointer.allocate(byteCount: host.count, alignment: 1).baseAddress else { return nil }
        guard let reader = ServiceClockReader(transport: transport, timeoutMs: timeoutMs) else {
            base.deallocate()
            return nil
        }
        self.host = UnsafeMutableRawBufferPointer(start: base, count: host.count)
        self.host.copyMemory(from: host)
        self.reader = reader
    }

    /// Prepares a check over `transport`, as `init(transport:host:timeoutMs:)` with bytes.
    ///
    /// - Parameters:
    ///   - transport: the connection to use; opened and closed by each `dpsTime`.
    ///   - host: DPS's host name, for the `Host` header (copied).
    ///   - timeoutMs: the bound on the whole exchange (connect, request, answer's head).
    /// - Returns: nil when the buffers cannot be allocated or `host` is empty or longer than
    ///   `maxHostLength`.
    public convenience init?(transport: T, host: String, timeoutMs: Int32 = 10_000) {
        let copy = OwnedText([host])
        defer { withExtendedLifetime(copy) {} } // the designated init copies the bytes
        self.init(transport: transport, host: copy[0], timeoutMs: timeoutMs)
    }

    deinit {
        reader.deallocate()
        host.baseAddress?.deallocate()
    }

    /// DPS's time in Unix seconds, or nil when it could not be read (no connection, no answer
    /// within the timeout, no valid `Date` header, ids that do not fit a request target).
    ///
    /// - Parameters:
    ///   - idScope: the DPS instance's ID scope.
    ///   - registrationID: the device's registration id.
    /// - Returns: Unix seconds from DPS's `Date` header.
    public func dpsTime(idScope: UnsafeRawBufferPointer, registrationID: UnsafeRawBufferPointer) -> Int64? {
        do throws(ProvisioningProtocolError) {
            try ProvisioningIdentity.validate(idScope)
            try ProvisioningIdentity.validate(registrationID)
        } catch {
            return nil
        }
        // Both ids are unreserved characters only: they go into the path as they are.
        return reader.serviceTime(host: UnsafeRawBufferPointer(host)) { (writer) throws(HTTPEncodeError) in
            try writer.appendTarget("/")
            try writer.appendTarget(idScope)
            try writer.appendTarget("/registrations/")
            try writer.appendTarget(registrationID)
            try writer.appendTarget("?api-version=")
            try writer.appendTarget(ProvisioningIdentity.apiVersion)
        }
    }
}
