/// A failed SQLite call: the (extended) result code, SQLite's message and the SQL involved.
public struct SQLiteError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The extended result code.
    public let code: Int32
    /// `sqlite3_errmsg` at the time of failure.
    public let message: String
    /// The statement text, when the failure belongs to one.
    public let sql: String?

    /// Creates an error value.
    public init(code: Int32, message: String, sql: String?) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// Primary result code (low byte of the extended code).
    public var primaryCode: Int32 { code & 0xff }

    /// True for SQLITE_BUSY / SQLITE_LOCKED.
    public var isBusy: Bool { primaryCode == 5 || primaryCode == 6 }

    public var description: String {
        if let sql { return "SQLite error \(code): \(message) (in \(sql))" }
        return "SQLite error \(code): \(message)"
    }
}
