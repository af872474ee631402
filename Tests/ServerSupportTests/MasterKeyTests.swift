import Crypto
import Foundation
import Testing
import Vapor

@testable import ServerSupport

@Suite("Master key and stored secrets")
struct MasterKeyTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("m365-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func sealedSecretsOpenWithTheSameKeyOnly() throws {
        let key = MasterKey(key: SymmetricKey(size: .bits256))
        let sealed = try key.seal("s3cret value")
        #expect(!sealed.contains("s3cret"))
        #expect(try key.open(sealed) == "s3cret value")
        #expect(throws: MasterKey.OpenError.wrongKeyOrTampered) {
            try MasterKey(key: SymmetricKey(size: .bits256)).open(sealed)
        }
        var tampered = Array(sealed)
        tampered[10] = tampered[10] == "A" ? "B" : "A"
        #expect(throws: MasterKey.OpenError.wrongKeyOrTampered) { try key.open(String(tampered)) }
        #expect(throws: MasterKey.OpenError.malformed) { try key.open("plain text") }
    }

    @Test func generatedKeyFileIsPrivateAndReused() throws {
        let directory = try temporaryDirectory()
        let first = try MasterKey.load(environmentValue: nil, dataDirectory: directory)
        let file = directory.appendingPathComponent("master.key")
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let second = try MasterKey.load(environmentValue: nil, dataDirectory: directory)
        #expect(try second.open(try first.seal("x")) == "x")
    }

    @Test func environmentKeyMustBe32Bytes() throws {
        let directory = try temporaryDirectory()
        #expect(throws: MasterKey.LoadError.self) {
            try MasterKey.load(environmentValue: "c2hvcnQ=", dataDirectory: directory)
        }
        let good = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        _ = try MasterKey.load(environmentValue: good, dataDirectory: directory)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("master.key").path))
    }
}

@Suite("Database locations")
struct DatabaseLocationTests {
    @Test func parsesURLsAndPaths() throws {
        #expect(
            try DatabaseLocation.parse("postgres://u:p@localhost/db") == .postgres(url: "postgres://u:p@localhost/db"))
        #expect(
            try DatabaseLocation.parse("sqlite:///tmp/x.sqlite") == .sqliteFile(URL(fileURLWithPath: "/tmp/x.sqlite")))
        #expect(try DatabaseLocation.parse("data/x.sqlite") == .sqliteFile(URL(fileURLWithPath: "data/x.sqlite")))
        #expect(try DatabaseLocation.parse(":memory:") == .sqliteMemory)
        #expect {
            try DatabaseLocation.parse("mysql://x")
        } throws: { error in
            (error as? any AbortError)?.reason == "Unsupported database URL scheme; use postgres:// or sqlite://"
        }
    }

    @Test func redactsPasswords() throws {
        let location = try DatabaseLocation.parse("postgresql://app:hunter2@db.internal:5432/m365")
        #expect(!location.redactedDescription.contains("hunter2"))
        #expect(location.redactedDescription.contains("db.internal"))
    }
}

@Suite("Demo credentials file")
struct DemoCredentialsFileTests {
    struct Section: Codable, Equatable {
        var name: String
    }

    @Test func sectionsAreMergedAndTheFileStaysPrivate() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("m365-\(UUID().uuidString)")
        let file = DemoCredentialsFile(dataDirectory: directory)
        try file.write(section: "identity", Section(name: "a"))
        try file.write(section: "desk", Section(name: "b"))
        try file.write(section: "identity", Section(name: "c"))
        #expect(try file.section("identity", as: Section.self) == Section(name: "c"))
        #expect(try file.section("desk", as: Section.self) == Section(name: "b"))
        let mode = try FileManager.default.attributesOfItem(atPath: file.url.path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
    }
}
