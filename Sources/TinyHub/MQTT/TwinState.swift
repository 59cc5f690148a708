/// Twin requests awaiting their answer, and the last desired version seen.
struct TwinState {
    enum Kind: UInt8 { case get, reportedPatch } // raw values: no Hashable witness pulling arc4random into Embedded builds

    struct Pending {
        var requestID: UInt32 = 0 // 0: free
        var kind = Kind.get
        var deadlineMs: UInt64 = 0
    }

    var pending = InlineArray<4, Pending>(repeating: Pending())
    var nextRequestID: UInt32 = 0
    var lastDesiredVersion: Int64? = nil

    /// Registers a request; nil when all slots are busy.
    mutating func begin(_ kind: Kind, deadlineMs: UInt64) -> UInt32? {
        for i in pending.indices where pending[i].requestID == 0 {
            nextRequestID = nextRequestID == UInt32.max ? 1 : nextRequestID + 1
            pending[i] = Pending(requestID: nextRequestID, kind: kind, deadlineMs: deadlineMs)
            return nextRequestID
        }
        return nil
    }

    /// Removes and returns the request with this id.
    mutating func finish(_ requestID: UInt32) -> Pending? {
        for i in pending.indices where pending[i].requestID == requestID && requestID != 0 {
            let found = pending[i]
            pending[i] = Pending()
            return found
        }
        return nil
    }
}
