/// An HTTP proxy that a `TLSTransport` tunnels through (`CONNECT host:port`, RFC 9110 §9.3.6):
/// the TCP connection goes to the proxy, the proxy opens one to the destination, and the TLS
/// handshake runs through that tunnel end to end. SNI and certificate verification are for
/// `TLSConfiguration.host` (the hub), never for the proxy: the proxy sees only the destination's
/// name and port, then encrypted bytes.
public struct ProxyConfiguration {
    /// The proxy's host name or IP address.
    public var host: String
    /// The proxy's TCP port (often 3128 or 8080).
    public var port: UInt16
    /// Basic credentials for `Proxy-Authorization`, or nil to send none.
    public var credentials: ProxyCredentials?

    /// A proxy at `host:port`, with optional Basic credentials.
    public init(host: String, port: UInt16, credentials: ProxyCredentials? = nil) {
        self.host = host
        self.port = port
        self.credentials = credentials
    }
}

/// A user name and password for the proxy's Basic authentication (RFC 7617), in caller memory.
///
/// They are read once, when the `TLSTransport` is created: it keeps only the
/// `Proxy-Authorization` header built from them (Base64 of `user:password`) in a buffer of its
/// own, which it zeroes when it is deinitialized. The caller may wipe its bytes right after.
/// The user name must not contain `:`, and neither may contain control bytes (RFC 7617 §2).
public struct ProxyCredentials {
    /// The user name (UTF-8).
    public var user: UnsafeRawBufferPointer
    /// The password (UTF-8; may be empty).
    public var password: UnsafeRawBufferPointer

    /// Credentials for Basic authentication at the proxy.
    public init(user: UnsafeRawBufferPointer, password: UnsafeRawBufferPointer) {
        self.user = user
        self.password = password
    }
}
