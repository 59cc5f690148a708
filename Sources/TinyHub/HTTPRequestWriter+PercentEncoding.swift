import TinyHTTP

extension HTTPRequestWriter {
    /// Appends `bytes` percent-encoded (RFC 3986 unreserved kept) to the request target:
    /// device ids may hold `# ? % + $` and more.
    mutating func appendPercentEncodedTarget(_ bytes: UnsafeRawBufferPointer) throws(HTTPEncodeError) {
        var scratch = InlineArray<48, UInt8>(repeating: 0)
        var i = 0
        while i < bytes.count {
            var n = 0
            while i < bytes.count, n <= 45 {
                let byte = bytes[i]
                if PercentEncoding.isUnreserved(byte) {
                    scratch[n] = byte
                    n += 1
                } else {
                    scratch[n] = 0x25
                    scratch[n + 1] = Hex.upper(byte >> 4)
                    scratch[n + 2] = Hex.upper(byte & 0x0F)
                    n += 3
                }
                i += 1
            }
            let used = n
            try scratch.span.withUnsafeBytes { (all) throws(HTTPEncodeError) in
                try appendTarget(UnsafeRawBufferPointer(rebasing: all[0..<used]))
            }
        }
    }
}
