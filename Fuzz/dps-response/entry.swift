// libFuzzer entry for the DPS answer parser: `ProvisioningResponseTopic.parse` (the response
// topic) and `RegistrationResponse.parse` / `copy` (the JSON body), as `ProvisioningClient` uses
// them on every PUBLISH from DPS.
//
// Input layout: byte 0 = topic length n, the next n bytes = the topic, the rest = the body. Each
// part is copied into its own exact-size allocation, so AddressSanitizer catches a read past it.
//
// Oracle (any violation traps with a message):
// - topic: a reference reader written here, independent of TinyProvisioning, decides whether the
//   topic is a DPS answer (nil otherwise), malformed (`malformedTopic`) or which status / `$rid` /
//   `retry-after` it carries; the parser must agree exactly. A parsed topic, written back as
//   `$dps/registrations/res/{status}/?$rid=…&retry-after=…`, parses to the same values.
// - body: a parsed body's string fields are tokens inside the body, of kind string; each copies
//   (unescaped) into at most its raw length, and into a buffer one byte short it either fits or is
//   `bufferTooSmall(needed:)` with needed > capacity. The fields written back as a canonical body
//   (`{"operationId":…,"status":…,"registrationState":{…}}`) parse to the same status, error code
//   and byte-identical field texts. A body over 8 KiB is refused; parsing never traps.
// - operation id: `writeOperationStatus` with a parsed operation id either writes a topic that
//   ends with exactly that id or refuses it as `invalidOperationID` for the reasons documented.
import TinyHub
import TinyProvisioning

@inline(never)
func fuzzFail(_ message: String, line: UInt = #line) -> Never {
    fatalError("fuzz oracle: \(message)", line: line)
}

func check(_ condition: Bool, _ message: @autoclosure () -> String, line: UInt = #line) {
    if !condition { fuzzFail(message(), line: line) }
}

/// An exact-size copy of `bytes` (freed by the caller).
func exactCopy(_ bytes: UnsafeRawBufferPointer) -> UnsafeMutableRawBufferPointer {
    let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
    let view = UnsafeMutableRawBufferPointer(rebasing: storage[0..<bytes.count])
    view.copyMemory(from: bytes)
    return view
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    guard size > 0 else { return 0 }
    let topicLength = min(Int(input[0]), size - 1)
    let topic = exactCopy(UnsafeRawBufferPointer(rebasing: input[1..<(1 + topicLength)]))
    let body = exactCopy(UnsafeRawBufferPointer(rebasing: input[(1 + topicLength)...]))
    defer {
        topic.baseAddress.map { UnsafeMutableRawPointer(mutating: $0).deallocate() }
        body.baseAddress.map { UnsafeMutableRawPointer(mutating: $0).deallocate() }
    }
    checkTopic(UnsafeRawBufferPointer(topic))
    checkBody(UnsafeRawBufferPointer(body))
    return 0
}

// MARK: - Topic

enum ReferenceTopic: Equatable {
    case notDPS
    case malformed
    case answer(status: UInt16, rid: UInt32?, retryAfter: UInt32?)
}

/// The topic grammar, read independently: `$dps/registrations/res/` + three digits 100...599 + `/`,
/// then nothing or `?` and `&`-separated `name=value` pairs (a trailing `&` ends the list; an empty
/// pair elsewhere or one without `=` is malformed); `$rid` and `retry-after` values are 1...10
/// digits no larger than 2^32 - 1; other names are ignored, the last repeated value counts.
func referenceTopic(_ topic: [UInt8]) -> ReferenceTopic {
    let prefix = Array("$dps/registrations/res/".utf8)
    guard topic.count >= prefix.count, Array(topic[0..<prefix.count]) == prefix else { return .notDPS }
    let rest = Array(topic[prefix.count...])
    guard rest.count >= 4, rest[3] == UInt8(ascii: "/"), rest[0..<3].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
        return .malformed
    }
    let status = rest[0..<3].reduce(0) { $0 * 10 + Int($1 - 0x30) }
    guard (100...599).contains(status) else { return .malformed }
    var rid: UInt32? = nil, retryAfter: UInt32? = nil
    let query = Array(rest[4...])
    if query.isEmpty { return .answer(status: UInt16(status), rid: nil, retryAfter: nil) }
    guard query[0] == UInt8(ascii: "?") else { return .malformed }
    var pairs = query.dropFirst().split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false)
    if pairs.last?.isEmpty == true { pairs.removeLast() } // `…&` at the end, or a bare `?`
    for pair in pairs {
        guard let eq = pair.firstIndex(of: UInt8(ascii: "=")) else { return .malformed }
        let name = String(decoding: pair[pair.startIndex..<eq], as: UTF8.self)
        let value = pair[(eq + 1)...]
        guard name == "$rid" || name == "retry-after" else { continue }
        guard (1...10).contains(value.count), value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return .malformed }
        let number = value.reduce(UInt64(0)) { $0 * 10 + UInt64($1 - 0x30) }
        guard number <= UInt64(UInt32.max) else { return .malformed }
        if name == "$rid" { rid = UInt32(number) } else { retryAfter = UInt32(number) }
    }
    return .answer(status: UInt16(status), rid: rid, retryAfter: retryAfter)
}

func parsedTopic(_ topic: UnsafeRawBufferPointer) -> ReferenceTopic {
    do throws(ProvisioningProtocolError) {
        guard let parsed = try ProvisioningResponseTopic.parse(topic) else { return .notDPS }
        return .answer(status: parsed.status, rid: parsed.requestID, retryAfter: parsed.retryAfter)
    } catch {
        check(error == .malformedTopic, "topic error \(error) is not malformedTopic")
        return .malformed
    }
}

func checkTopic(_ topic: UnsafeRawBufferPointer) {
    let expected = referenceTopic(Array(topic))
    let parsed = parsedTopic(topic)
    check(parsed == expected, "topic \(Array(topic)): parsed \(parsed), reference \(expected)")
    guard case .answer(let status, let rid, let retryAfter) = parsed else { return }
    // Written back in DPS's own form, the values survive.
    var text = "$dps/registrations/res/\(status)/"
    var separator = "?"
    if let rid { text += "\(separator)$rid=\(rid)"; separator = "&" }
    if let retryAfter { text += "\(separator)retry-after=\(retryAfter)" }
    let again = Array(text.utf8).withUnsafeBytes { parsedTopic($0) }
    check(again == parsed, "round trip of \(text): \(again) != \(parsed)")
}

// MARK: - Body

/// The unescaped text of a field, checked against the body's bounds and the copy contract.
func fieldText(_ token: JSONToken, in body: UnsafeRawBufferPointer, _ name: String) -> [UInt8]? {
    check(token.kind == .string, "\(name) token of kind \(token.kind)")
    check(token.range.lowerBound >= 0 && token.range.lowerBound <= token.range.upperBound
          && token.range.upperBound <= body.count, "\(name) token \(token.range) outside the body (\(body.count) bytes)")
    let roomy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(token.range.count, 1), alignment: 1)
    defer { roomy.deallocate() }
    let length: Int
    do throws(ProvisioningProtocolError) {
        length = try RegistrationResponse.copy(token, from: body, into: roomy)
    } catch {
        // The body parsed, so the token's escapes are valid: only a malformed string may fail here.
        guard case .malformedBody(.invalidString) = error else { fuzzFail("\(name): copy failed with \(error)") }
        return nil
    }
    check(length <= token.range.count, "\(name) unescaped to \(length) bytes from \(token.range.count)")
    let text = Array(UnsafeRawBufferPointer(rebasing: roomy[0..<length]))
    // One byte short of the text: it must say so, with a size that would fit.
    if length > 0 {
        let short = UnsafeMutableRawBufferPointer.allocate(byteCount: length - 1 == 0 ? 1 : length - 1, alignment: 1)
        defer { short.deallocate() }
        let view = UnsafeMutableRawBufferPointer(rebasing: short[0..<(length - 1)])
        do throws(ProvisioningProtocolError) {
            _ = try RegistrationResponse.copy(token, from: body, into: view)
            fuzzFail("\(name): \(length) bytes copied into \(length - 1)")
        } catch {
            guard case .bufferTooSmall(let needed) = error, needed > length - 1 else {
                fuzzFail("\(name): short copy failed with \(error)")
            }
        }
    }
    return text
}

struct Fields: Equatable {
    var operationID: [UInt8]?
    var status: RegistrationStatus?
    var assignedHub: [UInt8]?
    var deviceID: [UInt8]?
    var errorMessage: [UInt8]?
    var errorCode: Int64?
}

func fields(of body: UnsafeRawBufferPointer) -> Fields? {
    let response: RegistrationResponse
    do throws(ProvisioningProtocolError) {
        response = try RegistrationResponse.parse(body)
    } catch {
        switch error {
        case .malformedBody, .unknownStatus: return nil
        default: fuzzFail("body error \(error) is neither malformedBody nor unknownStatus")
        }
    }
    check(body.count <= RegistrationResponse.maxBodySize, "a body of \(body.count) bytes was accepted")
    var result = Fields(status: response.status, errorCode: response.errorCode)
    result.operationID = response.operationID.flatMap { fieldText($0, in: body, "operationId") }
    result.assignedHub = response.assignedHub.flatMap { fieldText($0, in: body, "assignedHub") }
    result.deviceID = response.deviceID.flatMap { fieldText($0, in: body, "deviceId") }
    result.errorMessage = response.errorMessage.flatMap { fieldText($0, in: body, "errorMessage") }
    return result
}

/// The fields written back as DPS would send them, with TinyHub's JSON writer.
func canonicalBody(_ fields: Fields, into output: UnsafeMutableRawBufferPointer) -> Int? {
    func string(_ bytes: [UInt8], _ writer: inout JSONWriter) throws(JSONError) {
        let result: Result<Void, JSONError> = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONError) in try writer.string(raw) }
        }
        try result.get()
    }
    do throws(JSONError) {
        var writer = JSONWriter(buffer: output)
        try writer.beginObject()
        if let operation = fields.operationID {
            try writer.key("operationId")
            try string(operation, &writer)
        }
        if let status = fields.status {
            try writer.key("status")
            switch status {
            case .unassigned: try writer.string("unassigned")
            case .assigning: try writer.string("assigning")
            case .assigned: try writer.string("assigned")
            case .failed: try writer.string("failed")
            case .disabled: try writer.string("disabled")
            }
        }
        try writer.key("registrationState")
        try writer.beginObject()
        if let hub = fields.assignedHub {
            try writer.key("assignedHub")
            try string(hub, &writer)
        }
        if let device = fields.deviceID {
            try writer.key("deviceId")
            try string(device, &writer)
        }
        if let code = fields.errorCode {
            try writer.key("errorCode")
            try writer.integer(code)
        }
        if let message = fields.errorMessage {
            try writer.key("errorMessage")
            try string(message, &writer)
        }
        try writer.endObject()
        try writer.endObject()
        return writer.count
    } catch {
        return nil // larger than the output: nothing to compare
    }
}

func checkBody(_ body: UnsafeRawBufferPointer) {
    guard let parsed = fields(of: body) else { return }
    // A field that failed to copy was dropped above; compare only complete readings.
    let output = UnsafeMutableRawBufferPointer.allocate(byteCount: RegistrationResponse.maxBodySize, alignment: 1)
    defer { output.deallocate() }
    guard let length = canonicalBody(parsed, into: output) else { return }
    let again = fields(of: UnsafeRawBufferPointer(rebasing: output[0..<length]))
    check(again == parsed, "canonical body \(Array(output[0..<length])) read back as \(String(describing: again)), not \(parsed)")
    if let operation = parsed.operationID { checkOperationID(operation) }
}

/// `writeOperationStatus` takes 1...128 bytes of `A-Z a-z 0-9 - . _ ~` and writes them as the
/// topic's last parameter; anything else is `invalidOperationID`.
func checkOperationID(_ operation: [UInt8]) {
    let allowed = (1...ProvisioningTopics.maxOperationIDLength).contains(operation.count) && operation.allSatisfy { b in
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
    }
    let output = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 1)
    defer { output.deallocate() }
    operation.withUnsafeBytes { raw in
        do throws(ProvisioningProtocolError) {
            let length = try ProvisioningTopics.writeOperationStatus(requestID: 7, operationID: raw, into: output)
            check(allowed, "operation id \(operation) accepted")
            let expected = Array("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=7&operationId=".utf8) + operation
            check(Array(output[0..<length]) == expected, "status topic \(Array(output[0..<length]))")
        } catch {
            check(!allowed && error == .invalidOperationID, "operation id \(operation) refused with \(error)")
        }
    }
}
