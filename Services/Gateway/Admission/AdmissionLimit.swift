import Metrics
import Synchronization

/// How `--max-in-flight` or `--queue-limit` is set: a fixed number, or `auto` (``AdaptiveLimit``).
enum LimitSetting: Sendable, Equatable, CustomStringConvertible {
    case fixed(Int)
    case auto

    /// `auto`, or an integer within `range`; nil for anything else.
    init?(_ raw: String, in range: ClosedRange<Int>) {
        if raw.lowercased() == "auto" {
            self = .auto
        } else if let value = Int(raw), range.contains(value) {
            self = .fixed(value)
        } else {
            return nil
        }
    }

    var description: String {
        switch self {
        case .fixed(let value): String(value)
        case .auto: "auto"
        }
    }
}

/// The live limit every request reads: a constant, or an ``AdaptiveLimit`` fed by completed requests.
///
/// Admission reads one atomic; a completion takes the mutex only to add its sample to the current window,
/// and publishes a new value (atomic, gauge, `onChange`) only when a window closed and moved the limit.
/// `onChange` runs under that mutex, so it must not call back into this type.
final class AdmissionLimit: Sendable {
    private let current: Atomic<Int>
    /// Holds nil for a fixed limit; `isAdaptive` then spares completions the lock.
    private let adaptive: Mutex<AdaptiveLimit?>
    private let gauge: Meter
    private let onChange: @Sendable (Int) -> Void

    /// - Parameters:
    ///   - setting: fixed or auto.
    ///   - parameters: the adaptive controller's settings, used when `setting` is `auto`.
    ///   - gauge: shows the current value (`gateway_in_flight_limit`, `gateway_queue_limit`).
    ///   - onChange: told every new value, e.g. to pass it on to the worker pool.
    init(setting: LimitSetting, parameters: AdaptiveLimit.Parameters, gauge: Meter, onChange: @escaping @Sendable (Int) -> Void = { _ in }) {
        switch setting {
        case .fixed(let value):
            current = Atomic(value)
            adaptive = Mutex(nil)
            isAdaptive = false
        case .auto:
            let limit = AdaptiveLimit(parameters: parameters)
            current = Atomic(limit.limit)
            adaptive = Mutex(limit)
            isAdaptive = true
        }
        self.gauge = gauge
        self.onChange = onChange
        gauge.set(Int64(current.load(ordering: .relaxed)))
    }

    /// The limit now.
    var value: Int { current.load(ordering: .relaxed) }

    /// Whether the limit follows latency.
    let isAdaptive: Bool

    /// Feeds one completed request to the adaptive controller; `inFlight` is the count when it was admitted.
    func record(latency: Duration, inFlight: Int, at now: ContinuousClock.Instant = .now) {
        guard isAdaptive else { return }
        adaptive.withLock { limit in
            // Published under the lock, so two windows closing at once cannot publish out of order.
            guard let next = limit?.record(latency: latency, inFlight: inFlight, at: now) else { return }
            current.store(next, ordering: .relaxed)
            gauge.set(Int64(next))
            onChange(next)
        }
    }
}
