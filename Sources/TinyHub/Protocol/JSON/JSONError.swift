/// Why JSON could not be written or read. Reading treats every byte as hostile: each
/// malformed input maps to one of these, never to a trap.
public enum JSONError: Error, Equatable {
    /// The output buffer is too small; `needed` bytes would fit (the writer is left as it was).
    case bufferTooSmall(needed: Int)
    /// The document is larger than the reader's size limit.
    case tooLarge(maxSize: Int)
    /// Nesting deeper than the depth limit.
    case tooDeep(maxDepth: Int)
    /// The document ends inside a value.
    case unexpectedEnd
    /// A byte that cannot start or continue what is expected here.
    case unexpectedByte(offset: Int)
    /// A malformed number starting at `offset`.
    case invalidNumber(offset: Int)
    /// A string with a raw control character, a bad escape, bad `\u` hex or a lone surrogate.
    case invalidString(offset: Int)
    /// Non-whitespace after the top-level value.
    case trailingData(offset: Int)
    /// A number with a fraction or exponent where an integer is wanted.
    case notAnInteger
    /// An integer outside the 64-bit signed range.
    case integerOverflow
    /// A token of another kind than the operation needs (e.g. `integer` on a string).
    case typeMismatch
    /// Writer misuse: a key outside an object, a value where a key is due, an unbalanced end,
    /// or a second top-level value.
    case invalidState
    /// A JSON pointer that does not start with `/`, has a bad `~` escape or an over-long segment.
    case invalidPointer
}
