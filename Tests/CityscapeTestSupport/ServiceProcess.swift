import Foundation
import Synchronization

/// A built Cityscape binary running as a real process on 127.0.0.1, for live tests.
///
/// Starts the binary with `--port 0`, learns the port from its `listening on http://HOST:PORT` line,
/// keeps its whole output in a temporary log file for assertions, and is stopped by PID.
public final class ServiceProcess: Sendable {
    public let name: String
    public let baseURL: String
    public let port: Int
    public let logURL: URL
    let process: Process

    /// Launches `binary` with `arguments` (`--port 0` is added unless a port is given) and waits for it to listen.
    public init(
        _ binary: String,
        arguments: [String] = [],
        environment: [String: String] = [:],
        startTimeout: Duration = .seconds(60)
    ) async throws {
        let logURL = FileManager.default.temporaryDirectory.appendingPathComponent("\(binary)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: logURL)
        let process = Process()
        process.executableURL = try BuildProducts.binary(binary)
        process.arguments = (arguments.contains("--port") ? [] : ["--port", "0"]) + arguments
        var processEnvironment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CITYSCAPE_") }
        processEnvironment.merge(environment) { $1 }
        process.environment = processEnvironment
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? logHandle.close()
        RunningProcesses.started(process.processIdentifier)

        self.name = binary
        self.logURL = logURL
        self.process = process
        let deadline = ContinuousClock.now + startTimeout
        while true {
            if let url = Self.listeningURL(in: (try? String(contentsOf: logURL, encoding: .utf8)) ?? "") {
                self.baseURL = url
                self.port = Int(url.split(separator: ":").last ?? "") ?? 0
                return
            }
            if !process.isRunning {
                let log = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
                throw ServiceProcessError("\(binary) exited with status \(process.terminationStatus) before listening:\n\(log)")
            }
            if ContinuousClock.now > deadline {
                process.terminate()
                throw ServiceProcessError("\(binary) did not print 'listening on' within \(startTimeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Everything the process has written so far.
    public func output() -> String {
        (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
    }

    /// Sends `signal` to the process (by PID, never by name).
    public func send(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Waits for the process to exit and returns its status; kills it if it outlives `timeout`.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(15)) async -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        RunningProcesses.ended(pid)
        return process.terminationStatus
    }

    /// SIGTERM, then wait; the normal end of every live test.
    @discardableResult
    public func stop() async -> Int32 {
        if process.isRunning { send(SIGTERM) }
        return await waitForExit()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    static func listeningURL(in log: String) -> String? {
        guard let range = log.range(of: #"listening on http://[^\s]+:\d+"#, options: .regularExpression) else { return nil }
        return String(log[range].dropFirst("listening on ".count))
    }
}

/// Every service process a test started and has not seen exit, killed by PID when the test process exits.
///
/// A test that stops its processes from a `Task` in a `defer` (no `await` is allowed there) may end, and the
/// test binary with it, before that task ran: without this, such processes would outlive the test run.
enum RunningProcesses {
    private static let pids = Mutex<Set<Int32>>([])
    private static let killAtExit: Void = {
        atexit {
            for pid in RunningProcesses.pids.withLock({ $0 }) { kill(pid, SIGKILL) }
        }
    }()

    static func started(_ pid: Int32) {
        _ = killAtExit
        pids.withLock { _ = $0.insert(pid) }
    }

    static func ended(_ pid: Int32) {
        pids.withLock { _ = $0.remove(pid) }
    }
}

/// A live-test set-up failure, with the process output when there is one.
public struct ServiceProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Where `swift build` put the binaries under test.
public enum BuildProducts {
    /// The binary `name` from `CITYSCAPE_BIN_DIR`, else from the directory of the running test bundle.
    public static func binary(_ name: String) throws -> URL {
        var directories: [URL] = []
        if let override = ProcessInfo.processInfo.environment["CITYSCAPE_BIN_DIR"] {
            directories.append(URL(fileURLWithPath: override))
        }
        // `swift test` runs `<bin>/<package>PackageTests.xctest`, next to the executables it built.
        for path in [CommandLine.arguments.first, Bundle.main.executableURL?.path].compactMap({ $0 }) {
            var url = URL(fileURLWithPath: path).deletingLastPathComponent()
            for _ in 0..<4 {
                directories.append(url)
                url = url.deletingLastPathComponent()
            }
        }
        for directory in directories {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw ServiceProcessError("binary \(name) not found in \(directories.map(\.path)); run `swift build` first or set CITYSCAPE_BIN_DIR")
    }

    /// The repository root, for test data.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// Runs a binary to completion (for `--help` and start-up errors) and returns its exit status and output.
public func runToCompletion(_ binary: String, arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = try BuildProducts.binary(binary)
    process.arguments = arguments
    var processEnvironment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CITYSCAPE_") }
    processEnvironment.merge(environment) { $1 }
    process.environment = processEnvironment
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
