import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// `cityscape-openload`: an open-loop (or closed-loop) HTTP load generator that records every request.
@main
struct OpenLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cityscape-openload",
        abstract: "Loads one http:// URL at a constant arrival rate (or on N closed-loop connections) and records every request.",
        discussion: """
            Open loop (--rate): request i is due at i/rate seconds and starts then on a free keep-alive connection or a \
            new one, whatever earlier answers do; latency counts from that intended start. Closed loop (--connections): \
            each connection sends its next request when the previous one ends, like wrk. The JSON (--out) holds HDR \
            histogram percentiles, the generator's own start lag, and one row per request.
            """
    )

    @Argument(help: "http://IP:PORT/PATH to load (numeric address).")
    var url: String

    @Option(help: "Open loop: requests started per second, on schedule.")
    var rate: Double?

    @Option(help: "Closed loop: connections, each sending its next request after the previous answer.")
    var connections: Int?

    @Option(help: "How long requests are started, e.g. 10s or 500ms.")
    var duration = "10s"

    @Option(help: "A request without a whole answer this long after its intended start is a timeout.")
    var timeout = "2s"

    @Option(help: "Open loop: most connections open at once; a request due when all are busy is recorded as overflow.")
    var maxConnections = 10_000

    @Option(help: "Open loop: connections opened before the first request is due (they wait idle for it).")
    var warm = 0

    @Option(help: "Write the JSON report (summary and one row per request) to this file.")
    var out: String?

    func validate() throws {
        guard (rate == nil) != (connections == nil) else {
            throw ValidationError("give exactly one of --rate (open loop) or --connections (closed loop)")
        }
        if let rate, !(rate > 0 && rate <= 1_000_000) { throw ValidationError("--rate must be in (0, 1000000]") }
        if let connections, !(1...10_000).contains(connections) { throw ValidationError("--connections must be 1–10000") }
        guard (1...100_000).contains(maxConnections) else { throw ValidationError("--max-connections must be 1–100000") }
        guard (0...maxConnections).contains(warm) else { throw ValidationError("--warm must be 0–max-connections") }
        guard (try? Self.nanoseconds(duration)) != nil, (try? Self.nanoseconds(timeout)) != nil else {
            throw ValidationError("--duration and --timeout are numbers with ms or s, e.g. 10s, 500ms")
        }
    }

    func run() throws {
        let target: Target
        do {
            target = try Target(url: url)
        } catch {
            throw ValidationError(error.description)
        }
        let plan: LoadPlan = rate.map { .openLoop(rate: $0, maxConnections: maxConnections) } ?? .closedLoop(connections: connections ?? 1)
        let settings = Generator.Settings(
            target: target,
            plan: plan,
            duration: try Self.nanoseconds(duration),
            timeout: try Self.nanoseconds(timeout),
            warmConnections: rate == nil ? 0 : warm
        )
        FileDescriptorLimit.raise(toAtLeast: maxConnections + 64)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        let url = self.url
        let report = try loop.flatSubmit {
            let generator = Generator(loop: loop, settings: settings)
            return generator.run().assumeIsolated().map {
                RunReport(
                    settings: settings,
                    url: url,
                    records: generator.records,
                    peakOpen: generator.peakOpen,
                    opened: generator.connectionsOpened
                )
            }.nonisolated()
        }.wait()
        print(report.summary)
        if let out {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: out))
        }
    }

    /// `10s`, `500ms`, `1.5s` as nanoseconds.
    static func nanoseconds(_ text: String) throws -> Int64 {
        let (number, scale): (Substring, Double) =
            text.hasSuffix("ms") ? (text.dropLast(2), 1e6) : text.hasSuffix("s") ? (text.dropLast(), 1e9) : (Substring(text), 1e9)
        guard let value = Double(number), value > 0, value < 86_400 else { throw ValidationError("bad duration \(text)") }
        return Int64(value * scale)
    }
}
