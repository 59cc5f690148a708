import TinyPlatform

/// The device identity both faces (MQTT and HTTPS) share: a private copy of the connection
/// string, parsed; derived values the face stores after it (client id, user name...); and
/// the SAS token minted from the key, renewed once a share of its lifetime has passed.
///
/// Layout of the caller's identity buffer: `[connection string][derived values][token]`.
struct HubCredentials {
    /// The parsed connection string (slices into the identity buffer).
    let connection: ConnectionString
    /// Signs the tokens: the `CryptoProvider` the client was made with.
    private let crypto: StoredCrypto
    private let storage: UnsafeMutableRawBufferPointer
    private var free: Int
    private var tokenRange = 0..<0
    /// Expiry of the current token, Unix seconds (0 before the first one, and with X.509).
    private(set) var expiry: Int64 = 0
    private var renewAt = Int64.max

    /// Copies `text` into `storage` and parses it there, so the caller's bytes may go away;
    /// tokens will be signed with `crypto`.
    init<C: CryptoProvider>(copying text: UnsafeRawBufferPointer, into storage: UnsafeMutableRawBufferPointer,
                            crypto: C) throws(HubCredentialsError) {
        guard text.count < storage.count else { throw .bufferTooSmall(needed: text.count + 256) }
        UnsafeMutableRawBufferPointer(rebasing: storage[0..<text.count]).copyMemory(from: text)
        do {
            connection = try ConnectionString.parse(UnsafeRawBufferPointer(rebasing: storage[0..<text.count]))
        } catch {
            zeroize(storage)
            throw .connectionString(error)
        }
        self.storage = storage
        self.crypto = StoredCrypto(crypto)
        free = text.count
    }

    /// Takes the text of `configuration` into `storage` (copied, unless `storage` is where the
    /// configuration keeps it) with its fields moved along: nothing is parsed again.
    /// Tokens will be signed with `crypto`.
    init(_ configuration: HubConfiguration, in storage: UnsafeMutableRawBufferPointer,
         crypto: StoredCrypto) throws(HubCredentialsError) {
        let text = configuration.text
        guard text.count < storage.count else {
            zeroize(storage) // it may be the configuration's own storage: no key left behind
            throw .bufferTooSmall(needed: text.count + 256)
        }
        let target = UnsafeMutableRawBufferPointer(rebasing: storage[0..<text.count])
        if text.baseAddress != UnsafeRawPointer(target.baseAddress) { target.copyMemory(from: text) }
        connection = configuration.connectionString.moved(to: UnsafeRawBufferPointer(target))
        self.storage = storage
        self.crypto = crypto
        free = text.count
    }

    /// The free space after the values written so far: a derived value (client id, user name...)
    /// is written here, then kept with `keep`.
    @inline(__always) // a call would copy the whole credentials out of the face to make it
    var freeSpace: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(rebasing: storage[free...]) }

    /// Keeps the `length` bytes just written at the start of `freeSpace`; returns where they are.
    mutating func keep(_ length: Int) -> Range<Int> {
        defer { free += length }
        return free..<(free + length)
    }

    /// Bytes of a range returned by `keep` (or of the token).
    func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[range]) }

    /// The current SAS token (empty before `renew` and with X.509).
    var token: UnsafeRawBufferPointer { bytes(tokenRange) }

    /// Bytes used so far, for error messages about a too-small buffer.
    var used: Int { free }

    /// Whether the token is due for renewal at wall-clock `now`.
    func needsRenewal(now: Int64) -> Bool { !connection.usesX509 && renewAt != .max && now >= renewAt }

    /// Overwrites the whole identity buffer (connection string, key, derived values, token)
    /// with zeros that the optimiser cannot drop. The credentials are unusable afterwards.
    func wipe() { zeroize(storage) }

    /// Forces a renewal before the next use (e.g. after a 401: the clock may have been fixed).
    mutating func invalidate() { renewAt = 0 }

    /// 2^40 s, about the year 36,800: later wall clocks are garbage, not time.
    static let latestPlausibleTime: Int64 = 1 << 40

    /// Mints a token valid for `lifetime` seconds (at least 5) from `now`, to be renewed after
    /// `renewPercent` % of it (clamped to 10...95).
    mutating func renew(now: Int64, lifetime: UInt32, renewPercent: UInt32) throws(HubCredentialsError) {
        let seconds = Int64(max(lifetime, 5))
        // A clock far off either way (never set, or garbage) must not trap: clamp to the
        // range an expiry can take.
        let newExpiry = min(max(now, 0), Self.latestPlausibleTime) + seconds
        let length: Int
        let tokenSpace = UnsafeMutableRawBufferPointer(rebasing: storage[free...])
        zeroize(tokenSpace) // no tail of the previous token outlives it
        do {
            length = try SASToken.write(for: connection, expiry: UInt64(newExpiry), crypto: crypto, into: tokenSpace)
        } catch {
            zeroize(tokenSpace)
            tokenRange = free..<free
            if case .bufferTooSmall(let needed) = error { throw .bufferTooSmall(needed: free + needed) }
            throw .sasToken(error)
        }
        tokenRange = free..<(free + length)
        expiry = newExpiry
        // Past the clamp the clock is nonsense: renewing on every poll would not mend it.
        renewAt = now > Self.latestPlausibleTime ? Int64.max
            : newExpiry - seconds + seconds * Int64(min(max(renewPercent, 10), 95)) / 100
    }
}

/// Why the identity could not be set up; each face maps it into its own error enum.
enum HubCredentialsError: Error {
    case connectionString(ConnectionStringError)
    case sasToken(SASTokenError)
    case bufferTooSmall(needed: Int)
}
