/// The package's one bounded byte writer: appends into a caller-owned buffer.
///
/// Overflow rule (the only one in the package): a write that does not fit is dropped but still
/// counted, and the sink stays overflowed from then on. So after a run of appends `count` is the
/// size the whole output needs and `overflowed` tells whether it fit; the caller checks once, at
/// the end, and turns an overflow into its own typed error (`bufferTooSmall(needed: count)`).
/// Every store is bounds-checked; nothing ever traps or writes past `buffer`.
///
/// Writers with a grammar (MQTT packets, HTTP requests, JSON, property bags, SAS tokens) are
/// layers over a `ByteSink`; the ones that promise "a call that throws writes nothing" check the
/// space first or roll back with `truncate(to:)`.
package struct ByteSink {
    /// The caller's buffer.
    package let buffer: UnsafeMutableRawBufferPointer
    /// Bytes appended so far (may exceed `buffer.count`: then the sink overflowed).
    package internal(set) var count: Int

    /// A sink that starts writing at `start` (bytes before it are left alone).
    ///
    /// - Parameters:
    ///   - buffer: where the bytes go.
    ///   - start: the offset of the first byte written (clamped to `0...buffer.count`).
    package init(_ buffer: UnsafeMutableRawBufferPointer, start: Int = 0) {
        self.buffer = buffer
        self.count = max(0, min(start, buffer.count))
    }

    /// Whether some appended byte did not fit.
    package var overflowed: Bool { count > buffer.count }

    /// The bytes written so far (all of them unless the sink overflowed).
    package var written: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[0..<min(count, buffer.count)])
    }

    /// Forgets everything after `position` (rolls back a failed append, or reuses the space).
    ///
    /// - Parameter position: the new `count`, if it is smaller than the current one.
    package mutating func truncate(to position: Int) {
        if position < count { count = max(0, position) }
    }

    /// Appends one byte.
    ///
    /// - Parameter value: the byte.
    package mutating func byte(_ value: UInt8) {
        if count < buffer.count { buffer[count] = value }
        count += 1
    }

    /// Appends `data`.
    ///
    /// - Parameter data: the bytes (caller-owned for the call).
    package mutating func bytes(_ data: UnsafeRawBufferPointer) {
        let end = count + data.count
        if end <= buffer.count, data.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: buffer[count..<end]).copyMemory(from: data)
        }
        count = end
    }

    /// Appends the UTF-8 bytes of a constant.
    ///
    /// - Parameter text: the constant.
    package mutating func literal(_ text: StaticString) {
        bytes(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends `value` big-endian in two bytes (MQTT lengths and packet identifiers).
    ///
    /// - Parameter value: the value.
    package mutating func uint16(_ value: UInt16) {
        byte(UInt8(truncatingIfNeeded: value >> 8))
        byte(UInt8(truncatingIfNeeded: value))
    }
}
