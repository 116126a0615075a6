import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
import ServiceLifecycle
import Synchronization

@testable import ProxyServer

/// A small Hummingbird backend inside the test process, on 127.0.0.1 port 0.
///
/// Routes: `/healthz` (200, or 503 while `healthy` is false), `/whoami` (its name), `/headers` (the
/// request head it received, as JSON), `/hang` (never answers), `POST /work` (counted, answers after
/// `delay`), `/bytes?n=` (streams n bytes), `POST /upload` (counts the streamed body). It counts
/// accepted TCP connections and requests per path, so tests can assert what reached it.
final class TestBackend: Sendable {
    let name: String
    let connections = Atomic<Int>(0)
    let requests = Mutex<[String: Int]>([:])
    let healthy = Atomic<Bool>(true)
    let lastHeaders = Mutex<[(String, String)]>([])

    init(name: String) {
        self.name = name
    }

    func count(_ path: String) -> Int { requests.withLock { $0[path] ?? 0 } }

    private func record(_ request: Request) {
        requests.withLock { $0[request.uri.path, default: 0] += 1 }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { request, _ -> HTTPResponse.Status in
            self.record(request)
            return self.healthy.load(ordering: .relaxed) ? .ok : .serviceUnavailable
        }
        router.get("/whoami") { request, _ -> String in
            self.record(request)
            return self.name
        }
        router.on("/headers", method: .get) { request, _ -> Response in
            self.record(request)
            var fields: [(String, String)] = [("Host", request.head.authority ?? "")]
            fields += request.headers.map { ($0.name.rawName, $0.value) }
            self.lastHeaders.withLock { $0 = fields }
            let text = fields.map { "\($0.0): \($0.1)" }.joined(separator: "\n")
            return Response(
                status: .ok,
                headers: [.init("Connection")!: "close, X-Resp-Hop", .init("X-Resp-Hop")!: "secret", .init("X-End")!: "kept"],
                body: .init(byteBuffer: ByteBuffer(string: text))
            )
        }
        router.get("/hang") { request, _ -> String in
            self.record(request)
            try await Task.sleep(for: .seconds(3600))
            return "late"
        }
        router.post("/work") { request, _ -> String in
            self.record(request)
            _ = try await request.body.collect(upTo: 1 << 20)
            try await Task.sleep(for: .milliseconds(Int(request.uri.queryParameters.get("ms") ?? "0") ?? 0))
            return "done by \(self.name)"
        }
        router.get("/bytes") { request, _ -> Response in
            self.record(request)
            let total = Int(request.uri.queryParameters.get("n") ?? "0") ?? 0
            return Response(
                status: .ok,
                body: ResponseBody { writer in
                    let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
                    var left = total
                    while left > 0 {
                        let size = min(left, chunk.readableBytes)
                        try await writer.write(chunk.getSlice(at: 0, length: size)!)
                        left -= size
                    }
                    try await writer.finish(nil)
                }
            )
        }
        router.post("/upload") { request, _ -> String in
            self.record(request)
            var total = 0
            for try await buffer in request.body { total += buffer.readableBytes }
            return String(total)
        }
        return router
    }
}

/// Counts accepted connections of a test backend.
final class ConnectionCounter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    let backend: TestBackend

    init(backend: TestBackend) {
        self.backend = backend
    }

    func handlerAdded(context: ChannelHandlerContext) {
        backend.connections.add(1, ordering: .relaxed)
    }
}

/// Runs `body` with `count` live test backends; they stop when it returns.
func withBackends<T: Sendable>(_ count: Int, _ body: @Sendable ([(backend: TestBackend, address: BackendAddress)]) async throws -> T) async throws
    -> T
{
    try await withLiveBackends((0..<count).map { TestBackend(name: "b\($0)") }, body) { backend, address, onServerRunning in
        Application(
            router: backend.router(),
            server: .http1(configuration: .init(additionalChannelHandlers: [ConnectionCounter(backend: backend)])),
            configuration: .init(address: address),
            onServerRunning: onServerRunning,
            logger: Logger(label: "backend") { _ in SwiftLogNoOpLogHandler() }
        )
    }
}

/// Runs `body` with one Hummingbird application per backend, each built by `makeApplication` on 127.0.0.1
/// port 0, started in order (each one's port known before the next starts); they stop gracefully when it returns.
func withLiveBackends<Backend: Sendable, App: Service, T: Sendable>(
    _ backends: [Backend],
    _ body: @Sendable ([(backend: Backend, address: BackendAddress)]) async throws -> T,
    makeApplication: (Backend, BindAddress, _ onServerRunning: @escaping @Sendable (any Channel) async -> Void) -> App
) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var started: [(backend: Backend, address: BackendAddress)] = []
        var serviceGroups: [ServiceGroup] = []
        for backend in backends {
            let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
            let app = makeApplication(backend, .hostname("127.0.0.1", port: 0)) { continuation.yield($0.localAddress?.port ?? 0) }
            var configuration = ServiceGroupConfiguration(services: [app], logger: Logger(label: "backend") { _ in SwiftLogNoOpLogHandler() })
            // `/hang` never answers: the graceful stop below may wait for it this long, then cancels.
            configuration.maximumGracefulShutdownDuration = .seconds(1)
            let serviceGroup = ServiceGroup(configuration: configuration)
            serviceGroups.append(serviceGroup)
            group.addTask { try await serviceGroup.run() }
            var iterator = stream.makeAsyncIterator()
            let port = await iterator.next() ?? 0
            started.append((backend, BackendAddress(host: "127.0.0.1", port: port)))
        }
        // A graceful stop, never a cancellation of the servers (see `withProxy`).
        let result: Result<T, any Error>
        do {
            result = .success(try await body(started))
        } catch {
            result = .failure(error)
        }
        for serviceGroup in serviceGroups { await serviceGroup.triggerGracefulShutdown() }
        try await group.waitForAll()
        return try result.get()
    }
}
