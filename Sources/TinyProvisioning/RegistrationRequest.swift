import TinyHub

/// The body of a register request: `{"registrationId":"…"}`, or with a custom allocation
/// payload `{"registrationId":"…","payload":{…}}`.
public enum RegistrationRequest {
    /// Writes the body; `payload`, when given, must be one complete JSON value (it is
    /// inserted as is after a syntax check). Returns its length.
    ///
    /// - Parameters:
    ///   - registrationID: the device's registration id.
    ///   - payload: a custom allocation payload (one JSON value), or nil.
    ///   - output: where the body goes.
    /// - Returns: its length.
    /// - Throws: `ProvisioningProtocolError`: `invalidIdentity`, `malformedBody` for a payload that is not one JSON value, `bufferTooSmall`.
    public static func writeBody(registrationID: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer? = nil,
                                 into output: UnsafeMutableRawBufferPointer) throws(ProvisioningProtocolError) -> Int {
        try ProvisioningIdentity.validate(registrationID)
        do throws(JSONError) {
            if let payload {
                var check = try JSONReader(payload)
                guard let first = try check.next() else { throw JSONError.unexpectedEnd }
                try check.skip(first)
                guard try check.next() == nil else { throw JSONError.trailingData(offset: check.offset) }
            }
            var writer = JSONWriter(buffer: output)
            try writer.beginObject()
            try writer.key("registrationId")
            try writer.string(registrationID)
            if let payload {
                try writer.key("payload")
                try writer.raw(payload)
            }
            try writer.endObject()
            return writer.count
        } catch .bufferTooSmall(let needed) {
            throw .bufferTooSmall(needed: needed)
        } catch {
            throw .malformedBody(error)
        }
    }
}
