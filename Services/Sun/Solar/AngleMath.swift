import Foundation

/// Degree helpers: the astronomical formulas are published in degrees while `sin`/`cos` take radians.
extension Double {
    /// This angle (degrees) in radians.
    var radians: Double { self * .pi / 180 }
    /// This angle (radians) in degrees.
    var degrees: Double { self * 180 / .pi }
    /// This angle (degrees) reduced to [0, 360).
    var normalizedDegrees: Double {
        let reduced = truncatingRemainder(dividingBy: 360)
        return reduced < 0 ? reduced + 360 : reduced
    }
    /// This angle (degrees) reduced to [-180, 180).
    var signedDegrees: Double { (self + 180).normalizedDegrees - 180 }
}
