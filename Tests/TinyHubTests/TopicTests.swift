import Testing
@testable import TinyHub

@Suite struct TopicTests {
    @Test func telemetryTopics() throws {
        #expect(try written { b in try withBytes("dev1") { try HubTopics.telemetry(deviceID: $0, into: b) } } == "devices/dev1/messages/events/")
        let module = try written { b in
            try withBytes("dev1") { d in try withBytes("m1") { m in try withBytes("%24.mid=1") { p in
                try HubTopics.telemetry(deviceID: d, moduleID: m, properties: p, into: b) } } }
        }
        #expect(module == "devices/dev1/modules/m1/messages/events/%24.mid=1")
    }

    @Test func subscriptionsAndRequests() throws {
        #expect(try written { b in try withBytes("dev1") { try HubTopics.cloudToDeviceFilter(deviceID: $0, into: b) } }
                == "devices/dev1/messages/devicebound/#")
        #expect(try written { b in try withBytes("42") { try HubTopics.twinGet(requestID: $0, into: b) } } == "$iothub/twin/GET/?$rid=42")
        #expect(try written { b in try withBytes("r-1") { try HubTopics.twinReportedPatch(requestID: $0, into: b) } }
                == "$iothub/twin/PATCH/properties/reported/?$rid=r-1")
        #expect(try written { b in try withBytes("7") { try HubTopics.methodResponse(status: 200, requestID: $0, into: b) } }
                == "$iothub/methods/res/200/?$rid=7")
        #expect(try written { b in try withBytes("7") { try HubTopics.methodResponse(status: 0, requestID: $0, into: b) } }
                == "$iothub/methods/res/0/?$rid=7")
        #expect(text(UnsafeRawBufferPointer(start: HubTopics.twinResponseFilter.utf8Start, count: HubTopics.twinResponseFilter.utf8CodeUnitCount)) == "$iothub/twin/res/#")
    }

    @Test func builderErrors() {
        for bad in ["", "a/b", "a+b", "a#b", "a\u{0}b"] {
            #expect(throws: TopicError.invalidIdentifier, "\(bad)") {
                try written { b in try withBytes(bad) { try HubTopics.telemetry(deviceID: $0, into: b) } }
            }
        }
        for bad in ["", "a&b", "a b", "a/b", String(repeating: "1", count: 65)] {
            #expect(throws: TopicError.invalidRequestID, "\(bad)") {
                try written { b in try withBytes(bad) { try HubTopics.twinGet(requestID: $0, into: b) } }
            }
        }
        #expect(throws: TopicError.bufferTooSmall(needed: 29)) {
            try written(28) { b in try withBytes("dev1") { try HubTopics.telemetry(deviceID: $0, into: b) } }
        }
    }

    /// The user name's query, kept as one constant, says what its parts say.
    @Test func usernameQueryIsApiVersionAndEncodedClientType() throws {
        let product = HubMQTTIdentity.deviceClientType.description
        let encoded = product.split(separator: "/", omittingEmptySubsequences: false).joined(separator: "%2F")
        #expect(HubMQTTIdentity.usernameQuery.description
                == "/?api-version=\(HubMQTTIdentity.apiVersion)&DeviceClientType=\(encoded)")
        #expect(product.allSatisfy { $0.isLetter || $0.isNumber || "/.-_~".contains($0) }, "only / needs escaping")
    }

    @Test func usernameAndClientID() throws {
        let user = try written { b in try withBytes("hub.azure-devices.net") { h in try withBytes("dev1") { d in
            try HubMQTTIdentity.username(host: h, deviceID: d, into: b) } } }
        #expect(user == "hub.azure-devices.net/dev1/?api-version=2020-09-30&DeviceClientType=tinyhub%2F0.2.0")
        let moduleUser = try written { b in try withBytes("hub.azure-devices.net") { h in try withBytes("dev1") { d in
            try withBytes("m1") { m in try withBytes("dtmi:com:example:Thermostat;1") { model in
                try HubMQTTIdentity.username(host: h, deviceID: d, moduleID: m, modelID: model, into: b) } } } } }
        #expect(moduleUser == "hub.azure-devices.net/dev1/m1/?api-version=2020-09-30&DeviceClientType=tinyhub%2F0.2.0"
                + "&model-id=dtmi%3Acom%3Aexample%3AThermostat%3B1")
        #expect(try written { b in try withBytes("dev1") { try HubMQTTIdentity.clientID(deviceID: $0, into: b) } } == "dev1")
        #expect(try written { b in try withBytes("dev1") { d in try withBytes("m1") { m in
            try HubMQTTIdentity.clientID(deviceID: d, moduleID: m, into: b) } } } == "dev1/m1")
        let fromCS = try withBytes("HostName=h.x;DeviceId=d+1;ModuleId=m;GatewayHostName=g.x;x509=true") { bytes in
            let cs = try ConnectionString.parse(bytes)
            return try written { try HubMQTTIdentity.username(for: cs, into: $0) } + " " + written { try HubMQTTIdentity.clientID(for: cs, into: $0) }
        }
        #expect(fromCS == "h.x/d+1/m/?api-version=2020-09-30&DeviceClientType=tinyhub%2F0.2.0 d+1/m")
    }

    /// Classification summarised as text for easy comparison.
    func classify(_ topic: String) throws -> String {
        try withBytes(topic) { bytes in
            switch try HubTopics.classify(bytes) {
            case .cloudToDevice(let p): return "c2d[\(text(p))]"
            case .twinResponse(let s, let r, let v): return "twin-res \(s) rid=\(text(r)) v=\(v.map(String.init) ?? "nil")"
            case .twinDesiredPatch(let v): return "desired v=\(v)"
            case .methodRequest(let n, let r): return "method \(text(n)) rid=\(text(r))"
            case .unrecognized: return "unrecognized"
            }
        }
    }

    @Test func classification() throws {
        #expect(try classify("devices/dev1/messages/devicebound/%24.mid=1&k=v") == "c2d[%24.mid=1&k=v]")
        #expect(try classify("devices/dev1/messages/devicebound/") == "c2d[]")
        #expect(try classify("devices/d/messages/devicebound/a=/messages/devicebound/") == "c2d[a=/messages/devicebound/]")
        #expect(try classify("devices/d/modules/m/messages/devicebound/x") == "c2d[x]")
        #expect(try classify("$iothub/twin/res/200/?$rid=1") == "twin-res 200 rid=1 v=nil")
        #expect(try classify("$iothub/twin/res/204/?$rid=abc&$version=7") == "twin-res 204 rid=abc v=7")
        #expect(try classify("$iothub/twin/res/429/?$version=9&$rid=x&other=1") == "twin-res 429 rid=x v=9")
        #expect(try classify("$iothub/twin/PATCH/properties/desired/?$version=123") == "desired v=123")
        #expect(try classify("$iothub/methods/POST/reboot/?$rid=5") == "method reboot rid=5")
        #expect(try classify("$iothub/methods/POST/comp*cmd/?$rid=%24x") == "method comp*cmd rid=%24x")
        #expect(try classify("devices/dev1/messages/events/") == "unrecognized")
        #expect(try classify("") == "unrecognized")
        #expect(try classify("$iothub/twin/res") == "unrecognized")
        #expect(try classify("random/topic") == "unrecognized")
    }

    @Test(arguments: [
        ("devices//messages/devicebound/", TopicError.malformedTopic),
        ("$iothub/twin/res/", .malformedTopic),
        ("$iothub/twin/res/200", .malformedTopic),
        ("$iothub/twin/res/abc/?$rid=1", .invalidStatus),
        ("$iothub/twin/res/1000/?$rid=1", .invalidStatus),
        ("$iothub/twin/res//?$rid=1", .invalidStatus),
        ("$iothub/twin/res/200/$rid=1", .malformedTopic),
        ("$iothub/twin/res/200/?", .missingRequestID),
        ("$iothub/twin/res/200/?$rid=", .malformedTopic),
        ("$iothub/twin/res/200/?$rid=1&$rid=2", .malformedTopic),
        ("$iothub/twin/res/204/?$rid=1&$version=-1", .invalidVersion),
        ("$iothub/twin/res/204/?$rid=1&$version=99999999999999999999", .invalidVersion),
        ("$iothub/twin/PATCH/properties/desired/", .malformedTopic),
        ("$iothub/twin/PATCH/properties/desired/?", .invalidVersion),
        ("$iothub/twin/PATCH/properties/desired/?$version=", .invalidVersion),
        ("$iothub/twin/PATCH/properties/desired/?$version=1x", .invalidVersion),
        ("$iothub/methods/POST/", .malformedTopic),
        ("$iothub/methods/POST//?$rid=1", .malformedTopic),
        ("$iothub/methods/POST/name", .malformedTopic),
        ("$iothub/methods/POST/name/?x=1", .missingRequestID),
    ])
    func garbageTopics(topic: String, error: TopicError) {
        #expect(throws: error) { try classify(topic) }
    }

    /// Random topics never trap, and the prefix alone decides the kind (the rule `classify`
    /// documents): an unrelated topic is `unrecognized` and never throws; a hub prefix gives
    /// that kind or a `TopicError`; a C2D topic's properties are everything after the first
    /// `/messages/devicebound/`. Seeded: see SeededRandom.swift to replay a failure.
    @Test func randomTopicsNeverTrap() throws {
        var rng = SeededRandom()
        let pieces = ["$iothub/", "twin/", "res/", "PATCH/properties/desired/", "methods/POST/", "?", "$rid=", "$version=", "&",
                      "1", "200", "/", "devices/", "messages/devicebound/", "x", "200/?$rid=1", "?$version=7", "m/?$rid=2"]
        // Most topics start with a whole hub prefix, so that the hub kinds are reached.
        let prefixes = ["", "", "$iothub/twin/res/", "$iothub/twin/PATCH/properties/desired/", "$iothub/methods/POST/",
                        "devices/x/messages/devicebound/"]
        var kinds: Set<String> = []
        for _ in 0..<3000 {
            let topic = prefixes.randomElement(using: &rng)!
                + (0..<Int.random(in: 0..<8, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            let expected: String
            if topic.hasPrefix("devices/"), let marker = topic.range(of: "/messages/devicebound/") {
                expected = "c2d[\(topic[marker.upperBound...])]"
            } else if topic.hasPrefix("$iothub/twin/res/") {
                expected = "twin-res "
            } else if topic.hasPrefix("$iothub/twin/PATCH/properties/desired/") {
                expected = "desired "
            } else if topic.hasPrefix("$iothub/methods/POST/") {
                expected = "method "
            } else {
                expected = "unrecognized"
            }
            // `#require` ends the test at the first failing input; its seed replays it.
            switch Result(catching: { try classify(topic) }) {
            case .success(let kind):
                try #require(expected.hasSuffix(" ") ? kind.hasPrefix(expected) : kind == expected, rng.comment("\(topic) -> \(kind)"))
                kinds.insert(String(kind.prefix { $0 != " " && $0 != "[" }))
            case .failure(let error):
                try #require(expected != "unrecognized", rng.comment("\(topic) threw \(error)"))
            }
        }
        #expect(kinds.isSuperset(of: ["unrecognized", "c2d"]), rng.comment("kinds seen: \(kinds.sorted())"))
    }
}
