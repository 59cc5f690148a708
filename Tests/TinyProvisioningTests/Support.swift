import TinyProvisioning

/// Runs a writer over a scratch buffer and returns what it wrote as text.
func written(capacity: Int = 512,
             _ body: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> String {
    var bytes = [UInt8](repeating: 0, count: capacity)
    let count = try bytes.withUnsafeMutableBytes { out in try body(out) }
    return String(decoding: bytes[0..<count], as: UTF8.self)
}

/// Calls `body` with the UTF-8 bytes of each string.
func withBytes<R>(_ a: String, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try Array(a.utf8).withUnsafeBytes { try body($0) }
}

func withBytes<R>(_ a: String, _ b: String, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try withBytes(a) { x in try withBytes(b) { y in try body(x, y) } }
}

func withBytes<R>(_ a: String, _ b: String, _ c: String,
                  _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try withBytes(a, b) { x, y in try withBytes(c) { z in try body(x, y, z) } }
}
