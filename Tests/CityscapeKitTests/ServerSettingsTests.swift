import CityscapeKit
import CityscapeTestSupport
import Testing

/// The shared settings' README table; each binary's own suite checks them against its `--help`.
@Suite("Shared settings: the README agrees with the declarations")
struct ServerSettingsTests {
    @Test("the README's shared table is the one the shared declarations produce")
    func readme() throws {
        let problem = try SettingsChecks.readmeProblem(block: "shared", rendered: SettingsTable.markdown(ServerSettings.all))
        #expect(problem == nil, "\(problem ?? "")")
    }

    @Test("each binary shows its own default port and otherwise the shared declarations")
    func portPerBinary() {
        enum Example: ServiceIdentity {
            static let name = "example"
            static let defaultPort = 8123
        }
        let documents = ServerSettings.documents(of: Example.self)
        #expect(documents.map(\.setting) == ServerSettings.all.map(\.setting))
        #expect(documents[1].helpText == "Port to listen on; 0 picks a free port (env CITYSCAPE_PORT, default 8123).")
        #expect(Array(documents[2...]) == Array(ServerSettings.all[2...]))
    }
}
