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
    private let transport: T
    private let timeoutMs: Int32
    private let buffer: UnsafeMutableRawBufferPointer
    private let headers: UnsafeMutableRawBufferPointer
    private let body: UnsafeMutableRawBufferPointer

    /// Prepares a check over `transport` (TLS to the hub's HTTPS port, normally 443).
    ///
    /// - Parameters:
    ///   - transport: the connection to use; opened and closed by each `hubTime(for:)`.
    ///   - timeoutMs: the bound on the whole exchange (connect, request, answer's head).
    /// - Returns: nil when the buffers cannot be allocated.
    public init?(transport: T, timeoutMs: Int32 = 10_000) {
        // Embedded Swift's allocate returns null when memory ran out: checked, never used.
        guard let base = UnsafeMutableRawBufferPointer.allocate(byteCount: 1_536, alignment: 8).baseAddress else { return nil }
        self.transport = transport
        self.timeoutMs = timeoutMs
        buffer = UnsafeMutableRawBufferPointer(start: base, count: 768)
        headers = UnsafeMutableRawBufferPointer(start: base + 768, count: 640)
        body = UnsafeMutableRawBufferPointer(start: base + 1_408, count: 128)
    }

    deinit {
        buffer.baseAddress?.deallocate()
    }

    /// The hub's time in Unix seconds, or nil when it could not be read (no connection, no
    /// answer within the timeout, no valid `Date` header).
    ///
    /// - Parameter connection: names the hub (`HostName`, for the `Host` header) and the device.
    /// - Returns: Unix seconds from the hub's `Date` header.
    public func hubTime(for connection: ConnectionString) -> Int64? {
        defer { transport.close() }
        var writer = HTTPRequestWriter(buffer: buffer)
        let length: Int
        do throws(HTTPEncodeError) {
            try writer.beginTarget(method: .get)
            try writer.appendTarget("/devices/")
            try writer.appendPercentEncodedTarget(connection.deviceID)
            try writer.appendTarget("/messages/deviceBound?api-version=")
            try writer.appendTarget(HubHTTPSOptions.apiVersion)
            try writer.endTarget(host: connection.hostName)
            try writer.header(name: "Connection", value: "close")
            length = try writer.finish()
        } catch {
            return nil
        }
        do throws(TransportError) {
            try transport.open(timeoutMs: timeoutMs)
            try transport.send(UnsafeRawBufferPointer(rebasing: buffer[0..<length]), timeoutMs: timeoutMs)
        } catch {
            return nil
        }
        var parser = HTTPResponseParser(headerBuffer: headers, bodyBuffer: body, maxHeaderCount: 24)
        // The transport bounds each receive; the head of an answer is small, so a bounded
        // number of reads keeps the whole exchange bounded too.
        for _ in 0..<64 where !parser.headersComplete {
            let n: Int
            do throws(TransportError) {
                n = try transport.receive(into: buffer, timeoutMs: timeoutMs)
            } catch {
                return nil
            }
            guard n > 0, n <= buffer.count else { return nil }
            var offset = 0
            while offset < n, !parser.headersComplete {
                do throws(HTTPParseError) {
                    let used = try parser.feed(UnsafeRawBufferPointer(rebasing: buffer[offset..<n]))
                    guard used > 0 else { return nil }
                    offset += used
                } catch {
                    return nil
                }
            }
        }
        guard parser.headersComplete, let date = parser.header("Date") else { return nil }
        return HTTPDate.unixSeconds(parsing: date)
    }
}
