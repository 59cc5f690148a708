import Foundation

/// base64(HMAC-SHA256(base64-decoded `key`, `message`)), computed by the openssl CLI (an
/// implementation independent of TinyHub's own HMAC).
func hmacSHA256Base64(key: String, message: String) throws -> String {
    guard let keyBytes = Data(base64Encoded: key) else { throw HarnessError("key is not base64") }
    let directory = try makeTemporaryDirectory(prefix: "tinyhub-hmac")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let input = directory + "/message", output = directory + "/mac"
    try Data(message.utf8).write(to: URL(fileURLWithPath: input))
    let hexKey = keyBytes.map { String(format: "%02x", $0) }.joined()
    try runChecked(HarnessTools.openssl, ["dgst", "-sha256", "-mac", "HMAC", "-macopt", "hexkey:\(hexKey)", "-binary",
                                          "-out", output, input])
    return try Data(contentsOf: URL(fileURLWithPath: output)).base64EncodedString()
}
