import CityscapeTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import HummingbirdTesting
import NIOSSL
import Testing

/// `https://` upstreams: both transports verify the certificate against `--ca-file`, and refuse it without.
@Suite("Gateway with an HTTPS upstream")
struct HTTPSUpstreamTests {
    @Test("trusted with --ca-file, rejected as unavailable without it", arguments: ["async", "blocking"])
    func https(mode: String) async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await Self.tlsUpstream(pki).test(.live) { client in
            let upstream = "https://127.0.0.1:\(try #require(client.port))"
            let common = ["--mode", mode, "--location-url", upstream, "--sun-url", upstream]

            let trusting = try await ServiceProcess("cityscape-gateway", arguments: common + ["--ca-file", pki.caFile])
            defer { Task { await trusting.stop() } }
            let trusted = try await LiveHTTP.request("\(trusting.baseURL)/api/sun/97227/US?date=2026-06-21")
            #expect(trusted.status == 200, "\(trusted.text)")
            #expect(try trusted.json()["place"] as? String == "Portland")

            let system = try await ServiceProcess("cityscape-gateway", arguments: common)
            defer { Task { await system.stop() } }
            let rejected = try await LiveHTTP.request("\(system.baseURL)/api/sun/97227/US?date=2026-06-21")
            #expect(rejected.status == 502)
            #expect(rejected.text.contains(#""code":"location_unavailable""#), "\(rejected.text)")
        }
    }

    /// A TLS server answering both upstream APIs with canned bodies.
    static func tlsUpstream(_ pki: TestPKI) throws -> some ApplicationProtocol {
        let router = Router()
        router.get("/api/location/:postal_code/:country") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: cannedLocation)))
        }
        router.get("/json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: cannedSun)))
        }
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pki.serverCertificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pki.serverKey, format: .pem))
        )
        return Application(
            router: router,
            server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname("127.0.0.1", port: 0))
        )
    }

    static let cannedLocation =
        #"{"admin1":"Oregon","country":"US","latitude":45.5496,"longitude":-122.6743,"place":"Portland","postal_code":"97227"}"#
    static let cannedSun =
        #"{"results":{"sunrise":"2026-06-21T12:22:31+00:00","sunset":"2026-06-22T04:03:09+00:00","solar_noon":"2026-06-21T20:12:50+00:00","day_length":56438,"civil_twilight_begin":null,"civil_twilight_end":null,"nautical_twilight_begin":null,"nautical_twilight_end":null,"astronomical_twilight_begin":null,"astronomical_twilight_end":null},"status":"OK"}"#
}

/// A throw-away certificate authority and a server certificate for 127.0.0.1, made with the openssl CLI.
struct TestPKI {
    let directory: URL
    var caFile: String { directory.appendingPathComponent("ca.pem").path }
    var serverCertificate: String { directory.appendingPathComponent("server.pem").path }
    var serverKey: String { directory.appendingPathComponent("server.key").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cityscape-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n".write(
            to: directory.appendingPathComponent("server.ext"),
            atomically: true,
            encoding: .utf8
        )
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=Cityscape Test CA"])
        try openssl(["req"] + ec + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"])
        try openssl([
            "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "1",
            "-extfile", "server.ext",
        ])
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ServiceProcessError("openssl \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
    }
}
