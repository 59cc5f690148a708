/// This release of TinyHub (semantic versioning: while the major version is 0, a minor
/// release may break the API; `CHANGELOG.md` says how to migrate).
public enum TinyHubVersion {
    /// `major.minor.patch`.
    public static let semantic: StaticString = "0.2.0"
    /// How the device names its SDK to IoT Hub: `DeviceClientType` in the MQTT user name and
    /// `User-Agent` over HTTPS.
    public static let product: StaticString = "tinyhub/0.2.0"
}
