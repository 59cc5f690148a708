/// Where trusted root certificates come from.
///
/// ```swift
/// let pinned = TLSConfiguration(host: "myhub.azure-devices.net", port: 8883, trustAnchors: .file("/etc/tinyhub/ca.pem"))
/// let defaults = TLSConfiguration(host: "myhub.azure-devices.net", port: 8883)   // .azureRoots
/// ```
public enum TrustAnchors {
    /// The roots Azure IoT Hub chains to (DigiCert Global Root G2 + Microsoft RSA Root CA 2017).
    case azureRoots
    /// One or more PEM certificates in a static string (NUL-terminated by the compiler).
    case pem(StaticString)
    /// One or more PEM (NUL-terminated) or DER certificates in caller memory; read at init only.
    case pemBytes(UnsafeRawBufferPointer)
    /// A PEM or DER file read once at init (e.g. the value of `IOTHUB_TRUSTED_CA_FILE`).
    case file(String)
}

/// A client certificate and its private key, for X.509 device authentication.
///
/// ```swift
/// let x509 = TLSConfiguration(host: "myhub.azure-devices.net", port: 8883,
///                             clientIdentity: .files(certificate: "device.pem", key: "device.key"))
/// ```
public enum ClientIdentity {
    /// PEM certificate and key in files, read once at init.
    case files(certificate: String, key: String)
    /// PEM (NUL-terminated, count including the NUL) or DER certificate and key in caller memory.
    case bytes(certificate: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer)
}

/// How a `TLSTransport` connects and what it trusts. Certificate chain and host-name
/// verification are always on: there is no switch to turn them off.
///
/// ```swift
/// var configuration = TLSConfiguration(host: "myhub.azure-devices.net", port: 8883,
///                                      trustAnchors: .file("/etc/ssl/certs/ca-certificates.crt"))
/// configuration.sessionCacheBytes = 4_096   // resume the session on reconnects
/// let tls = try TLSTransport(configuration)
/// ```
public struct TLSConfiguration {
    /// DNS name to connect to, send as server name indication (SNI) and match against the certificate.
    public var host: String
    /// TCP port (8883 for MQTT, 443 for HTTPS).
    public var port: UInt16
    /// Trusted roots; defaults to the Azure roots.
    public var trustAnchors: TrustAnchors
    /// Optional client certificate for X.509 authentication.
    public var clientIdentity: ClientIdentity?
    /// Optional HTTP proxy: the TCP connection goes to it, and TLS to `host` runs through the
    /// tunnel it opens (`CONNECT host:port`). SNI and verification stay for `host`.
    public var proxy: ProxyConfiguration?
    /// Size of the buffer between mbedTLS and the socket, allocated at init (default 512 bytes;
    /// 0 turns it off). One `recv` fills it and the records in it need no further system call:
    /// a burst of MQTT acknowledgements (33 bytes each as TLS records) costs one read instead of
    /// two per record. Larger records go straight to mbedTLS's own buffer.
    public var readAheadBytes: Int = 512
    /// Room for the session kept for resumption, allocated at init (default 0: every handshake
    /// is a full one). With room, each `open` offers the session of the last handshake, and
    /// `TLSTransport.storedSession` / `restoreSession` carry it across runs. A session needs
    /// about 130 bytes plus the server's session ticket (if it sends one) plus, with Debian's
    /// mbedTLS (`MBEDTLS_SSL_KEEP_PEER_CERTIFICATE`), the server's certificate (1-2 KB for a
    /// typical one): 4,096 bytes leave room for a ticket. A session that does not fit is not kept.
    public var sessionCacheBytes: Int = 0

    /// A configuration for `host:port` trusting `trustAnchors`, directly or through `proxy`.
    ///
    /// - Parameters:
    ///   - host: the server's DNS name (checked against its certificate).
    ///   - port: the TCP port (8883 for MQTT, 443 for HTTPS and WebSockets).
    ///   - trustAnchors: the certificates the server's chain must lead to.
    ///   - clientIdentity: the device certificate and key (X.509), or nil.
    ///   - proxy: an HTTP proxy to tunnel through, or nil.
    public init(host: String, port: UInt16, trustAnchors: TrustAnchors = .azureRoots, clientIdentity: ClientIdentity? = nil,
                proxy: ProxyConfiguration? = nil) {
        self.host = host
        self.port = port
        self.trustAnchors = trustAnchors
        self.clientIdentity = clientIdentity
        self.proxy = proxy
    }
}
