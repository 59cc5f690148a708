/// Status line and header block: bytes are gathered into the header buffer one line at a
/// time, then each line is compacted in place (see `HTTPHeaders` for the layout).
extension HTTPResponseParser {
    /// Handles one byte in any byte-wise phase.
    mutating func step(_ byte: UInt8) throws(HTTPParseError) {
        if pendingCR {
            guard byte == ASCII.lf else { throw .invalidLineEnding }
            pendingCR = false
            try endOfLine()
            return
        }
        if byte == ASCII.cr {
            pendingCR = true
            return
        }
        if byte == ASCII.lf {
            try endOfLine()
            return
        }
        switch phase {
        case .statusLine, .headerLine: try storeLineByte(byte)
        case .chunkSize, .chunkSizeTail, .chunkExtension: try chunkLineByte(byte)
        case .chunkDataEnd: throw .invalidChunkTerminator
        case .trailer:
            lineLength += 1
            guard lineLength <= maxLineLength else { throw .headerLineTooLong }
        case .fixedBody, .untilClose, .chunkData, .complete:
            break // handled in bulk by `feed`
        }
    }

    /// A line ended (LF seen) in the current phase.
    mutating func endOfLine() throws(HTTPParseError) {
        switch phase {
        case .statusLine: try endStatusLine()
        case .headerLine: try endHeaderLine()
        case .chunkSize, .chunkSizeTail, .chunkExtension: try endChunkSizeLine()
        case .chunkDataEnd: phase = .chunkSize
        case .trailer: try endTrailerLine()
        case .fixedBody, .untilClose, .chunkData, .complete: break
        }
        lineLength = 0
    }

    /// Appends a byte of the current line after the compact storage.
    mutating func storeLineByte(_ byte: UInt8) throws(HTTPParseError) {
        guard lineLength < maxLineLength else {
            throw phase == .statusLine ? .statusLineTooLong : .headerLineTooLong
        }
        let at = storeEnd + 4 + lineLength
        guard at < headerBuffer.count else { throw .headerBlockTooLarge }
        headerBuffer[at] = byte
        lineLength += 1
    }

    /// Moves `count` bytes left from `source` to `destination` (`destination <= source`).
    mutating func moveLeft(from source: Int, to destination: Int, count: Int) {
        var k = 0
        while k < count {
            headerBuffer[destination + k] = headerBuffer[source + k]
            k += 1
        }
    }

    /// `HTTP/1.x SP 3DIGIT [SP reason]`; the reason is kept at `headerBuffer[2...]`.
    mutating func endStatusLine() throws(HTTPParseError) {
        let base = 4
        let n = lineLength
        // Checked before slicing: an empty line stored nothing, and a header buffer of fewer
        // than 4 bytes has no `base` to slice from.
        guard n >= 9 else { throw .invalidStatusLine }
        let line = UnsafeRawBufferPointer(rebasing: headerBuffer[base..<(base + n)])
        // "HTTP/" is case-sensitive (RFC 9112 §2.3).
        guard line[0] == 0x48, line[1] == 0x54, line[2] == 0x54, line[3] == 0x50, line[4] == 0x2F else {
            throw .invalidStatusLine
        }
        guard ASCII.isDigit(line[5]), line[6] == 0x2E, ASCII.isDigit(line[7]), line[8] == ASCII.sp else {
            throw .invalidStatusLine
        }
        guard line[5] == 0x31, line[7] <= 0x31 else { throw .unsupportedVersion }
        minorVersion = Int(line[7] - 0x30)
        guard n >= 12, ASCII.isDigit(line[9]), ASCII.isDigit(line[10]), ASCII.isDigit(line[11]),
              n == 12 || line[12] == ASCII.sp else { throw .invalidStatusCode }
        let code = Int(line[9] - 0x30) * 100 + Int(line[10] - 0x30) * 10 + Int(line[11] - 0x30)
        guard code >= 100, code <= 599 else { throw .invalidStatusCode }
        let reason = n > 13 ? 13..<n : n..<n
        for b in line[reason] where !ASCII.isFieldValueByte(b) { throw .invalidStatusLine }
        statusCode = code
        moveLeft(from: base + reason.lowerBound, to: 2, count: reason.count)
        headerBuffer[0] = UInt8(truncatingIfNeeded: reason.count)
        headerBuffer[1] = UInt8(truncatingIfNeeded: reason.count >> 8)
        storeEnd = 2 + reason.count
        headersStart = storeEnd
        phase = .headerLine
    }

    /// A header line, a folded continuation, or the empty line ending the block.
    mutating func endHeaderLine() throws(HTTPParseError) {
        guard lineLength > 0 else { return try endOfHeaders() }
        let base = storeEnd + 4
        let line = UnsafeRawBufferPointer(rebasing: headerBuffer[base..<(base + lineLength)])
        if ASCII.isWhitespace(line[0]) { return try unfold(line, base: base) }

        var colon = 0
        while colon < line.count, line[colon] != ASCII.colon { colon += 1 }
        guard colon < line.count else { throw .invalidHeaderLine }
        guard colon > 0 else { throw .invalidHeaderName }
        for b in line[0..<colon] where !ASCII.isTokenChar(b) { throw .invalidHeaderName }
        let value = ASCII.trimmed(line, colon + 1, line.count)
        for b in line[value] where !ASCII.isFieldValueByte(b) { throw .invalidHeaderValue }
        guard headerCount < maxHeaderCount else { throw .tooManyHeaders }
        headerCount += 1

        moveLeft(from: base + value.lowerBound, to: base + colon, count: value.count)
        headerBuffer[storeEnd] = UInt8(truncatingIfNeeded: colon)
        headerBuffer[storeEnd + 1] = UInt8(truncatingIfNeeded: colon >> 8)
        headerBuffer[storeEnd + 2] = UInt8(truncatingIfNeeded: value.count)
        headerBuffer[storeEnd + 3] = UInt8(truncatingIfNeeded: value.count >> 8)
        lastEntry = storeEnd
        storeEnd = base + colon + value.count
    }

    /// obs-fold (RFC 9112 §5.2): appends the continuation to the previous value after one SP.
    mutating func unfold(_ line: UnsafeRawBufferPointer, base: Int) throws(HTTPParseError) {
        guard lastEntry >= 0 else { throw .invalidHeaderLine }
        let content = ASCII.trimmed(line, 0, line.count)
        for b in line[content] where !ASCII.isFieldValueByte(b) { throw .invalidHeaderValue }
        guard !content.isEmpty else { return }
        let nameLength = Int(headerBuffer[lastEntry]) | Int(headerBuffer[lastEntry + 1]) << 8
        let oldLength = Int(headerBuffer[lastEntry + 2]) | Int(headerBuffer[lastEntry + 3]) << 8
        let separator = oldLength > 0 ? 1 : 0
        let newLength = oldLength + separator + content.count
        guard nameLength + 1 + newLength <= maxLineLength else { throw .headerLineTooLong }
        if separator == 1 { headerBuffer[storeEnd] = ASCII.sp }
        moveLeft(from: base + content.lowerBound, to: storeEnd + separator, count: content.count)
        headerBuffer[lastEntry + 2] = UInt8(truncatingIfNeeded: newLength)
        headerBuffer[lastEntry + 3] = UInt8(truncatingIfNeeded: newLength >> 8)
        storeEnd += separator + content.count
    }
}
