public import CoreMetrics
public import Prometheus

/// The metrics of one service instance: a private Prometheus registry and the factory that feeds it.
///
/// Each application owns its registry instead of bootstrapping the global `MetricsSystem`, so several
/// applications (and tests running in parallel) never share counters, and `/metrics` shows exactly
/// what this instance recorded.
public struct ServiceMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// Pass this to swift-metrics types (`Counter(label:dimensions:factory:)`) and to libraries.
    public let factory: any MetricsFactory
    let processMetrics: ProcessMetrics

    public init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Upstream waits in the teaching demo are 0.5–2 s; finer buckets there make p99 readable.
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .milliseconds(750), .seconds(1), .milliseconds(1250), .milliseconds(1500),
            .seconds(2), .seconds(5), .seconds(10),
        ]
        self.registry = registry
        self.factory = factory
        self.processMetrics = ProcessMetrics(factory: factory)
    }

    /// The Prometheus text exposition of everything recorded so far, with fresh process figures.
    public func render() -> [UInt8] {
        processMetrics.update()
        return registry.emitToBuffer()
    }
}
