import TinyBytes
import TinyHTTP
import TinyPlatform

/// The request that asks an HTTP proxy for a tunnel (RFC 9110 §9.3.6; the target in authority
/// form, RFC 9112 §3.2.3), written with TinyHTTP's request writer:
///
///     CONNECT hub.azure-devices.net:8883 HTTP/1.1
///     Host: hub.azure-devices.net:8883
///     Proxy-Authorization: Basic dXNlcjpwYXNzd29yZA==        (only with credentials)
///
/// An IPv6 literal is written in brackets (`[::1]:8883`).
enum ProxyConnectRequest {
    static let basicPrefix: StaticString = "Basic "

    /// An upper bound of the request's length for a destination host of `hostCount` bytes and
    /// credentials of `credentialCount` bytes (user, `:` and password; 0: none).
    static func capacity(hostCount: Int, credentialCount: Int?) -> Int {
        let authority = hostCount + 2 + 1 + 5 // brackets, ':' and at most five port digits
        var total = "CONNECT ".utf8.count + authority + " HTTP/1.1\r\nHost: ".utf8.count + authority + 2 + 2
        if let credentialCount {
            total += "Proxy-Authorization: ".utf8.count + basicPrefix.utf8CodeUnitCount
                + Base64.encodedLength(credentialCount) + 2
        }
        return total
    }

    /// The length of `user:password`, or nil without credentials. Throws `invalidConfiguration`
    /// for a user name with `:` or a control byte in either (RFC 7617 §2).
    static func credentialCount(_ credentials: ProxyCredentials?) throws(TransportError) -> Int? {
        guard let credentials else { return nil }
        defer { withExtendedLifetime(credentials) {} } // the bytes may be in its own copy
        for byte in credentials.user where byte == 0x3A || byte < 0x20 || byte == 0x7F {
            throw .invalidConfiguration("proxy user name contains ':' or a control byte")
        }
        for byte in credentials.password where byte < 0x20 || byte == 0x7F {
            throw .invalidConfiguration("proxy password contains a control byte")
        }
        return credentials.user.count + 1 + credentials.password.count
    }

    /// Writes the request for `host:port` into `buffer` and returns its length. Throws
    /// `invalidConfiguration` when the host or the credentials cannot go into the request, or
    /// when `buffer` is smaller than `capacity(...)`.
    static func write(into buffer: UnsafeMutableRawBufferPointer, host: UnsafeRawBufferPointer, port: UInt16,
                      credentials: ProxyCredentials?) throws(TransportError) -> Int {
        defer { withExtendedLifetime(credentials) {} } // the bytes may be in its own copy
        let credentialCount = try credentialCount(credentials)
        guard !host.isEmpty else { throw .invalidConfiguration("the destination host name is empty") }
        guard buffer.count >= capacity(hostCount: host.count, credentialCount: credentialCount) else {
            throw .invalidConfiguration("proxy request buffer too small")
        }
        // The authority (`host:port`) is the request target and the Host value: built once on the stack.
        return try withUnsafeTemporaryAllocation(byteCount: host.count + 8, alignment: 1) { (scratch) throws(TransportError) -> Int in
            let authority = UnsafeRawBufferPointer(rebasing: scratch[0..<writeAuthority(host: host, port: port, into: scratch)])
            var writer = HTTPRequestWriter(buffer: buffer)
            do throws(HTTPEncodeError) {
                try writer.start(method: .connect, path: authority, host: authority)
                if let credentials {
                    try writer.beginHeader(name: "Proxy-Authorization")
                    try writer.appendValue(basicPrefix)
                    try appendBase64(of: credentials, to: &writer)
                    try writer.endHeader()
                }
                return try writer.finish()
            } catch {
                zeroize(buffer) // no part of the credentials is left behind
                throw .invalidConfiguration("the destination host name cannot go into a CONNECT request")
            }
        }
    }

    /// `host:port`, with brackets around an IPv6 literal (a host with a ':'). Returns the length.
    static func writeAuthority(host: UnsafeRawBufferPointer, port: UInt16, into out: UnsafeMutableRawBufferPointer) -> Int {
        let brackets = host.contains(0x3A)
        var sink = ByteSink(out)
        if brackets { sink.byte(0x5B) }
        sink.bytes(host)
        if brackets { sink.byte(0x5D) }
        sink.byte(0x3A)
        sink.decimal(UInt64(port))
        return sink.written.count // `out` holds host + 8 bytes: always all of it
    }

    /// Appends Base64(`user:password`) three bytes at a time, so the plain text is never
    /// gathered in one place; the stack scratch is zeroed at the end.
    static func appendBase64(of credentials: ProxyCredentials, to writer: inout HTTPRequestWriter) throws(HTTPEncodeError) {
        defer { withExtendedLifetime(credentials) {} } // the bytes may be in its own copy
        let total = credentials.user.count + 1 + credentials.password.count
        func byte(at index: Int) -> UInt8 {
            if index < credentials.user.count { return credentials.user[index] }
            if index == credentials.user.count { return 0x3A }
            return credentials.password[index - credentials.user.count - 1]
        }
        var plain: (UInt8, UInt8, UInt8) = (0, 0, 0)
        var text: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        defer {
            withUnsafeMutableBytes(of: &plain) { zeroize($0) }
            withUnsafeMutableBytes(of: &text) { zeroize($0) }
        }
        var index = 0
        while index < total {
            let take = min(3, total - index)
            let written: Int = withUnsafeMutableBytes(of: &plain) { group in
                for k in 0..<take { group[k] = byte(at: index + k) }
                return withUnsafeMutableBytes(of: &text) { out in
                    // 4 bytes of room for at most 3 input bytes: always fits.
                    var sink = ByteSink(out)
                    sink.base64(UnsafeRawBufferPointer(rebasing: group[0..<take]))
                    return sink.written.count
                }
            }
            try withUnsafeBytes(of: &text) { (out) throws(HTTPEncodeError) in
                try writer.appendValue(UnsafeRawBufferPointer(rebasing: out[0..<written]))
            }
            index += take
        }
    }
}
