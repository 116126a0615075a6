import CityscapeKit
import Foundation
import Testing

@testable import LocationService

@Suite("Time zones of the postal table")
struct PostalTimeZoneTests {
    /// Hand-checked codes across the hard cases of zone boundaries (Data/postal/ATTRIBUTION.md, *Time zones*).
    @Test(
        "a hand-checked code has its place's zone",
        arguments: [
            // Arizona keeps standard time all year; the Navajo Nation inside it observes DST (America/Denver), the Hopi
            // reservation inside the Navajo Nation does not: the boundary data's choice, which we follow.
            ("US", "85001", "America/Phoenix"), ("US", "86001", "America/Phoenix"), ("US", "86039", "America/Phoenix"),
            ("US", "86515", "America/Denver"), ("US", "86033", "America/Denver"),
            // Indiana: most of the state on Eastern time, the Chicago and Evansville corners on Central.
            ("US", "46204", "America/Indiana/Indianapolis"), ("US", "46320", "America/Chicago"), ("US", "47620", "America/Chicago"),
            // El Paso is on Mountain time, the rest of Texas on Central.
            ("US", "79901", "America/Denver"), ("US", "75201", "America/Chicago"), ("US", "77002", "America/Chicago"),
            ("CA", "A1C", "America/St_Johns"), ("CA", "S4P", "America/Regina"), ("CA", "S7K", "America/Regina"),
            // Lloydminster straddles the Alberta border and keeps Alberta time.
            ("CA", "S9V", "America/Edmonton"),
            ("ES", "35001", "Atlantic/Canary"), ("ES", "38001", "Atlantic/Canary"), ("ES", "28001", "Europe/Madrid"),
            ("PT", "9500-010", "Atlantic/Azores"), ("PT", "9000-001", "Atlantic/Madeira"), ("PT", "1000-001", "Europe/Lisbon"),
            ("AU", "6000", "Australia/Perth"), ("AU", "5000", "Australia/Adelaide"), ("AU", "4000", "Australia/Brisbane"),
            ("AU", "2000", "Australia/Sydney"), ("AU", "0800", "Australia/Darwin"),
            ("RU", "236000", "Europe/Kaliningrad"), ("US", "96813", "Pacific/Honolulu"), ("PR", "00901", "America/Puerto_Rico"),
            ("GU", "96910", "Pacific/Guam"), ("WS", "AS 96799", "Pacific/Apia"), ("FR", "75001", "Europe/Paris"),
            // A US military code at a base abroad keeps the zone where its point (and its sun) is.
            ("US", "09007", "Europe/Berlin"),
        ]
    )
    func handChecked(country: String, postalCode: String, zone: String) throws {
        let index = try PostalData.index.get()
        let record = try #require(index.lookup(try PostalQuery(postalCode: postalCode, country: country)))
        #expect(record.timeZone == zone)
    }

    @Test("every zone of the table is known to the time-zone database the services use")
    func zonesAreKnown() throws {
        let index = try PostalData.index.get()
        #expect(index.timeZones.count > 200)
        let unknown = index.timeZones.filter { TimeZone(identifier: $0) == nil }
        #expect(unknown.isEmpty, "unknown to Foundation: \(unknown)")
    }

    @Test("codes across the table have zones of timezones.tsv (the scan refuses a row without one)")
    func everyRowHasAZone() throws {
        let index = try PostalData.index.get()
        var used = Set<String>()
        for row in stride(from: 0, to: index.count, by: 97) {
            used.insert(index.record(at: row).timeZone)
        }
        #expect(used.isSubset(of: Set(index.timeZones)))
        #expect(used.count > 150)
    }

    @Test("the zone table is parsed in id order")
    func parsesTable() throws {
        let names = try PostalTimeZones.parse("timezone_id\ttimezone\n0\tAmerica/Argentina/Salta\n1\tEtc/GMT+7\n2\tUTC\n")
        #expect(names == ["America/Argentina/Salta", "Etc/GMT+7", "UTC"])
    }

    @Test(
        "a damaged zone table is refused with the line number",
        arguments: [
            ("wrong header", "id\tname\n0\tUTC\n", 1),
            ("id out of order", "timezone_id\ttimezone\n1\tUTC\n", 2),
            ("duplicate name", "timezone_id\ttimezone\n0\tUTC\n1\tUTC\n", 3),
            ("path traversal", "timezone_id\ttimezone\n0\t../../etc/passwd\n", 2),
            ("empty name", "timezone_id\ttimezone\n0\t\n", 2),
            ("extra column", "timezone_id\ttimezone\n0\tUTC\tx\n", 2),
        ]
    )
    func damagedTable(name: String, text: String, line: Int) throws {
        let error = try #require(throws: PostalTableError.self, "\(name)") { try PostalTimeZones.parse(text) }
        #expect(error.line == line, "\(name): \(error)")
    }
}
