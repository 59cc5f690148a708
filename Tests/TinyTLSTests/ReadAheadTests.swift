import CTinyPlatform
import Testing
@testable import TinyTLS

/// The read-ahead under mbedTLS, driven as mbedTLS drives it (a 5-byte record header, then
/// exactly the body, each read repeated until it has all it asked for) over a scripted socket
/// that delivers the stream in chosen pieces and then ends with a chosen code.
@Suite struct ReadAheadTests {
    /// A socket played by the test: each fill takes the next piece (or as much of it as fits),
    /// then `end` once the pieces are used up.
    final class ScriptedSocket {
        var pieces: [[UInt8]]
        var end: Int64
        private(set) var fills = 0
        /// The room each fill was given.
        private(set) var rooms: [Int] = []

        init(_ pieces: [[UInt8]], end: Int64 = Int64(TP_ERR_CLOSED)) {
            self.pieces = pieces
            self.end = end
        }

        func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Int64 {
            fills += 1
            rooms.append(buffer.count)
            guard !pieces.isEmpty else { return end }
            var piece = pieces.removeFirst()
            let n = min(piece.count, buffer.count)
            for i in 0..<n { buffer[i] = piece[i] }
            if n < piece.count {
                piece.removeFirst(n)
                pieces.insert(piece, at: 0)
            }
            return Int64(n)
        }
    }

    /// The read-ahead and its storage, as `MbedTLSContexts` sets them up.
    final class Reader {
        let storage: UnsafeMutableRawBufferPointer
        var readAhead: ReadAhead
        let socket: ScriptedSocket

        init(capacity: Int, socket: ScriptedSocket) {
            storage = .allocate(byteCount: capacity, alignment: 8)
            readAhead = ReadAhead(storage: storage)
            self.socket = socket
        }

        deinit { storage.deallocate() }

        /// Reads exactly `count` bytes as mbedTLS's `ssl_fetch_input` does: repeated reads, each
        /// asking for what is still missing. Returns the bytes, or the first code <= 0.
        func exactly(_ count: Int) -> Result<[UInt8], ShimCode> {
            var out = [UInt8](repeating: 0, count: count)
            var have = 0
            while have < count {
                let socket = self.socket
                let n = out.withUnsafeMutableBytes { bytes in
                    readAhead.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[have...])) { socket.fill($0) }
                }
                if n <= 0 { return .failure(ShimCode(value: n)) }
                #expect(n <= Int64(count - have), "handed out more than asked for")
                have += Int(n)
            }
            return .success(out)
        }

        /// One TLS record (header and body), as mbedTLS reads it.
        func record() -> Result<[UInt8], ShimCode> {
            switch exactly(5) {
            case .failure(let code): return .failure(code)
            case .success(let header):
                let length = Int(header[3]) << 8 | Int(header[4])
                switch exactly(length) {
                case .failure(let code): return .failure(code)
                case .success(let body): return .success(header + body)
                }
            }
        }
    }

    struct ShimCode: Error, Equatable { let value: Int64 }

    /// An application-data record with a body of `length` bytes numbered from `seed`.
    static func record(_ length: Int, seed: UInt8) -> [UInt8] {
        [0x17, 0x03, 0x03, UInt8(length >> 8), UInt8(length & 0xFF)] + (0..<length).map { UInt8(truncatingIfNeeded: Int(seed) &+ $0) }
    }

    static let records = [record(1, seed: 1), record(40, seed: 50), record(3, seed: 200)]
    static let stream = records.flatMap { $0 }
    static let capacities = [0, 1, 4, 5, 6, 16, 64, 512]

    /// The stream cut at `cuts` (sorted offsets inside it).
    static func pieces(_ stream: [UInt8], cuts: [Int]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var from = 0
        for cut in cuts + [stream.count] where cut > from {
            out.append(Array(stream[from..<cut]))
            from = cut
        }
        return out
    }

    @Test func everySplitOfThreeRecordsReadsTheSameRecords() {
        let n = Self.stream.count
        for capacity in Self.capacities {
            for first in 0..<n {
                for second in first..<n {
                    let pieces = Self.pieces(Self.stream, cuts: [first, second])
                    let reader = Reader(capacity: capacity, socket: ScriptedSocket(pieces))
                    for expected in Self.records {
                        #expect(reader.record() == .success(expected), "capacity \(capacity), cuts \(first) \(second)")
                    }
                    // The end of stream comes only after every byte.
                    #expect(reader.record() == .failure(ShimCode(value: Int64(TP_ERR_CLOSED))))
                    if capacity >= n {
                        // Each piece costs one read, the end one more: never a read per record part.
                        #expect(reader.socket.fills == pieces.count + 1, "capacity \(capacity), cuts \(first) \(second)")
                    }
                }
            }
        }
    }

    @Test func aBurstInOneReadCostsOneReadWhatMbedTLSAloneReadsInSix() {
        let buffered = Reader(capacity: 512, socket: ScriptedSocket([Self.stream]))
        let direct = Reader(capacity: 0, socket: ScriptedSocket([Self.stream]))
        for expected in Self.records {
            #expect(buffered.record() == .success(expected))
            #expect(direct.record() == .success(expected))
        }
        #expect(buffered.socket.fills == 1)
        #expect(direct.socket.fills == 6)
    }

    @Test func anEndOfStreamMidRecordHandsOutWhatCameAndThenTheEnd() {
        let cutStream = Array(Self.stream.prefix(Self.records[0].count + 20)) // record 1, then half of record 2
        for capacity in Self.capacities {
            for cut in 0...cutStream.count {
                let reader = Reader(capacity: capacity, socket: ScriptedSocket(Self.pieces(cutStream, cuts: [cut])))
                #expect(reader.record() == .success(Self.records[0]))
                #expect(reader.record() == .failure(ShimCode(value: Int64(TP_ERR_CLOSED))), "capacity \(capacity), cut \(cut)")
                // Once ended, it stays ended.
                #expect(reader.record() == .failure(ShimCode(value: Int64(TP_ERR_CLOSED))))
            }
        }
    }

    @Test func anErrorAfterBufferedDataComesAfterThatData() {
        for capacity in [64, 512] {
            let socket = ScriptedSocket([Self.records[0] + Self.records[1]], end: Int64(TP_ERR_IO))
            let reader = Reader(capacity: capacity, socket: socket)
            #expect(reader.record() == .success(Self.records[0]))
            #expect(reader.record() == .success(Self.records[1]))
            // Both records came from one read: the socket was not asked again while bytes were buffered.
            #expect(socket.fills == 1)
            #expect(reader.record() == .failure(ShimCode(value: Int64(TP_ERR_IO))))
            #expect(socket.fills == 2)
        }
    }

    @Test func aTimeoutKeepsWhatIsBuffered() {
        let socket = ScriptedSocket([Array(Self.stream.prefix(3))], end: Int64(TP_ERR_TIMEOUT))
        let reader = Reader(capacity: 64, socket: socket)
        #expect(reader.exactly(2) == .success(Array(Self.stream.prefix(2))))
        #expect(reader.readAhead.buffered == 1)
        // The buffered byte is handed out without asking the socket (which would time out)...
        #expect(reader.exactly(1) == .success([Self.stream[2]]))
        #expect(socket.fills == 1)
        // ...and only an empty buffer waits on the socket.
        #expect(reader.exactly(1) == .failure(ShimCode(value: Int64(TP_ERR_TIMEOUT))))
        socket.pieces = [Array(Self.stream.dropFirst(3))]
        #expect(reader.exactly(Self.stream.count - 3) == .success(Array(Self.stream.dropFirst(3))))
    }

    @Test func aRequestAsLargeAsTheBufferGoesStraightToTheSocket() {
        let big = Self.record(100, seed: 7)
        let socket = ScriptedSocket([big])
        let reader = Reader(capacity: 16, socket: socket)
        // The header through the buffer (which takes 16 bytes), the rest of the body first from
        // the buffer, then straight into the destination, asking for exactly what is missing.
        #expect(reader.record() == .success(big))
        #expect(socket.rooms == [16, big.count - 16])
    }

    @Test func aSocketClaimingMoreThanItWasGivenIsAnError() {
        var storage = [UInt8](repeating: 0, count: 8)
        storage.withUnsafeMutableBytes { bytes in
            var readAhead = ReadAhead(storage: bytes)
            var out = [UInt8](repeating: 0, count: 4)
            out.withUnsafeMutableBytes { destination in
                #expect(readAhead.read(into: destination) { $0.count > 0 ? Int64($0.count + 1) : 0 } == Int64(TP_ERR_IO))
            }
            var large = [UInt8](repeating: 0, count: 32)
            large.withUnsafeMutableBytes { destination in
                #expect(readAhead.read(into: destination) { Int64($0.count + 1) } == Int64(TP_ERR_IO))
            }
            #expect(readAhead.buffered == 0)
        }
    }

    @Test func resetDropsWhatIsBuffered() {
        let socket = ScriptedSocket([Self.stream, Self.records[2]])
        let reader = Reader(capacity: 512, socket: socket)
        #expect(reader.record() == .success(Self.records[0]))
        reader.readAhead.reset() // a new connection
        #expect(reader.record() == .success(Self.records[2]))
    }

    /// `TLSTransport.receive` reads on only while a whole application-data record is buffered:
    /// checked at every split of the stream, against the records' own lengths.
    @Test func aWholeRecordIsSeenOnlyWhenAllOfItIsBuffered() {
        let stream = Self.stream
        for cut in 0...stream.count {
            let socket = ScriptedSocket([Array(stream[0..<cut])], end: Int64(TP_ERR_TIMEOUT))
            let reader = Reader(capacity: 512, socket: socket)
            var start = 0
            var expected: [Bool] = []
            var seen: [Bool] = []
            // Before each record is read: is it whole among the bytes that came?
            for record in Self.records {
                if start == 0, cut > 0 {
                    // The first read fills the buffer; ask after it, so the first record is read too.
                    guard case .success = reader.record() else { break }
                    start += record.count
                    continue
                }
                expected.append(start + record.count <= cut)
                seen.append(reader.readAhead.startsWithWholeRecord(ofType: 0x17))
                #expect(!reader.readAhead.startsWithWholeRecord(ofType: 0x15), "another content type is not taken for data")
                guard case .success = reader.record() else { break }
                start += record.count
            }
            #expect(seen == expected, "cut at \(cut)")
        }
    }

    /// A record whose fragment is no longer than the cipher's overhead carries nothing: mbedTLS
    /// would skip it and read the next record, maybe from the socket, so it does not count.
    @Test func anEmptyRecordIsNotTakenForContent() {
        for (body, counted) in [(24, false), (25, true)] {
            let record = Self.record(body, seed: 7)
            let reader = Reader(capacity: 512, socket: ScriptedSocket([Self.records[0] + record], end: Int64(TP_ERR_TIMEOUT)))
            #expect(reader.record() == .success(Self.records[0]))
            #expect(reader.readAhead.startsWithWholeRecord(ofType: 0x17, overhead: 24) == counted, "body \(body)")
            #expect(reader.readAhead.startsWithWholeRecord(ofType: 0x17), "without an overhead every whole record counts")
        }
    }
}
