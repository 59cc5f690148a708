import TinyMQTT
import TinyPlatform

/// QoS 1 telemetry that survives a crash or a power cut: every message is written to storage the
/// application provides (and synced, by default) before its PUBLISH goes on the network, and
/// stays there until the hub acknowledged it. After a restart, the outbox over the same storage
/// sends what it holds first, with the original message ids (`$.mid`), so a back end can drop
/// the duplicates IoT Hub may deliver (it delivers at least once and does not de-duplicate).
///
/// Fixed capacity: when the storage is full, `send` refuses new messages with
/// `OutboxError.full` (back-pressure); a stored message is never dropped. Each record carries a
/// CRC-32: a record torn by a power cut is detected and not sent, never sent altered.
///
/// Use it instead of `HubClient.sendTelemetry` for the messages that must survive, and poll
/// through it:
///
/// ```swift
/// let outbox = try TelemetryOutbox(storage: file, buffers: outboxBuffers)   // recovers
/// client.start()
/// try outbox.send(payload, through: client)
/// try outbox.poll(client, timeoutMs: 1_000) { event in … }                  // client.poll + acknowledgements
/// ```
///
/// One outbox per client: create a new outbox over the same storage for a new client. Nothing
/// is allocated after `init`; a program that never names this type links none of it.
public final class TelemetryOutbox<S: OutboxStorage> {
    var log: OutboxLog<S>
    let staging: UnsafeMutableRawBufferPointer
    let inflight: UnsafeMutableBufferPointer<OutboxInflightEntry>
    var inflightStart = 0
    var inflightCount = 0
    /// The next record to hand to the session.
    var frontier: Int
    var frontierSequence: UInt64
    /// The record assembled or read last, still whole in `staging`.
    var staged: OutboxRecord? = nil
    /// Messages found in the storage at `init`, from an earlier run.
    public let recoveredCount: Int
    /// The sequence after the last recovered message.
    let recoveredEnd: UInt64

    /// Opens the outbox in `storage` and recovers what it holds (formatting it when it holds no
    /// outbox yet). Recovered messages go out, oldest first, from the first `poll` or `send`.
    ///
    /// - Parameters:
    ///   - storage: where the records are kept; the same storage on every start.
    ///   - buffers: the staging buffer and in-flight table (`OutboxBuffers.allocate`).
    ///   - options: whether each record is synced.
    /// - Throws: `OutboxError`: `invalidCapacity`, `capacityMismatch` for storage formatted with another size, `storage` when reading or formatting fails.
    public init(storage: S, buffers: OutboxBuffers, options: OutboxOptions = OutboxOptions()) throws(OutboxError) {
        guard buffers.inflight.count > 0 else { throw .invalidCapacity(0) }
        log = try OutboxLog(storage: storage, staging: buffers.staging, syncs: options.sync)
        staging = buffers.staging
        inflight = buffers.inflight
        frontier = log.tail
        frontierSequence = log.tailSequence
        recoveredCount = log.recovered
        recoveredEnd = log.headSequence
    }

    /// Messages stored and not yet acknowledged (recovered ones included).
    public var pendingCount: Int { log.count }

    /// Recovered messages not yet acknowledged.
    public var recoveredPendingCount: Int { max(0, Int(truncatingIfNeeded: Int64(bitPattern: recoveredEnd &- log.tailSequence))) }

    /// Every message with a smaller sequence number (as `send` returned it) is acknowledged.
    public var acknowledgedThrough: UInt64 { log.tailSequence }

    /// Stores a QoS 1 telemetry message (syncing it, by default), then hands it to the client's
    /// session once the messages stored before it are (at once when the window has room; they go
    /// on the network when connected). Without `system.messageID` the outbox gives the message a
    /// random 16-hex-digit id, kept with it across restarts. Returns its sequence number.
    ///
    /// Throws `full` when the storage has no room until acknowledgements free some (nothing was
    /// stored: send it again after a `poll`), `messageTooLarge` when the record exceeds the store
    /// or the staging buffer, or its PUBLISH the session's in-flight arena (nothing stored either).
    ///
    /// - Parameters:
    ///   - payload: the message body.
    ///   - system: the system properties (message id, content type...).
    ///   - properties: the application properties.
    ///   - client: the hub client the message goes out through.
    /// - Returns: the message's sequence number in the outbox.
    /// - Throws: `OutboxError`: `full`, `messageTooLarge`, `storage` when writing fails, `hub` when the client refuses it.
    @discardableResult
    public func send<T, P>(_ payload: UnsafeRawBufferPointer, system: TelemetrySystemProperties = TelemetrySystemProperties(),
                           properties: UnsafeBufferPointer<MessageProperty> = UnsafeBufferPointer(start: nil, count: 0),
                           through client: HubClient<MQTTFace<T, P>>) throws(OutboxError) -> UInt64 {
        let face = client.face
        var system = system
        var generated: (UInt64, UInt64) = (0, 0)
        let record = try withUnsafeMutableBytes(of: &generated) { (id) throws(OutboxError) -> OutboxRecord in
            if system.messageID == nil {
                Self.randomID(into: id, face.platform)
                system.messageID = UnsafeRawBufferPointer(id)
            }
            let topic: (bagStart: Int, end: Int)
            do throws(HubError) {
                topic = try face.writeTelemetryTopic(payloadCount: payload.count, system: system, properties: properties)
            } catch {
                throw .hub(error)
            }
            // A stored message the session could never queue would block every one after it. It is
            // sent from the topic buffer's scratch space, after the ready telemetry topic.
            let scratch = face.topicScratch().count
            guard topic.end <= scratch else { throw .messageTooLarge(size: topic.end, limit: scratch) }
            let packet = MQTTEncoder.publishSize(topicLength: topic.end, payloadLength: payload.count, qos: .atLeastOnce)
            guard packet <= face.session.largestQueuedPublish else {
                throw .messageTooLarge(size: packet, limit: face.session.largestQueuedPublish)
            }
            staged = nil
            return try log.append(bag: UnsafeRawBufferPointer(rebasing: face.topicBuffer[topic.bagStart..<topic.end]),
                                  payload: payload, staging: staging)
        }
        staged = record
        try publishStored(face)
        return record.sequence
    }

    /// Notes an acknowledgement of one of the outbox's messages; returns whether it was one.
    /// `poll` calls it for every event; call it yourself when you poll the client directly.
    ///
    /// - Parameter event: an event from `HubClient.poll`.
    /// - Returns: whether it acknowledged one of the outbox's messages.
    @discardableResult
    public func handle(_ event: HubEvent) -> Bool {
        guard case .telemetryAcknowledged(let id) = event else { return false }
        var index = inflightStart
        var found = false
        for _ in 0..<inflightCount {
            if inflight[index].packetID == id, !inflight[index].acknowledged {
                inflight[index].acknowledged = true
                found = true
                break
            }
            index = index + 1 == inflight.count ? 0 : index + 1
        }
        while inflightCount > 0, inflight[inflightStart].acknowledged {
            log.releaseOldest(end: Int(inflight[inflightStart].end))
            inflightStart = inflightStart + 1 == inflight.count ? 0 : inflightStart + 1
            inflightCount -= 1
        }
        return found
    }

    /// Writes the acknowledged-up-to marker when acknowledgements moved it (one small write and
    /// a sync), then hands stored messages to the session while its window has room. `poll`
    /// calls it before and after polling the client.
    ///
    /// - Parameter client: the hub client the outbox sends through.
    /// - Throws: `OutboxError`: `storage` when the marker cannot be written, `hub` when the session refuses a stored message.
    public func update<T, P>(_ client: HubClient<MQTTFace<T, P>>) throws(OutboxError) {
        if log.checkpointBehind {
            do throws(StorageError) { try log.writeCheckpoint() } catch { throw .storage(error) }
        }
        try publishStored(client.face)
    }

    /// Polls `client` (see `HubClient.poll`), noting the acknowledgements of the outbox's messages
    /// and keeping the session's window filled with stored ones. Every event goes on to `handler`.
    ///
    /// - Parameters:
    ///   - client: the hub client the outbox sends through.
    ///   - timeoutMs: the longest the call waits for events.
    ///   - handler: receives every event.
    /// - Throws: `OutboxError`: `hub` with the client's error, `storage` when the marker cannot be written.
    public func poll<T, P>(_ client: HubClient<MQTTFace<T, P>>, timeoutMs: UInt32, _ handler: (HubEvent) -> Void) throws(OutboxError) {
        try update(client)
        do throws(HubError) {
            // As in `MQTTFace.poll`: no retain and release of `self` on every path of the client's poll.
            let outbox = Unmanaged.passUnretained(self)
            try client.poll(timeoutMs: timeoutMs) { event in
                _ = outbox._withUnsafeGuaranteedRef { $0.handle(event) }
                handler(event)
            }
        } catch {
            throw .hub(error)
        }
        try update(client)
    }

    /// Hands stored messages to the session, oldest first, until the window or the table of
    /// messages in flight is full.
    private func publishStored<T, P>(_ client: MQTTFace<T, P>) throws(OutboxError) {
        while frontierSequence != log.headSequence, inflightCount < inflight.count {
            let record: OutboxRecord
            if let staged, staged.sequence == frontierSequence {
                record = staged
            } else {
                staged = nil
                let found: OutboxRead
                do { found = try log.read(at: frontier, sequence: frontierSequence, into: staging) } catch { throw .storage(error) }
                guard case .record(let read) = found else { throw .corrupted }
                record = read
                staged = read
            }
            let scratch = client.topicScratch()
            let prefix: Int
            do throws(HubError) { prefix = try client.writeTelemetryPrefix(into: scratch) } catch { throw .hub(error) }
            let topicEnd = prefix + record.bagLength
            guard topicEnd <= scratch.count else { throw .messageTooLarge(size: topicEnd, limit: scratch.count) }
            let bagStart = OutboxFormat.headerBytes
            UnsafeMutableRawBufferPointer(rebasing: scratch[prefix..<topicEnd])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: staging[bagStart..<(bagStart + record.bagLength)]))
            let payloadStart = bagStart + record.bagLength
            let id: UInt16
            do throws(MQTTError) {
                id = try client.session.publish(topic: UnsafeRawBufferPointer(rebasing: scratch[0..<topicEnd]),
                                                payload: UnsafeRawBufferPointer(rebasing: staging[payloadStart..<(payloadStart + record.payloadLength)]),
                                                qos: .atLeastOnce)
            } catch {
                // The rest wait on storage: for acknowledgements, or for the client's poll to report
                // why the session stopped.
                if case .inflightWindowFull = error { return }
                if case .notConnected = error { return }
                throw .hub(HubError(error))
            }
            let slot = (inflightStart + inflightCount) % inflight.count
            inflight[slot] = OutboxInflightEntry()
            inflight[slot].packetID = id
            inflight[slot].end = UInt32(record.end)
            inflightCount += 1
            frontier = record.end
            frontierSequence &+= 1
        }
    }

    /// 16 lowercase hex digits from the platform's random source.
    private static func randomID<Q: Platform>(into bytes: UnsafeMutableRawBufferPointer, _ platform: Q) {
        let digits: StaticString = "0123456789abcdef"
        for half in 0..<2 {
            let value = platform.random32()
            for i in 0..<8 { bytes[half * 8 + i] = digits.utf8Start[Int((value >> UInt32(28 - 4 * i)) & 0xF)] }
        }
    }
}
