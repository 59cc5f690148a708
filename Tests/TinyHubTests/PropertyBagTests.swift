import Testing
@testable import TinyHub

/// Reads a whole bag into (name, value) pairs of Swift strings.
func readBag(_ bag: String, scratchSize: Int = 256) throws -> [(String, String?)] {
    try withBytes(bag) { bytes in
        var reader = PropertyBagReader(bytes)
        var scratch = [UInt8](repeating: 0, count: scratchSize)
        return try scratch.withUnsafeMutableBytes { s in
            var out: [(String, String?)] = []
            while let p = try reader.next(scratch: s) { out.append((text(p.name), p.value.map(text))) }
            return out
        }
    }
}

func same(_ a: [(String, String?)], _ b: [(String, String?)]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
}

@Suite struct PropertyBagTests {
    @Test func writerEncodesNamesAndValues() throws {
        let bag = try written(256) { buffer in
            var w = PropertyBagWriter(buffer: buffer)
            try w.append(name: SystemProperty.messageID, value: "m 1")
            try w.append(name: SystemProperty.contentType, value: "application/json")
            try withBytes("a/b") { n in try withBytes("x&y=z") { v in try w.append(name: n, value: v) } }
            try w.append(name: "flag", value: nil)
            try w.append(name: "empty", value: "")
            #expect(w.propertyCount == 5)
            return w.count
        }
        #expect(bag == "%24.mid=m%201&%24.ct=application%2Fjson&a%2Fb=x%26y%3Dz&flag&empty=")
    }

    @Test func writerAfterTopicPrefixAndRollback() throws {
        var storage = [UInt8](repeating: 0, count: 40)
        try storage.withUnsafeMutableBytes { buffer in
            let prefix = try withBytes("d") { try HubTopics.telemetry(deviceID: $0, into: buffer) }
            #expect(prefix == 26)
            var w = PropertyBagWriter(buffer: buffer, start: prefix)
            try w.append(name: "k", value: "v")
            #expect(throws: PropertyBagError.bufferTooSmall(needed: 26 + 3 + 1 + 10 + 1 + 5)) {
                try w.append(name: "long-name1", value: "v v")
            }
            #expect(w.count == 3) // the failed append left nothing behind
            try w.append(name: "z", value: nil)
            #expect(text(UnsafeRawBufferPointer(rebasing: buffer[0..<w.endIndex])) == "devices/d/messages/events/k=v&z")
            #expect(text(w.bag) == "k=v&z")
        }
    }

    @Test func writerRejectsEmptyName() {
        #expect(throws: PropertyBagError.emptyName(offset: 0)) {
            try written { buffer in
                var w = PropertyBagWriter(buffer: buffer)
                try withBytes("") { try w.append(name: $0, value: nil) }
                return w.count
            }
        }
    }

    @Test func readerNullEmptyAndSystemForms() throws {
        let got = try readBag("%24.mid=84c0&$.cid=c%2f1&iothub-ack=full&bare&empty=&&k=a=b&")
        #expect(same(got, [("$.mid", "84c0"), ("$.cid", "c/1"), ("iothub-ack", "full"), ("bare", nil), ("empty", ""), ("k", "a=b")]))
    }

    @Test func readerRealC2DCapture() throws {
        // SFC test_az_iot_hub_client_c2d.c style topic tail.
        let bag = "%24.mid=79eadb01-bd0d-472d-bd35-ccb76e70eab8&%24.to=%2Fdevices%2Fuseragent_c%2Fmessages%2FdeviceBound&abc=123"
        let got = try readBag(bag)
        #expect(same(got, [("$.mid", "79eadb01-bd0d-472d-bd35-ccb76e70eab8"), ("$.to", "/devices/useragent_c/messages/deviceBound"), ("abc", "123")]))
        try withBytes(bag) { bytes in
            var scratch = [UInt8](repeating: 0, count: 128)
            try scratch.withUnsafeMutableBytes { s in
                let to = try PropertyBagReader.find(SystemProperty.to, in: bytes, scratch: s)
                #expect(to.map { text($0.value!) } == "/devices/useragent_c/messages/deviceBound")
                #expect(to?.isSystemProperty == true)
                #expect(to.map { text($0.rawName) } == "%24.to")
                #expect(try PropertyBagReader.find("missing", in: bytes, scratch: s) == nil)
            }
        }
    }

    @Test func roundTrip() throws {
        let pairs: [(String, String?)] = [("$.mid", "id 1"), ("näme", "välue&=%"), ("null", nil), ("e", ""), ("~._-", "+/#?")]
        let bag = try written(512) { buffer in
            var w = PropertyBagWriter(buffer: buffer)
            for (n, v) in pairs {
                try withBytes(n) { nb in
                    if let v { try withBytes(v) { vb in try w.append(name: nb, value: vb) } } else { try w.append(name: nb, value: nil) }
                }
            }
            return w.count
        }
        #expect(same(try readBag(bag), pairs))
    }

    @Test func hostileBags() {
        #expect(throws: PropertyBagError.emptyName(offset: 4)) { try readBag("a=b&=c") }
        #expect(throws: PropertyBagError.malformedEscape(offset: 4)) { try readBag("a=b&%2") }
        #expect(throws: PropertyBagError.malformedEscape(offset: 6)) { try readBag("a=b&c=%zz") }
        #expect(throws: PropertyBagError.scratchTooSmall(needed: 6)) { try readBag("abc=def", scratchSize: 5) }
        #expect(throws: PropertyBagError.tooLong) { try readBag(String(repeating: "a", count: 70_000)) }
    }

    /// A 64 KB bag (the longest accepted) read to the end: every property comes out, and the
    /// reader looks at each byte once (bag length + 1 for the end of the last segment); before
    /// the fix each segment searched for `=` to the end of the whole bag, O(n^2) in all.
    @Test func longestBagIsReadInOnePass() throws {
        // 32,766 bare keys `a`, then `a=b`: no `=` until the very end of the bag.
        let bare = Array(repeating: "a", count: 32_766).joined(separator: "&") + "&a=b"
        #expect(bare.utf8.count == 65_535)
        let pairs = try scanBag(bare)
        #expect(pairs.count == 32_767)
        #expect(pairs.scanned == 65_536)
        #expect(pairs.last == "a=b")
        #expect(pairs.nullValues == 32_766)
        // 13,107 pairs `k=v`, separated by `&`: 65,535 bytes.
        let valued = Array(repeating: "k=vv", count: 13_107).joined(separator: "&")
        #expect(valued.utf8.count == 65_534)
        let read = try scanBag(valued)
        #expect(read.count == 13_107)
        #expect(read.scanned == 65_535)
        #expect(read.nullValues == 0)
    }

    /// Random bags never trap, and the reader gives what a model written from the encoding
    /// rules gives (below): the same pairs, or the same error at the same offset.
    /// Seeded: see SeededRandom.swift to replay a failure.
    @Test func randomBagsMatchTheModel() {
        var rng = SeededRandom()
        let alphabet = Array("a=&%2F$.4".utf8)
        var accepted = 0
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0..<40, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            let bag = String(decoding: bytes, as: UTF8.self)
            let scratchSize = Int.random(in: 0..<20, using: &rng)
            let expected = modelBag(bytes, scratchSize: scratchSize)
            let got: Result<[(String, String?)], PropertyBagError>
            do {
                got = .success(try readBag(bag, scratchSize: scratchSize))
                accepted += 1
            } catch let error as PropertyBagError {
                got = .failure(error)
            } catch {
                Issue.record(rng.comment("\(bag): threw \(error), not a PropertyBagError"))
                return
            }
            let agree = switch (got, expected) {
            case (.success(let pairs), .success(let model)): same(pairs, model)
            case (.failure(let error), .failure(let model)): error == model
            default: false
            }
            guard agree else {
                Issue.record(rng.comment("\(bag) scratch \(scratchSize): read \(got), model \(expected)"))
                return // the first failing input is enough; its seed replays it
            }
        }
        #expect(accepted > 0, rng.comment)
    }
}

/// The bag rules on their own: `&`-separated segments, empty ones skipped; name and value
/// split at the first `=` (no `=`: a name without value); an empty name is refused at the
/// segment's offset; `%` needs two hex digits of either case (else refused at the `%`'s
/// offset); each decoded name plus value must fit the scratch. The first problem wins.
private func modelBag(_ bag: [UInt8], scratchSize: Int) -> Result<[(String, String?)], PropertyBagError> {
    func decode(_ raw: ArraySlice<UInt8>) -> Result<[UInt8], PropertyBagError> {
        var out: [UInt8] = []
        var i = raw.startIndex
        while i < raw.endIndex {
            if raw[i] == UInt8(ascii: "%") {
                guard i + 2 < raw.endIndex, let high = hexDigit(raw[i + 1]), let low = hexDigit(raw[i + 2]) else {
                    return .failure(.malformedEscape(offset: i))
                }
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(raw[i])
                i += 1
            }
        }
        return .success(out)
    }
    func hexDigit(_ c: UInt8) -> UInt8? { UInt8(String(UnicodeScalar(c)), radix: 16) }

    var pairs: [(String, String?)] = []
    var start = 0
    while start < bag.count {
        let end = bag[start...].firstIndex(of: UInt8(ascii: "&")) ?? bag.count
        defer { start = end + 1 }
        if end == start { continue }
        let equals = bag[start..<end].firstIndex(of: UInt8(ascii: "="))
        let nameEnd = equals ?? end
        if nameEnd == start { return .failure(.emptyName(offset: start)) }
        let name: [UInt8], value: [UInt8]?
        switch decode(bag[start..<nameEnd]) {
        case .success(let n): name = n
        case .failure(let e): return .failure(e)
        }
        if let equals {
            switch decode(bag[(equals + 1)..<end]) {
            case .success(let v): value = v
            case .failure(let e): return .failure(e)
            }
        } else {
            value = nil
        }
        if name.count + (value?.count ?? 0) > scratchSize {
            return .failure(.scratchTooSmall(needed: name.count + (value?.count ?? 0)))
        }
        pairs.append((String(decoding: name, as: UTF8.self), value.map { String(decoding: $0, as: UTF8.self) }))
    }
    return .success(pairs)
}

/// Reads all of `bag`: how many properties, how many had no value, the last one as `name=value`
/// text, and the reader's `bytesScanned` at the end.
private func scanBag(_ bag: String) throws -> (count: Int, nullValues: Int, last: String, scanned: Int) {
    try withBytes(bag) { bytes in
        var reader = PropertyBagReader(bytes)
        var scratch = [UInt8](repeating: 0, count: 16)
        return try scratch.withUnsafeMutableBytes { s in
            var count = 0, nullValues = 0, last = ""
            while let p = try reader.next(scratch: s) {
                count += 1
                if p.value == nil { nullValues += 1 }
                last = text(p.name) + (p.value.map { "=" + text($0) } ?? "")
            }
            return (count, nullValues, last, reader.bytesScanned)
        }
    }
}
