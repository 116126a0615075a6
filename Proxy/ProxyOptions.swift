import ArgumentParser
import CityscapeKit
import Configuration

/// The proxy's own flags; each line binds a declaration of `ProxySettings` (the flag is named after the
/// property). Values stay strings and are validated by `ProxyConfiguration`, so flags and environment
/// variables get the same messages.
struct ProxyOptions: ParsableArguments {
    @Option(help: ProxySettings.backends.help) var backend: [String] = []
    @Option(help: ProxySettings.backendsFile.help) var backendsFile: String?
    @Option(help: ProxySettings.balance.help) var balance: String?
    @Option(help: ProxySettings.slowStart.help) var slowStart: String?
    @Option(help: ProxySettings.outlierLatency.help) var outlierLatency: String?
    @Option(help: ProxySettings.admin.help) var admin: String?
    @Option(help: ProxySettings.healthPath.help) var healthPath: String?
    @Option(help: ProxySettings.healthInterval.help) var healthInterval: String?
    @Option(help: ProxySettings.rise.help) var rise: String?
    @Option(help: ProxySettings.fall.help) var fall: String?
    @Option(help: ProxySettings.retries.help) var retries: String?
    @Option(help: ProxySettings.connectTimeout.help) var connectTimeout: String?
    @Option(help: ProxySettings.backendTimeout.help) var backendTimeout: String?
    @Option(help: ProxySettings.poolSize.help) var poolSize: String?
    @Option(help: ProxySettings.maxHeaderBytes.help) var maxHeaderBytes: String?
    @Option(help: ProxySettings.maxBodyBytes.help) var maxBodyBytes: String?
    @Option(help: ProxySettings.idleTimeout.help) var idleTimeout: String?
    @Option(help: ProxySettings.headerTimeout.help) var headerTimeout: String?
    @Option(help: ProxySettings.bodyTimeout.help) var bodyTimeout: String?

    init() {}

    /// The values given on the command line, for the provider that sits before the environment.
    var configValues: [AbsoluteConfigKey: ConfigValue] { commandLineValues(declared: ProxySettings.all) }
}
