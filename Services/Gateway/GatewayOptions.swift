import ArgumentParser
import CityscapeKit
import Configuration

/// The gateway's own flags; each line binds a declaration of `GatewaySettings` (the flag is named after the
/// property). Values stay strings and are validated by `GatewayConfiguration`, like the shared ones.
struct GatewayOptions: ParsableArguments {
    @Option(help: GatewaySettings.mode.help) var mode: String?
    @Option(help: GatewaySettings.workers.help) var workers: String?
    @Option(help: GatewaySettings.queueLimit.help) var queueLimit: String?
    @Option(help: GatewaySettings.maxInFlight.help) var maxInFlight: String?
    @Option(help: GatewaySettings.maxInFlightCeiling.help) var maxInFlightCeiling: String?
    @Option(help: GatewaySettings.locationURL.help) var locationUrl: String?
    @Option(help: GatewaySettings.sunURL.help) var sunUrl: String?
    @Option(help: GatewaySettings.caFile.help) var caFile: String?
    @Option(help: GatewaySettings.upstreamTimeout.help) var upstreamTimeout: String?
    @Option(help: GatewaySettings.cacheTTL.help) var cacheTtl: String?
    @Option(help: GatewaySettings.cacheSize.help) var cacheSize: String?

    /// The values given on the command line, keyed for the in-memory provider that sits before the environment.
    var configValues: [AbsoluteConfigKey: ConfigValue] { commandLineValues(declared: GatewaySettings.all) }
}
