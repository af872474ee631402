import Foundation
import SQLKit

/// What a table does beyond storing values — ServiceNow's business rules for it — declared with the table's
/// definition (``TableSchema/behaviour``), so every write path (``RecordService``) runs the same rules.
protocol TableBehaviour: Sendable {
    /// Defaults and computed values of a new record.
    func beforeInsert(_ values: inout TableWrite.Values, _ context: TableWrite) async throws
    /// Computed values of a changed record.
    func beforeUpdate(_ values: inout TableWrite.Values, existing: TableStore.Record, _ context: TableWrite)
        async throws
    /// Records created along with this one.
    func afterInsert(_ fields: [String: Any], record: TableStore.Record, _ context: TableWrite) async throws
    /// What a change ends or invalidates in the database (sessions, cached tokens).
    func afterUpdate(_ fields: [String: Any], record: TableStore.Record, _ context: TableWrite) async throws
    /// Columns besides the display column a reference may name a record by (a user's user ID).
    var referenceKeys: [String] { get }
    /// What the process keeps in memory that a change of this table makes stale.
    var staleCaches: Set<DeskCache> { get }
}

extension TableBehaviour {
    func beforeInsert(_ values: inout TableWrite.Values, _ context: TableWrite) async throws {}
    func beforeUpdate(_ values: inout TableWrite.Values, existing: TableStore.Record, _ context: TableWrite)
        async throws
    {}
    func afterInsert(_ fields: [String: Any], record: TableStore.Record, _ context: TableWrite) async throws {}
    func afterUpdate(_ fields: [String: Any], record: TableStore.Record, _ context: TableWrite) async throws {}
    var referenceKeys: [String] { [] }
    var staleCaches: Set<DeskCache> { [] }
}

/// A table without rules of its own.
struct PlainTable: TableBehaviour {}

/// Roles and role assignments decide who passes.
struct AccessTable: TableBehaviour {
    var staleCaches: Set<DeskCache> { [.credentials] }
}

/// OIDC provider configurations name the metadata and keys the desk caches.
struct OIDCConfigurationTable: TableBehaviour {
    var staleCaches: Set<DeskCache> { [.oidcMetadata] }
}

/// Users: defaults, a display name, and the end of every web session when a user is deactivated, gets a new
/// password or becomes web-service-only.
struct UserTable: TableBehaviour {
    func beforeInsert(_ values: inout TableWrite.Values, _ context: TableWrite) async throws {
        if values["active"] == nil { values["active"] = true }
        if values["web_service_access_only"] == nil { values["web_service_access_only"] = false }
        if values["name"] == nil {
            let parts = [values["first_name"] as? String, values["last_name"] as? String].compactMap { $0 }
            values["name"] = parts.isEmpty ? values["user_name"] as? String : parts.joined(separator: " ")
        }
    }

    func afterUpdate(_ fields: [String: Any], record: TableStore.Record, _ context: TableWrite) async throws {
        guard let sysId = record["sys_id"] ?? nil else { return }
        if record["active"] == "false" || record["web_service_access_only"] == "true"
            || (fields["user_password"].flatMap(TableWrite.text).map { !$0.isEmpty } ?? false)
        {
            try await WebSessionStore(sql: context.sql, now: context.now).deleteAll(userId: sysId)
        }
    }

    var referenceKeys: [String] { ["user_name"] }
    var staleCaches: Set<DeskCache> { [.credentials] }
}

/// OAuth entities (the Application Registry): defaults, a default profile for a third-party provider, and its
/// cached tokens forgotten when it changes.
struct OAuthEntityTable: TableBehaviour {
    func beforeInsert(_ values: inout TableWrite.Values, _ context: TableWrite) async throws {
        if values["type"] == nil { values["type"] = "client" }
        if (values["client_id"] as? String)?.isEmpty ?? true { values["client_id"] = TableWrite.newSysId() }
        if values["active"] == nil { values["active"] = true }
        if values["access_token_lifespan"] == nil { values["access_token_lifespan"] = 1800 }
        if values["refresh_token_lifespan"] == nil { values["refresh_token_lifespan"] = 8_640_000 }
        if values["default_grant_type"] == nil, values["type"] as? String == "oauth_provider" {
            values["default_grant_type"] = "client_credentials"
        }
    }

    func afterInsert(_ fields: [String: Any], record: TableStore.Record, _ context: TableWrite) async throws {
        guard let sysId = record["sys_id"] ?? nil, record["type"] == "oauth_provider" else { return }
        let profile = context.writing(DeskTables.oauthEntityProfile)
        let name = ((record["name"] ?? nil) ?? "OAuth provider") + " default_profile"
        _ = try await TableStore(table: DeskTables.oauthEntityProfile, sql: context.sql).insert(
            try await profile.insertValues([
                "name": name, "oauth_entity": sysId,
                "grant_type": (record["default_grant_type"] ?? nil) ?? "client_credentials", "is_default": true,
            ]))
    }

    func afterUpdate(_ fields: [String: Any], record: TableStore.Record, _ context: TableWrite) async throws {
        guard let sysId = record["sys_id"] ?? nil else { return }
        try await context.sql.raw(
            """
            DELETE FROM \(ident: OutboundTokenCache.schema) WHERE profile_id IN
            (SELECT sys_id FROM \(ident: DeskTables.oauthEntityProfile.databaseTable) WHERE oauth_entity = \(bind: sysId))
            """
        ).run()
    }

    var staleCaches: Set<DeskCache> { [.oidcMetadata] }
}

/// Incidents: numbers, defaults, priority from impact and urgency, and the state's stamps.
struct IncidentTable: TableBehaviour {
    func beforeInsert(_ values: inout TableWrite.Values, _ context: TableWrite) async throws {
        values["number"] = try await TableRules.nextNumber(prefix: "INC", table: "incident", sql: context.sql)
        if values["state"] == nil { values["state"] = 1 }
        if values["impact"] == nil { values["impact"] = 3 }
        if values["urgency"] == nil { values["urgency"] = 3 }
        if values["opened_at"] == nil { values["opened_at"] = DeskTime.format(context.now) }
        let writer = try await TableRules.userSysId(context.userName, sql: context.sql)
        if values["opened_by"] == nil, let writer { values["opened_by"] = writer }
        values["priority"] = TableRules.priority(impact: values["impact"] as? Int, urgency: values["urgency"] as? Int)
        TableRules.stampStateChange(
            &values, newState: values["state"] as? Int, oldState: nil, now: context.now, by: writer)
    }

    func beforeUpdate(_ values: inout TableWrite.Values, existing: TableStore.Record, _ context: TableWrite)
        async throws
    {
        func stored(_ field: String) -> Int? { (existing[field] ?? nil).flatMap { Int($0) } }
        let impact = values.keys.contains("impact") ? values["impact"] as? Int : stored("impact")
        let urgency = values.keys.contains("urgency") ? values["urgency"] as? Int : stored("urgency")
        values["priority"] = TableRules.priority(impact: impact, urgency: urgency)
        if values.keys.contains("state") {
            TableRules.stampStateChange(
                &values, newState: values["state"] as? Int, oldState: stored("state"), now: context.now,
                by: try await TableRules.userSysId(context.userName, sql: context.sql))
        }
    }
}
