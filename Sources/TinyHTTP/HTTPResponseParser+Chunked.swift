/// `Transfer-Encoding: chunked` (RFC 9112 §7.1): `hex-size [; ext] CRLF data CRLF ...
/// 0 CRLF trailers CRLF`. Extensions are skipped, trailers skipped.
extension HTTPResponseParser {
    /// A byte of a chunk-size line other than CR/LF.
    mutating func chunkLineByte(_ byte: UInt8) throws(HTTPParseError) {
        lineLength += 1
        guard lineLength <= maxLineLength else { throw .chunkLineTooLong }
        switch phase {
        case .chunkSize:
            let digit = ASCII.hexValue(byte)
            if digit >= 0 {
                remaining = remaining << 4 | digit
                guard remaining <= Self.maxLength else { throw .invalidChunkSize }
                chunkDigits += 1
            } else if chunkDigits == 0 {
                throw .invalidChunkSize
            } else if ASCII.isWhitespace(byte) {
                phase = .chunkSizeTail
            } else if byte == ASCII.semicolon {
                phase = .chunkExtension
            } else {
                throw .invalidChunkSize
            }
        case .chunkSizeTail:
            if byte == ASCII.semicolon {
                phase = .chunkExtension
            } else if !ASCII.isWhitespace(byte) {
                throw .invalidChunkSize
            }
        default: // .chunkExtension: ignored, but no control bytes
            guard ASCII.isFieldValueByte(byte) else { throw .invalidChunkSize }
        }
    }

    /// End of a chunk-size line: start the data, or the trailers after the last chunk.
    mutating func endChunkSizeLine() throws(HTTPParseError) {
        guard chunkDigits > 0 else { throw .invalidChunkSize }
        chunkDigits = 0
        if remaining == 0 {
            phase = .trailer
        } else {
            guard bodyLength <= Int.max - remaining else { throw .invalidChunkSize }
            phase = .chunkData
        }
    }

    /// End of a trailer line; the empty one ends the response.
    mutating func endTrailerLine() throws(HTTPParseError) {
        guard lineLength > 0 else {
            phase = .complete
            return
        }
        trailerCount += 1
        guard trailerCount <= maxHeaderCount else { throw .tooManyHeaders }
    }
}
