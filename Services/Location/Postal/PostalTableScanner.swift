import CityscapeKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where the rows of a validated postal table are: what ``PostalIndex`` keeps besides the bytes themselves.
struct PostalTableLayout: Sendable {
    /// Byte offset of each data row's postal code, in table order (the row starts 3 bytes earlier: country and tab).
    var codeOffsets: [UInt32]
    /// Rows of country `k` (= (first letter - A) × 26 + (second letter - A)) are
    /// `countryRowStarts[k] ..< countryRowStarts[k + 1]`; 677 entries, so every country is one subtraction away.
    var countryRowStarts: [UInt32]
    /// Countries with at least one row.
    var countryCount: Int
}

/// Validates the decompressed TSV and finds its rows in one pass over the bytes, without splitting into Strings.
///
/// Checks, each failing with the 1-based line number: the exact header; seven tab-separated columns; a country of two
/// upper-case ASCII letters; a postal code that is already in ``PostalQuery``'s normal form (1 to 16 characters of
/// A-Z, 0-9, space, hyphen, no outer or double spaces), so every stored row can be reached by some query; rows sorted
/// strictly by country, then postal code in byte order (binary search depends on it; equal keys are duplicates);
/// latitude in -90...90 and longitude in -180...180 in plain decimal notation; a time-zone id that is a decimal index
/// into the zone table (no leading zero).
enum PostalTableScanner {
    /// The header line the data build writes (ATTRIBUTION.md, step 5).
    static let header = Array("country_code\tpostal_code\tplace_name\tadmin1\tlatitude\tlongitude\ttimezone_id".utf8)

    /// Scans a whole table whose zone ids index a table of `timeZoneCount` names; offsets are 32-bit, so tables of
    /// 4 GiB or more are refused.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, timeZoneCount: Int) throws(PostalTableError) -> PostalTableLayout {
        guard bytes.count < Int(UInt32.max) else {
            throw PostalTableError(line: 0, message: "table has \(bytes.count) bytes; at most 4 GiB is supported")
        }
        let headerEnd = firstIndex(of: PostalByte.newline, in: bytes, from: 0, to: bytes.count)
        guard bytes[0..<headerEnd].elementsEqual(header) else {
            throw PostalTableError(
                line: 1,
                message:
                    "expected the header 'country_code<TAB>postal_code<TAB>place_name<TAB>admin1<TAB>latitude<TAB>longitude<TAB>timezone_id'"
            )
        }
        var codeOffsets: [UInt32] = []
        // ~50 bytes per row in the real table; reserving on the generous side avoids regrowth copies, and pages
        // of the unused tail are never touched, so they cost address space, not RSS.
        codeOffsets.reserveCapacity(bytes.count / 32)
        var countryRowStarts = [UInt32](repeating: 0, count: 26 * 26 + 1)
        var countryCount = 0
        var previousCountry = -1
        var previousCode = 0..<0
        var line = 1
        var position = headerEnd + 1
        while position < bytes.count {
            line += 1
            let row = try splitRow(bytes, from: position, line: line)
            let country = try countryKey(bytes, row.country, line: line)
            let code = row.code
            try validatePostalCode(bytes, code, line: line)
            if country != previousCountry {
                guard country > previousCountry else {
                    throw PostalTableError(line: line, message: "rows are not sorted by country code")
                }
                for key in (previousCountry + 1)...country {
                    countryRowStarts[key] = UInt32(codeOffsets.count)
                }
                previousCountry = country
                countryCount += 1
            } else {
                guard compare(bytes, previousCode, code) < 0 else {
                    throw PostalTableError(line: line, message: "postal code is not greater than the previous row's (unsorted or duplicate)")
                }
            }
            try validateCoordinate(bytes, row.latitude, limit: 90, line: line)
            try validateCoordinate(bytes, row.longitude, limit: 180, line: line)
            guard let zone = timeZoneID(bytes, row.timeZone), zone < timeZoneCount else {
                throw PostalTableError(line: line, message: "timezone_id must be an index into the \(timeZoneCount) zones of timezones.tsv")
            }
            codeOffsets.append(UInt32(code.lowerBound))
            previousCode = code
            position = row.end + 1
        }
        for key in (previousCountry + 1)..<countryRowStarts.count {
            countryRowStarts[key] = UInt32(codeOffsets.count)
        }
        return PostalTableLayout(codeOffsets: codeOffsets, countryRowStarts: countryRowStarts, countryCount: countryCount)
    }

    /// Orders two codes of the table the way the data build sorted them: byte order, a proper prefix first.
    /// Negative, zero or positive like `memcmp`.
    static func compare(_ bytes: UnsafeBufferPointer<UInt8>, _ left: Range<Int>, _ right: Range<Int>) -> Int {
        let leftCount = left.upperBound - left.lowerBound
        let rightCount = right.upperBound - right.lowerBound
        let common = min(leftCount, rightCount)
        var offset = 0
        while offset < common {
            let leftByte = bytes[left.lowerBound + offset]
            let rightByte = bytes[right.lowerBound + offset]
            if leftByte != rightByte {
                return leftByte < rightByte ? -1 : 1
            }
            offset += 1
        }
        return leftCount - rightCount
    }

    // MARK: Row checks

    /// The columns of one row that the index checks; place and admin1 are free text and are only decoded on lookup.
    private struct Row {
        let country: Range<Int>
        let code: Range<Int>
        let latitude: Range<Int>
        let longitude: Range<Int>
        let timeZone: Range<Int>
        /// Index of the line feed ending the row, or the table's end.
        let end: Int
    }

    /// Splits the row starting at `start`: one vectorised search for its line end, then one per tab inside it, so no
    /// per-row array is allocated and long place names are skipped many bytes at a time.
    private static func splitRow(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, line: Int) throws(PostalTableError) -> Row {
        let end = firstIndex(of: PostalByte.newline, in: bytes, from: start, to: bytes.count)
        let countryEnd = try tab(endingColumn: 1, in: bytes, from: start, lineEnd: end, line: line)
        let codeEnd = try tab(endingColumn: 2, in: bytes, from: countryEnd + 1, lineEnd: end, line: line)
        let placeEnd = try tab(endingColumn: 3, in: bytes, from: codeEnd + 1, lineEnd: end, line: line)
        let admin1End = try tab(endingColumn: 4, in: bytes, from: placeEnd + 1, lineEnd: end, line: line)
        let latitudeEnd = try tab(endingColumn: 5, in: bytes, from: admin1End + 1, lineEnd: end, line: line)
        let longitudeEnd = try tab(endingColumn: 6, in: bytes, from: latitudeEnd + 1, lineEnd: end, line: line)
        guard firstIndex(of: PostalByte.tab, in: bytes, from: longitudeEnd + 1, to: end) == end else {
            throw PostalTableError(line: line, message: "expected 7 tab-separated columns, found more")
        }
        return Row(
            country: start..<countryEnd,
            code: (countryEnd + 1)..<codeEnd,
            latitude: (admin1End + 1)..<latitudeEnd,
            longitude: (latitudeEnd + 1)..<longitudeEnd,
            timeZone: (longitudeEnd + 1)..<end,
            end: end
        )
    }

    /// The tab that ends column `column` (1-based), which starts at `start`; a missing tab means too few columns.
    private static func tab(
        endingColumn column: Int,
        in bytes: UnsafeBufferPointer<UInt8>,
        from start: Int,
        lineEnd: Int,
        line: Int
    ) throws(PostalTableError) -> Int {
        let index = firstIndex(of: PostalByte.tab, in: bytes, from: start, to: lineEnd)
        guard index < lineEnd else {
            throw PostalTableError(line: line, message: "expected 7 tab-separated columns, found \(column)")
        }
        return index
    }

    /// Index of the next tab or line feed at or after `start`, or the table's end.
    static func nextDelimiter(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if byte == PostalByte.tab || byte == PostalByte.newline {
                return index
            }
            index += 1
        }
        return index
    }

    /// Index of the first `byte` in `start..<end`, or `end`; libc's `memchr` is vectorised, which matters for
    /// 53 MB scanned at every start.
    static func firstIndex(of byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int {
        guard start < end, let base = bytes.baseAddress,
            let found = memchr(base + start, Int32(byte), end - start)
        else { return end }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }

    // The checks below index with lowerBound/upperBound and `while` loops instead of iterating ranges: the generic
    // Collection calls that iteration costs are not optimised away in a debug build, where they dominate loading.

    private static func countryKey(_ bytes: UnsafeBufferPointer<UInt8>, _ field: Range<Int>, line: Int) throws(PostalTableError) -> Int {
        let first = bytes[field.lowerBound]
        let second = field.upperBound - field.lowerBound == 2 ? bytes[field.lowerBound + 1] : 0
        guard PostalByte.isUpperLetter(first), PostalByte.isUpperLetter(second) else {
            throw PostalTableError(line: line, message: "country code must be two upper-case ASCII letters")
        }
        return Int(first - PostalByte.upperA) * 26 + Int(second - PostalByte.upperA)
    }

    private static func validatePostalCode(_ bytes: UnsafeBufferPointer<UInt8>, _ field: Range<Int>, line: Int) throws(PostalTableError) {
        let length = field.upperBound - field.lowerBound
        guard length >= 1, length <= PostalQuery.maximumPostalCodeLength else {
            throw PostalTableError(line: line, message: "postal code must have 1 to \(PostalQuery.maximumPostalCodeLength) characters")
        }
        // Starting as if after a space rejects a leading space; the check after the loop rejects a trailing one.
        var previous = PostalByte.space
        var index = field.lowerBound
        while index < field.upperBound {
            let byte = bytes[index]
            guard PostalByte.isAllowedInPostalCode(byte), byte != PostalByte.space || previous != PostalByte.space else {
                throw PostalTableError(line: line, message: "postal code is not in normal form (A-Z, 0-9, single inner spaces, hyphens)")
            }
            previous = byte
            index += 1
        }
        guard previous != PostalByte.space else {
            throw PostalTableError(line: line, message: "postal code is not in normal form (A-Z, 0-9, single inner spaces, hyphens)")
        }
    }

    /// The zone id written in `field`: 1 to 4 digits without a leading zero (the data has a few hundred zones), else nil.
    static func timeZoneID(_ bytes: UnsafeBufferPointer<UInt8>, _ field: Range<Int>) -> Int? {
        let length = field.upperBound - field.lowerBound
        guard length >= 1, length <= 4, length == 1 || bytes[field.lowerBound] != PostalByte.zero else { return nil }
        var value = 0
        var index = field.lowerBound
        while index < field.upperBound {
            let byte = bytes[index]
            guard PostalByte.isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - PostalByte.zero)
            index += 1
        }
        return value
    }

    private static func validateCoordinate(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ field: Range<Int>,
        limit: Double,
        line: Int
    ) throws(PostalTableError) {
        let text = UnsafeBufferPointer(rebasing: bytes[field])
        guard let value = PostalCoordinate.parse(text), value >= -limit, value <= limit else {
            let name = limit == 90 ? "latitude" : "longitude"
            throw PostalTableError(line: line, message: "\(name) must be a decimal number of degrees in -\(Int(limit))...\(Int(limit))")
        }
    }
}
