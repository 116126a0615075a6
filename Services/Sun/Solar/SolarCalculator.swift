import CityscapeKit
import Foundation

/// Offline sunrise, sunset, solar noon and twilight times for any place and date.
///
/// Which day: the events of `date` at longitude L belong to the solar day whose meridian transit falls in the UTC
/// window [date 00:00 − L/15 h, date 24:00 − L/15 h), i.e. the day centred on local mean noon. Far from Greenwich
/// the returned instants can therefore lie on the neighbouring UTC date (at L = +179.9 the sunrise is on the
/// previous UTC date), exactly like sunrise-sunset.org and met.no.
///
/// How: every event is solved against the Sun's position at the event's own instant (not once at noon as
/// single-pass NOAA ports do, which costs up to minutes), taken from a ``SolarEphemeris`` of the day (five full
/// evaluations, interpolated), with iterations that are bounded and bracketed, so any latitude in [-90, 90],
/// longitude in [-180, 180] and year 1...9999 terminates. The date's ephemeris is built once per date and
/// shared by every place, so a request pays only for the iterations (the README gives the measured cost).
enum SolarCalculator {
    /// Altitudes of the Sun's centre (degrees) that define the events.
    enum Threshold {
        /// Sunrise/sunset: 34′ standard refraction + 16′ semidiameter below the horizon.
        static let horizon = -50.0 / 60
        static let civil = -6.0
        static let nautical = -12.0
        static let astronomical = -18.0
    }

    /// Iterations stop once a step is shorter than this many seconds (far below the 1 s output resolution).
    static let timeTolerance: TimeInterval = 0.001

    /// The events of the solar day of `date` at the given place.
    ///
    /// - Parameters:
    ///   - latitude: degrees north, clamped to [-90, 90]; a non-finite value is treated as 0.
    ///   - longitude: degrees east, clamped to [-180, 180]; a non-finite value is treated as 0.
    static func solarDay(latitude: Double, longitude: Double, on date: CalendarDate) -> SolarDay {
        let clampedLongitude = clamp(longitude, to: 180)
        // 240 s of time per degree of longitude: local mean noon in UT.
        let meanNoon = Double(date.daysSinceUnixEpoch) * 86_400 + 43_200 - clampedLongitude * 240
        let site = Site(latitude: clamp(latitude, to: 90), longitude: clampedLongitude, sun: SolarEphemeris.forDate(date))
        let noon = culmination(near: meanNoon, hourAngle: 0, at: site)
        let start = culmination(near: noon.time - 43_200, hourAngle: 180, at: site)
        let end = culmination(near: noon.time + 43_200, hourAngle: 180, at: site)

        func events(_ threshold: Double) -> (begin: TimeInterval?, end: TimeInterval?) {
            (
                crossing(of: threshold, between: start, and: noon, at: site),
                crossing(of: threshold, between: noon, and: end, at: site)
            )
        }
        let sun = events(Threshold.horizon)
        let civil = events(Threshold.civil)
        let nautical = events(Threshold.nautical)
        let astronomical = events(Threshold.astronomical)

        return SolarDay(
            solarNoon: Date(timeIntervalSince1970: noon.time),
            sunrise: sun.begin.map(Date.init(timeIntervalSince1970:)),
            sunset: sun.end.map(Date.init(timeIntervalSince1970:)),
            civilTwilightBegin: civil.begin.map(Date.init(timeIntervalSince1970:)),
            civilTwilightEnd: civil.end.map(Date.init(timeIntervalSince1970:)),
            nauticalTwilightBegin: nautical.begin.map(Date.init(timeIntervalSince1970:)),
            nauticalTwilightEnd: nautical.end.map(Date.init(timeIntervalSince1970:)),
            astronomicalTwilightBegin: astronomical.begin.map(Date.init(timeIntervalSince1970:)),
            astronomicalTwilightEnd: astronomical.end.map(Date.init(timeIntervalSince1970:)),
            dayLength: dayLength(sunrise: sun.begin, sunset: sun.end, noon: noon)
        )
    }

    // MARK: - Search

    /// An observer on the WGS84 ellipsoid at sea level (degrees), and the Sun's path over the day being solved.
    private struct Site {
        let latitude: Double
        let longitude: Double
        let sun: SolarEphemeris
    }

    /// The Sun's topocentric altitude (degrees) at a Unix time.
    private struct Sample {
        let time: TimeInterval
        let altitude: Double
    }

    /// The instant near `guess` (within ±12 h) at which the Sun's hour angle is `target` degrees: 0 for the upper
    /// transit (solar noon), 180 for a lower culmination (the boundary between two solar days).
    ///
    /// The hour angle advances 360° per solar day (the 0.3 % annual variation only slows convergence slightly), so
    /// each step divides the remaining error by ≈ 300; the loop converges in three or four evaluations.
    private static func culmination(near guess: TimeInterval, hourAngle target: Double, at site: Site) -> Sample {
        var time = guess
        var position = site.sun.position(at: time)
        for _ in 0..<10 {
            let step = (position.hourAngle(longitude: site.longitude) - target).signedDegrees * 240
            guard step.isFinite else { break }
            time -= step
            position = site.sun.position(at: time)
            if abs(step) < timeTolerance { break }
        }
        return Sample(time: time, altitude: position.altitude(latitude: site.latitude, longitude: site.longitude))
    }

    /// The instant between the culminations `from` and `to` at which the Sun's altitude passes `threshold`, or `nil`
    /// when both lie on the same side of it.
    ///
    /// Between a lower and an upper culmination the altitude is monotonic apart from the declination's drift, which
    /// can bend it by a few arcseconds next to a culmination (up to ≈ 0.03° within a degree of the poles), so a sign
    /// change at the ends means one crossing unless the Sun merely grazes the threshold. The search is Newton's
    /// method on the real altitude (position recomputed at each iterate), started from the classic hour-angle
    /// formula and kept inside a shrinking bracket; when the slope vanishes (a grazing Sun) it falls back to
    /// bisection, which cannot take more than ≈ 26 steps to reach `timeTolerance` over half a day.
    private static func crossing(of threshold: Double, between from: Sample, and to: Sample, at site: Site) -> TimeInterval? {
        let startSign = from.altitude - threshold
        let endSign = to.altitude - threshold
        guard startSign * endSign < 0 else { return nil }
        var low = from.time  // altitude − threshold has the sign of `startSign` here
        var high = to.time  // … and of `endSign` here
        var time = firstGuess(for: threshold, between: from, and: to, at: site)
        for _ in 0..<64 {
            let position = site.sun.position(at: time)
            let offset = position.altitude(latitude: site.latitude, longitude: site.longitude) - threshold
            if offset == 0 { return time }
            if (offset < 0) == (startSign < 0) { low = time } else { high = time }
            var next = time - offset / altitudeRate(position, at: site)
            if !(next > low && next < high) { next = (low + high) / 2 }
            if abs(next - time) < timeTolerance { return next }
            time = next
        }
        return time
    }

    /// Where the hour-angle formula puts the crossing if the declination stayed at its value at the culmination
    /// nearer to noon; the midpoint when that formula has no answer (Sun grazing, or exactly at a pole).
    private static func firstGuess(for threshold: Double, between from: Sample, and to: Sample, at site: Site) -> TimeInterval {
        let midpoint = (from.time + to.time) / 2
        let rising = to.altitude > from.altitude
        let noon = rising ? to.time : from.time
        let declination = site.sun.position(at: noon).declination.radians
        let phi = site.latitude.radians
        let cosine = (sin(threshold.radians) - sin(phi) * sin(declination)) / (cos(phi) * cos(declination))
        guard cosine.isFinite, abs(cosine) < 1 else { return midpoint }
        let offset = acos(cosine).degrees * 240
        let guess = rising ? noon - offset : noon + offset
        return guess > min(from.time, to.time) && guess < max(from.time, to.time) ? guess : midpoint
    }

    /// d(altitude)/dt in degrees per second from the Earth's rotation alone.
    ///
    /// Neglecting the declination's drift (≤ 0.4° per day) only makes Newton converge linearly instead of
    /// quadratically; the bracket in `crossing` guarantees progress either way.
    private static func altitudeRate(_ position: SolarPosition, at site: Site) -> Double {
        let phi = site.latitude.radians
        let delta = position.declination.radians
        let hourAngle = position.hourAngle(longitude: site.longitude).radians
        let sine = sin(phi) * sin(delta) + cos(phi) * cos(delta) * cos(hourAngle)
        return -cos(phi) * cos(delta) * sin(hourAngle) / (1 - sine * sine).squareRoot() / 240
    }

    /// See `SolarDay.dayLength` for the rule.
    private static func dayLength(sunrise: TimeInterval?, sunset: TimeInterval?, noon: Sample) -> TimeInterval {
        let dayStart = noon.time - 43_200
        let dayEnd = noon.time + 43_200
        switch (sunrise, sunset) {
        case let (rise?, set?):
            return set - rise
        case (nil, nil):
            return noon.altitude > Threshold.horizon ? 86_400 : 0
        case let (rise?, nil):
            return dayEnd - max(rise, dayStart)
        case let (nil, set?):
            return min(set, dayEnd) - dayStart
        }
    }

    private static func clamp(_ value: Double, to limit: Double) -> Double {
        value.isFinite ? min(max(value, -limit), limit) : 0
    }
}
