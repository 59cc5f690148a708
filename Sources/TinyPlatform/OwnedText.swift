/// A copy of some strings' UTF-8 bytes in one allocation this object owns, so the byte views
/// an API takes (`UnsafeRawBufferPointer`) can be made from `String`s and stay valid for as long
/// as the object is kept, whatever happens to the strings. The bytes are zeroed before they are
/// freed (they are often secrets: keys, passwords).
///
/// What the `String` entry points of the other modules copy into; not for applications.
package final class OwnedText {
    /// The bytes, then (aligned for `Int`) where each string ends.
    private let storage: UnsafeMutableRawBufferPointer
    private let byteCount: Int
    /// How many strings were copied.
    package let count: Int

    /// Copies `texts`, in order, into one allocation.
    ///
    /// - Parameter texts: the strings to copy.
    package init(_ texts: [String]) {
        var total = 0
        for text in texts { total += text.utf8.count }
        let stride = MemoryLayout<Int>.stride
        let offsetsStart = (total + stride - 1) / stride * stride
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: offsetsStart + texts.count * stride,
                                                             alignment: MemoryLayout<Int>.alignment)
        var end = 0
        var index = 0
        for text in texts {
            var copy = text
            end += copy.withUTF8 { source -> Int in
                UnsafeMutableRawBufferPointer(rebasing: storage[end..<(end + source.count)]).copyMemory(from: UnsafeRawBufferPointer(source))
                return source.count
            }
            storage.storeBytes(of: end, toByteOffset: offsetsStart + index * stride, as: Int.self)
            index += 1
        }
        self.storage = storage
        byteCount = offsetsStart
        count = texts.count
    }

    deinit {
        zeroize(storage)
        storage.deallocate()
    }

    /// The bytes of the `index`th string (valid while this object is alive).
    ///
    /// - Parameter index: the string's position in the array given to `init`.
    package subscript(index: Int) -> UnsafeRawBufferPointer {
        let stride = MemoryLayout<Int>.stride
        let start = index == 0 ? 0 : storage.load(fromByteOffset: byteCount + (index - 1) * stride, as: Int.self)
        let end = storage.load(fromByteOffset: byteCount + index * stride, as: Int.self)
        return UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[start..<end])
    }
}
