// swift-tools-version:6.2
// A package that depends on TinyHub by path, as a device maker's firmware would, and uses
// every library product. Built and run by scripts/check/consumer.sh, which also checks that
// the README's code snippets are the text of ReadmeMQTT.swift, ReadmeMinimal.swift and ReadmeHub.swift.
import PackageDescription

let package = Package(
    name: "Consumer",
    dependencies: [.package(name: "TinyHub", path: "../..")],
    targets: [
        .executableTarget(name: "Consumer", dependencies: [
            .product(name: "TinyHub", package: "TinyHub"),
            .product(name: "TinyMQTT", package: "TinyHub"),
            .product(name: "TinyHTTP", package: "TinyHub"),
            .product(name: "TinyTLS", package: "TinyHub"),
            .product(name: "TinyPlatform", package: "TinyHub"),
        ]),
    ]
)
