import CityscapeKit
import Foundation
import Synchronization

/// The Sun's place over one solar day: five full evaluations, interpolated in between.
///
/// Solving a day's nine events evaluates the Sun's place about forty times, and each full evaluation sums the
/// 92-term VSOP87 series, which would make the series most of a `/json` request. Right ascension, declination and the
/// sidereal time minus the Earth's uniform rotation are smooth over a day (their largest short-period term, the
/// lunar part of nutation, has a 13.7-day period), so a degree-4 Lagrange polynomial through five places 6.5 h
/// apart reproduces them to far below 0.001″ — about 0.0001 s of time — at a sixth of the cost.
///
/// The nodes sit at fixed UTC instants of the requested date (12:00 ± 13 h and ± 26 h), not at the observer's
/// local noon: the Sun's place does not depend on where it is seen from, so one ephemeris serves every place
/// on that date, and ``forDate(_:)`` keeps the few dates in use.
struct SolarEphemeris: Sendable {
    /// Degrees of sidereal time per second of UT: the Earth's rotation relative to the equinox.
    private static let siderealRate = 360.98564736629 / 86_400
    /// Spacing of the nodes: the four spans cover date 12:00 UTC ± 26 h, which contains local mean noon ± 13 h
    /// (the reach of the event search) for every longitude.
    private static let spacing: TimeInterval = 13 * 3600

    private let firstNode: TimeInterval
    private let rightAscensions: [Double]
    private let declinations: [Double]
    private let siderealOffsets: [Double]
    private let distance: Double

    /// The ephemeris of `date`, shared by every place; built on first use and kept for the most recent dates.
    static func forDate(_ date: CalendarDate) -> SolarEphemeris {
        if let cached = cache.withLock({ $0[date] }) { return cached }
        let ephemeris = SolarEphemeris(around: Double(date.daysSinceUnixEpoch) * 86_400 + 43_200)
        cache.withLock { cache in
            // A handful of dates are in use at any time (today, tomorrow, a date under test); forgetting them
            // all when the table is full keeps this bounded without bookkeeping.
            if cache.count >= 64 { cache.removeAll(keepingCapacity: true) }
            cache[date] = ephemeris
        }
        return ephemeris
    }

    private static let cache = Mutex<[CalendarDate: SolarEphemeris]>([:])

    /// Samples the Sun around `center` (Unix time; 12:00 UTC of a date for ``forDate(_:)``).
    init(around center: TimeInterval) {
        firstNode = center - 2 * Self.spacing
        var rightAscensions: [Double] = []
        var declinations: [Double] = []
        var siderealOffsets: [Double] = []
        var distance = 1.0
        for index in 0..<5 {
            let time = firstNode + Double(index) * Self.spacing
            let position = SolarPosition(unixTime: time)
            // Unwrap so that each node continues the previous one instead of jumping by 360°.
            rightAscensions.append(Self.continuing(rightAscensions.last, with: position.rightAscension))
            declinations.append(position.declination)
            let offset = position.siderealTime - Self.siderealRate * (time - firstNode)
            siderealOffsets.append(Self.continuing(siderealOffsets.last, with: offset))
            if index == 2 { distance = position.distance }
        }
        self.rightAscensions = rightAscensions
        self.declinations = declinations
        self.siderealOffsets = siderealOffsets
        // The distance changes by < 0.0003 AU a day, which moves the parallax term by < 0.003″.
        self.distance = distance
    }

    /// The Sun's place at `time`, interpolated.
    func position(at time: TimeInterval) -> SolarPosition {
        // Lagrange weights of the nodes 0…4 at x (in units of the spacing), written out: this runs a few dozen
        // times per request, and building them with `map` would allocate an array each time.
        let x = (time - firstNode) / Self.spacing
        let (d0, d1, d2, d3, d4) = (x, x - 1, x - 2, x - 3, x - 4)
        let weights = (
            d1 * d2 * d3 * d4 / 24, -d0 * d2 * d3 * d4 / 6, d0 * d1 * d3 * d4 / 4, -d0 * d1 * d2 * d4 / 6, d0 * d1 * d2 * d3 / 24
        )
        func interpolate(_ values: [Double]) -> Double {
            weights.0 * values[0] + weights.1 * values[1] + weights.2 * values[2] + weights.3 * values[3] + weights.4 * values[4]
        }
        return SolarPosition(
            rightAscension: interpolate(rightAscensions).signedDegrees,
            declination: interpolate(declinations),
            siderealTime: (interpolate(siderealOffsets) + Self.siderealRate * (time - firstNode)).normalizedDegrees,
            distance: distance
        )
    }

    /// `angle` shifted by whole turns to lie within 180° of `previous`.
    private static func continuing(_ previous: Double?, with angle: Double) -> Double {
        guard let previous else { return angle }
        return previous + (angle - previous).signedDegrees
    }
}
