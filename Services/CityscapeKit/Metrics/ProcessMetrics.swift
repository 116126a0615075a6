import CoreMetrics
import Foundation

/// Resident memory, open file descriptors and CPU time of this process, read from `/proc` at scrape time.
///
/// Reading on scrape costs nothing between scrapes and is always current. On systems without
/// `/proc` (macOS) the gauges are simply not updated.
struct ProcessMetrics: Sendable {
    let residentMemory: Gauge
    let openFileDescriptors: Gauge
    let cpuSeconds: Gauge

    init(factory: any MetricsFactory) {
        residentMemory = Gauge(label: "process_resident_memory_bytes", factory: factory)
        openFileDescriptors = Gauge(label: "process_open_fds", factory: factory)
        cpuSeconds = Gauge(label: "process_cpu_seconds", factory: factory)
    }

    func update() {
        if let pages = Self.firstNumbers(ofFile: "/proc/self/statm", count: 2)?.last {
            residentMemory.record(pages * Int(sysconf(Int32(_SC_PAGESIZE))))
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            openFileDescriptors.record(entries.count)
        }
        if let seconds = Self.cpuSeconds() {
            cpuSeconds.record(seconds)
        }
    }

    /// utime + stime from `/proc/self/stat`, in seconds.
    static func cpuSeconds() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let afterName = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name start at field 3 (state); utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: afterName)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func firstNumbers(ofFile path: String, count: Int) -> [Int]? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let numbers = text.split(separator: " ").prefix(count).compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return numbers.count == count ? numbers : nil
    }
}
