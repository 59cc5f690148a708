import CTinyPlatform

/// Overwrites `bytes` with zeros through the C shim (`tp_zeroize`), a call the optimiser
/// cannot drop as a dead store, unlike a Swift loop or `initializeMemory` before a free.
/// For keys, SAS tokens and connection strings on every path that leaves them behind.
package func zeroize(_ bytes: UnsafeMutableRawBufferPointer) {
    tp_zeroize(bytes.baseAddress, bytes.count)
}
