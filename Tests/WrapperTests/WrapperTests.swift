import Compression
import Crypto
import SQLite
import Testing

@Suite struct HashTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ])
    func sha256KnownAnswers(input: String, expected: String) {
        #expect(SHA256.hash(string: input).hex == expected)
    }

    @Test func sha384KnownAnswer() {
        #expect(
            SHA384.hash(Array("abc".utf8)).hex
                == "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7")
    }

    @Test func incrementalEqualsOneShot() throws {
        let h = try Hasher(.sha256)
        h.update("ab")
        h.update("c")
        #expect(h.finalize() == SHA256.hash(string: "abc"))
    }

    @Test func hexRoundTrip() {
        let d = SHA256.hash(string: "x")
        #expect(Digest(hex: d.hex) == d)
        #expect(Digest(hex: "abc") == nil)
        #expect(Digest(hex: "zz") == nil)
    }
}

@Suite struct SQLiteTests {
    @Test func roundTripValues() throws {
        let db = try Database(.memory)
        try db.execute("CREATE TABLE t(a INTEGER, b TEXT, c BLOB)")
        try db.run("INSERT INTO t VALUES(?, ?, ?)", [.integer(42), .text("héllo"), .blob([0, 1, 255])])
        try db.run("INSERT INTO t VALUES(?, ?, ?)", [.null, .null, .blob([])])
        var rows: [(Int64, String?, [UInt8]?)] = []
        try db.query("SELECT a, b, c FROM t ORDER BY rowid") { rows.append(($0.int(0), $0.text(1), $0.blob(2))) }
        #expect(rows.count == 2)
        #expect(rows[0].0 == 42 && rows[0].1 == "héllo" && rows[0].2 == [0, 1, 255])
        #expect(rows[1].1 == nil && rows[1].2 == [])
    }

    @Test func errorsCarryCodeMessageAndSQL() throws {
        let db = try Database(.memory)
        do {
            try db.run("SELECT * FROM missing")
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "no such table: missing")
            #expect(error.sql == "SELECT * FROM missing")
            #expect(error.primaryCode == 1)
        }
    }

    @Test func transactionRollsBackOnError() throws {
        struct Boom: Error {}
        let db = try Database(.memory)
        try db.execute("CREATE TABLE t(a INTEGER)")
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.run("INSERT INTO t VALUES(1)")
                throw Boom()
            }
        }
        var count: Int64 = -1
        try db.query("SELECT COUNT(*) FROM t") { count = $0.int(0) }
        #expect(count == 0)
    }

    @Test func constraintViolationIsExtendedCode() throws {
        let db = try Database(.memory)
        try db.execute("CREATE TABLE t(a INTEGER PRIMARY KEY)")
        try db.run("INSERT INTO t VALUES(1)")
        do {
            try db.run("INSERT INTO t VALUES(1)")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == 1555)  // SQLITE_CONSTRAINT_PRIMARYKEY
        }
    }
}

@Suite struct GzipTests {
    @Test func roundTrip() throws {
        let input = Array(String(repeating: "contrast-pipe ", count: 1000).utf8)
        let packed = try Gzip.compress(input)
        #expect(packed.count < input.count / 10)
        #expect(packed[0] == 0x1f && packed[1] == 0x8b)
        #expect(try Gzip.decompress(packed) == input)
    }

    @Test func deterministic() throws {
        #expect(try Gzip.compress(Array("abc".utf8)) == Gzip.compress(Array("abc".utf8)))
    }

    @Test func emptyInput() throws {
        #expect(try Gzip.decompress(Gzip.compress([])) == [])
    }

    @Test func corruptAndTruncatedInputAreErrors() throws {
        let packed = try Gzip.compress(Array("hello world".utf8))
        #expect(throws: CompressionError.self) { try Gzip.decompress(Array(packed.prefix(packed.count - 4))) }
        #expect(throws: CompressionError.self) { try Gzip.decompress([1, 2, 3, 4]) }
    }

    @Test func interoperatesWithSystemGzip() throws {
        // "hello\n" compressed by `printf 'hello\n' | gzip -n`.
        let fromGzip: [UInt8] = [
            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xe7, 0x02,
            0x00, 0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00,
        ]
        #expect(try Gzip.decompress(fromGzip) == Array("hello\n".utf8))
    }
}
