import TinyBytes
import TinyHub

/// A DPS answer topic `$dps/registrations/res/{status}/?$rid={rid}[&retry-after={seconds}]`.
public struct ProvisioningResponseTopic: Equatable {
    /// The HTTP-like status: 200 done (body says assigned/failed/disabled), 202 still
    /// assigning, 429 throttled, other 4xx/5xx errors.
    public var status: UInt16
    /// The `$rid` of the request this answers, if present.
    public var requestID: UInt32?
    /// Seconds to wait before the next request (`retry-after`), if present.
    public var retryAfter: UInt32?

    /// A topic with these values.
    ///
    /// - Parameters:
    ///   - status: the HTTP-style status DPS answered with.
    ///   - requestID: the `$rid` of the request answered, when present.
    ///   - retryAfter: the `retry-after` seconds, when present.
    public init(status: UInt16, requestID: UInt32?, retryAfter: UInt32?) {
        self.status = status
        self.requestID = requestID
        self.retryAfter = retryAfter
    }

    /// Seconds to wait when an answer asks to retry without saying when (Azure SDK default).
    public static let defaultRetryAfter: UInt32 = 3

    /// Whether the request is still being processed (202) or DPS throttled it (429):
    /// both mean "ask again after `retryAfter` (or the default)".
    public var isRetry: Bool { status == 202 || status == 429 }

    /// Classifies `topic`: nil when it is not under `$dps/registrations/res/` (not a DPS
    /// answer); throws `malformedTopic` when it is but cannot be read. Unknown properties
    /// are ignored; a repeated known one takes its last value.
    ///
    /// - Parameter topic: the PUBLISH topic received.
    /// - Returns: the status and properties, or nil for a topic that is not a DPS answer.
    /// - Throws: `ProvisioningProtocolError`: `malformedTopic`.
    public static func parse(_ topic: UnsafeRawBufferPointer) throws(ProvisioningProtocolError) -> ProvisioningResponseTopic? {
        let prefix = Bytes.view("$dps/registrations/res/")
        guard Bytes.hasPrefix(topic, "$dps/registrations/res/") else { return nil }
        var i = prefix.count
        // Status: exactly three digits, 100...599, then `/`.
        guard topic.count >= i + 4, topic[i + 3] == 0x2F,
              let status = decimal(UnsafeRawBufferPointer(rebasing: topic[i..<(i + 3)]), max: 599),
              status >= 100 else { throw .malformedTopic }
        i += 4
        var result = ProvisioningResponseTopic(status: UInt16(status), requestID: nil, retryAfter: nil)
        if i == topic.count { return result }
        guard topic[i] == 0x3F else { throw .malformedTopic } // `?`
        i += 1
        while i < topic.count {
            var end = i
            while end < topic.count, topic[end] != 0x26 { end += 1 } // `&`
            let pair = UnsafeRawBufferPointer(rebasing: topic[i..<end])
            var eq = 0
            while eq < pair.count, pair[eq] != 0x3D { eq += 1 } // `=`
            guard eq < pair.count else { throw .malformedTopic }
            let name = UnsafeRawBufferPointer(rebasing: pair[0..<eq])
            let value = UnsafeRawBufferPointer(rebasing: pair[(eq + 1)...])
            if Bytes.equal(name, Bytes.view("$rid")) {
                guard let rid = decimal(value, max: UInt64(UInt32.max)) else { throw .malformedTopic }
                result.requestID = UInt32(rid)
            } else if Bytes.equal(name, Bytes.view("retry-after")) {
                guard let seconds = decimal(value, max: UInt64(UInt32.max)) else { throw .malformedTopic }
                result.retryAfter = UInt32(seconds)
            }
            i = end + 1
        }
        return result
    }

    /// Decimal value of `digits` (1...10 ASCII digits, at most `max`), or nil.
    private static func decimal(_ digits: UnsafeRawBufferPointer, max: UInt64) -> UInt64? {
        guard digits.count <= 10 else { return nil }
        return Decimal.value(digits, limit: max)
    }
}
