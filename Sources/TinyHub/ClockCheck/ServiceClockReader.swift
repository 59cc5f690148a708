import TinyBytes
import TinyHTTP
import TinyPlatform

/// Reads an Azure service's clock from the `Date` header of one unauthenticated HTTPS `GET`:
/// the service refuses the request (401) but dates the refusal. The piece shared by the IoT Hub
/// clock check (`HubClockCheck`) and the Device Provisioning Service one; each names its own
/// host and request target.
///
/// Memory: one 1.5 KB block (request, response head, a little body), allocated by `init?`,
/// released by `deallocate()`; nothing in between.
package struct ServiceClockReader<T: Transport> {
    /// The connection used: opened and closed by each `serviceTime`.
    package let transport: T
    private let timeoutMs: Int32
    private let memory: UnsafeMutableRawBufferPointer

    private static var requestBytes: Int { 768 }
    private static var headerBytes: Int { 640 }
    private static var bodyBytes: Int { 128 }

    /// Prepares a reader over `transport` whose every exchange is bounded by `timeoutMs`.
    /// Returns nil when its memory cannot be allocated.
    package init?(transport: T, timeoutMs: Int32) {
        let total = Self.requestBytes + Self.headerBytes + Self.bodyBytes
        // Embedded Swift's allocate returns null when memory ran out: checked, never used.
        guard let base = UnsafeMutableRawBufferPointer.allocate(byteCount: total, alignment: 8).baseAddress else { return nil }
        self.transport = transport
        self.timeoutMs = timeoutMs
        memory = UnsafeMutableRawBufferPointer(start: base, count: total)
    }

    /// Frees the memory (call once, when the owner goes away).
    package func deallocate() {
        memory.baseAddress?.deallocate()
    }

    private var buffer: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: memory[0..<Self.requestBytes])
    }
    private var headers: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: memory[Self.requestBytes..<(Self.requestBytes + Self.headerBytes)])
    }
    private var body: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: memory[(Self.requestBytes + Self.headerBytes)...])
    }

    /// Sends `GET {target} HTTP/1.1` with `Host: host` and `Connection: close`, and returns the
    /// answer's `Date` in Unix seconds, or nil when it could not be read (no connection, no
    /// answer within the timeout, no valid `Date` header, a target that does not fit).
    ///
    /// - Parameters:
    ///   - host: the service's host name (the `Host` header).
    ///   - target: appends the request target (path and query) to the writer.
    /// - Returns: Unix seconds from the answer's `Date` header.
    package func serviceTime(host: UnsafeRawBufferPointer,
                             target: (inout HTTPRequestWriter) throws(HTTPEncodeError) -> Void) -> Int64? {
        defer { transport.close() }
        var writer = HTTPRequestWriter(buffer: buffer)
        let length: Int
        do throws(HTTPEncodeError) {
            try writer.beginTarget(method: .get)
            try target(&writer)
            try writer.endTarget(host: host)
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
