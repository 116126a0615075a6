public import Hummingbird

extension Router where Context == CityscapeRequestContext {
    /// Answers every method a known path does not serve with 405 and an `Allow` header; call it after the last route.
    ///
    /// Hummingbird's trie answers a known path with an unknown method as "not found"; a client that POSTs
    /// to a GET endpoint deserves to learn that the path exists but the method is wrong, whatever the method
    /// (`QUERY`, any token that gets past the HTTP/1 parser). The allowed methods are read from the route table (with `HEAD` wherever
    /// there is `GET`: every Cityscape router generates HEAD endpoints). Added after the last route, the
    /// middleware wraps only the router's not-found responder (Hummingbird applies a middleware to the routes
    /// added after it and to that responder), so matched requests never pass through it.
    public func rejectOtherMethods() {
        var allowed: [String: (path: RouterPath, methods: Set<HTTPRequest.Method>)] = [:]
        for route in routes {
            allowed[route.path.description, default: (route.path, [])].methods.insert(route.method)
        }
        let table = allowed.values.map { entry in
            let methods = entry.methods.contains(.get) ? entry.methods.union([.head]) : entry.methods
            return MethodNotAllowedMiddleware.Route(path: entry.path, allowed: MethodNotAllowedMiddleware.order(methods))
        }
        add(middleware: MethodNotAllowedMiddleware(routes: table))
    }
}

/// Turns the router's "not found" for a path some route serves into 405 with the methods that path allows.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = CityscapeRequestContext

    /// A route template and the methods it serves, in the order `Allow` lists them.
    struct Route: Sendable {
        let path: RouterPath
        let allowed: [HTTPRequest.Method]

        /// Matches as the router's trie does: segments split on `/` with empty ones dropped.
        func matches(_ segments: [Substring]) -> Bool {
            var index = 0
            for element in path.components {
                guard index < segments.count, element ~= segments[index] else { return false }
                index += 1
            }
            return index == segments.count
        }
    }

    let routes: [Route]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && error.body == nil {
            let path = request.uri.path
            let segments = path.split(separator: "/", omittingEmptySubsequences: true)
            guard let route = routes.first(where: { $0.matches(segments) }) else { throw error }
            // Metrics label the answer by its route pattern, as they do for matched requests.
            context.coreContext.endpointPath.value = route.path.description
            throw ServiceError.methodNotAllowed(request.method, path: path, allowed: route.allowed)
        }
    }

    /// GET and HEAD first, as RFC 9110 lists them, then the rest by name, so `Allow` is stable.
    static func order(_ methods: Set<HTTPRequest.Method>) -> [HTTPRequest.Method] {
        let common: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options, .trace]
        return common.filter(methods.contains) + methods.subtracting(common).sorted { $0.rawValue < $1.rawValue }
    }
}
