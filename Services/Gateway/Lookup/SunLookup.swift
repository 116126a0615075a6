import CityscapeKit
import Foundation
import HTTPTypes
import UpstreamKit

/// The gateway's one piece of logic, written once for both modes: location, then sun, with caching and timing.
///
/// It talks to the upstreams only through ``UpstreamClient``, so the blocking and async transports
/// run exactly this code; the caches are shared by all requests of the process.
struct SunLookup: Sendable {
    /// The two base URLs, parsed once here so that each call only adds its own path and query.
    let locationEndpoint: UpstreamEndpoint
    let sunEndpoint: UpstreamEndpoint
    let timeout: Duration
    let metrics: GatewayMetrics
    /// nil when `--cache-ttl` is 0.
    let locationCache: SingleFlightCache<LocationRecord>?
    let sunCache: SingleFlightCache<SunTimes>?

    init(configuration: GatewayConfiguration, metrics: GatewayMetrics) {
        locationEndpoint = UpstreamEndpoint(configuration.locationURL)
        sunEndpoint = UpstreamEndpoint(configuration.sunURL)
        timeout = configuration.upstreamTimeout
        self.metrics = metrics
        let cacheOn = configuration.cacheTTL > .zero
        locationCache = cacheOn ? SingleFlightCache(ttl: configuration.cacheTTL, capacity: configuration.cacheSize) : nil
        sunCache = cacheOn ? SingleFlightCache(ttl: configuration.cacheTTL, capacity: configuration.cacheSize) : nil
    }

    /// Answers `query`, recording each upstream's time (or cache hit) in `timing`.
    func answer(_ query: SunQuery, requestID: String, client: any UpstreamClient, timing: inout ServerTiming) async throws(ServiceError) -> SunAnswer
    {
        let headers = [(name: "X-Request-ID", value: requestID), (name: "Accept", value: "application/json")]
        let location = try await cached(.location, locationCache, key: "\(query.country)/\(query.postalCode)", timing: &timing) {
            () async throws(ServiceError) in
            try await fetchLocation(query, headers: headers, client: client)
        }
        let zone = query.zone ?? AnswerZone(place: location.timezone)
        let day = try Self.localDay(query, zone: zone)
        guard let noon = LocalSolarDay.localNoon(of: day, in: zone.timeZone) else {
            throw ServiceError(
                .badRequest,
                code: "invalid_date",
                message: "\(day.iso8601) did not exist in \(zone.identifier) (its clocks skipped that day); ask for another date or tz=utc"
            )
        }
        guard let solarDate = LocalSolarDay.solarDate(atLocalNoon: noon, longitude: location.longitude) else {
            throw ServiceError(
                .badRequest,
                code: "invalid_date",
                message: "\(day.iso8601) in \(zone.identifier) is a solar day outside the years 1-9999 at this place"
            )
        }
        let date = solarDate.iso8601
        let times = try await cached(
            .sun,
            sunCache,
            key: "\(Self.coordinate(location.latitude)),\(Self.coordinate(location.longitude)),\(date),\(zone.identifier)",
            timing: &timing
        ) { () async throws(ServiceError) in
            try await fetchSun(location, date: date, zone: zone, headers: headers, client: client)
        }
        return SunAnswer(location: location, date: day.iso8601, timeZone: zone.identifier, times: times)
    }

    /// The day asked for, or today on the zone's clock.
    static func localDay(_ query: SunQuery, zone: AnswerZone) throws(ServiceError) -> CalendarDate {
        if let date = query.date { return date }
        guard let today = LocalSolarDay.localDate(of: query.now, in: zone.timeZone) else {
            throw ServiceError(.badRequest, code: "invalid_date", message: "today in \(zone.identifier) is outside the years 1-9999")
        }
        return today
    }

    // MARK: Upstream calls

    func fetchLocation(_ query: SunQuery, headers: [(name: String, value: String)], client: any UpstreamClient) async throws(ServiceError)
        -> LocationRecord
    {
        let path = Self.locationPath(postalCode: query.postalCode, country: query.country)
        let failure = UpstreamFailure(upstream: .location, metrics: metrics)
        let response = try await call(.location, locationEndpoint, path, headers: headers, client: client, failure: failure)
        switch response.status {
        case 200:
            guard let record = UpstreamDecoding.location(response.body) else {
                throw failure.badResponse(status: 200, reason: "the body is not a location")
            }
            return record
        case 404:
            throw failure.passedOn(
                ServiceError(.notFound, code: "postal_code_not_found", message: "no postal code '\(query.postalCode)' in country '\(query.country)'"),
                cause: "not_found"
            )
        case 400:
            let upstream = try? JSONDecoder().decode(UpstreamErrorBody.self, from: Data(response.body))
            throw failure.passedOn(
                ServiceError(
                    .badRequest,
                    code: upstream?.error.code ?? "bad_request",
                    message: upstream?.error.message ?? "the location service rejected the request"
                ),
                cause: "bad_request"
            )
        default:
            throw failure.badResponse(status: response.status, reason: "expected 200, 400 or 404")
        }
    }

    /// Asks for the solar day of `date` rendered in `zone` (`tzid`, which sunrise-sunset.org understands too); a UTC
    /// answer is asked for without `tzid`, exactly as a plain sunrise-sunset.org client does.
    func fetchSun(
        _ location: LocationRecord,
        date: String,
        zone: AnswerZone,
        headers: [(name: String, value: String)],
        client: any UpstreamClient
    ) async throws(ServiceError) -> SunTimes {
        let path = Self.sunPath(latitude: location.latitude, longitude: location.longitude, date: date, zone: zone)
        let failure = UpstreamFailure(upstream: .sun, metrics: metrics)
        let response = try await call(.sun, sunEndpoint, path, headers: headers, client: client, failure: failure)
        guard response.status == 200 else {
            throw failure.badResponse(status: response.status, reason: "expected 200")
        }
        guard let envelope = UpstreamDecoding.sunEnvelope(response.body), envelope.status == "OK" else {
            throw failure.badResponse(status: 200, reason: "the body is not a sunrise-sunset result with status OK")
        }
        return envelope.results
    }

    private func call(
        _ upstream: GatewayMetrics.Upstream,
        _ endpoint: UpstreamEndpoint,
        _ path: String,
        headers: [(name: String, value: String)],
        client: any UpstreamClient,
        failure: UpstreamFailure
    ) async throws(ServiceError) -> UpstreamResponse {
        let start = ContinuousClock.now
        defer { metrics.recordLatency(upstream, ContinuousClock.now - start) }
        do {
            return try await client.get(endpoint, path: path, headers: headers, timeout: timeout)
        } catch {
            throw failure.transport(error)
        }
    }

    // MARK: Caching and timing

    /// Runs `load` through `cache` when there is one, timing it as `upstream` in `timing`; `key` is built only then.
    private func cached<Value: Sendable>(
        _ upstream: GatewayMetrics.Upstream,
        _ cache: SingleFlightCache<Value>?,
        key: @autoclosure () -> String,
        timing: inout ServerTiming,
        load: () async throws(ServiceError) -> Value
    ) async throws(ServiceError) -> Value {
        let start = ContinuousClock.now
        guard let cache else {
            do {
                let value = try await load()
                timing.record(upstream.rawValue, ContinuousClock.now - start)
                return value
            } catch {
                timing.record(upstream.rawValue, ContinuousClock.now - start)
                throw error
            }
        }
        do {
            let (value, source) = try await cache.value(for: key()) { try await load() }
            metrics.recordCache(upstream, hit: source != .loaded)
            timing.record(upstream.rawValue, ContinuousClock.now - start, cached: source != .loaded)
            return value
        } catch {
            metrics.recordCache(upstream, hit: false)
            timing.record(upstream.rawValue, ContinuousClock.now - start)
            throw error as? ServiceError ?? .internalError(requestID: "")
        }
    }

    // MARK: Upstream paths

    /// `/api/location/{code}/{country}`, written into one string sized up front: an interpolation grows its
    /// buffer segment by segment, an allocation each time.
    static func locationPath(postalCode: String, country: String) -> String {
        var path = ""
        path.reserveCapacity(24 + 3 * postalCode.utf8.count + country.utf8.count)
        path += "/api/location/"
        path += pathSegment(postalCode)
        path += "/"
        path += country
        return path
    }

    /// The sun service's `/json` path and query, in one string sized up front as ``locationPath(postalCode:country:)`` is.
    static func sunPath(latitude: Double, longitude: Double, date: String, zone: AnswerZone) -> String {
        var path = ""
        path.reserveCapacity(80 + date.utf8.count + 3 * zone.identifier.utf8.count)
        path += "/json?lat="
        path += coordinate(latitude)
        path += "&lng="
        path += coordinate(longitude)
        path += "&date="
        path += date
        path += "&formatted=0"
        if !zone.isUTC {
            // `+` (Etc/GMT+7) would read as a space in a query; nothing else in a zone id needs escaping, and
            // most ids have no `+`, so they skip the Foundation call.
            path += "&tzid="
            path += zone.identifier.utf8.contains(UInt8(ascii: "+")) ? zone.identifier.replacingOccurrences(of: "+", with: "%2B") : zone.identifier
        }
        return path
    }

    /// Six decimals (about 0.1 m) in plain notation: `Double.description` may print `1e-05`, which the sun API rejects.
    static func coordinate(_ value: Double) -> String {
        // `%.6f` by integer arithmetic: `String(format:)` goes through NSString, on every gateway request.
        let micro = Int64((abs(value) * 1_000_000).rounded())
        let fraction = String(micro % 1_000_000)
        let sign = value < 0 && micro != 0 ? "-" : ""
        return "\(sign)\(micro / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
    }

    /// Percent-encodes a validated postal code (letters, digits, space, hyphen) for a path; most codes have no space
    /// and skip the Foundation call.
    static func pathSegment(_ postalCode: String) -> String {
        postalCode.utf8.contains(UInt8(ascii: " ")) ? postalCode.replacingOccurrences(of: " ", with: "%20") : postalCode
    }
}
