import Testing
import YAML

@Suite struct YAMLLoadTests {
    @Test func keepsKeyOrderStylesAndMarks() throws {
        let text = """
            b: 1
            a: "quoted"
            c:
              - x
              - 'y'
            d: |
              literal
            """
        let node = try YAMLParser.parse(text + "\n", file: "t.yaml")
        let keys = node.pairs?.map { $0.key.scalar ?? "" }
        #expect(keys == ["b", "a", "c", "d"])
        #expect(node["b"]?.int == 1)
        #expect(node["a"]?.content == .scalar("quoted", .doubleQuoted))
        #expect(node["c"]?.items?[1].content == .scalar("y", .singleQuoted))
        #expect(node["d"]?.content == .scalar("literal\n", .literal))
        #expect(node["c"]?.items?[0].location == SourceLocation(file: "t.yaml", line: 4, column: 5))
        #expect(node["a"]?.location == SourceLocation(file: "t.yaml", line: 2, column: 4))
    }

    @Test func resolvesCoreSchemaTypes() throws {
        let node = try YAMLParser.parse("a: 8080\nb: '8080'\nc: true\nd: ~\ne: 1.5\nf: text\ng: !!str 12\n")
        #expect(node["a"]?.kind == .int)
        #expect(node["b"]?.kind == .string)
        #expect(node["c"]?.kind == .bool)
        #expect(node["d"]?.kind == .null)
        #expect(node["e"]?.kind == .float)
        #expect(node["f"]?.kind == .string)
        #expect(node["g"]?.kind == .string)
    }

    @Test func multiDocumentStream() throws {
        let docs = try YAMLParser.parseDocuments("a: 1\n---\nb: 2\n---\n- 3\n")
        #expect(docs.count == 3)
        #expect(docs[2].items?.first?.int == 3)
        #expect(try YAMLParser.parseDocuments("").isEmpty)
    }

    @Test func aliasesAreResolved() throws {
        let node = try YAMLParser.parse("base: &b {x: 1}\ncopy: *b\n")
        #expect(node["copy"] == node["base"])
        #expect(node["copy"]?["x"]?.int == 1)
    }

    @Test func billionLaughsIsRefused() {
        var text = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        var previous = "a"
        for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]\n"
            previous = name
        }
        #expect(throws: Diagnostic.self) { try YAMLParser.parse(text, file: "lol.yaml") }
        do {
            _ = try YAMLParser.parse(text, file: "lol.yaml")
        } catch {
            #expect(error.message == "alias expansion exceeds the limit of 100000 nodes (recursive aliases?)")
            #expect(error.location?.file == "lol.yaml")
        }
    }

    @Test func syntaxErrorHasLocationAndExcerpt() {
        let text = "a: 1\nb: [1, 2\nc: 3\n"
        do {
            _ = try YAMLParser.parse(text, file: "bad.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(
                error.description == """
                    bad.yaml:3:2: error: did not find expected ',' or ']' while parsing a flow sequence
                        c: 3
                         ^
                    """)
        }
    }

    @Test func unknownAlias() {
        do {
            _ = try YAMLParser.parse("a: *nope\n", file: "x.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(
                error.description == """
                    x.yaml:1:4: error: unknown alias 'nope'
                        a: *nope
                           ^
                    """)
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let text = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        #expect(throws: Diagnostic.self) { try YAMLParser.parse(text) }
    }
}

@Suite struct YAMLEmitTests {
    static let kubernetes = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          labels:
            app.kubernetes.io/name: web
          annotations:
            contrast.edgeless.systems/servicemesh-ingress: "web#8080#false"
            note: 'single'
        spec:
          replicas: 1
          template:
            spec:
              containers:
              - name: web
                image: ghcr.io/example/web@sha256:0fd9
                ports:
                - containerPort: 8080
                  name: http
                env:
                - name: PORT
                  value: "8080"
                - name: FLAG
                  value: "true"
                args: [--a, --b]
                command:
                - /bin/sh
                - -c
                - |
                  echo hi
                  exec web
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web-svc
        spec:
          ports:
          - port: 443
            targetPort: 8080
        """

    @Test func roundTripIsIdentityAndStable() throws {
        let docs = try YAMLParser.parseDocuments(Self.kubernetes)
        let once = try YAMLEmitter.emit(documents: docs)
        let again = try YAMLParser.parseDocuments(once)
        #expect(again == docs)
        let twice = try YAMLEmitter.emit(documents: again)
        #expect(once == twice)
        #expect(once.contains("value: \"8080\""))
        #expect(once.contains("'single'"))
        #expect(once.contains("---\napiVersion: v1\n"))
    }

    @Test func codeBuiltStringsKeepTheirType() throws {
        let node = YAMLNode.mapping([
            ("port", .string("8080")), ("flag", .string("yes")), ("plain", .string("hello")), ("empty", .string("")),
            ("nul", .string("null")), ("num", YAMLNode(.scalar("3", .plain))),
        ])
        let text = try YAMLEmitter.emit(node)
        #expect(text == "port: \"8080\"\nflag: \"yes\"\nplain: hello\nempty: \"\"\nnul: \"null\"\nnum: 3\n")
        let back = try YAMLParser.parse(text)
        #expect(back["port"]?.string == "8080")
        #expect(back["flag"]?.string == "yes")
        #expect(back["num"]?.int == 3)
    }
}

@Suite struct YAMLStreamingLookupTests {
    @Test func findsNestedScalarWithoutBuildingTheTree() throws {
        let text = "version: 1\nstages:\n  a: {x: [1, {y: 2}]}\ndefaults:\n  platform: p\n  cache: ../c\n"
        #expect(try YAMLParser.scalar(at: ["defaults", "cache"], in: text) == "../c")
        #expect(try YAMLParser.scalar(at: ["defaults", "missing"], in: text) == nil)
        #expect(try YAMLParser.scalar(at: ["stages", "a"], in: text) == nil)
        #expect(try YAMLParser.scalar(at: ["version"], in: text) == "1")
        #expect(try YAMLParser.scalar(at: ["x"], in: "- 1\n") == nil)
    }
}
