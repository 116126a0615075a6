import CompressNIO
import Foundation
import NIOCore
import NIOFoundationCompat

/// Failure to read the postal table; fatal at start-up, reported with the file name.
struct PostalDataError: Error, CustomStringConvertible {
    let description: String
}

/// Reads the gzipped table, and the `timezones.tsv` beside it that its zone ids index, into a `PostalIndex`.
///
/// The table ships gzipped (9.8 MB instead of 58 MB) and is decompressed in memory at start-up with
/// compress-nio (zlib): Foundation on Linux has no gunzip, and decompressing at start (~0.3 s) keeps
/// the shipped files the single source of truth, with no build step that could leave a stale copy behind.
func loadPostalIndex(from gzipURL: URL) throws -> PostalIndex {
    let zonesURL = gzipURL.deletingLastPathComponent().appendingPathComponent("timezones.tsv")
    let timeZones: [String]
    do {
        timeZones = try PostalTimeZones.parse(String(contentsOf: zonesURL, encoding: .utf8))
    } catch let error as PostalTableError {
        throw PostalDataError(description: "\(zonesURL.path): \(error)")
    } catch {
        throw PostalDataError(
            description: "cannot read \(zonesURL.path) (the zone names of the table's timezone_id column): \(error.localizedDescription)"
        )
    }
    // The decompressed buffer is copied into an array the index owns; decompressing in a separate
    // function frees the compressed input first, which keeps the start-up peak near 120 MB.
    let decompressed = try decompressGzip(at: gzipURL)
    let bytes = decompressed.getBytes(at: decompressed.readerIndex, length: decompressed.readableBytes) ?? []
    do {
        return try PostalIndex(tsv: bytes, timeZones: timeZones)
    } catch {
        throw PostalDataError(description: "\(gzipURL.path): \(error)")
    }
}

private func decompressGzip(at gzipURL: URL) throws -> ByteBuffer {
    let compressed: Data
    do {
        compressed = try Data(contentsOf: gzipURL)
    } catch {
        throw PostalDataError(description: "cannot read \(gzipURL.path): \(error.localizedDescription)")
    }
    // The gzip trailer's last four bytes hold the uncompressed size (mod 2^32), so the output buffer is
    // allocated once at the right size instead of growing through repeated copies.
    guard compressed.count > 18 else { throw PostalDataError(description: "\(gzipURL.path) is not a gzip file") }
    let expectedSize = compressed.suffix(4).reversed().reduce(0) { ($0 << 8) | Int($1) }
    var input = ByteBuffer(data: compressed)
    var output = ByteBufferAllocator().buffer(capacity: expectedSize)
    do {
        try input.decompress(to: &output, with: .gzip())
    } catch {
        throw PostalDataError(description: "cannot decompress \(gzipURL.path): \(error)")
    }
    guard output.readableBytes == expectedSize else {
        throw PostalDataError(description: "\(gzipURL.path): decompressed \(output.readableBytes) bytes, trailer says \(expectedSize)")
    }
    return output
}
