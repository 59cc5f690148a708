import TinyPlatform
import TinyHub
import TinyMQTT

// Reading DPS's answers: which request they answer, what their status means, and copying
// what the device keeps (operation id, assigned hub, device id, error message).
extension ProvisioningClient {
    /// Handles one PUBLISH from DPS: answers to anything but the request in flight are ignored.
    func answer(topic topicBytes: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) {
        let topic: ProvisioningResponseTopic
        do throws(ProvisioningProtocolError) {
            guard let parsed = try ProvisioningResponseTopic.parse(topicBytes) else { return } // not a DPS answer
            topic = parsed
        } catch {
            exchange.failure = .protocolError(error)
            return
        }
        guard exchange.awaitingAnswer, topic.requestID == exchange.requestID else { return }
        exchange.awaitingAnswer = false
        let retryAfter = UInt64(topic.retryAfter ?? ProvisioningResponseTopic.defaultRetryAfter)
        // One millisecond more: the clock reads whole milliseconds (rounded down), so the answer may
        // have come up to 1 ms before the reading, and retry-after counts from DPS's side.
        let retryAt = ClockArithmetic.adding(retryAfter * 1_000 + 1, to: platform.monotonicMs())
        switch topic.status {
        case 200, 202:
            progress(body: body, retryAt: retryAt)
        case 429, 500...599:
            // Throttled or a service error: the same request again once retry-after has passed.
            exchange.nextRequestAtMs = retryAt
        default:
            let response = try? RegistrationResponse.parse(body)
            exchange.failure = .rejected(status: topic.status, errorCode: response?.errorCode,
                                         message: message(response?.errorMessage, in: body))
        }
    }

    /// A 200 or 202 answer: assigned, failed, disabled, or still assigning.
    private func progress(body: UnsafeRawBufferPointer, retryAt: UInt64) {
        let response: RegistrationResponse
        do throws(ProvisioningProtocolError) {
            response = try RegistrationResponse.parse(body)
        } catch {
            exchange.failure = .protocolError(error)
            return
        }
        switch response.status {
        case .assigned:
            do throws(ProvisioningProtocolError) {
                guard let hub = response.assignedHub, let device = response.deviceID else { throw .missingField }
                exchange.assignedHubLength = try copyID(hub, from: body, into: storage.assignedHub)
                exchange.deviceIDLength = try copyID(device, from: body, into: storage.deviceID)
                exchange.assigned = true
            } catch {
                exchange.failure = .protocolError(error)
            }
        case .failed:
            exchange.failure = .assignmentFailed(errorCode: response.errorCode, message: message(response.errorMessage, in: body))
        case .disabled:
            exchange.failure = .disabled(errorCode: response.errorCode, message: message(response.errorMessage, in: body))
        case .assigning, .unassigned, nil:
            if let operation = response.operationID {
                do throws(ProvisioningProtocolError) {
                    exchange.operationIDLength = try RegistrationResponse.copy(operation, from: body, into: storage.operationID)
                } catch {
                    exchange.failure = .protocolError(.invalidOperationID) // longer than 128 bytes or broken
                    return
                }
            } else if exchange.operationIDLength == 0 {
                exchange.failure = .protocolError(.missingField)
                return
            }
            exchange.nextRequestAtMs = retryAt
        }
    }

    /// Copies a string field, unescaped; an empty one is missing.
    private func copyID(_ token: JSONToken, from body: UnsafeRawBufferPointer,
                        into output: UnsafeMutableRawBufferPointer) throws(ProvisioningProtocolError) -> Int {
        let length = try RegistrationResponse.copy(token, from: body, into: output)
        guard length > 0 else { throw .missingField }
        return length
    }

    /// DPS's error message, unescaped when it fits the scratch space (the assigned-hub region,
    /// unused by a refusal), else its raw text; cut to `ProvisioningErrorMessage.capacity`.
    private func message(_ token: JSONToken?, in body: UnsafeRawBufferPointer) -> ProvisioningErrorMessage {
        guard let token, token.range.lowerBound >= 0, token.range.upperBound <= body.count else { return ProvisioningErrorMessage() }
        if let length = try? RegistrationResponse.copy(token, from: body, into: storage.assignedHub) {
            return ProvisioningErrorMessage(UnsafeRawBufferPointer(rebasing: storage.assignedHub[0..<length]))
        }
        return ProvisioningErrorMessage(UnsafeRawBufferPointer(rebasing: body[token.range]))
    }
}
