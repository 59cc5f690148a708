import TinyHTTP
import TinyPlatform

/// One request/response exchange over the kept-alive connection.
extension HTTPSFace {
    /// Refuses to send while stopped after auth failures or inside a `Retry-After` window.
    func checkMaySend() throws(HubError) {
        guard !stopped else { throw .stoppedAfterAuthenticationFailures }
        let now = platform.monotonicMs()
        if backoffUntilMs > now { throw .backingOff(remainingMs: backoffUntilMs - now) }
    }

    /// Sends the head written in the request buffer and `body`: copied behind the head when
    /// both fit (one TLS record), else sent from where it lies right after the head.
    func exchange(headLength: Int, appending body: UnsafeRawBufferPointer) throws(HubError) -> Int {
        guard headLength + body.count <= requestBuffer.count else { return try exchange(headLength: headLength, body: body) }
        if body.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: requestBuffer[headLength..<(headLength + body.count)]).copyMemory(from: body)
        }
        return try exchange(headLength: headLength + body.count, body: UnsafeRawBufferPointer(start: nil, count: 0))
    }

    /// Sends `requestBuffer[0..<headLength]` followed by `body` (which may be empty, or
    /// lie outside the request buffer) and reads the response into the parser. Returns the
    /// status code. A request that met a stale kept-alive connection (send failed, or the
    /// peer closed before any response byte) is sent once more on a new connection.
    func exchange(headLength: Int, body: UnsafeRawBufferPointer) throws(HubError) -> Int {
        try checkMaySend()
        // One deadline for the whole exchange (connect, request, response, the one resend on
        // a stale connection included): every transport call gets what is left of it.
        let (sum, overflow) = platform.monotonicMs().addingReportingOverflow(UInt64(max(0, settings.timeoutMs)))
        let deadline = overflow ? UInt64.max : sum
        var retried = false
        while true {
            let reused = transport.isOpen
            if !reused {
                do throws(TransportError) {
                    try transport.open(timeoutMs: remainingMs(until: deadline))
                } catch {
                    throw .transport(error)
                }
                connectionsOpened += 1
            }
            do throws(TransportError) {
                try transport.send(UnsafeRawBufferPointer(rebasing: requestBuffer[0..<headLength]), timeoutMs: remainingMs(until: deadline))
                if body.count > 0 { try transport.send(body, timeoutMs: remainingMs(until: deadline)) }
            } catch {
                transport.close()
                if reused, !retried { retried = true; continue }
                throw .transport(error)
            }
            responsesRead &+= 1 // the parser's headers now belong to this response
            do throws(HubError) {
                try readResponse(deadline: deadline)
            } catch {
                transport.close()
                if case .transport = error, reused, !retried, parser.statusCode == 0, noBytesReceived {
                    retried = true
                    continue
                }
                throw error
            }
            if !parser.connectionReusable { transport.close() }
            return try classify(parser.statusCode)
        }
    }

    /// Reads one response (skipping 1xx) into the parser, using the request buffer as the
    /// receive buffer.
    private func readResponse(deadline: UInt64) throws(HubError) {
        parser.reset()
        noBytesReceived = true
        var total = 0
        while true {
            let n: Int
            do throws(TransportError) {
                n = try transport.receive(into: requestBuffer, timeoutMs: remainingMs(until: deadline))
            } catch {
                guard error == .closed, total > 0 else { throw .transport(error) }
                do throws(HTTPParseError) { try parser.connectionClosed() } catch { throw .response(error) }
                return
            }
            guard n > 0 else { throw .transport(.timeout) }
            noBytesReceived = false
            total += n
            var offset = 0
            while offset < n {
                do throws(HTTPParseError) {
                    offset += try parser.feed(UnsafeRawBufferPointer(rebasing: requestBuffer[offset..<n]))
                } catch {
                    throw .response(error)
                }
                if parser.isComplete {
                    if parser.isInterim {
                        parser.reset()
                        continue
                    }
                    // Bytes after the response: we never pipeline, so the stream is confused.
                    if offset < n { transport.close() }
                    return
                }
            }
        }
    }

    /// Milliseconds left until `deadline`; the transport's timeout error once none are.
    private func remainingMs(until deadline: UInt64) throws(TransportError) -> Int32 {
        let now = platform.monotonicMs()
        guard now < deadline else { throw .timeout }
        return Int32(clamping: deadline - now)
    }

    /// Maps the status to success or a typed error, and keeps the back-off and
    /// authentication-failure bookkeeping.
    private func classify(_ status: Int) throws(HubError) -> Int {
        if status >= 200, status < 300 {
            authFailures = 0
            clockChecked = false
            return status
        }
        // The first 401 of a streak may be the device's clock, not its key: IoT Hub dates
        // its answers, so take its time and let the caller send again with a token minted
        // from it. A second 401 is final.
        if status == 401, !clockChecked, !connection.usesX509, let date = parser.header("Date"),
           let hubTime = HTTPDate.unixSeconds(parsing: date) {
            clockChecked = true
            clockOffsetSeconds = hubTime - platform.wallSeconds()
            invalidateToken()
            throw .clockAdjusted(offsetSeconds: clockOffsetSeconds)
        }
        let retryAfter = parser.retryAfterSeconds ?? Int(settings.defaultRetryAfterSeconds)
        let error = HubError.status(status, retryAfter: retryAfter)
        switch error {
        case .throttled, .serviceUnavailable:
            backoffUntilMs = platform.monotonicMs() + UInt64(max(0, retryAfter)) * 1_000
        case .unauthorized, .forbidden, .deviceNotFound:
            if case .unauthorized = error { invalidateToken() }
            authFailures &+= 1
            if authFailures >= settings.maxAuthenticationFailures {
                stopped = true
                notice("TinyHub HTTPS: stopped after repeated authentication failures (401/403/404); call resume() after fixing it")
            }
        default:
            break
        }
        throw error
    }
}
