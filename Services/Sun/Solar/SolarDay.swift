import Foundation

/// The events of one solar day; nil = the Sun does not cross that altitude in that half of the day.
///
/// The solar day runs from the lower culmination before `solarNoon` to the one after it. Morning events
/// (`sunrise`, `*TwilightBegin`) are upward crossings in the first half, evening events downward crossings in the
/// second half. Altitudes are of the Sun's centre: −0.833° for sunrise/sunset (34′ refraction + 16′ semidiameter),
/// −6°/−12°/−18° for civil/nautical/astronomical twilight.
struct SolarDay: Sendable, Equatable {
    /// Upper meridian transit (hour angle 0), which always exists.
    let solarNoon: Date
    let sunrise: Date?
    let sunset: Date?
    let civilTwilightBegin: Date?
    let civilTwilightEnd: Date?
    let nauticalTwilightBegin: Date?
    let nauticalTwilightEnd: Date?
    let astronomicalTwilightBegin: Date?
    let astronomicalTwilightEnd: Date?
    /// Seconds the Sun's centre spends above -0.833° in this solar day: sunset − sunrise normally, 86400 polar day, 0 polar night.
    ///
    /// The rule, in order:
    /// 1. sunrise and sunset both present → `sunset − sunrise`;
    /// 2. neither present → 86400 if the Sun is above −0.833° at `solarNoon` (polar day), else 0 (polar night);
    /// 3. only sunrise → `solarNoon + 12 h − sunrise` (the Sun rises and stays up to the end of the day);
    /// 4. only sunset → `sunset − (solarNoon − 12 h)` (up since the start of the day, then sets).
    /// The day in 3 and 4 is the fixed window `solarNoon ± 12 h`, so the value always lies in 0...86400.
    let dayLength: TimeInterval
}
