import TinyBytes

/// Why a connection string was rejected.
public enum ConnectionStringError: Error, Equatable {
    /// The string is empty (or only `;`).
    case empty
    /// The string is longer than `ConnectionString.maxLength`.
    case tooLong(maxLength: Int)
    /// The segment starting at byte `offset` has no `=`.
    case missingEquals(offset: Int)
    /// The segment starting at byte `offset` has nothing before its `=`.
    case emptyKey(offset: Int)
    /// A key appears twice.
    case duplicateKey(ConnectionStringKey)
    /// A key has an empty value.
    case emptyValue(ConnectionStringKey)
    /// No `HostName`.
    case missingHostName
    /// No `DeviceId`.
    case missingDeviceID
    /// `x509` has a value other than exactly `true`.
    case invalidX509Value
    /// Both `x509=true` and `SharedAccessKey` are present.
    case mixedAuthentication
    /// Neither `SharedAccessKey` nor `x509=true` is present.
    case missingCredentials
    /// `SharedAccessKey` is not valid Base64.
    case invalidSharedAccessKey
    /// `SharedAccessKey` decodes to more than `SASToken.maxKeyLength` bytes.
    case sharedAccessKeyTooLong
    /// `SharedAccessSignature` (a pre-built token) is present; TinyHub signs its own tokens.
    case sharedAccessSignatureNotSupported
    /// A part given to `HubConfiguration(hostName:…)` contains `;`, which separates segments.
    case separatorInValue
}

extension ConnectionStringError {
    /// One line naming the field and its problem, e.g.
    /// `invalid connection string: SharedAccessKey is not valid base64`.
    public var summary: StaticString {
        switch self {
        case .empty: return "invalid connection string: it is empty (need HostName, DeviceId and SharedAccessKey or x509=true)"
        case .tooLong: return "invalid connection string: longer than 4096 bytes"
        case .missingEquals: return "invalid connection string: a segment has no '=' (expected Key=value;Key=value)"
        case .emptyKey: return "invalid connection string: a segment has no key before its '='"
        case .duplicateKey(let key): return key.duplicateSummary
        case .emptyValue(let key): return key.emptySummary
        case .missingHostName: return "invalid connection string: HostName is missing"
        case .missingDeviceID: return "invalid connection string: DeviceId is missing"
        case .invalidX509Value: return "invalid connection string: x509 must be exactly true"
        case .mixedAuthentication: return "invalid connection string: x509=true and SharedAccessKey both given (use one)"
        case .missingCredentials: return "invalid connection string: SharedAccessKey is missing (or x509=true for a certificate)"
        case .invalidSharedAccessKey: return "invalid connection string: SharedAccessKey is not valid base64"
        case .sharedAccessKeyTooLong: return "invalid connection string: SharedAccessKey is too long (at most 128 bytes decoded)"
        case .sharedAccessSignatureNotSupported:
            return "invalid connection string: SharedAccessSignature is not supported (give SharedAccessKey)"
        case .separatorInValue: return "invalid connection string: a host name, id or key contains ';'"
        }
    }
}

extension ConnectionStringKey {
    /// `duplicate key <key>`.
    var duplicateSummary: StaticString {
        switch self {
        case .hostName: return "invalid connection string: duplicate key HostName"
        case .deviceID: return "invalid connection string: duplicate key DeviceId"
        case .moduleID: return "invalid connection string: duplicate key ModuleId"
        case .sharedAccessKey: return "invalid connection string: duplicate key SharedAccessKey"
        case .sharedAccessKeyName: return "invalid connection string: duplicate key SharedAccessKeyName"
        case .x509: return "invalid connection string: duplicate key x509"
        case .gatewayHostName: return "invalid connection string: duplicate key GatewayHostName"
        }
    }

    /// `<key> is empty`.
    var emptySummary: StaticString {
        switch self {
        case .hostName: return "invalid connection string: HostName is empty"
        case .deviceID: return "invalid connection string: DeviceId is empty"
        case .moduleID: return "invalid connection string: ModuleId is empty"
        case .sharedAccessKey: return "invalid connection string: SharedAccessKey is empty"
        case .sharedAccessKeyName: return "invalid connection string: SharedAccessKeyName is empty"
        case .x509: return "invalid connection string: x509 is empty"
        case .gatewayHostName: return "invalid connection string: GatewayHostName is empty"
        }
    }
}
