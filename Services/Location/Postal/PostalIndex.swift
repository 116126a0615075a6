import CityscapeKit

/// The in-memory postal code table: built once at start, then shared read-only by every request handler.
///
/// Layout, chosen for a fast start and a small footprint with all 1,080,401 rows: the decompressed TSV stays as one
/// byte array (57.7 MB) and each row is known only by the 32-bit offset of its postal code (4.3 MB), plus 677 row
/// ranges, one per possible country code. A lookup finds the country's rows in O(1), binary-searches them comparing
/// the code's bytes in place (the data is sorted by country, then code, in byte order, which the scan verifies), and
/// decodes Strings and Doubles for the one matched row only. The row's last column is an index into `timeZones`, the
/// few hundred IANA zone names of `timezones.tsv`.
///
/// Immutable after `init`, so sharing it across tasks needs no lock: `Sendable` without `@unchecked`.
final class PostalIndex: Sendable {
    private let table: [UInt8]
    private let codeOffsets: [UInt32]
    private let countryRowStarts: [UInt32]
    /// IANA zone names; a row's `timezone_id` indexes this array (checked by the scan).
    let timeZones: [String]

    /// Number of countries with at least one row.
    let countryCount: Int

    /// Number of data rows (the header is not counted).
    var count: Int { codeOffsets.count }

    /// Takes ownership of the decompressed TSV bytes (with header line) and the zone names its `timezone_id` column
    /// indexes. Throws on a malformed table (wrong column count, unsorted rows, bad coordinates, a zone id out of
    /// range) with the line number.
    ///
    /// The bytes are kept as they are, not copied, as long as the caller holds no other reference to the array.
    /// See ``PostalTableScanner`` for every check.
    init(tsv: [UInt8], timeZones: [String]) throws(PostalTableError) {
        let layout = try tsv.withUnsafeBufferPointer { bytes throws(PostalTableError) in
            try PostalTableScanner.scan(bytes, timeZoneCount: timeZones.count)
        }
        self.timeZones = timeZones
        table = tsv
        codeOffsets = layout.codeOffsets
        countryRowStarts = layout.countryRowStarts
        countryCount = layout.countryCount
    }

    /// Tries `query.candidates` in order and returns the first row the table holds.
    func lookup(_ query: PostalQuery) -> PostalRecord? {
        for candidate in query.candidates {
            if let row = row(country: query.country, postalCode: candidate) {
                return record(at: row)
            }
        }
        return nil
    }

    /// The row whose country and postal code equal the arguments byte for byte, without any normalisation.
    func row(country: String, postalCode: String) -> Int? {
        guard let rows = rows(ofCountry: country) else { return nil }
        var code = postalCode
        return code.withUTF8 { query in
            table.withUnsafeBufferPointer { bytes in
                var low = rows.lowerBound
                var high = rows.upperBound
                while low < high {
                    let middle = low + (high - low) / 2
                    let order = Self.compareStoredCode(in: bytes, at: Int(codeOffsets[middle]), with: query)
                    if order < 0 {
                        low = middle + 1
                    } else if order > 0 {
                        high = middle
                    } else {
                        return middle
                    }
                }
                return nil
            }
        }
    }

    /// Decodes one row; `row` must be in `0..<count`.
    func record(at row: Int) -> PostalRecord {
        let codeStart = Int(codeOffsets[row])
        return table.withUnsafeBufferPointer { bytes in
            // The scan guaranteed seven tab-separated columns, so each delimiter search stops inside this row.
            let codeEnd = PostalTableScanner.nextDelimiter(in: bytes, from: codeStart)
            let placeEnd = PostalTableScanner.nextDelimiter(in: bytes, from: codeEnd + 1)
            let admin1End = PostalTableScanner.nextDelimiter(in: bytes, from: placeEnd + 1)
            let latitudeEnd = PostalTableScanner.nextDelimiter(in: bytes, from: admin1End + 1)
            let longitudeEnd = PostalTableScanner.nextDelimiter(in: bytes, from: latitudeEnd + 1)
            let zoneEnd = PostalTableScanner.nextDelimiter(in: bytes, from: longitudeEnd + 1)
            // Checked by the scan; the fallback only avoids a trap in a server.
            let zone = PostalTableScanner.timeZoneID(bytes, (longitudeEnd + 1)..<zoneEnd) ?? 0
            func text(_ range: Range<Int>) -> String {
                String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            }
            func degrees(_ range: Range<Int>) -> Double {
                // Parsed successfully by the scan; NaN is unreachable and only avoids a trap in a server.
                PostalCoordinate.parse(UnsafeBufferPointer(rebasing: bytes[range])) ?? .nan
            }
            return PostalRecord(
                country: text((codeStart - 3)..<(codeStart - 1)),
                postalCode: text(codeStart..<codeEnd),
                place: text((codeEnd + 1)..<placeEnd),
                admin1: text((placeEnd + 1)..<admin1End),
                latitude: degrees((admin1End + 1)..<latitudeEnd),
                longitude: degrees((latitudeEnd + 1)..<longitudeEnd),
                timeZone: timeZones[zone]
            )
        }
    }

    // MARK: Search

    private func rows(ofCountry country: String) -> Range<Int>? {
        var letters = country.utf8.makeIterator()
        guard let first = letters.next(), let second = letters.next(), letters.next() == nil,
            PostalByte.isUpperLetter(first), PostalByte.isUpperLetter(second)
        else { return nil }
        let key = Int(first - PostalByte.upperA) * 26 + Int(second - PostalByte.upperA)
        let rows = Int(countryRowStarts[key])..<Int(countryRowStarts[key + 1])
        return rows.isEmpty ? nil : rows
    }

    /// Orders the stored code at `offset` (ended by its tab) against `query`, as the data is sorted: byte order,
    /// a proper prefix first. Walks both at once, so the stored code's length is never computed separately.
    private static func compareStoredCode(in bytes: UnsafeBufferPointer<UInt8>, at offset: Int, with query: UnsafeBufferPointer<UInt8>) -> Int {
        var index = 0
        while true {
            let stored = bytes[offset + index]
            if stored == PostalByte.tab {
                return index == query.count ? 0 : -1
            }
            if index == query.count {
                return 1
            }
            let wanted = query[index]
            if stored != wanted {
                return stored < wanted ? -1 : 1
            }
            index += 1
        }
    }
}
