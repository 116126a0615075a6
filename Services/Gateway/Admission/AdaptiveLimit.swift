/// A concurrency limit that follows measured latency, after Envoy's adaptive concurrency filter (gradient
/// controller) and Netflix concurrency-limits' Gradient2.
///
/// Completed requests are aggregated into sample windows (a count, a sum and the peak in-flight count, no
/// per-request storage). When a window closes, its mean latency (the sample RTT) is compared with the
/// no-load latency (the min RTT) and the limit moves by Envoy's gradient:
/// `limit × clamp((minRTT × (1 + tolerance)) / sampleRTT, 0.5, 2) + √limit`. Latency near the no-load
/// latency grows the limit; queueing, which shows as a rising mean, shrinks it, at most by half per window.
///
/// The reference is the lowest window mean, not a fixed target: a gateway whose upstreams take a steady
/// second learns that a second is its no-load latency, and only time beyond it counts as queueing. The
/// minimum is kept over two rotating periods, so a lasting change of the upstreams' own latency is
/// learned within two periods without Envoy's probe, which would refuse nearly everything while it runs.
///
/// The limit never falls below what the gateway has shown it can serve: the highest completion rate of the
/// last one or two periods times the no-load latency (Little's law). Latency that rises while the gateway
/// completes as much as before is CPU contention (a storm of refusals takes the cores), not a queue, and
/// lowering the limit then would only hand more connections to that storm.
///
/// The limit grows only while it is used (the window's peak in flight reached half of it, as Gradient2
/// does): a quiet gateway does not drift to the ceiling and then admit a burst it cannot serve.
///
/// A pure value: time comes in with each sample, so tests drive it with a scripted clock.
struct AdaptiveLimit: Sendable, Equatable {
    /// The tunables; the defaults suit upstream latencies from milliseconds to seconds.
    struct Parameters: Sendable, Equatable {
        /// The limit never goes below this.
        var floor: Int
        /// The limit never goes above this.
        var ceiling: Int
        /// Where the limit starts, within floor...ceiling.
        var initial: Int
        /// A window closes once this long has passed and it holds `minimumSamples` completions.
        var window: Duration = .milliseconds(250)
        var minimumSamples = 16
        /// How far above the no-load latency the mean may go before the limit shrinks (0.5 = 50 %, the default
        /// `rttTolerance` of Netflix's Gradient2). Beyond capacity on a CPU-bound host the admitted requests' latency
        /// rises with the load, and every refusal costs nearly a served request's CPU (its connection's accept, reads,
        /// writes and close), so a tighter tolerance turns CPU that could serve requests into refusals.
        var tolerance = 0.5
        /// The no-load latency is the lowest window mean within the last one or two periods of this length.
        var minimumPeriod: Duration = .seconds(60)
        /// Throughput is measured over spans of this length: longer than a window, so a wave of completions that
        /// arrive together is not taken for a rate the gateway can sustain.
        var rateSpan: Duration = .seconds(1)
    }

    /// The async gateway's floor: even when latency says otherwise, this many requests may run, so a slow
    /// upstream that no limit can speed up still gets traffic and the reference can recover.
    static let inFlightFloor = 50
    /// Where the async gateway starts: before the first window closes (one upstream round trip) there is no
    /// latency to judge by, so the start is what a first wave may hold. Enough for the lesson's five thousand
    /// clients at once without a refusal, few enough that a larger wave cannot pile up more work than a small
    /// machine does within a client's timeout (a gateway request costs well under a millisecond of CPU).
    static let inFlightStart = 5000

    let parameters: Parameters
    /// The current limit.
    private(set) var limit: Int
    /// The no-load latency currently used as reference; nil before the first window closes.
    var minimumLatency: Duration? { [currentPeriodMinimum, previousPeriodMinimum].compactMap { $0 }.min() }

    private var estimate: Double
    private var windowStart: ContinuousClock.Instant?
    private var windowCount = 0
    private var windowSum: Duration = .zero
    private var windowPeakInFlight = 0
    private var periodStart: ContinuousClock.Instant?
    private var currentPeriodMinimum: Duration?
    private var previousPeriodMinimum: Duration?
    private var currentPeriodPeakRate = 0.0
    private var spanStart: ContinuousClock.Instant?
    private var spanCount = 0
    private var previousPeriodPeakRate = 0.0

    /// The most completions per second of one rate span within the last one or two periods.
    var peakThroughput: Double { max(currentPeriodPeakRate, previousPeriodPeakRate) }

    init(parameters: Parameters) {
        var parameters = parameters
        // A ceiling below the floor wins: it is what the operator asked for explicitly.
        parameters.ceiling = max(1, parameters.ceiling)
        parameters.floor = min(max(1, parameters.floor), parameters.ceiling)
        parameters.initial = min(max(parameters.initial, parameters.floor), parameters.ceiling)
        self.parameters = parameters
        limit = parameters.initial
        estimate = Double(parameters.initial)
    }

    /// Adds one completed request: its latency, how many requests were in flight when it was admitted,
    /// and when it completed. Returns the new limit when this sample closed a window and moved it.
    mutating func record(latency: Duration, inFlight: Int, at now: ContinuousClock.Instant) -> Int? {
        guard let start = windowStart else {
            windowStart = now
            periodStart = now
            spanStart = now
            add(latency, inFlight)
            return nil
        }
        add(latency, inFlight)
        measureRate(at: now)
        guard now - start >= parameters.window, windowCount >= parameters.minimumSamples else { return nil }
        let sample = windowSum / windowCount
        let used = windowPeakInFlight * 2 >= limit
        windowStart = now
        windowCount = 0
        windowSum = .zero
        windowPeakInFlight = 0
        remember(sample, at: now)
        return adjust(sample: sample, used: used)
    }

    private mutating func add(_ latency: Duration, _ inFlight: Int) {
        windowCount += 1
        windowSum += latency
        windowPeakInFlight = max(windowPeakInFlight, inFlight)
    }

    private mutating func measureRate(at now: ContinuousClock.Instant) {
        spanCount += 1
        guard let start = spanStart, now - start >= parameters.rateSpan else { return }
        currentPeriodPeakRate = max(currentPeriodPeakRate, Double(spanCount) / (now - start).seconds)
        spanStart = now
        spanCount = 0
    }

    private mutating func remember(_ sample: Duration, at now: ContinuousClock.Instant) {
        if let start = periodStart, now - start >= parameters.minimumPeriod {
            previousPeriodMinimum = currentPeriodMinimum
            currentPeriodMinimum = nil
            previousPeriodPeakRate = currentPeriodPeakRate
            currentPeriodPeakRate = 0
            periodStart = now
        }
        currentPeriodMinimum = min(currentPeriodMinimum ?? sample, sample)
    }

    private mutating func adjust(sample: Duration, used: Bool) -> Int? {
        guard let reference = minimumLatency, sample > .zero else { return nil }
        let gradient = min(2, max(0.5, reference.seconds * (1 + parameters.tolerance) / sample.seconds))
        // An unused limit is not raised: there is no evidence the gateway can serve more.
        if gradient >= 1 && !used { return nil }
        let proposed = estimate * gradient + (gradient >= 1 ? estimate.squareRoot() : 0)
        let served = peakThroughput * reference.seconds
        // The demonstrated floor only keeps a limit from falling; it never raises one by itself.
        let floor = max(Double(parameters.floor), min(served, estimate))
        estimate = min(max(proposed, floor), Double(parameters.ceiling))
        let next = Int(estimate.rounded())
        guard next != limit else { return nil }
        limit = next
        return next
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
