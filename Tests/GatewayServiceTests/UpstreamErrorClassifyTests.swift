import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import UpstreamKit

/// How transport failures are named: the gateway answers each cause differently (502, 504, or 503 for its own limit).
@Suite("Upstream error causes")
struct UpstreamErrorClassifyTests {
    @Test("no file descriptor for a new socket is the gateway's own limit, in the process or the system")
    func outOfSockets() {
        for errno in [EMFILE, ENFILE] {
            let error = HTTPClientUpstream.classify(IOError(errnoCode: errno, reason: "socket"))
            #expect(error.isOutOfSockets, "\(error)")
            #expect(!error.isTimeout)
            #expect(LoopConnectionPool.classify(IOError(errnoCode: errno, reason: "socket")).isOutOfSockets)
        }
    }

    @Test("a refused or broken connection stays the upstream's failure")
    func upstreamFailures() {
        #expect(HTTPClientUpstream.classify(IOError(errnoCode: ECONNREFUSED, reason: "connect")) == .connectionFailed(""))
        #expect(HTTPClientUpstream.classify(IOError(errnoCode: ECONNRESET, reason: "read")) == .connectionReset(""))
        #expect(!HTTPClientUpstream.classify(IOError(errnoCode: ECONNREFUSED, reason: "connect")).isOutOfSockets)
        #expect(LoopConnectionPool.classify(ChannelError.connectTimeout(.seconds(1))).isTimeout)
    }
}
