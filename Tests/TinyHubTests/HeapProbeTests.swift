import Foundation
import Glibc
import Testing
import TinyMQTT
import TinyPlatform
@testable import TinyTLS

/// The heap probes that keep out-of-memory from trapping in Embedded Swift are only sound if
/// they ask for at least what the objects created after them take. The objects' real heap
/// blocks are measured with glibc's `malloc_usable_size` (at least the size Swift asked for),
/// independently of the constants under test.
@Suite struct HeapProbeTests {
    /// glibc's `malloc_usable_size` (declared in <malloc.h>, which the Glibc module does not import).
    private static let usableSize: @convention(c) (UnsafeMutableRawPointer?) -> Int = {
        let symbol = dlsym(nil, "malloc_usable_size")
        precondition(symbol != nil, "malloc_usable_size not found")
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutableRawPointer?) -> Int).self)
    }()

    private func heapBytes(_ object: AnyObject) -> Int {
        Self.usableSize(Unmanaged.passUnretained(object).toOpaque())
    }

    @Test func transportProbeCoversItsThreeObjects() throws {
        let transport = try TLSTransport(TLSConfiguration(host: "localhost", port: 8883))
        let tcp = TCPTransport(host: "localhost", port: 8883)
        let contexts = MbedTLSContexts()
        let total = heapBytes(transport) + heapBytes(tcp) + heapBytes(contexts)
        #expect(total > 0)
        #expect(total <= TLSTransport.objectBytes, "TLSTransport, TCPTransport and MbedTLSContexts take \(total) bytes")
    }

    @Test func sessionProbeCoversTheSessionObject() throws {
        let buffers = try #require(MQTTBuffers.allocate(transmit: 64, receive: 64, inflightBytes: 64, inflightWindow: 1))
        defer { buffers.deallocate() }
        let transport = try TLSTransport(TLSConfiguration(host: "localhost", port: 8883))
        let session = MQTTSession(transport: transport, platform: SystemPlatform(), buffers: buffers)
        let bytes = heapBytes(session)
        #expect(bytes > 0)
        #expect(bytes <= MQTTSession<TLSTransport, SystemPlatform>.objectBytes, "the session object takes \(bytes) bytes")
    }

    @Test func probeReportsWhatMallocCannotGive() {
        #expect(Heap.canAllocate(64))
        #expect(!Heap.canAllocate(1 << 62)) // no allocator gives 4 EiB
    }
}
