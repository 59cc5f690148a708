import Foundation
import Testing
import TinyPlatform

/// `StorageFile` on real files: created (its directory synced), grown
/// with zeros and never shrunk, positional reads and writes, refusals as typed errors.
@Suite struct StorageFileTests {
    func withDirectory(_ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tinyhub-storagefile-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(directory)
    }

    func read(_ file: StorageFile, at offset: Int, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0xAA, count: count)
        try bytes.withUnsafeMutableBytes { try file.read(at: offset, into: $0) }
        return bytes
    }

    @Test func aNewFileIsCreatedGrownWithZerosAndKeepsWhatWasWritten() throws {
        try withDirectory { directory in
            let path = directory + "/store.bin"
            do {
                let file = try StorageFile.open(path: path, size: 1_000)
                #expect(try read(file, at: 0, count: 1_000) == [UInt8](repeating: 0, count: 1_000))
                try [UInt8]([1, 2, 3]).withUnsafeBytes { try file.write(at: 997, $0) }
                try file.sync()
            }
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect(attributes[.size] as? Int == 1_000)
            #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o777 } == 0o600)
            // Opened again smaller: nothing is cut off; larger: grown with zeros.
            do {
                let file = try StorageFile.open(path: path, size: 100)
                #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == 1_000)
                #expect(throws: StorageError.outOfRange) { try read(file, at: 99, count: 2) }
            }
            let file = try StorageFile.open(path: path, size: 2_000)
            #expect(try read(file, at: 996, count: 6) == [0, 1, 2, 3, 0, 0])
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == 2_000)
        }
    }

    @Test func whatCannotBeOpenedIsATypedError() throws {
        try withDirectory { directory in
            for (path, errno) in [(directory, EISDIR), (directory + "/missing/store.bin", ENOENT)] {
                do throws(StorageError) {
                    _ = try StorageFile.open(path: path, size: 300)
                    Issue.record("\(path) opened")
                } catch {
                    // A directory may be refused by open (EISDIR) or by the regular-file check (EINVAL).
                    guard case .io(let code) = error else { Issue.record("\(error)"); continue }
                    #expect(code == errno || (errno == EISDIR && code == EINVAL), "\(path): errno \(code)")
                }
            }
            #expect(throws: StorageError.outOfRange) { try StorageFile.open(path: directory + "/x", size: -1) }
        }
    }
}
