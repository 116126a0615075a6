import Foundation

/// The Earth's heliocentric ecliptic longitude and latitude (equinox of date) from VSOP87D, abridged.
///
/// NOAA's 3-term equation of the centre ignores the pulls of the Moon, Venus and Jupiter and is off by up to 35″
/// in longitude (13″ in declination) over 1900–2100, which moves grazing high-latitude twilights by minutes. These
/// periodic terms are the abridged VSOP87D series printed in Meeus, *Astronomical Algorithms* (2nd ed.),
/// Appendix III, and reused by NREL's SPA (Reda & Andreas 2004, Table A4.2), keeping only terms with amplitude
/// ≥ 20·10⁻⁸ rad. Against JPL DE421 the resulting apparent place is within 0.9″ in right ascension and 0.4″ in
/// declination over 1900–2053 (measured; see tools/sun-reference/README.md).
enum EarthHeliocentricSeries {
    /// One periodic term `amplitude · cos(phase + frequency · τ)`; amplitude in 10⁻⁸ rad, τ in Julian millennia.
    struct PeriodicTerm: Sendable {
        let amplitude: Double
        let phase: Double
        let frequency: Double

        init(_ amplitude: Double, _ phase: Double, _ frequency: Double) {
            self.amplitude = amplitude
            self.phase = phase
            self.frequency = frequency
        }
    }

    /// Heliocentric longitude and latitude in radians at `tau` Julian millennia of TT from J2000.0.
    static func position(tau: Double) -> (longitude: Double, latitude: Double) {
        let series = [l0, l1, l2, l3, l4].map { sum($0, tau) }
        let longitude = series.reversed().reduce(0) { $0 * tau + $1 } / 1e8
        return (longitude, sum(b0, tau) / 1e8)
    }

    private static func sum(_ terms: [PeriodicTerm], _ tau: Double) -> Double {
        terms.reduce(0) { $0 + $1.amplitude * cos($1.phase + $1.frequency * tau) }
    }

    // MARK: - Coefficients (Meeus Appendix III / SPA Table A4.2, amplitude ≥ 20)

    /// Longitude terms multiplied by τ⁰.
    static let l0: [PeriodicTerm] = [
        .init(175347046, 0.0, 0.0),
        .init(3341656, 4.6692568, 6283.07585),
        .init(34894, 4.6261, 12566.1517),
        .init(3497, 2.7441, 5753.3849),
        .init(3418, 2.8289, 3.5231),
        .init(3136, 3.6277, 77713.7715),
        .init(2676, 4.4181, 7860.4194),
        .init(2343, 6.1352, 3930.2097),
        .init(1324, 0.7425, 11506.7698),
        .init(1273, 2.0371, 529.691),
        .init(1199, 1.1096, 1577.3435),
        .init(990, 5.233, 5884.927),
        .init(902, 2.045, 26.298),
        .init(857, 3.508, 398.149),
        .init(780, 1.179, 5223.694),
        .init(753, 2.533, 5507.553),
        .init(505, 4.583, 18849.228),
        .init(492, 4.205, 775.523),
        .init(357, 2.92, 0.067),
        .init(317, 5.849, 11790.629),
        .init(284, 1.899, 796.298),
        .init(271, 0.315, 10977.079),
        .init(243, 0.345, 5486.778),
        .init(206, 4.806, 2544.314),
        .init(205, 1.869, 5573.143),
        .init(202, 2.458, 6069.777),
        .init(156, 0.833, 213.299),
        .init(132, 3.411, 2942.463),
        .init(126, 1.083, 20.775),
        .init(115, 0.645, 0.98),
        .init(103, 0.636, 4694.003),
        .init(102, 0.976, 15720.839),
        .init(102, 4.267, 7.114),
        .init(99, 6.21, 2146.17),
        .init(98, 0.68, 155.42),
        .init(86, 5.98, 161000.69),
        .init(85, 1.3, 6275.96),
        .init(85, 3.67, 71430.7),
        .init(80, 1.81, 17260.15),
        .init(79, 3.04, 12036.46),
        .init(75, 1.76, 5088.63),
        .init(74, 3.5, 3154.69),
        .init(74, 4.68, 801.82),
        .init(70, 0.83, 9437.76),
        .init(62, 3.98, 8827.39),
        .init(61, 1.82, 7084.9),
        .init(57, 2.78, 6286.6),
        .init(56, 4.39, 14143.5),
        .init(56, 3.47, 6279.55),
        .init(52, 0.19, 12139.55),
        .init(52, 1.33, 1748.02),
        .init(51, 0.28, 5856.48),
        .init(49, 0.49, 1194.45),
        .init(41, 5.37, 8429.24),
        .init(41, 2.4, 19651.05),
        .init(39, 6.17, 10447.39),
        .init(37, 6.04, 10213.29),
        .init(37, 2.57, 1059.38),
        .init(36, 1.71, 2352.87),
        .init(36, 1.78, 6812.77),
        .init(33, 0.59, 17789.85),
        .init(30, 0.44, 83996.85),
        .init(30, 2.74, 1349.87),
        .init(25, 3.16, 4690.48),
    ]

    /// Longitude terms multiplied by τ^1.
    static let l1: [PeriodicTerm] = [
        .init(628331966747, 0.0, 0.0),
        .init(206059, 2.678235, 6283.07585),
        .init(4303, 2.6351, 12566.1517),
        .init(425, 1.59, 3.523),
        .init(119, 5.796, 26.298),
        .init(109, 2.966, 1577.344),
        .init(93, 2.59, 18849.23),
        .init(72, 1.14, 529.69),
        .init(68, 1.87, 398.15),
        .init(67, 4.41, 5507.55),
        .init(59, 2.89, 5223.69),
        .init(56, 2.17, 155.42),
        .init(45, 0.4, 796.3),
        .init(36, 0.47, 775.52),
        .init(29, 2.65, 7.11),
        .init(21, 5.34, 0.98),
    ]

    /// Longitude terms multiplied by τ^2.
    static let l2: [PeriodicTerm] = [
        .init(52919, 0.0, 0.0),
        .init(8720, 1.0721, 6283.0758),
        .init(309, 0.867, 12566.152),
        .init(27, 0.05, 3.52),
    ]

    /// Longitude terms multiplied by τ^3.
    static let l3: [PeriodicTerm] = [
        .init(289, 5.844, 6283.076),
        .init(35, 0.0, 0.0),
    ]

    /// Longitude terms multiplied by τ^4.
    static let l4: [PeriodicTerm] = [
        .init(114, 3.142, 0.0)
    ]

    /// Latitude terms (the τ¹ series is below the cut-off).
    static let b0: [PeriodicTerm] = [
        .init(280, 3.199, 84334.662),
        .init(102, 5.422, 5507.553),
        .init(80, 3.88, 5223.69),
        .init(44, 3.7, 2352.87),
        .init(32, 4.0, 1577.34),
    ]
}
