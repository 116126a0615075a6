/// `--outlier-latency`: ejection of a backend that is alive but much slower than the others.
///
/// In-flight policies still send a slow replica a share of the requests (whenever it holds no more than
/// the others), and each of those takes its full latency, so the tail stays at the slow replica's time.
/// Latency-aware weighting (Finagle's and Linkerd's peak EWMA) shrinks that share but never ends it; Envoy's
/// outlier detection takes a host out for a time that grows with each ejection, never more than a share
/// of the cluster. This does the latter with a latency signal: the EWMA of each backend's response times
/// (time to the response head), compared with the median of the other backends' EWMAs once both sides
/// have enough samples; a backend that stays above it for `minimumDuration` is ejected. An ejected backend
/// returns when its time is up, through slow start when it is on, and is judged afresh on new samples.
struct OutlierEjection: Sendable, Equatable {
    /// Responses a backend needs (since it joined or returned) before its EWMA is judged or used as a reference.
    static let minimumSamples = 5
    /// The weight of the newest response time in the EWMA: a few responses move it, one does not.
    static let smoothing = 0.3
    /// At most this share of the backends is out for latency at once, as Envoy's `max_ejection_percent`;
    /// one may always go (as in Envoy), but never the last one in rotation.
    static let maximumShare = 0.5
    /// Seconds by which an outlier must also exceed the others' median: at sub-millisecond response times
    /// scheduling noise alone can double a backend's EWMA, and a difference that small costs no tail worth an ejection.
    static let minimumExcess = 0.01
    /// How long a backend must stay an outlier, response after response, before it is ejected: a backend
    /// paused for a moment (a descheduled worker, a collection) delays every response it holds at once, and
    /// a per-response EWMA would otherwise eject it for that alone.
    static let minimumDuration: Duration = .seconds(1)
    /// Other backends with settled EWMAs needed for a median: with one, there is no telling which of two is the outlier.
    static let minimumReferences = 2

    /// A backend whose EWMA exceeds this multiple of the others' median is an outlier.
    let factor: Double
    /// How long the first ejection lasts; the n-th lasts n times it, up to `maximumEjection`.
    var baseEjection: Duration = .seconds(30)
    var maximumEjection: Duration = .seconds(300)

    /// Whether a backend with `ewma` is an outlier against the others' median `reference`.
    func isOutlier(ewma: Double, reference: Double) -> Bool {
        ewma > factor * reference && ewma - reference > Self.minimumExcess
    }

    /// The length of a backend's `count`-th ejection.
    func ejectionTime(forEjection count: Int) -> Duration {
        min(baseEjection * max(1, count), maximumEjection)
    }

    /// How many backends of a pool of `count` may be out for latency at once.
    static func maximumEjected(of count: Int) -> Int {
        max(1, Int(Double(count) * maximumShare))
    }
}

/// One backend's latency record: an explicit state machine, one method per event, each returning what the
/// pool must do.
///
/// ```
///               responses (EWMA)        outlier, pool can spare it
///  measuring(ewma, n) ──────▶ measuring ──────────────────────▶ ejected(until)
///        ▲                                                         │
///        └──────────────── time up: readmit (samples from 0) ◀─────┘
/// ```
struct LatencyRecord: Sendable, Equatable {
    enum State: Sendable, Equatable {
        /// In rotation as far as latency goes; `ewma` (seconds) over `samples` responses, 0 before the first.
        case measuring(ewma: Double, samples: Int)
        /// Out of rotation until `until`; `ewma` is the figure it was ejected with, for `/status`.
        case ejected(until: ContinuousClock.Instant, ewma: Double)
    }

    /// What the pool does after an event.
    enum Action: Sendable, Equatable {
        case none
        /// Enough samples: compare this backend with the others.
        case judge(ewma: Double)
        /// The ejection is over: back in rotation (through slow start).
        case readmit
    }

    private(set) var state = State.measuring(ewma: 0, samples: 0)
    /// Ejections so far; the next one lasts longer. Starts over once the backend stayed in for the longest ejection.
    private(set) var ejections = 0
    private var readmitted: ContinuousClock.Instant?
    /// Since when every judgement found it an outlier; nil when the last one did not.
    private(set) var outlierSince: ContinuousClock.Instant?

    /// The latest judgement found it an outlier at `now`; returns whether it has been one for `minimumDuration`.
    mutating func judgedOutlier(at now: ContinuousClock.Instant) -> Bool {
        guard let since = outlierSince else {
            outlierSince = now
            return false
        }
        return now - since >= OutlierEjection.minimumDuration
    }

    /// The latest judgement found it no outlier.
    mutating func judgedNormal() {
        if outlierSince != nil { outlierSince = nil }
    }

    var isEjected: Bool {
        if case .ejected = state { true } else { false }
    }

    /// The EWMA once it has enough samples to be judged or to judge others by.
    var settledEWMA: Double? {
        if case .measuring(let ewma, let samples) = state, samples >= OutlierEjection.minimumSamples { ewma } else { nil }
    }

    /// The EWMA for `/status`, nil before the first response.
    var ewma: Double? {
        switch state {
        case .measuring(let ewma, let samples): samples > 0 ? ewma : nil
        case .ejected(_, let ewma): ewma
        }
    }

    /// A response head arrived `seconds` after the attempt started.
    mutating func recorded(_ seconds: Double) -> Action {
        switch state {
        case .measuring(let ewma, let samples):
            let next = samples == 0 ? seconds : ewma + OutlierEjection.smoothing * (seconds - ewma)
            state = .measuring(ewma: next, samples: samples + 1)
            return samples + 1 >= OutlierEjection.minimumSamples ? .judge(ewma: next) : .none
        case .ejected:
            // A late response of a request sent before the ejection: the backend is judged afresh on return.
            return .none
        }
    }

    /// The pool judged it an outlier and can spare it.
    mutating func eject(at now: ContinuousClock.Instant, settings: OutlierEjection) -> Duration {
        if let readmitted, now - readmitted >= settings.maximumEjection { ejections = 0 }
        ejections += 1
        outlierSince = nil
        let time = settings.ejectionTime(forEjection: ejections)
        state = .ejected(until: now + time, ewma: ewma ?? 0)
        return time
    }

    /// The clock moved on; returns `.readmit` when the ejection is over.
    mutating func tick(at now: ContinuousClock.Instant) -> Action {
        guard case .ejected(let until, _) = state, now >= until else { return .none }
        state = .measuring(ewma: 0, samples: 0)
        readmitted = now
        return .readmit
    }
}
