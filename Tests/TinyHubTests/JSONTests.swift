import Foundation
import Testing
@testable import TinyHub

/// Tokenizes a document into a compact text trace, e.g. `{ k:a s:b }`.
func trace(_ json: String, maxDepth: Int = 32) throws -> String {
    try withBytes(json) { bytes in
        var reader = try JSONReader(bytes, maxDepth: maxDepth)
        var parts: [String] = []
        var scratch = [UInt8](repeating: 0, count: 256)
        while let t = try reader.next() {
            switch t.kind {
            case .objectStart: parts.append("{")
            case .objectEnd: parts.append("}")
            case .arrayStart: parts.append("[")
            case .arrayEnd: parts.append("]")
            case .key, .string:
                let n = try scratch.withUnsafeMutableBytes { try reader.unescape(t, into: $0) }
                parts.append((t.kind == .key ? "k:" : "s:") + String(decoding: scratch[0..<n], as: UTF8.self))
            case .number: parts.append("n:" + text(reader.bytes(of: t)))
            case .bool: parts.append(t.boolValue ? "true" : "false")
            case .null: parts.append("null")
            }
        }
        return parts.joined(separator: " ")
    }
}

@Suite struct JSONWriterTests {
    @Test func nestedDocument() throws {
        let out = try written { buffer in
            var w = JSONWriter(buffer: buffer)
            try w.beginObject()
            try w.key("temperature"); try w.integer(-21)
            try w.key("ok"); try w.bool(true)
            try w.key("gone"); try w.null()
            try w.key("list"); try w.beginArray()
            try w.integer(Int64.min); try w.integer(Int64.max); try w.string("x"); try w.beginObject(); try w.endObject()
            try w.beginArray(); try w.endArray()
            try w.endArray()
            try w.key("raw"); try withBytes("{\"a\":1}") { try w.raw($0) }
            try w.key("esc\"k"); try withBytes("q\"b\\s/\n\r\t\u{8}\u{c}\u{1}\u{1f}é") { try w.string($0) }
            try w.endObject()
            #expect(w.isComplete)
            return w.count
        }
        #expect(out == #"{"temperature":-21,"ok":true,"gone":null,"list":[-9223372036854775808,9223372036854775807,"x",{},[]],"raw":{"a":1},"esc\"k":"q\"b\\s/\n\r\t\b\f\u0001\u001Fé"}"#)
        #expect(try trace(out).hasPrefix("{ k:temperature n:-21 k:ok true k:gone null k:list [ n:-9223372036854775808"))
    }

    @Test func misuseIsInvalidState() throws {
        var storage = [UInt8](repeating: 0, count: 64)
        try storage.withUnsafeMutableBytes { buffer in
            var w = JSONWriter(buffer: buffer)
            #expect(throws: JSONError.invalidState) { try w.key("k") }          // key outside object
            #expect(throws: JSONError.invalidState) { try w.endObject() }       // nothing open
            try w.beginObject()
            #expect(throws: JSONError.invalidState) { try w.integer(1) }       // value where key is due
            #expect(throws: JSONError.invalidState) { try w.endArray() }        // wrong end
            try w.key("a")
            #expect(throws: JSONError.invalidState) { try w.key("b") }          // two keys
            #expect(throws: JSONError.invalidState) { try w.endObject() }       // key without value
            try w.integer(1)
            try w.endObject()
            #expect(throws: JSONError.invalidState) { try w.integer(2) }       // second top-level value
            #expect(text(w.bytes) == #"{"a":1}"#)
        }
    }

    @Test func depthLimitAndRollback() throws {
        var storage = [UInt8](repeating: 0, count: 12)
        try storage.withUnsafeMutableBytes { buffer in
            var w = JSONWriter(buffer: buffer, maxDepth: 2)
            try w.beginArray(); try w.beginArray()
            #expect(throws: JSONError.tooDeep(maxDepth: 2)) { try w.beginArray() }
            try w.integer(12345)
            #expect(throws: JSONError.bufferTooSmall(needed: 14)) { try w.integer(123456) }
            #expect(text(w.bytes) == "[[12345")       // rolled back
            try w.endArray(); try w.endArray()
            #expect(text(w.bytes) == "[[12345]]")
            #expect(w.isComplete)
        }
    }
}

@Suite struct JSONReaderTests {
    @Test func nestedAndEscaped() throws {
        let json = #" { "a" : [1, -0.5e+3, "x\"y", true, false, null, {}, []], "b\u00e9\ud83d\ude00" : {"c": "\/\\\b\f\n\r\t"} } "#
        #expect(try trace(json) == "{ k:a [ n:1 n:-0.5e+3 s:x\"y true false null { } [ ] ] k:bé😀 { k:c s:/\\\u{8}\u{c}\n\r\t } }")
        #expect(try trace("\"top\"") == "s:top")
        #expect(try trace(" 0 ") == "n:0")
    }

    @Test(arguments: [
        ("", JSONError.unexpectedEnd),
        ("   ", .unexpectedEnd),
        ("{", .unexpectedEnd),
        ("[1,", .unexpectedEnd),
        ("{\"a\"", .unexpectedEnd),
        ("\"abc", .unexpectedEnd),
        ("tru", .unexpectedEnd),
        ("{\"a\":1,}", .unexpectedByte(offset: 7)),
        ("[1,]", .unexpectedByte(offset: 3)),
        ("[1 2]", .unexpectedByte(offset: 3)),
        ("{1:2}", .unexpectedByte(offset: 1)),
        ("{\"a\" 1}", .unexpectedByte(offset: 5)),
        ("{\"a\":1]", .unexpectedByte(offset: 6)),
        ("[1}", .unexpectedByte(offset: 2)),
        ("nul!", .unexpectedByte(offset: 0)),
        ("trUe", .unexpectedByte(offset: 0)),
        ("'a'", .unexpectedByte(offset: 0)),
        ("01", .trailingData(offset: 1)),
        ("1 2", .trailingData(offset: 2)),
        ("{} x", .trailingData(offset: 3)),
        ("-", .unexpectedEnd),
        ("-a", .invalidNumber(offset: 0)),
        ("1.", .unexpectedEnd),
        ("1.e3", .invalidNumber(offset: 0)),
        ("1e+", .unexpectedEnd),
        ("[1ex]", .invalidNumber(offset: 1)),
        ("+1", .unexpectedByte(offset: 0)),
        ("\"a\u{1}b\"", .invalidString(offset: 2)),
        ("\"a\\qb\"", .invalidString(offset: 2)),
        ("\"\\u12G4\"", .invalidString(offset: 1)),
        ("\"\\u12", .unexpectedEnd),
    ])
    func malformed(json: String, error: JSONError) {
        #expect(throws: error) { try trace(json) }
    }

    @Test func surrogateErrorsOnUnescape() {
        #expect(throws: JSONError.invalidString(offset: 1)) { try trace(#""\ud83d""#) }       // lone high
        #expect(throws: JSONError.invalidString(offset: 1)) { try trace(#""\ude00""#) }       // lone low
        #expect(throws: JSONError.invalidString(offset: 1)) { try trace(#""\ud83d\u0041""#) } // high + non-low
    }

    @Test func limits() throws {
        let deep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(throws: JSONError.tooDeep(maxDepth: 32)) { try trace(deep) }
        #expect(try trace(String(repeating: "[", count: 3) + String(repeating: "]", count: 3), maxDepth: 3) == "[ [ [ ] ] ]")
        #expect(throws: JSONError.tooDeep(maxDepth: 64)) { try trace(String(repeating: "{\"a\":", count: 100), maxDepth: 1000) }
        #expect(throws: JSONError.tooLarge(maxSize: 16)) {
            try withBytes(String(repeating: " ", count: 17)) { _ = try JSONReader($0, maxSize: 16) }
        }
        var scratch = [UInt8](repeating: 0, count: 3)
        #expect(throws: JSONError.bufferTooSmall(needed: 4)) {
            try withBytes(#""\u00e9\u00e9""#) { bytes in
                var r = try JSONReader(bytes)
                let t = try r.next()!
                return try scratch.withUnsafeMutableBytes { try r.unescape(t, into: $0) }
            }
        }
    }

    @Test func hugeNumbers() throws {
        func integer(_ json: String) throws -> Int64? { try withBytes(json) { try JSONPointer.integer("", in: $0) } }
        #expect(try integer("9223372036854775807") == Int64.max)
        #expect(try integer("-9223372036854775808") == Int64.min)
        #expect(throws: JSONError.integerOverflow) { try integer("9223372036854775808") }
        #expect(throws: JSONError.integerOverflow) { try integer("-9223372036854775809") }
        #expect(throws: JSONError.integerOverflow) { try integer(String(repeating: "9", count: 5000)) }
        #expect(throws: JSONError.notAnInteger) { try integer("1" + String(repeating: "0", count: 40) + ".5") }
        #expect(throws: JSONError.notAnInteger) { try integer("1e999999") }
        #expect(throws: JSONError.notAnInteger) { try integer("-0.0") }
        #expect(try integer("-0") == 0)
        #expect(throws: JSONError.typeMismatch) { try integer("\"5\"") }
        #expect(try trace("1e999999") == "n:1e999999")
    }

    @Test func pointerLookups() throws {
        let twin = #"{"desired":{"fan":{"speed":3},"a/b":1,"m~n":2,"$version":12},"reported":{"list":[10,[20,21],{"x":30}],"$version":7}}"#
        try withBytes(twin) { doc in
            #expect(try JSONPointer.integer("/desired/$version", in: doc) == 12)
            #expect(try JSONPointer.integer("/reported/$version", in: doc) == 7)
            #expect(try JSONPointer.integer("/desired/fan/speed", in: doc) == 3)
            #expect(try JSONPointer.integer("/desired/a~1b", in: doc) == 1)
            #expect(try JSONPointer.integer("/desired/m~0n", in: doc) == 2)
            #expect(try JSONPointer.integer("/reported/list/0", in: doc) == 10)
            #expect(try JSONPointer.integer("/reported/list/1/1", in: doc) == 21)
            #expect(try JSONPointer.integer("/reported/list/2/x", in: doc) == 30)
            #expect(try JSONPointer.integer("/reported/list/3", in: doc) == nil)
            #expect(try JSONPointer.integer("/reported/list/01", in: doc) == nil)
            #expect(try JSONPointer.integer("/nope", in: doc) == nil)
            #expect(try JSONPointer.integer("/desired/fan/speed/deeper", in: doc) == nil)
            #expect(throws: JSONError.typeMismatch) { try JSONPointer.integer("/desired/fan", in: doc) }
            #expect(throws: JSONError.invalidPointer) { try JSONPointer.integer("desired", in: doc) }
            #expect(throws: JSONError.invalidPointer) { try JSONPointer.integer("/desired/a~2b", in: doc) }
            let fan = try JSONPointer.find("/desired/fan", in: doc)!
            #expect(fan.kind == .objectStart)
            #expect(text(UnsafeRawBufferPointer(rebasing: doc[fan.range])) == #"{"speed":3}"#)
        }
        // Escaped keys match after unescaping.
        #expect(try withBytes(#"{"\u0024version":5}"#) { try JSONPointer.integer("/$version", in: $0) } == 5)
    }

    @Test func walkTopLevelMembers() throws {
        let patch = #"{"led":true,"cfg":{"a":[1,2,{"b":null}]},"name":"n\u00e9","$version":4}"#
        var keys: [String] = []
        try withBytes(patch) { doc in
            var r = try JSONReader(doc)
            #expect(try r.next()?.kind == .objectStart)
            while let (k, v) = try r.nextMember() {
                keys.append(text(r.bytes(of: k)) + ":" + "\(v.kind)")
                try r.skip(v)
            }
            #expect(try r.next() == nil)
            var r2 = try JSONReader(doc)
            _ = try r2.next()
            let v = try r2.findMember("name")!
            var scratch = [UInt8](repeating: 0, count: 16)
            let n = try scratch.withUnsafeMutableBytes { try r2.unescape(v, into: $0) }
            #expect(String(decoding: scratch[0..<n], as: UTF8.self) == "né")
            #expect(try r2.findMember("missing") == nil)
        }
        #expect(keys == ["led:bool", "cfg:objectStart", "name:string", "$version:number"])
    }

    /// Random input never traps, and the reader accepts exactly what Foundation's
    /// `JSONSerialization` (an independent RFC 8259 parser) accepts: nothing invalid gets
    /// through, nothing valid is refused. Seeded: see SeededRandom.swift to replay a failure.
    @Test func randomInputNeverTraps() {
        var rng = SeededRandom()
        let alphabet = Array("{}[]:,\"\\u0aef1-.eE+ tnlrsu".utf8)
        var accepted = 0
        for _ in 0..<5000 {
            let bytes = (0..<Int.random(in: 0..<30, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            let document = String(decoding: bytes, as: UTF8.self)
            let ours = (try? trace(document)) != nil
            let foundation = (try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)) != nil
            guard ours == foundation else {
                Issue.record(rng.comment("\(document.debugDescription): TinyHub \(ours), Foundation \(foundation)"))
                return // the first failing input is enough; its seed replays it
            }
            if ours { accepted += 1 }
            _ = try? withBytes(document) { try JSONPointer.find("/a/0", in: $0) }
        }
        #expect(accepted > 0, rng.comment)
    }
}
