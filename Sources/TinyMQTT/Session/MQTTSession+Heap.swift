import TinyPlatform

extension MQTTSession {
    /// An upper bound of the heap the session object itself takes (about 500 bytes today; a
    /// test checks the bound). The buffers are not in it: they are the caller's `MQTTBuffers`.
    /// Embedded Swift traps when a class instance cannot be allocated, so a program checks
    /// `Heap.canAllocate(objectBytes)` right before creating a session.
    public static var objectBytes: Int { 1024 }
}
