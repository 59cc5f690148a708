import Testing
@testable import TinyHub
import TinyHTTP
import TinyMQTT
import TinyPlatform
import TinyTLS

/// One error for both protocols: every case says in one line what to do, and what an
/// application reacts to is matched one level deep.
@Suite struct HubErrorTests {
    /// One value of every case (the switch in `summary` is exhaustive, so a new case fails to
    /// compile there; this list is checked against it by count below).
    static let everyCase: [HubError] = [
        .connectionString(.invalidSharedAccessKey), .sasToken(.bufferTooSmall(needed: 1)), .bufferTooSmall(needed: 1),
        .topic(.invalidIdentifier), .properties(.bufferTooSmall(needed: 1)), .request(.bufferTooSmall(needed: 1)),
        .invalidPropertyName(index: 0), .invalidPropertyValue(index: 0), .invalidSystemProperty,
        .messageTooLarge(size: 1, limit: 0), .cloudToDeviceNeedsDeviceIdentity, .transport(.timeout), .notConnected,
        .inflightWindowFull, .connectionRefused(.notAuthorized), .mqtt(.pingTimeout), .tooManyPendingRequests,
        .clockUnchecked(.notAuthorized), .response(.invalidStatusLine), .receivedMessageTooLarge(totalBytes: 1),
        .missingLockToken, .invalidLockToken, .badRequest, .unauthorized, .clockAdjusted(offsetSeconds: 1), .forbidden,
        .deviceNotFound, .lockLost, .payloadTooLarge, .throttled(retryAfterSeconds: 1), .serviceUnavailable(retryAfterSeconds: 1),
        .serverError(status: 500), .unexpectedStatus(302), .backingOff(remainingMs: 1), .pollTooSoon(remainingMs: 1),
        .stoppedAfterAuthenticationFailures,
    ]

    @Test func everySummaryIsOneNonEmptyLine() {
        #expect(Self.everyCase.count == 36)
        var seen = Set<String>()
        for error in Self.everyCase {
            let line = String(describing: error.summary)
            #expect(!line.isEmpty, "\(error)")
            #expect(!line.contains("\n") && !line.contains("\r"), "\(error)")
            #expect(line.count <= 140, "\(error): \(line)")
            seen.insert(line)
        }
        #expect(seen.count == Self.everyCase.count, "each case has its own line")
    }

    @Test func theMQTTCasesAnApplicationReactsToAreLiftedOneLevel() {
        guard case .inflightWindowFull = HubError(MQTTError.inflightWindowFull) else { Issue.record("window"); return }
        guard case .notConnected = HubError(MQTTError.notConnected) else { Issue.record("not connected"); return }
        guard case .transport(.timeout) = HubError(MQTTError.transport(.timeout)) else { Issue.record("transport"); return }
        guard case .connectionRefused(.notAuthorized) = HubError(MQTTError.connectionRefused(.notAuthorized)) else {
            Issue.record("refused"); return
        }
        guard case .mqtt(.pingTimeout) = HubError(MQTTError.pingTimeout) else { Issue.record("other"); return }
        // Same words as the session's own error, so the examples print what they printed.
        #expect(String(describing: HubError(MQTTError.transport(.timeout)).summary)
                == String(describing: MQTTError.transport(.timeout).summary))
        #expect(String(describing: HubError.connectionRefused(.notAuthorized).summary)
                == String(describing: MQTTError.connectionRefused(.notAuthorized).summary))
    }

    @Test func authenticationFailuresOfBothProtocols() {
        #expect(HubError.connectionRefused(.notAuthorized).isAuthenticationFailure)
        #expect(!HubError.connectionRefused(.serverUnavailable).isAuthenticationFailure)
        #expect(HubError.unauthorized.isAuthenticationFailure)
        #expect(HubError.clockUnchecked(.notAuthorized).isAuthenticationFailure)
        #expect(!HubError.throttled(retryAfterSeconds: 1).isAuthenticationFailure)
        #expect(HubError.throttled(retryAfterSeconds: 1).isTransient)
        #expect(!HubError.transport(.proxyRefused(status: 407)).isTransient)
    }
}
