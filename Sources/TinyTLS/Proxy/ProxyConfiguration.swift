import TinyPlatform

/// An HTTP proxy that a `TLSTransport` tunnels through (`CONNECT host:port`, RFC 9110 §9.3.6):
/// the TCP connection goes to the proxy, the proxy opens one to the destination, and the TLS
/// handshake runs through that tunnel end to end. SNI and certificate verification are for
/// `TLSConfiguration.host` (the hub), never for the proxy: the proxy sees only the destination's
/// name and port, then encrypted bytes.
///
/// ```swift
/// let proxy = ProxyConfiguration(host: "proxy.example.com", port: 3128,
///                                credentials: ProxyCredentials(user: "device-7", password: secret))
/// let tls = try TLSTransport(TLSConfiguration(host: "myhub.azure-devices.net", port: 8883, proxy: proxy))
/// ```
public struct ProxyConfiguration {
    /// The proxy's host name or IP address.
    public var host: String
    /// The proxy's TCP port (often 3128 or 8080).
    public var port: UInt16
    /// Basic credentials for `Proxy-Authorization`, or nil to send none.
    public var credentials: ProxyCredentials?

    /// A proxy at `host:port`, with optional Basic credentials.
    ///
    /// - Parameters:
    ///   - host: the proxy's host name or IP address.
    ///   - port: the proxy's TCP port.
    ///   - credentials: Basic credentials, or nil to send none.
    public init(host: String, port: UInt16, credentials: ProxyCredentials? = nil) {
        self.host = host
        self.port = port
        self.credentials = credentials
    }
}

/// A user name and password for the proxy's Basic authentication (RFC 7617).
///
/// Made from `String`s, the credentials keep their own copy of the bytes (zeroed when the last
/// copy of the credentials is released), so they can be stored in a `ProxyConfiguration` for a
/// whole run. Made from byte views, the bytes stay in caller memory and must outlive every
/// `TLSTransport` created with them.
///
/// They are read when a `TLSTransport` is created: it keeps only the `Proxy-Authorization`
/// header built from them (Base64 of `user:password`) in a buffer of its own, which it zeroes
/// when it is deinitialized. The user name must not contain `:`, and neither may contain
/// control bytes (RFC 7617 §2).
///
/// ```swift
/// var proxy = ProxyConfiguration(host: "proxy.example.com", port: 3128)
/// proxy.credentials = ProxyCredentials(user: "device-7", password: secret)
/// let tls = try TLSTransport(TLSConfiguration(host: "myhub.azure-devices.net", port: 8883, proxy: proxy))
/// ```
public struct ProxyCredentials {
    /// The user name (UTF-8).
    public var user: UnsafeRawBufferPointer
    /// The password (UTF-8; may be empty).
    public var password: UnsafeRawBufferPointer
    /// The copy `user` and `password` point into, when made from strings.
    let owner: OwnedText?

    /// Credentials for Basic authentication at the proxy, in caller memory.
    ///
    /// - Parameters:
    ///   - user: the user name's UTF-8 bytes (kept by reference: they must stay valid).
    ///   - password: the password's UTF-8 bytes (kept by reference; may be empty).
    public init(user: UnsafeRawBufferPointer, password: UnsafeRawBufferPointer) {
        self.user = user
        self.password = password
        owner = nil
    }

    /// Credentials for Basic authentication at the proxy, copied from strings into storage the
    /// credentials own (one allocation, zeroed when released).
    ///
    /// - Parameters:
    ///   - user: the user name (copied).
    ///   - password: the password (copied; may be empty).
    public init(user: String, password: String = "") {
        let owner = OwnedText([user, password])
        self.user = owner[0]
        self.password = owner[1]
        self.owner = owner
    }
}
