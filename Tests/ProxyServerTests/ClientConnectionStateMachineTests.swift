import Testing

@testable import ProxyServer

/// The client connection's machine, without sockets: every event in every state.
@Suite("Client connection state machine")
struct ClientConnectionStateMachineTests {
    typealias Machine = ClientConnectionStateMachine

    @Test("accepting sets the idle deadline, or one header timeout over the connection limit")
    func accepted() {
        #expect(Machine(overCapacity: false).accepted() == .setDeadline(.idle))
        #expect(Machine(overCapacity: true).accepted() == .setDeadline(.overCapacity))
    }

    @Test("a head that starts to arrive gets the header deadline once; over the limit the accept deadline bounds it")
    func headIncomplete() {
        var machine = Machine(overCapacity: false)
        #expect(machine.headIncomplete() == .setDeadline(.header))
        #expect(machine.state == .readingHead)
        #expect(machine.headIncomplete() == .none)
        var over = Machine(overCapacity: true)
        #expect(over.headIncomplete() == .none)
        #expect(over.state == .readingHead)
    }

    @Test("a request without a body clears the deadline; with one, each read moves the body deadline until it ends")
    func bodyDeadline() {
        var machine = Machine(overCapacity: false)
        #expect(machine.bytesRead() == .none)
        #expect(machine.headReceived(hasBody: true) == .setDeadline(.body))
        #expect(machine.state == .exchange(readingBody: true))
        #expect(machine.bytesRead() == .setDeadline(.body))
        #expect(machine.bodyEnded() == .clearDeadline)
        #expect(machine.bytesRead() == .none)
        #expect(machine.bodyEnded() == .none)
        var noBody = Machine(overCapacity: false)
        #expect(noBody.headReceived(hasBody: false) == .clearDeadline)
        #expect(noBody.state == .exchange(readingBody: false))
    }

    @Test("a finished exchange goes back to idle: idle deadline, none with a pipelined request, the grace when quiescing")
    func exchangeFinished() {
        var machine = Machine(overCapacity: false)
        _ = machine.headReceived(hasBody: false)
        #expect(machine.exchangeFinished(pendingBytes: false) == .setDeadline(.idle))
        #expect(machine.state == .idle)
        #expect(machine.exchangeFinished(pendingBytes: false) == .none)
        _ = machine.headReceived(hasBody: false)
        #expect(machine.exchangeFinished(pendingBytes: true) == .none)
        _ = machine.headReceived(hasBody: false)
        #expect(machine.quiesce(pendingBytes: false) == .closeAfterResponse)
        #expect(machine.exchangeFinished(pendingBytes: false) == .setDeadline(.grace))
    }

    @Test(
        "quiesce: idle gets the grace, busy closes after its response, a head in progress keeps its deadline; only once",
        arguments: [
            (Machine.State.idle, false, Machine.Action.setDeadline(.grace)),
            (.idle, true, .none),
            (.readingHead, true, .none),
            (.exchange(readingBody: false), false, .closeAfterResponse),
            (.exchange(readingBody: true), true, .closeAfterResponse),
        ]
    )
    func quiesce(state: Machine.State, pending: Bool, expected: Machine.Action) {
        var machine = Self.machine(in: state)
        #expect(machine.quiesce(pendingBytes: pending) == expected)
        #expect(machine.quiescing)
        #expect(machine.quiesce(pendingBytes: pending) == .none)
    }

    @Test("quiesce after closing does nothing")
    func quiesceWhenClosing() {
        var machine = Machine(overCapacity: false)
        machine.closingAfterAnswer()
        #expect(machine.quiesce(pendingBytes: false) == .none)
        #expect(!machine.quiescing)
        machine.closed()
        #expect(machine.quiesce(pendingBytes: false) == .none)
    }

    @Test(
        "deadlines: a late head is answered 408, a late body closes and is counted, the others close",
        arguments: [
            (Machine.State.readingHead, Machine.Deadline.header, Machine.Action.answerHeaderTimeoutAndClose),
            (.exchange(readingBody: false), .header, .close),
            (.exchange(readingBody: true), .body, .closeOnBodyTimeout),
            (.idle, .idle, .close),
            (.idle, .grace, .close),
            (.readingHead, .overCapacity, .close),
        ]
    )
    func deadlines(state: Machine.State, deadline: Machine.Deadline, expected: Machine.Action) {
        var machine = Self.machine(in: state)
        #expect(machine.deadlinePassed(deadline) == expected)
        #expect(machine.state == .closing)
        #expect(!machine.isOpen)
        #expect(machine.deadlinePassed(deadline) == .none)
    }

    @Test("closing: an answer that ends the connection stops reading; close is asked once; a closed socket is final")
    func closing() {
        var machine = Machine(overCapacity: false)
        #expect(machine.isOpen)
        machine.closingAfterAnswer()
        #expect(machine.state == .closing)
        #expect(machine.headReceived(hasBody: false) == .none)
        #expect(machine.closeRequested() == .close)
        machine.closed()
        #expect(machine.state == .closed)
        #expect(machine.closeRequested() == .none)
        machine.closingAfterAnswer()
        #expect(machine.state == .closed)
        #expect(machine.headIncomplete() == .none)
    }

    static func machine(in state: Machine.State) -> Machine {
        var machine = Machine(overCapacity: false)
        switch state {
        case .idle: break
        case .readingHead: _ = machine.headIncomplete()
        case .exchange(let readingBody): _ = machine.headReceived(hasBody: readingBody)
        case .closing: machine.closingAfterAnswer()
        case .closed: machine.closed()
        }
        #expect(machine.state == state)
        return machine
    }
}
