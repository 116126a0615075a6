import CityscapeKit
import CityscapeTestSupport
import Testing

@testable import SunService

/// The sun service has only the shared settings; its `--help` and the README's sun line follow them.
@Suite("Sun settings: declarations, --help and the README agree")
struct SunSettingsTests {
    static let declared = ServerSettings.documents(of: SunIdentity.self)

    @Test("every flag in --help has its declaration, with the declared text, and every declaration its flag")
    func help() {
        #expect(SettingsChecks.helpProblems(of: SunMain.self, declared: Self.declared) == [])
    }

    @Test("every option reaches its own setting")
    func routing() throws {
        #expect(try SettingsChecks.routingProblems(SunMain.self, declared: Self.declared) { $0.server.configValues } == [])
    }

    @Test("the README's sun line is the one the declarations produce")
    func readme() throws {
        let rendered = SettingsChecks.section("Sun (default port \(SunIdentity.defaultPort)): the shared settings only.", [])
        let problem = try SettingsChecks.readmeProblem(block: "sun", rendered: rendered)
        #expect(problem == nil, "\(problem ?? "")")
    }
}
