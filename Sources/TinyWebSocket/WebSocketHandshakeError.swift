import TinyHTTP

/// Why the opening handshake (RFC 6455 §4.1) failed. All are permanent for this endpoint
/// except a transport failure, which the transport reports as a `TransportError` instead.
public enum WebSocketHandshakeError: Error, Equatable {
    /// The upgrade request does not fit the request buffer, or the host is not a valid host.
    case requestNotEncodable(HTTPEncodeError)
    /// The response could not be parsed as HTTP/1.1 (or did not fit the header buffer).
    case malformedResponse(HTTPParseError)
    /// The server answered with a status other than 101 Switching Protocols (status attached).
    case unexpectedStatus(Int)
    /// `Upgrade: websocket` is missing from the 101 response.
    case missingUpgradeHeader
    /// `Connection: Upgrade` is missing from the 101 response.
    case missingConnectionUpgrade
    /// `Sec-WebSocket-Accept` is missing or is not base64(SHA-1(key + GUID)).
    case badAccept
    /// The server did not select the `mqtt` subprotocol.
    case wrongSubprotocol
    /// SHA-1 or Base64 failed in the crypto backend (mbedTLS error code attached).
    case crypto(code: Int32)
}
