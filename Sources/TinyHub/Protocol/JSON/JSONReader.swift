import TinyBytes

/// What a JSON token is.
// A UInt8 raw value keeps the compiler from emitting a Hashable witness, which would pull
// Hasher and arc4random_buf into Embedded binaries.
public enum JSONTokenKind: UInt8, Equatable {
    /// `{`
    case objectStart
    /// `}`
    case objectEnd
    /// `[`
    case arrayStart
    /// `]`
    case arrayEnd
    /// An object member name (a string followed by `:`).
    case key
    /// A string value.
    case string
    /// A number (grammar-checked; read it with `JSONReader.integer`).
    case number
    /// `true` or `false` (see `JSONToken.boolValue`).
    case bool
    /// `null`
    case null
}

/// One token: its kind and where it lies in the document.
public struct JSONToken: Equatable {
    /// The kind of token.
    public var kind: JSONTokenKind
    /// Byte range in the document. Strings and keys: the text between the quotes (still
    /// escaped). Numbers and literals: their text. Brackets: the bracket — except in results of
    /// `JSONReader.find`, where a container's range spans the whole value, brackets included.
    public var range: Range<Int>
    /// For strings and keys: whether the text holds `\` escapes (use `JSONReader.unescape`).
    public var hasEscapes: Bool
    /// For `.bool`: its value.
    public var boolValue: Bool
}

/// A pull tokenizer over a JSON document in caller memory: no allocation, full grammar
/// checking (RFC 8259), a nesting limit and a size limit. Strings are checked for raw control
/// characters and escape syntax; surrogate pairing is checked when unescaping. Bytes above
/// 0x7F are passed through unvalidated.
package struct JSONReader {
    /// Default size limit in bytes.
    package static let defaultMaxSize = 65_536
    /// Largest supported nesting limit.
    package static let maxDepthLimit = 64

    private enum Expect: UInt8 { case value, valueOrEnd, keyOrEnd, key, colon, commaOrEnd, done }

    /// The document.
    package let document: UnsafeRawBufferPointer
    private let maxDepth: Int
    private var position = 0
    private var expect = Expect.value
    private var objects: UInt64 = 0
    /// Current nesting depth (0 outside any container).
    package private(set) var depth = 0

    /// A reader over `document`. Throws `tooLarge` if it exceeds `maxSize` bytes; nesting
    /// beyond `maxDepth` (clamped to 1...64) throws `tooDeep` while reading.
    package init(_ document: UnsafeRawBufferPointer, maxDepth: Int = 32,
                maxSize: Int = JSONReader.defaultMaxSize) throws(JSONError) {
        guard document.count <= maxSize else { throw .tooLarge(maxSize: maxSize) }
        self.document = document
        self.maxDepth = max(1, min(maxDepth, JSONReader.maxDepthLimit))
    }

    /// Byte offset of the next unread byte.
    package var offset: Int { position }

    private var inObject: Bool { depth > 0 && (objects >> UInt64(depth - 1)) & 1 == 1 }

    /// The next token, or nil after the complete top-level value (trailing bytes other than
    /// whitespace throw `trailingData`).
    package mutating func next() throws(JSONError) -> JSONToken? {
        while true {
            skipWhitespace()
            if expect == .done {
                guard position >= document.count else { throw .trailingData(offset: position) }
                return nil
            }
            guard position < document.count else { throw .unexpectedEnd }
            let byte = document[position]
            switch expect {
            case .colon:
                guard byte == 0x3A else { throw .unexpectedByte(offset: position) }
                position += 1
                expect = .value
            case .commaOrEnd:
                if byte == 0x2C {
                    position += 1
                    expect = inObject ? .key : .value
                } else if byte == 0x7D, inObject {
                    return close(.objectEnd)
                } else if byte == 0x5D, !inObject {
                    return close(.arrayEnd)
                } else {
                    throw .unexpectedByte(offset: position)
                }
            case .keyOrEnd, .key:
                if byte == 0x7D, expect == .keyOrEnd { return close(.objectEnd) }
                guard byte == 0x22 else { throw .unexpectedByte(offset: position) }
                var token = try scanString()
                token.kind = .key
                expect = .colon
                return token
            case .valueOrEnd:
                if byte == 0x5D { return close(.arrayEnd) }
                return try scanValue(byte)
            case .value:
                return try scanValue(byte)
            case .done:
                return nil
            }
        }
    }

    /// Skips what `token` (just returned by `next`) starts: the rest of an object or array, or
    /// for a key its whole value. Other tokens need no skipping.
    package mutating func skip(_ token: JSONToken) throws(JSONError) {
        switch token.kind {
        case .objectStart, .arrayStart:
            let target = depth - 1
            while depth > target {
                guard try next() != nil else { throw .unexpectedEnd }
            }
        case .key:
            guard let value = try next() else { throw .unexpectedEnd }
            try skip(value)
        default:
            break
        }
    }

    /// Inside an object (right after its `objectStart`, or after a previous member's value was
    /// consumed or skipped): the next member's key and the first token of its value, or nil at
    /// the object's end (the `objectEnd` is consumed). A container value must be read through
    /// or `skip`ped before asking for the next member.
    package mutating func nextMember() throws(JSONError) -> (key: JSONToken, value: JSONToken)? {
        guard inObject, expect == .keyOrEnd || expect == .key || expect == .commaOrEnd else { throw .typeMismatch }
        guard let key = try next() else { throw .unexpectedEnd }
        if key.kind == .objectEnd { return nil }
        guard key.kind == .key, let value = try next() else { throw .unexpectedEnd }
        return (key, value)
    }

    /// Inside an object (as for `nextMember`): scans members until one named `name` (compared
    /// after unescaping) and returns the first token of its value; other values are skipped.
    /// Returns nil, with the object consumed, when there is none.
    package mutating func findMember(_ name: UnsafeRawBufferPointer) throws(JSONError) -> JSONToken? {
        while let (key, value) = try nextMember() {
            if try keyEquals(key, name) { return value }
            try skip(value)
        }
        return nil
    }

    /// `findMember` with a constant name.
    package mutating func findMember(_ name: StaticString) throws(JSONError) -> JSONToken? {
        try Bytes.with(name) { (bytes) throws(JSONError) in try findMember(bytes) }
    }

    /// The raw bytes of `token` (see `JSONToken.range`).
    package func bytes(of token: JSONToken) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: document[token.range])
    }

    /// Unescapes a string or key token into `output` (UTF-8); returns the length.
    package func unescape(_ token: JSONToken, into output: UnsafeMutableRawBufferPointer) throws(JSONError) -> Int {
        guard token.kind == .string || token.kind == .key else { throw .typeMismatch }
        return try JSONString.unescape(bytes(of: token), into: output, baseOffset: token.range.lowerBound)
    }

    /// Whether a string or key token, unescaped, equals `text` byte for byte.
    package func keyEquals(_ token: JSONToken, _ text: UnsafeRawBufferPointer) throws(JSONError) -> Bool {
        guard token.kind == .string || token.kind == .key else { throw .typeMismatch }
        let raw = bytes(of: token)
        if !token.hasEscapes { return Bytes.equal(raw, text) }
        return try JSONString.equals(raw, text, baseOffset: token.range.lowerBound)
    }

    /// The value of an integer number token (no fraction, no exponent, within Int64).
    package func integer(_ token: JSONToken) throws(JSONError) -> Int64 {
        guard token.kind == .number else { throw .typeMismatch }
        return try JSONNumber.integer(bytes(of: token))
    }

    // MARK: - Scanning

    private mutating func skipWhitespace() {
        while position < document.count {
            switch document[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func close(_ kind: JSONTokenKind) -> JSONToken {
        let token = JSONToken(kind: kind, range: position..<(position + 1), hasEscapes: false, boolValue: false)
        position += 1
        depth -= 1
        afterValue()
        return token
    }

    private mutating func afterValue() { expect = depth == 0 ? .done : .commaOrEnd }

    private mutating func scanValue(_ byte: UInt8) throws(JSONError) -> JSONToken {
        let start = position
        switch byte {
        case 0x7B, 0x5B:
            guard depth < maxDepth else { throw .tooDeep(maxDepth: maxDepth) }
            depth += 1
            let bit = UInt64(1) << UInt64(depth - 1)
            if byte == 0x7B { objects |= bit; expect = .keyOrEnd } else { objects &= ~bit; expect = .valueOrEnd }
            position += 1
            return JSONToken(kind: byte == 0x7B ? .objectStart : .arrayStart, range: start..<position,
                             hasEscapes: false, boolValue: false)
        case 0x22:
            let token = try scanString()
            afterValue()
            return token
        case 0x2D, 0x30...0x39:
            position = try JSONNumber.scan(document, from: start)
            afterValue()
            return JSONToken(kind: .number, range: start..<position, hasEscapes: false, boolValue: false)
        case 0x74: return try literal("true", .bool, true)
        case 0x66: return try literal("false", .bool, false)
        case 0x6E: return try literal("null", .null, false)
        default: throw .unexpectedByte(offset: start)
        }
    }

    private mutating func literal(_ word: StaticString, _ kind: JSONTokenKind, _ value: Bool) throws(JSONError) -> JSONToken {
        let start = position
        let length = Bytes.length(word)
        guard start + length <= document.count else {
            // A prefix of the word at the end is truncation; anything else is a bad byte.
            let tail = Bytes.slice(document, start..<document.count)
            let isPrefix = word.withUTF8Buffer { w in
                Bytes.equal(tail, UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(w)[0..<tail.count]))
            }
            throw isPrefix ? .unexpectedEnd : .unexpectedByte(offset: start)
        }
        guard Bytes.equal(Bytes.slice(document, start..<(start + length)), word) else { throw .unexpectedByte(offset: start) }
        position += length
        afterValue()
        return JSONToken(kind: kind, range: start..<position, hasEscapes: false, boolValue: value)
    }

    /// Scans a string starting at the opening quote; leaves `position` after the closing one.
    private mutating func scanString() throws(JSONError) -> JSONToken {
        let start = position + 1
        var i = start
        var escapes = false
        while i < document.count {
            let byte = document[i]
            if byte == 0x22 {
                position = i + 1
                return JSONToken(kind: .string, range: start..<i, hasEscapes: escapes, boolValue: false)
            }
            if byte == 0x5C {
                escapes = true
                guard i + 1 < document.count else { throw .unexpectedEnd }
                switch document[i + 1] {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:
                    i += 2
                case 0x75:
                    guard i + 5 < document.count else { throw .unexpectedEnd }
                    for k in (i + 2)...(i + 5) where Hex.value(document[k]) == nil { throw .invalidString(offset: i) }
                    i += 6
                default:
                    throw .invalidString(offset: i)
                }
                continue
            }
            if byte < 0x20 { throw .invalidString(offset: i) }
            i += 1
        }
        throw .unexpectedEnd
    }
}
