import TinyBytes
import TinyHub

/// The `status` of a DPS registration operation.
public enum RegistrationStatus: UInt8, Equatable {
    /// Not assigned (yet); DPS reports it for registrations that were never assigned.
    case unassigned
    /// Still being assigned: poll the operation status.
    case assigning
    /// Assigned: `assignedHub` and `deviceId` are set.
    case assigned
    /// Assignment failed (see `errorCode` / `errorMessage`).
    case failed
    /// The enrollment or registration is disabled.
    case disabled
}

/// A DPS answer body, read without copying: string fields are tokens into the body
/// (read them with `copy`). Success bodies look like
/// `{"operationId":"…","status":"assigned","registrationState":{"assignedHub":"…","deviceId":"…",…}}`;
/// error bodies like `{"errorCode":401002,"message":"…",…}`.
public struct RegistrationResponse: Equatable {
    /// `operationId` (a string token), if present.
    public var operationID: JSONToken?
    /// Top-level `status`, if present.
    public var status: RegistrationStatus?
    /// `registrationState.assignedHub`, if present.
    public var assignedHub: JSONToken?
    /// `registrationState.deviceId`, if present.
    public var deviceID: JSONToken?
    /// `registrationState.errorMessage`, or the top-level `message` of an error body.
    public var errorMessage: JSONToken?
    /// `registrationState.errorCode` or the top-level `errorCode`, if present.
    public var errorCode: Int64?

    /// Largest body accepted.
    public static let maxBodySize = 8192

    /// Reads `body`. Throws `malformedBody` for broken JSON, a non-object document or a field
    /// of the wrong type, `unknownStatus` for a status DPS does not define. Unknown members are skipped.
    ///
    /// - Parameter body: the answer's JSON body; the result's tokens index into it.
    /// - Returns: the fields found.
    /// - Throws: `ProvisioningProtocolError`: `malformedBody`, `unknownStatus`.
    public static func parse(_ body: UnsafeRawBufferPointer) throws(ProvisioningProtocolError) -> RegistrationResponse {
        let result: (response: RegistrationResponse, knownStatus: Bool)
        do throws(JSONError) {
            result = try read(body)
        } catch {
            throw .malformedBody(error)
        }
        guard result.knownStatus else { throw .unknownStatus }
        return result.response
    }

    /// Copies the unescaped text of `token` (one of this response's fields) from `body` into
    /// `output`; returns its length.
    ///
    /// - Parameters:
    ///   - token: one of this response's string fields.
    ///   - body: the body the token indexes into.
    ///   - output: where the unescaped text goes.
    /// - Returns: its length.
    /// - Throws: `ProvisioningProtocolError`: `malformedBody` for a bad escape, `bufferTooSmall`.
    public static func copy(_ token: JSONToken, from body: UnsafeRawBufferPointer,
                            into output: UnsafeMutableRawBufferPointer) throws(ProvisioningProtocolError) -> Int {
        do throws(JSONError) {
            let reader = try JSONReader(body, maxSize: maxBodySize)
            guard token.range.lowerBound >= 0, token.range.upperBound <= body.count else { throw JSONError.typeMismatch }
            return try reader.unescape(token, into: output)
        } catch .bufferTooSmall(let needed) {
            throw .bufferTooSmall(needed: needed)
        } catch {
            throw .malformedBody(error)
        }
    }

    private static func read(_ body: UnsafeRawBufferPointer) throws(JSONError) -> (response: RegistrationResponse, knownStatus: Bool) {
        var reader = try JSONReader(body, maxDepth: 8, maxSize: maxBodySize)
        guard let first = try reader.next() else { throw .unexpectedEnd }
        guard first.kind == .objectStart else { throw .typeMismatch }
        var result = RegistrationResponse()
        var badStatus = false
        while let (key, value) = try reader.nextMember() {
            if try reader.keyEquals(key, Bytes.view("operationId")) {
                result.operationID = try string(value)
            } else if try reader.keyEquals(key, Bytes.view("status")) {
                result.status = try status(value, reader)
                badStatus = result.status == nil
            } else if try reader.keyEquals(key, Bytes.view("errorCode")) {
                result.errorCode = try reader.integer(value)
            } else if try reader.keyEquals(key, Bytes.view("message")) {
                if result.errorMessage == nil { result.errorMessage = try string(value) }
            } else if try reader.keyEquals(key, Bytes.view("registrationState")) {
                guard value.kind == .objectStart else { throw .typeMismatch }
                try readState(&reader, into: &result)
            } else {
                try reader.skip(value)
            }
        }
        guard try reader.next() == nil else { throw .trailingData(offset: reader.offset) }
        return (result, !badStatus)
    }

    private static func readState(_ reader: inout JSONReader, into result: inout RegistrationResponse) throws(JSONError) {
        while let (key, value) = try reader.nextMember() {
            if try reader.keyEquals(key, Bytes.view("assignedHub")) {
                result.assignedHub = try string(value)
            } else if try reader.keyEquals(key, Bytes.view("deviceId")) {
                result.deviceID = try string(value)
            } else if try reader.keyEquals(key, Bytes.view("errorMessage")) {
                result.errorMessage = try string(value)
            } else if try reader.keyEquals(key, Bytes.view("errorCode")) {
                result.errorCode = try reader.integer(value)
            } else {
                try reader.skip(value)
            }
        }
    }

    private static func string(_ token: JSONToken) throws(JSONError) -> JSONToken {
        guard token.kind == .string else { throw .typeMismatch }
        return token
    }

    private static func status(_ token: JSONToken, _ reader: JSONReader) throws(JSONError) -> RegistrationStatus? {
        guard token.kind == .string else { throw .typeMismatch }
        if try reader.keyEquals(token, Bytes.view("assigning")) { return .assigning }
        if try reader.keyEquals(token, Bytes.view("assigned")) { return .assigned }
        if try reader.keyEquals(token, Bytes.view("failed")) { return .failed }
        if try reader.keyEquals(token, Bytes.view("disabled")) { return .disabled }
        if try reader.keyEquals(token, Bytes.view("unassigned")) { return .unassigned }
        return nil
    }
}
