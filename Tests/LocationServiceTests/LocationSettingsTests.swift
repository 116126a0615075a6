import CityscapeKit
import CityscapeTestSupport
import Testing

@testable import LocationService

/// The location service's settings are declared once; `--help`, the option properties and the README follow.
@Suite("Location settings: declarations, --help and the README agree")
struct LocationSettingsTests {
    static let declared = ServerSettings.documents(of: LocationIdentity.self) + LocationSettings.all

    @Test("every flag in --help has its declaration, with the declared text, and every declaration its flag")
    func help() {
        #expect(SettingsChecks.helpProblems(of: LocationMain.self, declared: Self.declared) == [])
    }

    @Test("every option reaches its own setting")
    func routing() throws {
        #expect(try SettingsChecks.routingProblems(LocationMain.self, declared: Self.declared) { $0.configValues } == [])
    }

    @Test("the README's location table is the one the declarations produce")
    func readme() throws {
        let rendered = SettingsChecks.section("Location only (default port \(LocationIdentity.defaultPort)):", LocationSettings.all)
        let problem = try SettingsChecks.readmeProblem(block: "location", rendered: rendered)
        #expect(problem == nil, "\(problem ?? "")")
    }
}
