import Foundation

/// The IANA zone ids the services accept: the sun service's `tzid` and the gateway's `tz`.
///
/// A fixed list rather than whatever `TimeZone(identifier:)` takes (aliases, `GMT+2`, ids mapped to paths
/// under /usr/share/zoneinfo), so the OpenAPI documents can enumerate exactly what is accepted and
/// `../../dev/zero` never reaches Foundation. Foundation's `knownTimeZoneIdentifiers` comes from ICU, which
/// keeps some names IANA has replaced (it lists `Asia/Calcutta`, not `Asia/Kolkata`) and leaves out the `Etc/`
/// zones; the postal table's zones use both, so those canonical IANA names are added where Foundation can
/// build them.
public enum TimeZoneNames {
    /// Every accepted id.
    public static let accepted: Set<String> = Set(TimeZone.knownTimeZoneIdentifiers).union(["UTC"]).union(
        canonicalNamesMissingFromICU.filter { TimeZone(identifier: $0) != nil }
    )

    /// IANA's current names that ICU's list lacks: `Asia/Kolkata`, `Etc/UTC` and the fixed-offset `Etc/GMT±N`
    /// zones (POSIX signs: `Etc/GMT+7` is seven hours behind UTC).
    static let canonicalNamesMissingFromICU: [String] =
        ["Asia/Kolkata", "Etc/UTC", "Etc/GMT"] + (1...12).map { "Etc/GMT+\($0)" } + (1...14).map { "Etc/GMT-\($0)" }
}
