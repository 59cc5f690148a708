// swift-tools-version:6.2
// A package that depends on TinyHub by path, as a device maker's firmware would.
// Built by scripts/check-consumer.sh to prove TinyHub stays usable as a dependency.
import PackageDescription

let package = Package(
    name: "Consumer",
    dependencies: [.package(name: "TinyHub", path: "../..")],
    targets: [
        .executableTarget(name: "Consumer", dependencies: [
            .product(name: "TinyMQTT", package: "TinyHub"),
            .product(name: "TinyTLS", package: "TinyHub"),
            .product(name: "TinyPlatform", package: "TinyHub"),
        ]),
    ]
)
