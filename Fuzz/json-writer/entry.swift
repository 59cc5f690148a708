// libFuzzer entry for JSON writer round trips: `JSONWriter` driven by a fuzzed sequence of
// calls (containers, keys and strings of arbitrary bytes, integers, booleans, null), read
// back with `JSONReader`.
//
// Input: byte 0 picks the nesting limit (1...64) and the capacity of a second, small writer;
// then ops: 0 `{`, 1 `}`, 2 `[`, 3 `]`, 4 key, 5 string (a length byte and the bytes),
// 6 integer (8 bytes), 7 true/false, 8 null.
//
// Oracles: a grammar model written here says which calls are legal (`invalidState` /
// `tooDeep` otherwise, and a refused call leaves the output unchanged); the small writer
// writes the same bytes until its first `bufferTooSmall`, which leaves its count unchanged;
// the reader gives back exactly the tokens written (keys and strings unescaped byte for byte,
// integers equal), and for an unfinished document those tokens and then `unexpectedEnd`.

@inline(never)
func fuzzFail(_ message: String, line: UInt = #line) -> Never {
    fatalError("fuzz oracle: \(message)", line: line)
}

func check(_ condition: Bool, _ message: @autoclosure () -> String, line: UInt = #line) {
    if !condition { fuzzFail(message(), line: line) }
}

enum Expected: Equatable {
    case objectStart, objectEnd, arrayStart, arrayEnd, null
    case key([UInt8]), string([UInt8]), integer(Int64), bool(Bool)
}

/// The grammar the writer must enforce.
struct Model {
    let maxDepth: Int
    var stack: [Bool] = []    // true: object
    var afterKey = false
    var topDone = false
    var inObject: Bool { stack.last == true }

    func valueAllowed() -> Bool {
        if stack.isEmpty { return !topDone }
        return inObject ? afterKey : true
    }

    /// The error the call must throw, or nil when legal (and then the state moves on).
    mutating func apply(_ op: Expected) -> JSONError? {
        switch op {
        case .objectStart, .arrayStart:
            if stack.count >= maxDepth { return .tooDeep(maxDepth: maxDepth) }
            guard valueAllowed() else { return .invalidState }
            stack.append(op == .objectStart)
            afterKey = false
        case .objectEnd, .arrayEnd:
            guard !stack.isEmpty, inObject == (op == .objectEnd), !afterKey else { return .invalidState }
            stack.removeLast()
            if stack.isEmpty { topDone = true }
        case .key:
            guard inObject, !afterKey else { return .invalidState }
            afterKey = true
        default:
            guard valueAllowed() else { return .invalidState }
            afterKey = false
            if stack.isEmpty { topDone = true }
        }
        return nil
    }
}

/// An exact-size heap copy (AddressSanitizer sees a read past its end).
func heapCopy(_ bytes: [UInt8]) -> UnsafeMutableRawBufferPointer {
    let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
    storage.copyBytes(from: bytes)
    return UnsafeMutableRawBufferPointer(rebasing: storage[0..<bytes.count])
}

func call(_ writer: inout JSONWriter, _ op: Expected) -> JSONError? {
    do throws(JSONError) {
        switch op {
        case .objectStart: try writer.beginObject()
        case .objectEnd: try writer.endObject()
        case .arrayStart: try writer.beginArray()
        case .arrayEnd: try writer.endArray()
        case .null: try writer.null()
        case .bool(let value): try writer.bool(value)
        case .integer(let value): try writer.integer(value)
        case .key(let bytes):
            let b = heapCopy(bytes)
            defer { b.deallocate() }
            try writer.key(UnsafeRawBufferPointer(b))
        case .string(let bytes):
            let b = heapCopy(bytes)
            defer { b.deallocate() }
            try writer.string(UnsafeRawBufferPointer(b))
        }
        return nil
    } catch {
        return error
    }
}

func readBack(_ document: UnsafeRawBufferPointer, expected: [Expected], complete: Bool) {
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 1)
    defer { scratch.deallocate() }
    guard var reader = try? JSONReader(document, maxDepth: 64, maxSize: 1 << 20) else { fuzzFail("reader refused the size") }
    var index = 0
    while true {
        let token: JSONToken?
        do throws(JSONError) {
            token = try reader.next()
        } catch {
            check(!complete, "a complete document failed to read: \(error)")
            check(error == .unexpectedEnd, "an unfinished document failed with \(error), not unexpectedEnd")
            return
        }
        guard let token else { break }
        check(index < expected.count, "more tokens than written")
        let got: Expected
        switch token.kind {
        case .objectStart: got = .objectStart
        case .objectEnd: got = .objectEnd
        case .arrayStart: got = .arrayStart
        case .arrayEnd: got = .arrayEnd
        case .null: got = .null
        case .bool: got = .bool(token.boolValue)
        case .number:
            guard let value = try? reader.integer(token) else { fuzzFail("written integer unreadable") }
            got = .integer(value)
        case .key, .string:
            let n: Int
            do throws(JSONError) { n = try reader.unescape(token, into: scratch) } catch { fuzzFail("unescape: \(error)") }
            let bytes = Array(UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
            got = token.kind == .key ? .key(bytes) : .string(bytes)
        }
        check(got == expected[index], "token \(index): read \(got), wrote \(expected[index])")
        index += 1
    }
    check(complete && index == expected.count, "document ended early or an unfinished one read to its end")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let maxDepth = 1 + Int(input[0]) % 64
    let bigSize = 16 + size * 6
    let smallSize = Int(input[0]) * 2
    let big = UnsafeMutableRawBufferPointer.allocate(byteCount: bigSize, alignment: 1)
    let small = UnsafeMutableRawBufferPointer.allocate(byteCount: max(smallSize, 1), alignment: 1)
    defer { big.deallocate(); small.deallocate() }
    var writer = JSONWriter(buffer: big, maxDepth: maxDepth)
    var smallWriter = JSONWriter(buffer: UnsafeMutableRawBufferPointer(rebasing: small[0..<smallSize]), maxDepth: maxDepth)
    var smallStopped = false
    var model = Model(maxDepth: maxDepth)
    var written: [Expected] = []
    var at = 1
    func byte() -> UInt8 {
        guard at < size else { return 0 }
        defer { at += 1 }
        return input[at]
    }
    func bytes() -> [UInt8] {
        let n = min(Int(byte()), size - at)
        defer { at += n }
        return Array(input[at..<(at + n)])
    }
    var steps = 0
    while at < size, steps < 256 {
        steps += 1
        let op: Expected
        switch byte() % 9 {
        case 0: op = .objectStart
        case 1: op = .objectEnd
        case 2: op = .arrayStart
        case 3: op = .arrayEnd
        case 4: op = .key(bytes())
        case 5: op = .string(bytes())
        case 6:
            var v: UInt64 = 0
            for _ in 0..<8 { v = v << 8 | UInt64(byte()) }
            op = .integer(Int64(bitPattern: v))
        case 7: op = .bool(byte() & 1 == 1)
        default: op = .null
        }
        let before = writer.count
        let want = model.apply(op)
        let error = call(&writer, op)
        check(error == want, "\(op): writer \(String(describing: error)), model \(String(describing: want))")
        if error != nil {
            check(writer.count == before, "a refused call changed the output")
        } else {
            written.append(op)
            check(writer.isComplete == (model.topDone && model.stack.isEmpty), "isComplete")
        }
        if !smallStopped {
            let smallBefore = smallWriter.count
            let smallError = call(&smallWriter, op)
            if case .bufferTooSmall(let needed)? = smallError {
                check(needed > smallSize, "bufferTooSmall(\(needed)) with \(smallSize) bytes")
                check(smallWriter.count == smallBefore, "bufferTooSmall changed the output")
                smallStopped = true
            } else {
                check(smallError == error, "small writer: \(String(describing: smallError)), big: \(String(describing: error))")
            }
            check(Array(smallWriter.bytes) == Array(writer.bytes[0..<smallWriter.count]), "the small writer wrote other bytes")
            if !smallStopped { check(smallWriter.count == writer.count, "the small writer fell behind") }
        }
    }
    readBack(writer.bytes, expected: written, complete: writer.isComplete)
    return 0
}
