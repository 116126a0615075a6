/// `--slow-start`: a backend that joins or returns to rotation starts at 10 % of its weight and ramps
/// linearly to full over `period`, so a cold replica is not handed a full share at once.
struct SlowStart: Sendable, Equatable {
    /// The share of its weight a backend gets the moment it (re)joins.
    static let initialFraction = 0.1

    let period: Duration

    /// The fraction of its weight a backend gets `elapsed` after it (re)joined; 1 once `period` has passed.
    func fraction(after elapsed: Duration) -> Double {
        guard period > .zero, elapsed < period else { return 1 }
        let progress = max(0, elapsed / period)
        return Self.initialFraction + (1 - Self.initialFraction) * progress
    }
}
