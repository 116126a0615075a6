/// The ordered list of codes a lookup tries for one country: the prefix and format rules.
///
/// GeoNames publishes some countries' codes truncated (GB outward code, CA FSA, NL 4 digits, ...) and some with
/// separators users often leave out (JP `100-0001`, SE `111 20`). Each rule only reformats a code or truncates it to
/// a form the country's data really uses, so a candidate never names a different code than the one typed.
///
/// ## Candidate rules
/// The normalised code is always tried first, so a code the data holds verbatim wins. Country rules then match the
/// code with spaces and hyphens removed, so `SW1A1AA`, `SW1A 1AA` and `SW1A-1AA` behave alike.
/// - US and territories using US ZIP codes (PR, VI, GU, AS, MP, FM, MH, PW): ZIP+4 `97227-1234`, `97227 1234` or
///   `972271234` → `97227`.
/// - CA: `M5V3L9` or `M5V 3L9` → `M5V 3L9` (the data has two full codes), then the FSA `M5V`.
/// - GB, GG, JE, IM: a full postcode → its outward code, i.e. without the inward code (digit + two letters):
///   `SW1A 1AA` or `SW1A1AA` → `SW1A`, `B1 1AA` → `B1`, `GY1 1AA` → `GY1`.
/// - NL: `1012 AB` or `1012AB` → `1012`.
/// - IE: Eircode `D02 X285` or `D02X285` → routing key `D02`.
/// - MT: `VLT 1117` or `VLT1117` → `VLT`.
/// - AR: CPA `C1425DKA` → `1425` (the four digits inside a CPA are the code the data holds).
/// - CL: `8320085` → `8320000` (the data holds each commune's base code: its 3-digit prefix and `0000`).
/// - BR: `01000000` → `01000-000`. No truncation: the data's 5-digit prefixes are not unique
///   (`65935-000` Senador La Rocque, `65935-500` Buritirana), so `65935-123` must not guess.
/// - JP `1000001` → `100-0001`; PL `00002` → `00-002`; PT `1000001` → `1000-001`.
/// - SE, CZ, SK: `11120` → `111 20`. AE: `0000462392` → `00004 62392`.
/// - Country-prefixed codes, with or without the prefix: LU `1111`/`L1111` → `L-1111`, LV `1001`/`LV1001` → `LV-1001`,
///   MD `2000`/`MD2000` → `MD-2000`, AI `2640` → `AI-2640`, AZ `0100`/`AZ0100` → `AZ 0100`, AD `100`/`AD 100` → `AD100`,
///   HT `1110`/`HT 1110` → `HT1110`; BM `CR01` → `CR 01`.
/// - Full UK-style codes of single-code territories: FK, GS, PN, IO, TC `FIQQ1ZZ` → `FIQQ 1ZZ`; GI `GX111AA` → `GX11 1AA`.
/// - FR, GF, GP, MQ, RE, WS: nothing else; their codes contain a space and the part before it is a different code
///   (`93210 CEDEX` is La Plaine-Saint-Denis, `93210` Saint-Denis).
/// - Every other country: the part before the first space (`10115 BERLIN` → `10115`); none of their codes has a space.
enum PostalCodeCandidates {
    /// Codes to try in order for an already normalised code, without duplicates.
    static func candidates(for postalCode: String, country: String) -> [String] {
        var result = [postalCode]
        func append(_ candidate: String) {
            if !result.contains(candidate) {
                result.append(candidate)
            }
        }
        if let rules = rulesByCountry[country] {
            let compact = postalCode.utf8.filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "-") }
            for rule in rules {
                if let candidate = rule.candidate(fromCompact: compact) {
                    append(candidate)
                }
            }
        } else if let space = postalCode.firstIndex(of: " ") {
            append(String(postalCode[..<space]))
        }
        return result
    }

    /// Rules per country, tried in order. A country listed here gets no generic before-the-space truncation, which is
    /// why the countries whose codes contain a space are all listed, some with no rule.
    static let rulesByCountry: [String: [PostalCodeRule]] = {
        var table: [String: [PostalCodeRule]] = [:]
        func set(_ countries: [String], _ rules: [(shape: String, template: String)]) {
            for country in countries {
                let previous = table.updateValue(rules.map { PostalCodeRule($0.shape, $0.template) }, forKey: country)
                precondition(previous == nil, "postal rules for \(country) listed twice")
            }
        }
        // Truncated in the data: keep the part it holds.
        set(["US", "PR", "VI", "GU", "AS", "MP", "FM", "MH", "PW"], [("#########", "#####")])
        set(["CA"], [("@#@#@#", "@#@ #@#"), ("@#@#@#", "@#@")])
        set(["GB", "GG", "JE", "IM"], [("@?#@@", "@?"), ("@??#@@", "@??"), ("@???#@@", "@???")])
        set(["NL"], [("####@@", "####")])
        set(["IE"], [("@#?????", "@#?")])
        set(["MT"], [("@@@####", "@@@")])
        set(["AR"], [("@####@@@", "_####")])
        set(["CL"], [("#######", "###0000")])
        // Separators as published.
        set(["BR"], [("########", "#####-###")])
        set(["JP"], [("#######", "###-####")])
        set(["PL"], [("#####", "##-###")])
        set(["PT"], [("#######", "####-###")])
        set(["SE", "CZ", "SK"], [("#####", "### ##")])
        set(["AE"], [("##########", "##### #####")])
        set(["BM"], [("@@??", "@@ ??")])
        set(["FK", "GS", "PN", "IO", "TC"], [("@@@@#@@", "@@@@ #@@")])
        set(["GI"], [("@@###@@", "@@## #@@")])
        // Country prefix as published, typed with or without it.
        set(["LU"], [("####", "L-####"), ("L####", "L-####")])
        set(["LV"], [("####", "LV-####"), ("LV####", "LV-####")])
        set(["MD"], [("####", "MD-####"), ("MD####", "MD-####")])
        set(["AI"], [("####", "AI-####"), ("AI####", "AI-####")])
        set(["AZ"], [("####", "AZ ####"), ("AZ####", "AZ ####")])
        set(["AD"], [("###", "AD###"), ("AD###", "AD###")])
        set(["HT"], [("####", "HT####"), ("HT####", "HT####")])
        // Codes with a space whose first part is another code: exact match only.
        set(["FR", "GF", "GP", "MQ", "RE", "WS"], [])
        return table
    }()
}
