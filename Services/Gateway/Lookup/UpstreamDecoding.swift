import Foundation

/// Decodes the two upstream answers the gateway reads on every request.
///
/// ``FlatJSONReader`` reads the answers as the services send them, straight from the bytes; any body outside
/// its subset goes to `JSONDecoder`, so the result (a value, or nil for a body that is not one) is always what
/// `JSONDecoder` gives. `UpstreamDecodingTests` holds the two equal on real answers and on edge cases.
enum UpstreamDecoding {
    static func location(_ body: [UInt8]) -> LocationRecord? {
        fastLocation(body) ?? (try? JSONDecoder().decode(LocationRecord.self, from: Data(body)))
    }

    static func sunEnvelope(_ body: [UInt8]) -> SunEnvelope? {
        fastSunEnvelope(body) ?? (try? JSONDecoder().decode(SunEnvelope.self, from: Data(body)))
    }

    // MARK: The fast path: nil when the body is outside the reader's subset

    static func fastLocation(_ body: [UInt8]) -> LocationRecord? {
        typealias Key = LocationRecord.CodingKeys
        var reader = FlatJSONReader(body)
        var postalCode: String?
        var country: String?
        var place: String?
        var latitude: Double?
        var longitude: Double?
        var timezone: String??
        let read = reader.document { key, reader in
            // A key seen twice is left to JSONDecoder, as is a value of the wrong kind.
            if key.elementsEqual(Key.postalCode.rawValue.utf8) {
                return postalCode == nil && store(reader.string(), in: &postalCode)
            } else if key.elementsEqual(Key.country.rawValue.utf8) {
                return country == nil && store(reader.string(), in: &country)
            } else if key.elementsEqual(Key.place.rawValue.utf8) {
                return place == nil && store(reader.string(), in: &place)
            } else if key.elementsEqual(Key.latitude.rawValue.utf8) {
                return latitude == nil && store(reader.double(), in: &latitude)
            } else if key.elementsEqual(Key.longitude.rawValue.utf8) {
                return longitude == nil && store(reader.double(), in: &longitude)
            } else if key.elementsEqual(Key.timezone.rawValue.utf8) {
                return timezone == nil && store(reader.optionalString(), in: &timezone)
            }
            return reader.skipScalar()
        }
        guard read, let postalCode, let country, let place, let latitude, let longitude else { return nil }
        return LocationRecord(
            postalCode: postalCode,
            country: country,
            place: place,
            latitude: latitude,
            longitude: longitude,
            timezone: timezone ?? nil
        )
    }

    static func fastSunEnvelope(_ body: [UInt8]) -> SunEnvelope? {
        var reader = FlatJSONReader(body)
        var results: SunTimes?
        var status: String?
        let read = reader.document { key, reader in
            if key.elementsEqual("results".utf8) {
                return results == nil && store(fastSunTimes(&reader), in: &results)
            } else if key.elementsEqual("status".utf8) {
                return status == nil && store(reader.string(), in: &status)
            }
            return reader.skipScalar()
        }
        guard read, let results, let status else { return nil }
        return SunEnvelope(results: results, status: status)
    }

    private static func fastSunTimes(_ reader: inout FlatJSONReader) -> SunTimes? {
        typealias Key = SunTimes.CodingKeys
        // The nine optional times by key, in `Key` order; `.none` until seen, `.some(nil)` for `null`.
        var times = [String??](repeating: .none, count: Key.times.count)
        var dayLength: Int?
        let read = reader.object { key, reader in
            if key.elementsEqual(Key.dayLength.rawValue.utf8) {
                return dayLength == nil && store(reader.integer(), in: &dayLength)
            }
            guard let slot = Key.times.firstIndex(where: { key.elementsEqual($0.rawValue.utf8) }) else { return reader.skipScalar() }
            return times[slot] == nil && store(reader.optionalString(), in: &times[slot])
        }
        guard read, let dayLength else { return nil }
        func time(_ key: Key) -> String? { times[Key.times.firstIndex(of: key)!] ?? nil }
        return SunTimes(
            sunrise: time(.sunrise),
            sunset: time(.sunset),
            solarNoon: time(.solarNoon),
            dayLength: dayLength,
            civilTwilightBegin: time(.civilTwilightBegin),
            civilTwilightEnd: time(.civilTwilightEnd),
            nauticalTwilightBegin: time(.nauticalTwilightBegin),
            nauticalTwilightEnd: time(.nauticalTwilightEnd),
            astronomicalTwilightBegin: time(.astronomicalTwilightBegin),
            astronomicalTwilightEnd: time(.astronomicalTwilightEnd)
        )
    }

    /// Stores a value that was read; false (give up) when nothing could be read.
    private static func store<Value>(_ value: Value?, in slot: inout Value?) -> Bool {
        guard let value else { return false }
        slot = value
        return true
    }
}

extension SunTimes.CodingKeys {
    /// The optional time fields, everything but `day_length`.
    static let times: [Self] = [
        .sunrise, .sunset, .solarNoon, .civilTwilightBegin, .civilTwilightEnd, .nauticalTwilightBegin, .nauticalTwilightEnd,
        .astronomicalTwilightBegin, .astronomicalTwilightEnd,
    ]
}
