import Testing
@testable import TinyHub
import TinyPlatform

/// The 25-minute rule, simulated over a day with a fake clock and a fake server.
@Suite struct HTTPSPollingTests {
    static let day: UInt64 = 86_400_000
    static let floor: UInt64 = 1_500_000

    /// Runs an impatient application for 24 h: it calls `pollCloudToDevice` every 10 s.
    /// The fake server answers GETs from `script` (by GET number), everything else 204.
    /// Returns the GET requests.
    func simulateDay(_ f: FakeClient, script: @escaping (Int) -> FakeHTTPTransport.Action) -> [FakeHTTPTransport.Request] {
        var getNumber = 0
        f.transport.respond = { request in
            guard request.method == "GET" else { return .reply(Canned.empty) }
            getNumber += 1
            return script(getNumber)
        }
        let start = f.clock.nowMs
        while f.clock.nowMs < start + Self.day {
            _ = try? f.client.pollCloudToDevice { _ in .complete }
            f.clock.advance(seconds: 10)
        }
        return f.transport.gets.filter { $0.atMs < start + Self.day }
    }

    /// Checks that GET cycles (a GET that is not a drain GET right after a 200 at the same
    /// instant) are at least `floor` apart.
    func expectFloor(_ gets: [FakeHTTPTransport.Request], _ floor: UInt64 = floor) {
        for (previous, next) in zip(gets, gets.dropFirst()) where next.atMs != previous.atMs {
            #expect(next.atMs - previous.atMs >= floor, "GET at \(next.atMs) only \(next.atMs - previous.atMs) ms after \(previous.atMs)")
        }
    }

    @Test func oneDayAtDefaultsWithErrorsAndReconnects() throws {
        let f = try FakeClient()
        let gets = simulateDay(f) { n in
            switch n {
            case 3: return .reply(Canned.status(429, retryAfter: 30))    // shorter than the floor: floor wins
            case 5: return .reply(Canned.status(503, retryAfter: 3_000)) // longer than the floor: Retry-After wins
            case 7: return .die                                            // stale connection: resent once...
            case 8: return .die                                            // ...and dead again: the cycle fails
            case 10: return .reply(Canned.status(500))
            case 12: return .reply(Canned.status(401))                    // one auth failure, then fine
            case 14: return .reply(Canned.status(204, close: true))      // server closes: reconnect
            default: return .reply(Canned.empty)
            }
        }
        #expect(gets.count <= 58)
        #expect(gets.count >= 50)
        expectFloor(gets)
        // After the 503 (GET 5) the next GET waits the full Retry-After.
        #expect(gets[5].atMs - gets[4].atMs >= 3_000_000)
        #expect(f.transport.opens >= 3)
        #expect(f.log.lines.isEmpty)
        print("simulated day at defaults: \(gets.count) GETs in \(Set(gets.map(\.atMs)).count) poll cycles, \(f.transport.opens) connections")
    }

    @Test func oneDayQuietQueueIsAtMost58Gets() throws {
        let f = try FakeClient()
        let gets = simulateDay(f) { _ in .reply(Canned.empty) }
        #expect(gets.count == 58)  // t = 0, 1500 s, ..., 85 500 s
        expectFloor(gets)
        #expect(f.transport.opens == 1)
    }

    @Test func waitingMessagesAreDrainedWithinACycleUpToTheBound() throws {
        let f = try FakeClient()
        var queued = 120
        let gets = simulateDay(f) { _ in
            guard queued > 0 else { return .reply(Canned.empty) }
            queued -= 1
            return .reply(Canned.message("lock-\(queued)", "m\(queued)"))
        }
        // Cycle 1: 50 messages (the bound), cycle 2: 50, cycle 3: 20 + the empty answer.
        let times = gets.map(\.atMs)
        #expect(times.filter { $0 == times[0] }.count == 50)
        #expect(queued == 0)
        let cycleStarts = Set(times).count
        #expect(cycleStarts <= 58)
        expectFloor(gets)
        let deletes = f.transport.requests.filter { $0.method == "DELETE" }
        #expect(deletes.count == 120)
        #expect(deletes.first?.head.contains("If-Match: \"lock-119\"") == true)
    }

    @Test func authFailuresStopPollingInsteadOfRetryingForever() throws {
        let f = try FakeClient()
        let gets = simulateDay(f) { _ in .reply(Canned.status(401)) }
        #expect(gets.count == 3)
        #expect(f.log.lines.count == 1)
        expectFloor(gets)
    }

    @Test func developmentModeIsFasterAndLogsOnce() throws {
        var options = HubOptions()
        options.polling = .development(intervalSeconds: 60)
        let f = try FakeClient(options: options)
        #expect(f.log.lines.count == 1)
        #expect(f.log.lines.first?.contains("development") == true)
        let gets = simulateDay(f) { _ in .reply(Canned.empty) }
        #expect(gets.count == 1_440)
        expectFloor(gets, 60_000)
        #expect(f.log.lines.count == 1)
    }

    @Test func productionIntervalCannotGoBelowTheFloor() {
        #expect(C2DPollingPolicy.production(intervalSeconds: 10).intervalSeconds == 1_500)
        #expect(C2DPollingPolicy.production(intervalSeconds: 3_600).intervalSeconds == 3_600)
        #expect(C2DPollingPolicy.default.intervalSeconds == 1_500)
        #expect(!C2DPollingPolicy.default.isDevelopment)
        var policy = C2DPollingPolicy.default
        policy.maxMessagesPerCycle = 500
        #expect(policy.maxMessagesPerCycle == 50)
    }

    @Test func receiveBetweenCyclesSendsNothing() throws {
        let f = try FakeClient()
        #expect(try f.client.receive() == nil)
        f.clock.advance(seconds: 1_499)
        let early = #expect(throws: HubError.self) { _ = try f.client.receive() }
        guard case .pollTooSoon(remainingMs: 1_000)? = early else { Issue.record("\(String(describing: early))"); return }
        #expect(f.client.nextPollInMs == 1_000)
        f.clock.advance(seconds: 1)
        #expect(try f.client.receive() == nil)
        #expect(f.transport.gets.count == 2)
        #expect(f.client.pollCyclesStarted == 2)
    }
}
