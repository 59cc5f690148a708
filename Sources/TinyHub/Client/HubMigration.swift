/// The HTTPS client's errors are `HubError` now (one error type for both protocols).
@available(*, deprecated, renamed: "HubError")
public typealias HubHTTPSError = HubError

/// The HTTPS client's options are `HubOptions` now (one options type for both protocols).
@available(*, deprecated, renamed: "HubOptions")
public typealias HubHTTPSOptions = HubOptions
