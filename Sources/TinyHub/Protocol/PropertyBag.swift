import TinyBytes

/// Why a property bag could not be written or read.
public enum PropertyBagError: Error, Equatable {
    /// The output buffer is too small; `needed` bytes would fit (the bag is left as it was).
    case bufferTooSmall(needed: Int)
    /// The scratch buffer cannot hold the decoded name and value (`needed` bytes).
    case scratchTooSmall(needed: Int)
    /// A property with an empty name (`=v` on the wire, or an empty name given to the writer).
    case emptyName(offset: Int)
    /// A `%` at byte `offset` of the bag is not followed by two hex digits.
    case malformedEscape(offset: Int)
    /// The bag is longer than `PropertyBagReader.maxLength`.
    case tooLong
}

/// Well-known system property names (written as `%24.xxx` on the wire by the writer;
/// Azure SDK for Embedded C `az_iot_common.h:117-149`).
package enum SystemProperty {
    /// Message id.
    package static let messageID: StaticString = "$.mid"
    /// Correlation id.
    package static let correlationID: StaticString = "$.cid"
    /// User id.
    package static let userID: StaticString = "$.uid"
    /// Content type, e.g. `application/json`.
    package static let contentType: StaticString = "$.ct"
    /// Content encoding, e.g. `utf-8`.
    package static let contentEncoding: StaticString = "$.ce"
    /// Creation time.
    package static let creationTime: StaticString = "$.ctime"
    /// Absolute expiry time.
    package static let expiry: StaticString = "$.exp"
    /// Destination (a received cloud-to-device message).
    package static let to: StaticString = "$.to"
    /// Plug-and-Play component name.
    package static let component: StaticString = "$.sub"
    /// Output name (Edge modules).
    package static let outputName: StaticString = "$.on"
    /// Feedback request on cloud-to-device messages (not a `$.` key).
    package static let ack: StaticString = "iothub-ack"
}

/// Writes an IoT Hub property bag (`name=value&name=value`) into a caller buffer, percent-
/// encoding names and values itself (Azure SDK for Embedded C leaves this to the caller and
/// azure-iot-sdk-c has it off by default; IoT Hub closes connections whose topics carry
/// un-encoded `/ : space`). `$.mid` is written as `%24.mid`, as both C SDKs do.
package struct PropertyBagWriter {
    private var sink: ByteSink
    private let start: Int

    /// A writer that appends to `buffer` from byte `start` on (e.g. right after a telemetry
    /// topic prefix); bytes before `start` are left alone.
    package init(buffer: UnsafeMutableRawBufferPointer, start: Int = 0) {
        let begin = max(0, min(start, buffer.count))
        self.sink = ByteSink(buffer, start: begin)
        self.start = begin
    }

    /// End of the written bytes in the buffer (start offset + bag length).
    package var endIndex: Int { sink.count }
    /// Length of the bag written so far.
    package var count: Int { sink.count - start }
    /// Number of properties appended.
    package private(set) var propertyCount = 0
    /// The bag written so far (without the bytes before `start`).
    package var bag: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: sink.buffer[start..<sink.count]) }

    /// Appends `name=value` (or a bare `name` when `value` is nil), both percent-encoded.
    /// On error nothing is appended. Not inlined: every property of every bag goes through
    /// this one copy.
    @inline(never)
    package mutating func append(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?) throws(PropertyBagError) {
        guard name.count > 0 else { throw .emptyName(offset: count) }
        let before = sink.count
        if propertyCount > 0 { sink.byte(0x26) } // '&'
        sink.percentEncoded(name)
        if let value {
            sink.byte(0x3D) // '='
            sink.percentEncoded(value)
        }
        if sink.overflowed {
            let needed = sink.count
            sink.truncate(to: before)
            throw .bufferTooSmall(needed: needed)
        }
        propertyCount += 1
    }

    /// Appends a property whose name is a constant such as `SystemProperty.messageID`.
    package mutating func append(name: StaticString, value: UnsafeRawBufferPointer?) throws(PropertyBagError) {
        try Bytes.with(name) { (bytes) throws(PropertyBagError) in try append(name: bytes, value: value) }
    }

    /// Appends a property whose name and value are constants.
    package mutating func append(name: StaticString, value: StaticString) throws(PropertyBagError) {
        try Bytes.with(value) { (bytes) throws(PropertyBagError) in try append(name: name, value: bytes) }
    }
}

/// One decoded property. Name and value live in the scratch buffer given to `next`, valid
/// until the next call that reuses it.
package struct HubProperty {
    /// The decoded name (`%24.mid` and `$.mid` both read as `$.mid`).
    package var name: UnsafeRawBufferPointer
    /// The decoded value; nil for a bare `key` (null), empty for `key=`.
    package var value: UnsafeRawBufferPointer?
    /// The raw (still encoded) name as it appears in the bag.
    package var rawName: UnsafeRawBufferPointer
    /// The raw (still encoded) value, nil for a bare key.
    package var rawValue: UnsafeRawBufferPointer?

    /// Whether this is a system property (`$.` prefix after decoding).
    package var isSystemProperty: Bool { Bytes.hasPrefix(name, "$.") }

    /// Whether the decoded name equals `other` byte for byte.
    package func nameEquals(_ other: StaticString) -> Bool { Bytes.equal(name, other) }
}

/// Iterates a received property bag (`k=v&k2=v2`, bare `key` = null value, `key=` = empty
/// value; DOCS iot-mqtt-connect-to-iot-hub.md). Empty segments (`&&`, trailing `&`) are
/// skipped; a segment with an empty name and malformed `%` escapes are errors. Accepts both
/// `%24.` and `$.` system-key forms, since they decode alike.
package struct PropertyBagReader {
    /// Longest bag accepted (the MQTT topic-name limit).
    package static let maxLength = 65_535

    private let bag: UnsafeRawBufferPointer
    private var position = 0
    /// Bytes of `bag` the reader has looked at while finding segments (each byte once: reading a
    /// whole bag is linear in its length). Decoding only sees the current segment's slices.
    private(set) var bytesScanned = 0

    /// A reader over `bag` (caller-owned bytes, e.g. the tail of a received topic).
    package init(_ bag: UnsafeRawBufferPointer) { self.bag = bag }

    /// The next property, decoded into `scratch` (name first, value right after it), or nil at
    /// the end. `scratch` needs at most the encoded length of the segment.
    package mutating func next(scratch: UnsafeMutableRawBufferPointer) throws(PropertyBagError) -> HubProperty? {
        guard bag.count <= PropertyBagReader.maxLength else { throw .tooLong }
        while position < bag.count {
            let start = position
            // One pass to the segment's end ('&' or the end of the bag), noting its first '='.
            // (Searching for '=' to the end of the whole bag made reading a bag O(n^2).)
            var end = start
            var equals: Int?
            while end < bag.count {
                let byte = bag[end]
                if byte == 0x26 { break } // '&'
                if byte == 0x3D, equals == nil { equals = end } // '='
                end += 1
            }
            bytesScanned &+= end - start + 1
            position = end + 1
            if end == start { continue }
            let nameEnd = equals ?? end
            guard nameEnd > start else { throw .emptyName(offset: start) }
            let rawName = Bytes.slice(bag, start..<nameEnd)
            let rawValue = equals.map { Bytes.slice(bag, ($0 + 1)..<end) }
            let nameLength = try decodedLength(rawName, base: start)
            let valueLength = try rawValue.map { (v) throws(PropertyBagError) -> Int in try decodedLength(v, base: nameEnd + 1) } ?? 0
            guard nameLength + valueLength <= scratch.count else { throw .scratchTooSmall(needed: nameLength + valueLength) }
            let name = decode(rawName, into: scratch, at: 0)
            let value = rawValue.map { decode($0, into: scratch, at: nameLength) }
            return HubProperty(name: name, value: value, rawName: rawName, rawValue: rawValue)
        }
        return nil
    }

    /// Finds the first property named `name` (compared after decoding) in `bag`.
    package static func find(_ name: StaticString, in bag: UnsafeRawBufferPointer,
                            scratch: UnsafeMutableRawBufferPointer) throws(PropertyBagError) -> HubProperty? {
        var reader = PropertyBagReader(bag)
        while let property = try reader.next(scratch: scratch) {
            if property.nameEquals(name) { return property }
        }
        return nil
    }

    private func decodedLength(_ raw: UnsafeRawBufferPointer, base: Int) throws(PropertyBagError) -> Int {
        do throws(PercentEncodingError) {
            return try PercentEncoding.decodedLength(raw)
        } catch {
            if case .malformedEscape(let offset) = error { throw .malformedEscape(offset: base + offset) }
            throw .malformedEscape(offset: base)
        }
    }

    /// Decodes validated `raw` into `scratch[at...]`; the caller checked the size.
    private func decode(_ raw: UnsafeRawBufferPointer, into scratch: UnsafeMutableRawBufferPointer,
                        at offset: Int) -> UnsafeRawBufferPointer {
        let length = PercentEncoding.decodeValidated(raw, into: UnsafeMutableRawBufferPointer(rebasing: scratch[offset...]))
        return UnsafeRawBufferPointer(rebasing: scratch[offset..<(offset + length)])
    }
}
