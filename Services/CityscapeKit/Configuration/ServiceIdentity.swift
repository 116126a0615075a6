/// What distinguishes one Cityscape executable from another at start-up: its name and default port.
///
/// Used as a generic parameter so that `--help` of each binary prints its own defaults.
public protocol ServiceIdentity: Sendable {
    /// The binary name, also the logger label and the `service` field of `/healthz`.
    static var name: String { get }
    /// The port used when neither `--port` nor `CITYSCAPE_PORT` is given.
    static var defaultPort: Int { get }
}
