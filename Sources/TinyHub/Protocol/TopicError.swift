/// Why a topic, MQTT user name or client id could not be built or a received topic parsed.
public enum TopicError: Error, Equatable {
    /// The output buffer is too small; `needed` bytes would fit.
    case bufferTooSmall(needed: Int)
    /// A device, module or host name is empty or contains a byte that breaks the topic or
    /// user name (`/`, NUL, and in topic names the MQTT wildcards `+` `#`).
    case invalidIdentifier
    /// A request id is empty, longer than `HubTopics.maxRequestIDLength` or not made of
    /// unreserved bytes (`A-Z a-z 0-9 - _ . ~`).
    case invalidRequestID
    /// A received `$iothub/…` or `devices/…` topic has the right prefix but a broken shape.
    case malformedTopic
    /// The status segment of a twin response is not a decimal number up to 999.
    case invalidStatus
    /// A `$version` value is missing or not a non-negative 64-bit decimal.
    case invalidVersion
    /// A twin response or method request without `$rid`.
    case missingRequestID
}
