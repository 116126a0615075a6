/// The `results` object of the sun service (or sunrise-sunset.org) with `formatted=0`, packed into one string.
///
/// Every gateway request reads one and writes its nine times into the answer; nine strings of their own would be
/// nine allocations and a retain and release of each wherever the value is copied (cache, answer, writer). Here the
/// times lie one after another in `text`, each a range of its UTF-8, and an absent time (`null` or missing) is a
/// clear bit in `present`. Two values are equal when their times are equal, as with separate strings.
struct SunTimes: Sendable, Equatable {
    /// The times in the order they are packed: the order of `CodingKeys.times`.
    enum Time: Int, CaseIterable, Sendable {
        case sunrise, sunset, solarNoon, civilTwilightBegin, civilTwilightEnd, nauticalTwilightBegin, nauticalTwilightEnd
        case astronomicalTwilightBegin, astronomicalTwilightEnd

        var bit: UInt16 { 1 << UInt16(rawValue) }
    }

    let dayLength: Int
    /// The present times' UTF-8, one after another in `Time` order.
    private let text: String
    /// Where each time ends in `text`'s UTF-8; each starts where the one before ends, an absent one is empty.
    private let ends: SIMD16<Int32>
    /// Bit `Time.bit` set when that time is present.
    private let present: UInt16

    /// Packs times given as strings, in `Time` order (what `JSONDecoder` and tests produce).
    init(dayLength: Int, times: [String?]) {
        precondition(times.count == Time.allCases.count, "one entry per time")
        var text = ""
        text.reserveCapacity(times.reduce(0) { $0 + ($1?.utf8.count ?? 0) })
        var ends = SIMD16<Int32>(repeating: 0)
        var present: UInt16 = 0
        for (slot, time) in times.enumerated() {
            if let time {
                text += time
                present |= 1 << UInt16(slot)
            }
            ends[slot] = Int32(text.utf8.count)
        }
        self.init(dayLength: dayLength, text: text, ends: ends, present: present)
    }

    /// Packs times given one by one, as the unpacked fields were.
    init(
        sunrise: String?,
        sunset: String?,
        solarNoon: String?,
        dayLength: Int,
        civilTwilightBegin: String?,
        civilTwilightEnd: String?,
        nauticalTwilightBegin: String?,
        nauticalTwilightEnd: String?,
        astronomicalTwilightBegin: String?,
        astronomicalTwilightEnd: String?
    ) {
        self.init(
            dayLength: dayLength,
            times: [
                sunrise, sunset, solarNoon, civilTwilightBegin, civilTwilightEnd, nauticalTwilightBegin, nauticalTwilightEnd,
                astronomicalTwilightBegin, astronomicalTwilightEnd,
            ]
        )
    }

    /// Packs times given as valid UTF-8 in a borrowed body: `piece` is asked only for the times in `present`.
    init(dayLength: Int, present: UInt16, piece: (Time) -> Slice<UnsafeBufferPointer<UInt8>>) {
        var ends = SIMD16<Int32>(repeating: 0)
        var total = 0
        for time in Time.allCases {
            if present & time.bit != 0 { total += piece(time).count }
            ends[time.rawValue] = Int32(total)
        }
        let text = String(unsafeUninitializedCapacity: total) { buffer in
            var written = 0
            for time in Time.allCases where present & time.bit != 0 {
                let bytes = piece(time)
                _ = UnsafeMutableBufferPointer(rebasing: buffer[written..<written + bytes.count]).initialize(from: bytes)
                written += bytes.count
            }
            return written
        }
        self.init(dayLength: dayLength, text: text, ends: ends, present: present)
    }

    private init(dayLength: Int, text: String, ends: SIMD16<Int32>, present: UInt16) {
        self.dayLength = dayLength
        self.text = text
        self.ends = ends
        self.present = present
    }

    /// The time, sharing this value's storage; nil when the event does not happen that day.
    subscript(_ time: Time) -> Substring? {
        guard let bounds = bounds(time) else { return nil }
        let utf8 = text.utf8
        let lower = utf8.index(utf8.startIndex, offsetBy: bounds.lowerBound)
        let upper = utf8.index(lower, offsetBy: bounds.count)
        return text[lower..<upper]
    }

    /// Runs `body` with a lookup of each time's UTF-8 (nil when absent), valid during the call: a writer of all nine
    /// reads them from one borrowed buffer instead of making a `Substring`, and a retain, of each.
    func withUTF8<Result>(_ body: (_ time: (Time) -> UnsafeBufferPointer<UInt8>?) -> Result) -> Result {
        var text = text
        return text.withUTF8 { bytes in
            body { time in bounds(time).map { UnsafeBufferPointer(rebasing: bytes[$0]) } }
        }
    }

    /// Where `time` lies in `text`'s UTF-8; nil when it is absent.
    private func bounds(_ time: Time) -> Range<Int>? {
        guard present & time.bit != 0 else { return nil }
        return (time.rawValue == 0 ? 0 : Int(ends[time.rawValue - 1]))..<Int(ends[time.rawValue])
    }

    var sunrise: Substring? { self[.sunrise] }
    var sunset: Substring? { self[.sunset] }
    var solarNoon: Substring? { self[.solarNoon] }
    var civilTwilightBegin: Substring? { self[.civilTwilightBegin] }
    var civilTwilightEnd: Substring? { self[.civilTwilightEnd] }
    var nauticalTwilightBegin: Substring? { self[.nauticalTwilightBegin] }
    var nauticalTwilightEnd: Substring? { self[.nauticalTwilightEnd] }
    var astronomicalTwilightBegin: Substring? { self[.astronomicalTwilightBegin] }
    var astronomicalTwilightEnd: Substring? { self[.astronomicalTwilightEnd] }

    enum CodingKeys: String, CodingKey {
        case sunrise, sunset
        case solarNoon = "solar_noon"
        case dayLength = "day_length"
        case civilTwilightBegin = "civil_twilight_begin"
        case civilTwilightEnd = "civil_twilight_end"
        case nauticalTwilightBegin = "nautical_twilight_begin"
        case nauticalTwilightEnd = "nautical_twilight_end"
        case astronomicalTwilightBegin = "astronomical_twilight_begin"
        case astronomicalTwilightEnd = "astronomical_twilight_end"
    }
}

extension SunTimes: Decodable {
    /// Reads what a synthesized conformance of nine `String?` and an `Int` reads: a time may be `null` or missing.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let dayLength = try container.decode(Int.self, forKey: .dayLength)
        let times = try CodingKeys.times.map { try container.decodeIfPresent(String.self, forKey: $0) }
        self.init(dayLength: dayLength, times: times)
    }
}
