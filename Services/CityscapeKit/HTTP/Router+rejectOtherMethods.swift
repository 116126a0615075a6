public import Hummingbird

extension RouterMethods where Context == CityscapeRequestContext {
    /// Answers every other common method on `path` with 405 and an `Allow` header.
    ///
    /// Hummingbird's trie answers a known path with an unknown method as "not found"; a client that
    /// POSTs to a GET endpoint deserves to learn that the path exists but the method is wrong.
    @discardableResult
    public func rejectOtherMethods(on path: RouterPath, allowing allowed: [HTTPRequest.Method]) -> Self {
        let candidates: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options, .trace]
        for method in candidates where !allowed.contains(method) {
            on(path, method: method) { request, _ -> Response in
                throw ServiceError.methodNotAllowed(request.method, path: request.uri.path, allowed: allowed)
            }
        }
        return self
    }
}
