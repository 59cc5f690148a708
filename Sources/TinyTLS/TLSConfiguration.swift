/// Where trusted root certificates come from.
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
public enum ClientIdentity {
    /// PEM certificate and key in files, read once at init.
    case files(certificate: String, key: String)
    /// PEM (NUL-terminated, count including the NUL) or DER certificate and key in caller memory.
    case bytes(certificate: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer)
}

/// How a `TLSTransport` connects and what it trusts. Certificate chain and host-name
/// verification are always on: there is no switch to turn them off.
public struct TLSConfiguration {
    /// DNS name to connect to, send as SNI and match against the certificate.
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

    /// A configuration for `host:port` trusting `trustAnchors`, directly or through `proxy`.
    public init(host: String, port: UInt16, trustAnchors: TrustAnchors = .azureRoots, clientIdentity: ClientIdentity? = nil,
                proxy: ProxyConfiguration? = nil) {
        self.host = host
        self.port = port
        self.trustAnchors = trustAnchors
        self.clientIdentity = clientIdentity
        self.proxy = proxy
    }
}
