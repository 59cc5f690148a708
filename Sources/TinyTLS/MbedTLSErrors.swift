import CTinyPlatform

/// Whether an mbedTLS error code (possibly a high-level code plus a low-level one) means an
/// allocation failed. mbedTLS 2.28: SSL -0x7F00, X509 -0x2880, PK -0x3F80, ECP -0x4D80,
/// CIPHER -0x6180, MD -0x5180 (high-level); MPI -0x0010 (low-level).
func isAllocationFailure(_ code: Int32) -> Bool {
    guard code < 0 else { return false }
    let value = -Int64(code)
    let high = value & 0xFF80
    let low = value & 0x007F
    return high == 0x7F00 || high == 0x2880 || high == 0x3F80 || high == 0x4D80 || high == 0x6180 || high == 0x5180
        || low == 0x0010
}

/// mbedTLS reports some allocation failures as something else (a failed RSA signature
/// check reads as "certificate not trusted"). errno, cleared before the operation, tells.
func failedForLackOfMemory(_ code: Int32) -> Bool {
    isAllocationFailure(code) || tp_errno_is_nomem() != 0
}

/// Whether `allocate` returned memory: Embedded Swift's `allocate` returns null instead of
/// trapping when memory runs out.
func isAllocated<T>(_ pointer: UnsafeMutablePointer<T>) -> Bool {
    Int(bitPattern: pointer) != 0
}
