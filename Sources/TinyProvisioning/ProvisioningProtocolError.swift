import TinyHub
import TinyPlatform

/// Why a piece of the Device Provisioning Service protocol could not be written or read.
/// Every input (ids, keys, topics, bodies) is treated as hostile: each malformed one maps to
/// one of these, never to a trap.
public enum ProvisioningProtocolError: Error, Equatable {
    /// The output buffer is too small; `needed` bytes would fit (at least that many when
    /// the writer stopped early).
    case bufferTooSmall(needed: Int)
    /// The ID scope or registration id is empty, longer than `ProvisioningIdentity.maxIDLength`
    /// or holds a byte outside `A-Z a-z 0-9 - . _ ~` (it would make a bad user name or topic).
    case invalidIdentity
    /// The key is not valid Base64 or decodes to nothing.
    case invalidKey
    /// The key decodes to more than `SASToken.maxKeyLength` bytes.
    case keyTooLong
    /// An operation id (from a DPS answer) that is empty, longer than
    /// `ProvisioningTopics.maxOperationIDLength` or holds a byte outside `A-Z a-z 0-9 - . _ ~`.
    case invalidOperationID
    /// The `CryptoProvider` failed to compute the HMAC.
    case crypto(CryptoError)
    /// A response topic that is not `$dps/registrations/res/{status}/?{properties}` with a
    /// three-digit status and decimal `$rid` / `retry-after` values.
    case malformedTopic
    /// A response body that is not the JSON DPS sends (with the reader's reason).
    case malformedBody(JSONError)
    /// An answer without a field its status requires (`operationId` while assigning,
    /// `assignedHub` and `deviceId` once assigned).
    case missingField
    /// A body whose `status` is not `unassigned`, `assigning`, `assigned`, `failed` or `disabled`.
    case unknownStatus
}
