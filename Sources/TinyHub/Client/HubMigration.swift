import TinyPlatform

/// The HTTPS client's errors are `HubError` now (one error type for both protocols).
@available(*, deprecated, renamed: "HubError")
public typealias HubHTTPSError = HubError

/// The HTTPS client's options are `HubOptions` now (one options type for both protocols).
@available(*, deprecated, renamed: "HubOptions")
public typealias HubHTTPSOptions = HubOptions

/// The HTTPS client's cloud-to-device message is `CloudToDeviceMessage` now (one inbound message
/// type for both protocols; its `lockToken` is optional, nil over MQTT).
@available(*, deprecated, renamed: "CloudToDeviceMessage")
public typealias HTTPSCloudToDeviceMessage = CloudToDeviceMessage

extension CloudToDeviceMessage {
    /// The MQTT property bag, empty for a message received over HTTPS.
    @available(*, deprecated, renamed: "propertyBag", message: "optional now: nil for a message received over HTTPS")
    public var properties: UnsafeRawBufferPointer { propertyBag ?? UnsafeRawBufferPointer(start: nil, count: 0) }

    /// The decoded value of the MQTT property-bag key `name` (e.g. `"$.mid"`), written into
    /// `scratch`; nil when absent or null, and always nil for a message received over HTTPS.
    ///
    /// - Parameters:
    ///   - name: the key as it reads after decoding.
    ///   - scratch: room for the decoded name and value.
    /// - Throws: `PropertyBagError` when the bag is malformed or `scratch` too small.
    @available(*, deprecated, message: "use systemProperty(_:scratch:) or applicationProperty(_:scratch:), which read both protocols")
    public func property(_ name: StaticString, scratch: UnsafeMutableRawBufferPointer) throws(PropertyBagError) -> UnsafeRawBufferPointer? {
        guard let bag = propertyBag else { return nil }
        return try PropertyBagReader.find(name, in: bag, scratch: scratch)?.value
    }
}

/// The HTTPS client is `HubClient` over `HTTPSFace` now (one client type for both protocols, the
/// protocol chosen by the buffers: `HubHTTPSBuffers`).
@available(*, deprecated, message: "use HubClient<HTTPSFace<T, P>> (HubClient(configuration:…, buffers: HubHTTPSBuffers) makes one)")
public typealias HubHTTPSClient<T: Transport, P: Platform> = HubClient<HTTPSFace<T, P>>
