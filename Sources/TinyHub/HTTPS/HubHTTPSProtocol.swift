/// Constants of IoT Hub's device REST API that every request carries.
enum HubHTTPSProtocol {
    /// The device REST `api-version` sent on every request.
    static let apiVersion: StaticString = "2020-03-13"
    /// The `User-Agent` sent on every request.
    static let userAgent: StaticString = TinyHubVersion.product
}
