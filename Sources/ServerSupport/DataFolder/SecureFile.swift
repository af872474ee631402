import Foundation

/// Writes files atomically, private ones (keys, secrets, demo credentials) with mode 0600 from the start.
package enum SecureFile {
    package static func write(_ text: String, to url: URL, private isPrivate: Bool) throws {
        try write(Data(text.utf8), to: url, private: isPrivate)
    }

    package static func write(_ data: Data, to url: URL, private isPrivate: Bool) throws {
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        let mode: Int = isPrivate ? 0o600 : 0o644
        guard fileManager.createFile(atPath: temporary.path, contents: nil, attributes: [.posixPermissions: mode])
        else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporary.path])
        }
        let handle = try FileHandle(forWritingTo: temporary)
        do {
            try handle.write(contentsOf: data)
            try handle.close()
            // rename(2) replaces the old file atomically; FileManager.replaceItemAt does not on Linux.
            guard rename(temporary.path, url.path) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
            }
            try fileManager.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        } catch {
            try? fileManager.removeItem(at: temporary)
            throw error
        }
    }
}
