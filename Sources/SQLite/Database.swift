internal import CSQLite

/// A value bound to or read from a statement column.
public enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])
}

/// One owner of a `sqlite3*` connection. Not Sendable: confine it to one task or wrap it in a `Mutex`.
public final class Database {
    private let handle: OpaquePointer

    /// Where the database lives.
    public enum Location: Sendable {
        case path(String)
        case memory
    }

    /// Opens (creating if needed) a database, enables extended result codes, WAL and a busy timeout.
    public init(_ location: Location, busyTimeoutMilliseconds: Int32 = 10_000) throws(SQLiteError) {
        var db: OpaquePointer?
        let path: String
        switch location {
        case .path(let p): path = p
        case .memory: path = ":memory:"
        }
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: "\(message): \(path)", sql: nil)
        }
        self.handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
        if case .path = location {
            // A short-lived CLI process should not pay for a WAL checkpoint on every exit; SQLite checkpoints
            // automatically as the WAL grows.
            _ = csqlite_db_config_int(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1)
            try execute("PRAGMA journal_mode=WAL")
            try execute("PRAGMA synchronous=NORMAL")
        }
        try execute("PRAGMA foreign_keys=ON")
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows of interest.
    public func execute(_ sql: String) throws(SQLiteError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(errorMessage)
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: message, sql: sql)
        }
    }

    /// Prepares, binds and runs a statement, calling `row` for each result row. The statement is always
    /// finalized, also when `row` throws.
    public func query(
        _ sql: String,
        _ bindings: [SQLiteValue] = [],
        row: (Row) throws -> Void = { _ in }
    ) throws {
        let statement = try Statement(handle: handle, sql: sql)
        defer { statement.finalize() }
        try statement.bind(bindings)
        while let r = try statement.step() {
            try row(r)
        }
    }

    /// Runs a statement that returns no rows.
    public func run(_ sql: String, _ bindings: [SQLiteValue] = []) throws(SQLiteError) {
        let statement = try Statement(handle: handle, sql: sql)
        defer { statement.finalize() }
        try statement.bind(bindings)
        while try statement.step() != nil {}
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Number of rows changed by the last statement.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// A prepared statement; always finalized by its owner (`Database.query` / `Database.run`).
    public final class Statement {
        private let statement: OpaquePointer
        private let db: OpaquePointer
        private let sql: String

        init(handle: OpaquePointer, sql: String) throws(SQLiteError) {
            var stmt: OpaquePointer?
            let rc = sqlite3_prepare_v2(handle, sql, -1, &stmt, nil)
            guard rc == SQLITE_OK, let stmt else {
                throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
            }
            self.statement = stmt
            self.db = handle
            self.sql = sql
        }

        func finalize() {
            sqlite3_finalize(statement)
        }

        private func check(_ rc: Int32) throws(SQLiteError) {
            if rc != SQLITE_OK {
                throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(db)), sql: sql)
            }
        }

        func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
            let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
            for (i, value) in values.enumerated() {
                let index = Int32(i + 1)
                switch value {
                case .null:
                    try check(sqlite3_bind_null(statement, index))
                case .integer(let v):
                    try check(sqlite3_bind_int64(statement, index, v))
                case .text(let s):
                    try check(sqlite3_bind_text(statement, index, s, -1, transient))
                case .blob(let bytes):
                    try check(
                        bytes.withUnsafeBytes { buf in
                            sqlite3_bind_blob64(
                                statement,
                                index,
                                buf.baseAddress ?? UnsafeRawPointer(bitPattern: 1),
                                sqlite3_uint64(buf.count),
                                transient
                            )
                        }
                    )
                }
            }
        }

        func step() throws(SQLiteError) -> Row? {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_ROW { return Row(statement: statement) }
            if rc == SQLITE_DONE { return nil }
            throw SQLiteError(code: sqlite3_extended_errcode(db), message: String(cString: sqlite3_errmsg(db)), sql: sql)
        }
    }

    /// The current row of a stepping statement; valid only inside the `row` callback.
    public struct Row {
        fileprivate let statement: OpaquePointer

        fileprivate init(statement: OpaquePointer) {
            self.statement = statement
        }

        /// Column `i` as an integer (0 for NULL).
        public func int(_ i: Int32) -> Int64 { sqlite3_column_int64(statement, i) }

        /// Column `i` as text (nil for NULL).
        public func text(_ i: Int32) -> String? {
            guard let p = sqlite3_column_text(statement, i) else { return nil }
            let n = Int(sqlite3_column_bytes(statement, i))
            return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
        }

        /// Column `i` as bytes (nil for NULL).
        public func blob(_ i: Int32) -> [UInt8]? {
            if sqlite3_column_type(statement, i) == SQLITE_NULL { return nil }
            let n = Int(sqlite3_column_bytes(statement, i))
            guard n > 0, let p = sqlite3_column_blob(statement, i) else { return [] }
            return Array(UnsafeRawBufferPointer(start: p, count: n))
        }

        /// True when column `i` is NULL.
        public func isNull(_ i: Int32) -> Bool { sqlite3_column_type(statement, i) == SQLITE_NULL }
    }
}

@available(*, unavailable)
extension Database: Sendable {}
