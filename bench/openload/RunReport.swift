import Histogram

/// What a run writes: a summary with HDR-histogram percentiles, then every request as a compact row.
struct RunReport: Encodable, Sendable {
    /// Percentiles of one distribution, milliseconds.
    struct Percentiles: Encodable, Sendable {
        let count: UInt64
        let mean: Double
        let p50: Double
        let p90: Double
        let p99: Double
        let p999: Double
        let max: Double

        /// From values in nanoseconds, recorded at microsecond resolution with 3 significant digits.
        init(nanoseconds values: some Sequence<Int64>) {
            var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
            histogram.autoResize = true
            for value in values { _ = histogram.record(UInt64(Swift.max(0, value / 1000))) }
            count = histogram.totalCount
            let milliseconds = { (micros: UInt64) in Double(micros) / 1000 }
            mean = count == 0 ? 0 : (histogram.mean / 1000 * 1000).rounded() / 1000
            p50 = milliseconds(histogram.valueAtPercentile(50))
            p90 = milliseconds(histogram.valueAtPercentile(90))
            p99 = milliseconds(histogram.valueAtPercentile(99))
            p999 = milliseconds(histogram.valueAtPercentile(99.9))
            max = milliseconds(histogram.max)
        }
    }

    /// One request as a row: see `recordColumns`.
    struct Row: Encodable, Sendable {
        let record: RequestRecord

        func encode(to encoder: any Encoder) throws {
            var row = encoder.unkeyedContainer()
            try row.encode(milliseconds(record.intended))
            try row.encode(record.started.map(milliseconds))
            try row.encode(record.latency.map(milliseconds))
            switch record.outcome {
            case .status(let code): try row.encode(code)
            case .pending: try row.encode("pending")
            case .timeout: try row.encode("timeout")
            case .connectError: try row.encode("connect_error")
            case .readError: try row.encode("read_error")
            case .overflow: try row.encode("overflow")
            }
            try row.encode(record.timing.queue)
            try row.encode(record.timing.location)
            try row.encode(record.timing.sun)
            try row.encode(record.timing.total)
        }
    }

    let mode: String
    let url: String
    let rate: Double?
    let connections: Int?
    let durationS: Double
    let timeoutMs: Double
    let requests: Int
    let statuses: [String: Int]
    let ok: Int
    let timeouts: Int
    let connectErrors: Int
    let readErrors: Int
    let overflow: Int
    /// Seconds from the first intended start to the last end.
    let elapsedS: Double
    /// Answered requests (any status), timeouts excluded.
    let latencyMs: Percentiles
    /// Answered requests and timeouts, a timeout counting as the time it was given up after.
    let latencyWithTimeoutsMs: Percentiles
    /// The generator's own accuracy: actual minus intended start of every request that started.
    let scheduleLagMs: Percentiles
    let peakOpenConnections: Int
    let connectionsOpened: Int
    let recordColumns = ["intended_ms", "start_ms", "latency_ms", "outcome", "queue_ms", "location_ms", "sun_ms", "total_ms"]
    let records: [Row]

    init(settings: Generator.Settings, url: String, records: [RequestRecord], peakOpen: Int, opened: Int) {
        switch settings.plan {
        case .openLoop(let rate, _):
            mode = "open"
            self.rate = rate
            connections = nil
        case .closedLoop(let lanes):
            mode = "closed"
            rate = nil
            connections = lanes
        }
        self.url = url
        durationS = Double(settings.duration) / 1e9
        timeoutMs = Double(settings.timeout) / 1e6
        requests = records.count
        var statuses: [String: Int] = [:]
        var counts = (ok: 0, timeouts: 0, connect: 0, read: 0, overflow: 0)
        for record in records {
            switch record.outcome {
            case .status(let code):
                statuses[String(code), default: 0] += 1
                if (200..<300).contains(code) { counts.ok += 1 }
            case .timeout: counts.timeouts += 1
            case .connectError: counts.connect += 1
            case .readError: counts.read += 1
            case .overflow: counts.overflow += 1
            case .pending: break
            }
        }
        self.statuses = statuses
        ok = counts.ok
        timeouts = counts.timeouts
        connectErrors = counts.connect
        readErrors = counts.read
        overflow = counts.overflow
        elapsedS = Double(records.compactMap(\.ended).max() ?? 0) / 1e9
        latencyMs = Percentiles(nanoseconds: records.lazy.filter(\.answered).compactMap(\.latency))
        latencyWithTimeoutsMs = Percentiles(
            nanoseconds: records.lazy.filter { $0.answered || $0.outcome == .timeout }.compactMap(\.latency)
        )
        scheduleLagMs = Percentiles(nanoseconds: records.lazy.compactMap { record in record.started.map { $0 - record.intended } })
        peakOpenConnections = peakOpen
        connectionsOpened = opened
        self.records = records.map(Row.init)
    }

    enum CodingKeys: String, CodingKey {
        case mode, url, rate, connections, durationS = "duration_s", timeoutMs = "timeout_ms", requests, statuses, ok, timeouts
        case connectErrors = "connect_errors", readErrors = "read_errors", overflow, elapsedS = "elapsed_s"
        case latencyMs = "latency_ms", latencyWithTimeoutsMs = "latency_with_timeouts_ms", scheduleLagMs = "schedule_lag_ms"
        case peakOpenConnections = "peak_open_connections", connectionsOpened = "connections_opened"
        case recordColumns = "record_columns", records
    }

    /// One line for a terminal.
    var summary: String {
        let load = rate.map { "\($0) req/s open loop" } ?? "\(connections ?? 0) connections closed loop"
        return "\(load), \(requests) requests: \(ok) 2xx, \(requests - ok - timeouts) other, \(timeouts) timeouts; "
            + "latency p50 \(latencyMs.p50) ms, p99 \(latencyMs.p99) ms; "
            + "start lag p50 \(scheduleLagMs.p50) ms, p99 \(scheduleLagMs.p99) ms, max \(scheduleLagMs.max) ms; "
            + "peak \(peakOpenConnections) connections"
    }
}

extension RequestRecord {
    fileprivate var answered: Bool {
        if case .status = outcome { return true }
        return false
    }
}

/// Nanoseconds as milliseconds with microsecond precision.
private func milliseconds(_ nanoseconds: Int64) -> Double {
    Double(nanoseconds / 1000) / 1000
}
