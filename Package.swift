// swift-tools-version:6.2
// TinyHub: an Azure IoT Hub device SDK (MQTT 3.1.1 and HTTPS over mbedTLS) that also builds
// as Embedded Swift. Default build: normal Swift, dynamic mbedTLS (what `swift test` uses).
// Device build: `TINYHUB_EMBEDDED=1 swift build -c release --traits StaticMbedTLS -Xswiftc -Osize`
// (see scripts/build/embedded.sh).
import PackageDescription

/// `TINYHUB_EMBEDDED=1` in the environment builds every Swift target as Embedded Swift.
///
/// An environment variable rather than a package trait: SwiftPM 6.3 passes a trait-conditioned
/// `-enable-experimental-feature Embedded` to the link step of executables even when the trait is
/// off, so with a trait the default build's example binaries link without the Swift runtime's
/// support library and cannot start. Read here, the setting is absent unless asked for.
let buildsEmbedded = Context.environment["TINYHUB_EMBEDDED"] == "1"

/// Every Swift target of the package: Embedded Swift when `TINYHUB_EMBEDDED=1`, else nothing.
let embedded: [SwiftSetting] = buildsEmbedded ? [.enableExperimentalFeature("Embedded")] : []

/// mbedTLS is listed here rather than in the module map: Embedded objects carry no
/// autolink entries. Order matters for static archives: tls, then x509, then crypto.
let mbedTLSLinkage: [LinkerSetting] = [
    .linkedLibrary(":libmbedtls.a", .when(traits: ["StaticMbedTLS"])),
    .linkedLibrary(":libmbedx509.a", .when(traits: ["StaticMbedTLS"])),
    .linkedLibrary(":libmbedcrypto.a", .when(traits: ["StaticMbedTLS"])),
    .linkedLibrary("mbedtls", .when(traits: ["DynamicMbedTLS"])),
    .linkedLibrary("mbedx509", .when(traits: ["DynamicMbedTLS"])),
    .linkedLibrary("mbedcrypto", .when(traits: ["DynamicMbedTLS"])),
]

func example(_ name: String, _ deps: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: deps, path: "Examples/\(name)", swiftSettings: embedded)
}

let package = Package(
    name: "TinyHub",
    products: [
        .library(name: "TinyHub", targets: ["TinyHub"]),
        .library(name: "TinyMQTT", targets: ["TinyMQTT"]),
        .library(name: "TinyHTTP", targets: ["TinyHTTP"]),
        .library(name: "TinyTLS", targets: ["TinyTLS"]),
        .library(name: "TinyWebSocket", targets: ["TinyWebSocket"]),
        .library(name: "TinyPlatform", targets: ["TinyPlatform"]),
        .library(name: "TinyProvisioning", targets: ["TinyProvisioning"]),
        .executable(name: "mqtt-demo", targets: ["mqtt-demo"]),
        .executable(name: "hub-telemetry", targets: ["hub-telemetry"]),
        .executable(name: "hub-c2d", targets: ["hub-c2d"]),
        .executable(name: "hub-twin", targets: ["hub-twin"]),
        .executable(name: "hub-methods", targets: ["hub-methods"]),
        .executable(name: "hub-minimal", targets: ["hub-minimal"]),
    ],
    traits: [
        .trait(name: "StaticMbedTLS", description: "Link Debian's mbedTLS static archives (device builds)."),
        .trait(name: "DynamicMbedTLS", description: "Link Debian's mbedTLS shared libraries."),
        .default(enabledTraits: ["DynamicMbedTLS"]),
    ],
    targets: [
        .target(name: "CTinyPlatform"),
        // The package's one copy of each byte utility (bounded writer, decimal, percent encoding,
        // Base64): no dependencies, `package` API, not a product.
        .target(name: "TinyBytes", swiftSettings: embedded),
        .systemLibrary(name: "CMbedTLS"),
        .target(name: "TinyPlatform", dependencies: ["CTinyPlatform", "TinyBytes"], swiftSettings: embedded),
        .target(name: "TinyMQTT", dependencies: ["TinyPlatform", "TinyBytes"], swiftSettings: embedded),
        .target(name: "TinyHTTP", dependencies: ["TinyBytes"], swiftSettings: embedded),
        .target(name: "TinyWebSocket", dependencies: ["TinyPlatform", "TinyHTTP", "TinyTLS", "TinyBytes"], swiftSettings: embedded),
        .target(name: "TinyTLS", dependencies: ["TinyPlatform", "TinyHTTP", "TinyBytes", "CMbedTLS"], swiftSettings: embedded,
                linkerSettings: mbedTLSLinkage),
        .target(name: "TinyHub", dependencies: ["TinyMQTT", "TinyHTTP", "TinyPlatform", "TinyBytes"],
                swiftSettings: embedded),
        .target(name: "TinyProvisioning", dependencies: ["TinyHub", "TinyMQTT", "TinyHTTP", "TinyPlatform", "TinyBytes"],
                swiftSettings: embedded),

        example("mqtt-demo", ["TinyMQTT", "TinyTLS", "TinyPlatform"]),
        .target(name: "HubExampleSupport", dependencies: ["TinyBytes", "TinyHub", "TinyMQTT", "TinyTLS", "TinyPlatform", "TinyProvisioning", "TinyWebSocket"],
                path: "Examples/HubExampleSupport", swiftSettings: embedded),
        example("hub-telemetry", ["HubExampleSupport", "TinyHub", "TinyMQTT", "TinyTLS", "TinyPlatform"]),
        example("hub-c2d", ["HubExampleSupport", "TinyHub", "TinyMQTT", "TinyTLS", "TinyPlatform"]),
        example("hub-twin", ["HubExampleSupport", "TinyHub", "TinyMQTT", "TinyTLS", "TinyPlatform"]),
        example("hub-methods", ["HubExampleSupport", "TinyHub", "TinyMQTT", "TinyTLS", "TinyPlatform"]),
        example("hub-minimal", ["TinyHub", "TinyMQTT", "TinyTLS", "TinyPlatform"]),

        // Tests build non-embedded from the same sources and may use Foundation.
        .target(name: "CTestSupport", path: "Tests/CTestSupport"),
        .testTarget(name: "TinyBytesTests", dependencies: ["TinyBytes"]),
        .testTarget(name: "TinyMQTTTests", dependencies: ["TinyMQTT", "TinyPlatform", "CTestSupport", "TinyHub", "TinyTLS", "TinyBytes"]),
        .testTarget(name: "TinyTLSTests", dependencies: ["TinyTLS", "TinyPlatform", "TinyBytes", "CTestSupport"]),
        .testTarget(name: "TinyHTTPTests", dependencies: ["TinyHTTP"]),
        .testTarget(name: "TinyWebSocketTests", dependencies: ["TinyWebSocket", "TinyHTTP", "TinyTLS", "TinyPlatform", "TinyBytes", "CTestSupport"]),
        .testTarget(name: "TinyHubTests", dependencies: ["TinyHub", "TinyMQTT", "TinyTLS", "TinyHTTP", "TinyPlatform", "TinyBytes"]),
        .testTarget(name: "TinyProvisioningTests", dependencies: ["TinyProvisioning", "TinyHub", "TinyTLS", "TinyBytes"]),
        .testTarget(name: "IntegrationTests",
                    dependencies: ["TinyHub", "TinyMQTT", "TinyTLS", "TinyHTTP", "TinyPlatform", "TinyProvisioning", "TinyWebSocket",
                                   "TinyBytes", "CTestSupport"]),
    ]
)
