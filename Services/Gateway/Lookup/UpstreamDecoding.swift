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
        FlatJSONReader.read(body) { reader in
            var postalCode: String?
            var country: String?
            var place: String?
            var latitude: Double?
            var longitude: Double?
            var timezone: String??
            let read = reader.document { key, reader in
                // A key seen twice is left to JSONDecoder, as is a value of the wrong kind.
                switch LocationKeys.slot(of: key) {
                case 0: return postalCode == nil && store(reader.string(), in: &postalCode)
                case 1: return country == nil && store(reader.string(), in: &country)
                case 2: return place == nil && store(reader.string(), in: &place)
                case 3: return latitude == nil && store(reader.double(), in: &latitude)
                case 4: return longitude == nil && store(reader.double(), in: &longitude)
                case 5: return timezone == nil && store(reader.optionalString(), in: &timezone)
                default: return reader.skipScalar()
                }
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
    }

    static func fastSunEnvelope(_ body: [UInt8]) -> SunEnvelope? {
        FlatJSONReader.read(body) { reader in
            var results: SunTimes?
            var status: String?
            let read = reader.document { key, reader in
                if WireName.matches(key, EnvelopeKeys.results) {
                    return results == nil && store(fastSunTimes(&reader), in: &results)
                } else if WireName.matches(key, EnvelopeKeys.status) {
                    return status == nil && store(reader.string(), in: &status)
                }
                return reader.skipScalar()
            }
            guard read, let results, let status else { return nil }
            return SunEnvelope(results: results, status: status)
        }
    }

    private static func fastSunTimes(_ reader: inout FlatJSONReader) -> SunTimes? {
        // The times stay in the body until the end, as offsets, and are then copied into one string together.
        var body = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
        var starts = SIMD16<Int32>(repeating: 0)
        var ends = SIMD16<Int32>(repeating: 0)
        var seen: UInt16 = 0
        var present: UInt16 = 0
        var dayLength: Int?
        let read = reader.object { key, reader in
            if WireName.matches(key, TimeKeys.dayLength) {
                return dayLength == nil && store(reader.integer(), in: &dayLength)
            }
            guard let slot = TimeKeys.slot(of: key) else { return reader.skipScalar() }
            guard let time = SunTimes.Time(rawValue: slot) else { return false }
            guard seen & time.bit == 0, let value = reader.optionalText() else { return false }
            seen |= time.bit
            if let value {
                body = value.base
                starts[slot] = Int32(value.startIndex)
                ends[slot] = Int32(value.endIndex)
                present |= time.bit
            }
            return true
        }
        guard read, let dayLength else { return nil }
        return SunTimes(dayLength: dayLength, present: present) { time in
            body[Int(starts[time.rawValue])..<Int(ends[time.rawValue])]
        }
    }

    /// Stores a value that was read; false (give up) when nothing could be read.
    private static func store<Value>(_ value: Value?, in slot: inout Value?) -> Bool {
        guard let value else { return false }
        slot = value
        return true
    }
}

extension SunTimes.CodingKeys {
    /// The optional time fields, everything but `day_length`, in `SunTimes.Time` order.
    static let times: [Self] = [
        .sunrise, .sunset, .solarNoon, .civilTwilightBegin, .civilTwilightEnd, .nauticalTwilightBegin, .nauticalTwilightEnd,
        .astronomicalTwilightBegin, .astronomicalTwilightEnd,
    ]
}

/// A key's wire name as bytes, taken once from the coding keys, so the answers and the decoding never disagree.
///
/// Comparing a key with bytes held here is a length check and a short compare; comparing it with `rawValue.utf8`
/// builds the raw value on every comparison.
enum WireName {
    static func bytes(_ key: some CodingKey) -> [UInt8] { Array(key.stringValue.utf8) }

    static func matches(_ key: Slice<UnsafeBufferPointer<UInt8>>, _ name: [UInt8]) -> Bool {
        key.count == name.count && key.elementsEqual(name)
    }

    /// The index in `names` of the one equal to `key`.
    static func slot(of key: Slice<UnsafeBufferPointer<UInt8>>, in names: [[UInt8]]) -> Int? {
        names.firstIndex { matches(key, $0) }
    }
}

private enum LocationKeys {
    typealias Key = LocationRecord.CodingKeys
    /// In the order `fastLocation` switches on.
    static let names = [Key.postalCode, .country, .place, .latitude, .longitude, .timezone].map(WireName.bytes)

    static func slot(of key: Slice<UnsafeBufferPointer<UInt8>>) -> Int? { WireName.slot(of: key, in: names) }
}

private enum TimeKeys {
    static let names = SunTimes.CodingKeys.times.map(WireName.bytes)
    static let dayLength = WireName.bytes(SunTimes.CodingKeys.dayLength)

    static func slot(of key: Slice<UnsafeBufferPointer<UInt8>>) -> Int? { WireName.slot(of: key, in: names) }
}

private enum EnvelopeKeys {
    static let results = Array("results".utf8)
    static let status = Array("status".utf8)
}
