import Logging

/// A backend ejected for latency, for the log line written after the pool's lock is released.
struct OutlierEjected: Sendable {
    var address: BackendAddress
    var ewma: Double
    var reference: Double
    var time: Duration
    var ejections: Int
}

/// Latency outlier ejection inside the pool: response times arrive with `finish` and readmissions happen
/// in `next`, both under the lock those calls already take, so the feature adds no lock of its own.
extension BackendPool {
    /// Feeds one response time to the backend at `index`; ejects it when it has been an outlier for long
    /// enough and the pool can spare it.
    func record(_ seconds: Double, at index: Int, in state: inout State) -> OutlierEjected? {
        guard let outliers, case .judge(let ewma) = state.entries[index].latency.recorded(seconds) else { return nil }
        // Below either bound even the fastest other backend could not make this one an outlier.
        let bound = min(ewma / outliers.factor, ewma - OutlierEjection.minimumExcess)
        guard bound > 0, let reference = Self.reference(for: index, in: state, below: bound),
            outliers.isOutlier(ewma: ewma, reference: reference)
        else {
            state.entries[index].latency.judgedNormal()
            return nil
        }
        guard state.entries[index].latency.judgedOutlier(at: now()),
            state.latencyEjected < OutlierEjection.maximumEjected(of: state.entries.count),
            state.candidates.count(where: \.inRotation) > 1,
            state.entries[index].inRotation
        else { return nil }
        let time = state.entries[index].latency.eject(at: now(), settings: outliers)
        state.candidates[index].inRotation = false
        state.latencyEjected += 1
        return OutlierEjected(
            address: state.candidates[index].address,
            ewma: ewma,
            reference: reference,
            time: time,
            ejections: state.entries[index].latency.ejections
        )
    }

    /// The median of the settled EWMAs of the other backends in rotation, or nil when fewer than
    /// `minimumReferences` have enough samples or when even the fastest of them is at least `threshold`
    /// (then the backend is no outlier: the common case costs one pass and no allocation).
    static func reference(for index: Int, in state: State, below threshold: Double) -> Double? {
        var fastest = Double.infinity
        var count = 0
        for other in state.candidates.indices where other != index && state.candidates[other].inRotation {
            guard let ewma = state.entries[other].latency.settledEWMA else { continue }
            fastest = min(fastest, ewma)
            count += 1
        }
        guard count >= OutlierEjection.minimumReferences, fastest < threshold else { return nil }
        let others = state.candidates.indices.compactMap { other in
            other != index && state.candidates[other].inRotation ? state.entries[other].latency.settledEWMA : nil
        }.sorted()
        let middle = others.count / 2
        return others.count % 2 == 1 ? others[middle] : (others[middle - 1] + others[middle]) / 2
    }

    /// Returns the backends whose ejection is over to rotation (with slow start, when it is on).
    func readmitDue(_ state: inout State) -> [BackendAddress] {
        let instant = now()
        var readmitted: [BackendAddress] = []
        for index in state.entries.indices where state.entries[index].latency.tick(at: instant) == .readmit {
            state.latencyEjected -= 1
            readmitted.append(state.candidates[index].address)
            guard state.entries[index].inRotation else { continue }
            state.candidates[index].inRotation = true
            startRamp(at: index, in: &state)
        }
        return readmitted
    }

    func logEjection(_ ejection: OutlierEjected) {
        logger.notice(
            "backend \(ejection.address) ejected for latency",
            metadata: [
                "backend": "\(ejection.address)",
                "latency_ewma_ms": "\(Int(ejection.ewma * 1000))",
                "others_median_ms": "\(Int(ejection.reference * 1000))",
                "ejected_for": "\(ejection.time)",
                "ejections": "\(ejection.ejections)",
            ]
        )
    }

    func logReadmission(_ address: BackendAddress) {
        logger.notice("backend \(address) back in rotation after a latency ejection", metadata: ["backend": "\(address)"])
    }
}
