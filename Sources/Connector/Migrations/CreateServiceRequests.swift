import Fluent
import SQLKit

/// Support cases, their threads, the outbox of deliveries to the desks, and the credentials the Connector reads
/// each tenant's directory with.
struct CreateServiceRequests: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("connector_service_requests")
            .field("id", .string, .identifier(auto: false))
            .field("number", .string, .required)
            .field("tenant_id", .string, .required)
            .field("repository_id", .string, .required)
            .field("ticket_number", .string, .required)
            .field("ticket_url", .string)
            .field("title", .string, .required)
            .field("description", .string, .required)
            .field("severity", .string, .required)
            .field("status", .string, .required)
            .field("contact_email", .string, .required)
            .field("contact_name", .string)
            .field("contact_phone", .string)
            .field("test_environment", .bool, .required)
            .field("idempotency_key", .string, .required)
            .field("created_by_app", .string, .required)
            .field("created_at", .double, .required)
            .field("updated_at", .double, .required)
            .unique(on: "number")
            .unique(on: "tenant_id", "idempotency_key")
            .create()
        try await database.schema("connector_sr_updates")
            .field("id", .string, .identifier(auto: false))
            .field("request_id", .string, .required)
            .field("sequence", .int, .required)
            .field("source", .string, .required)
            .field("author", .string, .required)
            .field("text", .string, .required)
            .field("status", .string)
            .field("created_at", .double, .required)
            .unique(on: "request_id", "sequence")
            .create()
        try await database.schema("connector_outbox")
            .field("id", .string, .identifier(auto: false))
            .field("tenant_id", .string, .required)
            .field("repository_id", .string, .required)
            .field("request_id", .string, .required)
            .field("sequence", .int, .required)
            .field("kind", .string, .required)
            .field("payload", .string, .required)
            .field("state", .string, .required)
            .field("attempts", .int, .required)
            .field("next_attempt_at", .double, .required)
            .field("last_error", .string)
            .field("claimed_by", .string)
            .field("claimed_until", .double)
            .field("created_at", .double, .required)
            .field("sent_at", .double)
            .create()
        try await database.schema("connector_counters")
            .field("name", .string, .identifier(auto: false))
            .field("value", .int64, .required)
            .create()
        // One column per statement: SQLite adds columns one at a time.
        for column in ["directory_client_id", "directory_client_secret"] {
            try await database.schema("connector_tenants").field(
                .definition(name: .key(FieldKey(stringLiteral: column)), dataType: .string, constraints: [])
            ).update()
        }
        let sql = try database.asSQL()
        try await sql.insert(into: "connector_counters").columns("name", "value")
            .values(SQLBind("service_request"), SQLBind(0)).run()
        try await sql.create(index: "connector_sr_tenant").on("connector_service_requests")
            .column("tenant_id").column("status").run()
        try await sql.create(index: "connector_outbox_due").on("connector_outbox")
            .column("state").column("next_attempt_at").run()
        try await sql.create(index: "connector_outbox_request").on("connector_outbox")
            .column("request_id").column("sequence").run()
    }

    func revert(on database: any Database) async throws {
        for column in ["directory_client_id", "directory_client_secret"] {
            try await database.schema("connector_tenants").deleteField(FieldKey(stringLiteral: column)).update()
        }
        for table in ["connector_counters", "connector_outbox", "connector_sr_updates", "connector_service_requests"] {
            try await database.schema(table).delete()
        }
    }
}
