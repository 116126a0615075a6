import Foundation

/// ΔT = TT − UT: how far the Earth's rotation clock (UT, which timestamps are in) lags the uniform time the
/// orbital theory runs on (TT).
///
/// Ignoring ΔT (≈ 70 s today, ≈ 200 s predicted for 2100) would shift the Sun along its orbit by up to 8″, which
/// matters for grazing twilights at high latitudes. The values are the Espenak & Meeus polynomials
/// (NASA, "Polynomial Expressions for Delta T", eclipse.gsfc.nasa.gov/SEcat5/deltatpoly.html) — the same
/// expressions NREL's SPA uses — with the long-term parabola of Morrison & Stephenson (2004) outside 1800–2150.
enum DeltaT {
    /// ΔT in seconds at `decimalYear` (e.g. 2024.5 for mid-2024).
    static func seconds(atDecimalYear y: Double) -> Double {
        switch y {
        case 1800..<1860:
            let t = y - 1800
            return polynomial(t, [13.72, -0.332447, 0.0068612, 0.0041116, -0.00037436, 0.0000121272, -0.0000001699, 0.000000000875])
        case 1860..<1900:
            let t = y - 1860
            return polynomial(t, [7.62, 0.5737, -0.251754, 0.01680668, -0.0004473624, 1.0 / 233_174])
        case 1900..<1920:
            let t = y - 1900
            return polynomial(t, [-2.79, 1.494119, -0.0598939, 0.0061966, -0.000197])
        case 1920..<1941:
            let t = y - 1920
            return polynomial(t, [21.20, 0.84493, -0.076100, 0.0020936])
        case 1941..<1961:
            let t = y - 1950
            return polynomial(t, [29.07, 0.407, -1.0 / 233, 1.0 / 2547])
        case 1961..<1986:
            let t = y - 1975
            return polynomial(t, [45.45, 1.067, -1.0 / 260, -1.0 / 718])
        case 1986..<2005:
            let t = y - 2000
            return polynomial(t, [63.86, 0.3345, -0.060374, 0.0017275, 0.000651814, 0.00002373599])
        case 2005..<2050:
            let t = y - 2000
            return polynomial(t, [62.92, 0.32217, 0.005589])
        case 2050..<2150:
            return longTerm(y) - 0.5628 * (2150 - y)
        default:
            // Beyond the fitted range only the tidal-braking trend is known; it keeps results finite and smooth.
            return longTerm(y)
        }
    }

    /// Morrison & Stephenson's parabola: tidal braking lengthens the day by ≈ 1.7 ms per century.
    private static func longTerm(_ y: Double) -> Double {
        let u = (y - 1820) / 100
        return -20 + 32 * u * u
    }

    /// Evaluates `coefficients[0] + coefficients[1]·t + …` by Horner's rule.
    private static func polynomial(_ t: Double, _ coefficients: [Double]) -> Double {
        coefficients.reversed().reduce(0) { $0 * t + $1 }
    }
}
