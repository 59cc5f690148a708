import Foundation
import Testing
import TinyPlatform
@testable import TinyTLS

/// A path that is not a file is a configuration error that says so (it read as "out of
/// memory" before: mbedTLS takes a directory for a file of absurd length).
@Suite struct TrustFileTests {
    func setUpError(_ configuration: TLSConfiguration) -> TransportError? {
        do throws(TransportError) {
            _ = try TLSTransport(configuration)
            return nil
        } catch {
            return error
        }
    }

    @Test func aDirectoryIsNotATrustFile() {
        let error = setUpError(TLSConfiguration(host: "localhost", port: 8883, trustAnchors: .file(NSTemporaryDirectory())))
        guard case .invalidConfiguration(let why)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect("\(why)" == "trusted CA file is missing or not a regular file")
    }

    @Test func aMissingTrustFileIsNotAFile() {
        let error = setUpError(TLSConfiguration(host: "localhost", port: 8883, trustAnchors: .file("/nonexistent/ca.pem")))
        guard case .invalidConfiguration(let why)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect("\(why)" == "trusted CA file is missing or not a regular file")
    }

    @Test func aDirectoryIsNotAClientCertificate() {
        let identity = ClientIdentity.files(certificate: NSTemporaryDirectory(), key: NSTemporaryDirectory())
        let error = setUpError(TLSConfiguration(host: "localhost", port: 8883, trustAnchors: .azureRoots, clientIdentity: identity))
        guard case .invalidConfiguration(let why)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect("\(why)" == "client certificate or key path is not a readable file")
    }
}
