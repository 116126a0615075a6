import NIOCore

/// Who is told how an upstream exchange ended.
///
/// A call from a task suspends on a continuation that the exchange handler resumes directly, so a call costs no
/// promise, no future and no callback on top of the suspension it needs anyway. Code outside a task (tests on an
/// embedded loop) waits on a promise instead.
enum ExchangeWaiter {
    case task(UnsafeContinuation<Result<UpstreamResponse, UpstreamError>, Never>)
    case promise(EventLoopPromise<UpstreamResponse>)

    func finish(_ result: Result<UpstreamResponse, UpstreamError>) {
        switch self {
        case .task(let continuation):
            continuation.resume(returning: result)
        case .promise(let promise):
            promise.completeWith(result.mapError { $0 })
        }
    }

    func succeed(_ response: UpstreamResponse) {
        finish(.success(response))
    }

    func fail(_ error: UpstreamError) {
        finish(.failure(error))
    }
}
