import TinyPlatform
import TinyMQTT

/// The state of one registration's request/answer exchange with DPS, kept by the client
/// between the session's callbacks and its own loop (it never calls back into the session
/// from a callback).
struct ProvisioningExchange {
    /// The `$rid` of the request in flight (each request gets a new one), 0 before the first.
    var requestID: UInt32 = 0
    /// Whether the request with `requestID` still awaits its answer.
    var awaitingAnswer = false
    /// The SUBACK's packet id, and whether it came on this connection.
    var subscriptionID: UInt16 = 0
    var subscribed = false
    /// When the next request is due (monotonic ms), or nil while one is in flight.
    var nextRequestAtMs: UInt64? = nil
    /// Bytes of the register request's body in the client's storage.
    var bodyLength = 0
    /// Bytes of the operation id in the client's storage (0: none yet, send a register request).
    var operationIDLength = 0
    /// Bytes of the assigned hub and device id in the client's storage once assigned.
    var assignedHubLength = 0
    var deviceIDLength = 0
    /// Whether DPS assigned the device.
    var assigned = false
    /// A final failure an answer brought.
    var failure: ProvisioningError? = nil
    /// Why the connection ended, when it did.
    var lost: MQTTError? = nil

    /// Forgets what belonged to a connection (the subscription, the request in flight) and
    /// makes the next request due at once. The operation id stays: a new connection asks for
    /// the status of the same operation instead of registering again.
    mutating func newConnection() {
        awaitingAnswer = false
        subscribed = false
        subscriptionID = 0
        nextRequestAtMs = nil
        lost = nil
    }
}
