import TinyBytes

/// Header conveniences for IoT Hub responses.
extension HTTPResponseParser {
    /// The value of the first header called `name` (ASCII case-insensitive), or nil.
    ///
    /// - Parameter name: the header name.
    /// - Returns: its value, a view into the header buffer.
    public func header(_ name: StaticString) -> UnsafeRawBufferPointer? {
        headers.value(name)
    }

    /// The value of the first header called `name` (ASCII case-insensitive), or nil.
    ///
    /// - Parameter name: the header name.
    /// - Returns: its value, a view into the header buffer.
    public func header(named name: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        headers.value(named: name)
    }

    /// `Retry-After` in seconds when given as delta-seconds (capped at 2^31 - 1); nil when
    /// absent, empty, or an HTTP-date (TinyHTTP has no calendar).
    public var retryAfterSeconds: Int? {
        guard let value = header(HeaderName.retryAfter) else { return nil }
        do throws(Decimal.ParseError) {
            return Int(try Decimal.parse(value, limit: UInt64(Self.maxLength)))
        } catch {
            return error == .tooLarge ? Self.maxLength : nil // all digits, too many: capped
        }
    }

    /// The `ETag` value as received, quotes (and any `W/`) included: what `If-Match` takes.
    public var etag: UnsafeRawBufferPointer? {
        header(HeaderName.etag)
    }

    /// The `ETag` without `W/` and surrounding quotes: the lock token IoT Hub expects in
    /// the cloud-to-device complete/reject/abandon paths. An unquoted value is returned as is.
    public var etagUnquoted: UnsafeRawBufferPointer? {
        headers.etagUnquoted
    }
}
