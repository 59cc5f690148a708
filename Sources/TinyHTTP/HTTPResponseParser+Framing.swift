import TinyBytes

/// The end of the header block: interpret the framing headers (RFC 9112 §6.3) and the
/// connection options (RFC 9112 §9.3, §9.6).
extension HTTPResponseParser {
    mutating func endOfHeaders() throws(HTTPParseError) {
        var chunked = false
        var sawTransferEncoding = false
        for header in storedHeaders {
            if header.nameEquals(HeaderName.contentLength) {
                try parseContentLength(header.value)
            } else if header.nameEquals(HeaderName.transferEncoding) {
                // Only a single `chunked` is accepted: TinyHTTP never asks for other codings.
                let isChunked = HeaderName.chunked.withBytes { ASCII.equalsIgnoringCase(header.value, $0) }
                guard isChunked, !sawTransferEncoding else { throw .unsupportedTransferEncoding }
                sawTransferEncoding = true
                chunked = true
            } else if header.nameEquals(HeaderName.connection) {
                ASCII.forEachListElement(header.value) { option in
                    if HeaderName.close.withBytes({ ASCII.equalsIgnoringCase(option, $0) }) { closeToken = true }
                    if HeaderName.keepAlive.withBytes({ ASCII.equalsIgnoringCase(option, $0) }) { keepAliveToken = true }
                }
            }
        }
        guard !(chunked && contentLength != nil) else { throw .contentLengthWithTransferEncoding }

        if headRequest || isInterim || statusCode == 204 || statusCode == 304 {
            framing = .none
            phase = .complete
        } else if chunked {
            framing = .chunked
            phase = .chunkSize
            remaining = 0
            chunkDigits = 0
        } else if let length = contentLength {
            framing = .fixed
            remaining = length
            phase = length == 0 ? .complete : .fixedBody
        } else {
            framing = .untilClose
            phase = .untilClose
        }
    }

    /// `1*DIGIT`, possibly as a list of identical values (RFC 9110 §8.6), at most `maxLength`.
    mutating func parseContentLength(_ value: UnsafeRawBufferPointer) throws(HTTPParseError) {
        try ASCII.forEachListElement(value) { (element) throws(HTTPParseError) in
            guard let value = Decimal.value(element, limit: UInt64(Self.maxLength)) else { throw .invalidContentLength }
            let number = Int(value)
            if let existing = contentLength, existing != number { throw .conflictingContentLength }
            contentLength = number
        }
    }
}
