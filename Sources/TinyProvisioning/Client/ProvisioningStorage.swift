import TinyHub
import TinyMQTT
import TinyPlatform

/// All memory a `ProvisioningClient` uses: one block allocated at init, carved into regions.
struct ProvisioningStorage {
    /// Longest assigned hub host name kept (DNS names are at most 253 bytes).
    static let maxHubLength = 256
    /// Longest device id kept (IoT Hub allows 128).
    static let maxDeviceIDLength = 128
    /// The SAS token: `SharedAccessSignature sr=` + resource (at most 128 + 19 + 128) +
    /// `&sig=` + the signature (at most 3 x 44 encoded) + `&se=` + 20 digits + `&skn=registration`.
    static let tokenBytes = 512
    /// The user name: both ids, the api-version and the client version.
    static let userNameBytes = 384
    /// Request topics (`…/iotdps-get-operationstatus/?$rid=…&operationId=…` with a 128-byte id).
    static let topicBytes = 256

    let block: UnsafeMutableRawBufferPointer
    let mqtt: MQTTBuffers
    let userName: UnsafeMutableRawBufferPointer
    let token: UnsafeMutableRawBufferPointer
    let deviceKey: UnsafeMutableRawBufferPointer
    let topic: UnsafeMutableRawBufferPointer
    let body: UnsafeMutableRawBufferPointer
    let operationID: UnsafeMutableRawBufferPointer
    let assignedHub: UnsafeMutableRawBufferPointer
    let deviceID: UnsafeMutableRawBufferPointer

    /// Sizes every region from `options`; nil when the block cannot be allocated.
    init?(options: ProvisioningOptions) {
        let bodyBytes = 48 + ProvisioningIdentity.maxIDLength + max(0, min(options.maxPayloadBytes, RegistrationResponse.maxBodySize))
        let publish = MQTTEncoder.publishSize(topicLength: Self.topicBytes, payloadLength: bodyBytes, qos: .atLeastOnce)
        // CONNECT: client id, user name and token, each with its length prefix, plus the header.
        let transmit = 64 + ProvisioningIdentity.maxIDLength + Self.userNameBytes + Self.tokenBytes
        let receive = max(256, min(options.maxAnswerBytes, 1 << 20))
        let slots = 2
        var layout = Layout()
        let transmitAt = layout.add(transmit), receiveAt = layout.add(receive), arenaAt = layout.add(publish * slots)
        let slotsAt = layout.add(MemoryLayout<MQTTInflightSlot>.stride * slots)
        let userNameAt = layout.add(Self.userNameBytes), tokenAt = layout.add(Self.tokenBytes)
        let keyAt = layout.add(SASToken.maxKeyTextLength), topicAt = layout.add(Self.topicBytes)
        let bodyAt = layout.add(bodyBytes), operationAt = layout.add(ProvisioningTopics.maxOperationIDLength)
        let hubAt = layout.add(Self.maxHubLength), deviceAt = layout.add(Self.maxDeviceIDLength)
        // Embedded Swift's allocate returns null when memory ran out: checked, never used.
        guard let base = UnsafeMutableRawBufferPointer.allocate(byteCount: layout.total, alignment: 8).baseAddress else {
            return nil
        }
        block = UnsafeMutableRawBufferPointer(start: base, count: layout.total)
        block.initializeMemory(as: UInt8.self, repeating: 0)
        func region(_ at: (offset: Int, count: Int)) -> UnsafeMutableRawBufferPointer {
            UnsafeMutableRawBufferPointer(start: base + at.offset, count: at.count)
        }
        let slotRegion = UnsafeMutableBufferPointer(start: (base + slotsAt.offset).bindMemory(to: MQTTInflightSlot.self, capacity: slots),
                                                    count: slots)
        slotRegion.initialize(repeating: MQTTInflightSlot())
        mqtt = MQTTBuffers(transmit: region(transmitAt), receive: region(receiveAt), inflightArena: region(arenaAt),
                           inflightSlots: slotRegion)
        userName = region(userNameAt)
        token = region(tokenAt)
        deviceKey = region(keyAt)
        topic = region(topicAt)
        body = region(bodyAt)
        operationID = region(operationAt)
        assignedHub = region(hubAt)
        deviceID = region(deviceAt)
    }

    /// Offsets of the regions in the block, each 8-byte aligned.
    private struct Layout {
        var total = 0
        mutating func add(_ count: Int) -> (offset: Int, count: Int) {
            let at = total
            total += (count + 7) & ~7
            return (at, count)
        }
    }

    /// Wipes the secrets a registration leaves behind: the token and the CONNECT packet that
    /// carried it (the device key stays: it is part of the assignment).
    func wipeToken() {
        zeroize(token)
        zeroize(mqtt.transmit)
    }

    /// Wipes everything and frees the block.
    func deallocate() {
        zeroize(block)
        block.baseAddress?.deallocate()
    }
}
