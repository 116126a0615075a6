import Foundation

/// The Sun's apparent geocentric place and the Earth's orientation at one instant.
///
/// This is the NOAA solar calculator's chain (Meeus, *Astronomical Algorithms*, ch. 12, 22, 25): apparent ecliptic
/// longitude = geometric longitude + nutation − aberration, then right ascension and declination in the true
/// equator of date, and the hour angle from Greenwich apparent sidereal time. Two steps are more precise than
/// NOAA's, because grazing twilights near the polar circles turn every arcsecond into seconds of time:
/// the geometric longitude comes from the abridged VSOP87 series (`EarthHeliocentricSeries`) rather than the
/// 3-term equation of the centre, and nutation uses Meeus's 4-term series rather than its single Ω term.
/// Time arguments are TT (via `DeltaT`) for the orbit and UT for the Earth's rotation.
struct SolarPosition: Sendable {
    /// Apparent right ascension, degrees in [-180, 180].
    let rightAscension: Double
    /// Apparent declination, degrees.
    let declination: Double
    /// Greenwich apparent sidereal time, degrees in [0, 360).
    let siderealTime: Double
    /// Sun–Earth distance in astronomical units (for aberration and parallax).
    let distance: Double

    /// Unix time of J2000.0 (2000-01-01 12:00 UT), the epoch of every series below.
    private static let j2000UnixTime: TimeInterval = 946_728_000

    /// A place computed elsewhere (``SolarEphemeris`` interpolates between full evaluations).
    init(rightAscension: Double, declination: Double, siderealTime: Double, distance: Double) {
        self.rightAscension = rightAscension
        self.declination = declination
        self.siderealTime = siderealTime
        self.distance = distance
    }

    /// The Sun's place at `unixTime` (seconds since 1970-01-01 00:00 UT), from the full series.
    init(unixTime: TimeInterval) {
        let daysUT = (unixTime - Self.j2000UnixTime) / 86_400
        let deltaT = DeltaT.seconds(atDecimalYear: 2000 + daysUT / 365.2425)
        let t = (daysUT + deltaT / 86_400) / 36_525  // Julian centuries of TT

        let (heliocentricLongitude, heliocentricLatitude) = EarthHeliocentricSeries.position(tau: t / 10)
        let geometricLongitude = heliocentricLongitude.degrees + 180
        let latitude = -heliocentricLatitude.degrees

        // The orbit's Keplerian distance is plenty here: a 10⁻⁴ AU error changes aberration by 0.002″.
        let meanAnomaly = 357.52911 + 35_999.05029 * t - 0.0001537 * t * t
        let eccentricity = 0.016708634 - 0.000042037 * t - 0.0000001267 * t * t
        let centre =
            (1.914602 - 0.004817 * t - 0.000014 * t * t) * sin(meanAnomaly.radians)
            + (0.019993 - 0.000101 * t) * sin(2 * meanAnomaly.radians) + 0.000289 * sin(3 * meanAnomaly.radians)
        let distance = 1.000001018 * (1 - eccentricity * eccentricity) / (1 + eccentricity * cos((meanAnomaly + centre).radians))

        let (nutationInLongitude, nutationInObliquity) = Self.nutation(t)
        let meanObliquity = 23.0 + 26.0 / 60 + (21.448 - 46.8150 * t - 0.00059 * t * t + 0.001813 * t * t * t) / 3600
        let obliquity = (meanObliquity + nutationInObliquity).radians
        let aberration = -20.4898 / 3600 / distance
        let apparentLongitude = (geometricLongitude + nutationInLongitude + aberration).radians
        let beta = latitude.radians

        rightAscension = atan2(sin(apparentLongitude) * cos(obliquity) - tan(beta) * sin(obliquity), cos(apparentLongitude)).degrees
        declination = asin(sin(beta) * cos(obliquity) + cos(beta) * sin(obliquity) * sin(apparentLongitude)).degrees
        self.distance = distance

        // Meeus (12.4), IAU 1982 mean sidereal time; the equation of the equinoxes makes it apparent.
        let centuriesUT = daysUT / 36_525
        let meanSidereal =
            280.46061837 + 360.98564736629 * daysUT + 0.000387933 * centuriesUT * centuriesUT
            - centuriesUT * centuriesUT * centuriesUT / 38_710_000
        siderealTime = (meanSidereal + nutationInLongitude * cos(obliquity)).normalizedDegrees
    }

    /// Local hour angle at `longitude` (degrees east), in [-180, 180): negative before the upper transit.
    func hourAngle(longitude: Double) -> Double {
        (siderealTime + longitude - rightAscension).signedDegrees
    }

    /// Topocentric altitude of the Sun's centre in degrees, without refraction.
    ///
    /// The observer sits on the surface, one Earth radius closer to the Sun than the geocentre, so the Sun appears
    /// lower by the horizontal parallax (8.794″ at 1 AU) times the cosine of its altitude.
    func altitude(latitude: Double, longitude: Double) -> Double {
        let phi = latitude.radians
        let delta = declination.radians
        let sine = sin(phi) * sin(delta) + cos(phi) * cos(delta) * cos(hourAngle(longitude: longitude).radians)
        let geocentric = asin(min(max(sine, -1), 1))
        return geocentric.degrees - 8.794 / 3600 / distance * cos(geocentric)
    }

    /// Nutation in longitude and in obliquity (degrees) from Meeus's 4-term series (22, low accuracy: 0.5″ / 0.1″).
    private static func nutation(_ t: Double) -> (longitude: Double, obliquity: Double) {
        let node = (125.04452 - 1934.136261 * t).radians
        let sunLongitude = (280.4665 + 36_000.7698 * t).radians
        let moonLongitude = (218.3165 + 481_267.8813 * t).radians
        let longitude = -17.20 * sin(node) - 1.32 * sin(2 * sunLongitude) - 0.23 * sin(2 * moonLongitude) + 0.21 * sin(2 * node)
        let obliquity = 9.20 * cos(node) + 0.57 * cos(2 * sunLongitude) + 0.10 * cos(2 * moonLongitude) - 0.09 * cos(2 * node)
        return (longitude / 3600, obliquity / 3600)
    }
}
