import Engine
import Stages
import Testing
import YAML

/// Whole-message tests for pipeline file errors.
@Suite struct PipelineValidationTests {
    func error(_ text: String) -> String {
        do {
            _ = try PipelineLoader(registry: BuiltinStages.registry).load(
                text: text, file: "contrast.pipeline.yaml", directory: "/tmp")
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test func cyclePrintsThePath() {
        let text = """
            version: 1
            name: p
            stages:
              a:
                command: {shell: "true"}
                needs: [b]
              b:
                command: {shell: "true"}
                needs: [c]
              c:
                command: {shell: "true"}
                needs: [a]
            """
        #expect(
            error(text) == """
                contrast.pipeline.yaml:6:13: error: dependency cycle: a -> b -> c -> a
                        needs: [b]
                                ^
                """)
    }

    @Test func cycleThroughFromReference() {
        let text = """
            version: 1
            name: p
            stages:
              a:
                command: {shell: "true", from: b}
              b:
                command: {shell: "true", from: [a]}
            """
        #expect(
            error(text) == """
                contrast.pipeline.yaml:5:36: error: dependency cycle: a -> b -> a
                        command: {shell: "true", from: b}
                                                       ^
                """)
    }

    @Test func unknownKeyWithSuggestion() {
        let text = """
            version: 1
            name: p
            stages:
              a:
                command: {shell: "true"}
              b:
                command: {shell: "true"}
                neds: [a]
            """
        #expect(
            error(text) == """
                contrast.pipeline.yaml:8:5: error: unknown key 'neds' in stage 'b' (did you mean 'needs'?)
                        neds: [a]
                        ^
                """)
    }

    @Test func unknownKeyInStageConfig() {
        let text = """
            version: 1
            name: p
            stages:
              a:
                command:
                  shell: "true"
                  output: [x]
            """
        #expect(
            error(text) == """
                contrast.pipeline.yaml:7:7: error: unknown key 'output' in stage 'a' (command) (did you mean 'outputs'?)
                          output: [x]
                          ^
                """)
    }

    @Test func danglingNeed() {
        let text = """
            version: 1
            name: p
            stages:
              fetch:
                command: {shell: "true"}
              build:
                command: {shell: "true"}
                needs: [fetsh]
            """
        #expect(
            error(text) == """
                contrast.pipeline.yaml:8:13: error: stage 'build' needs 'fetsh', which is not defined (did you mean 'fetch'?)
                        needs: [fetsh]
                                ^
                """)
    }

    @Test func unknownStageType() {
        let text = """
            version: 1
            name: p
            stages:
              a:
                comand: {shell: "true"}
            """
        #expect(
            error(text) == """
                contrast.pipeline.yaml:5:5: error: unknown stage type 'comand' in stage 'a' (did you mean 'command'?)
                        comand: {shell: "true"}
                        ^
                """)
    }

    @Test func missingRequiredField() {
        let text = """
            version: 1
            stages:
              a:
                command: {shell: "true"}
            """
        #expect(
            error(text) == """
                contrast.pipeline.yaml:1:1: error: missing required key 'name' in the pipeline file
                    version: 1
                    ^
                """)
    }

    @Test func missingArgv() {
        let text = """
            version: 1
            name: p
            stages:
              a:
                command:
                  inputs: [x]
            """
        #expect(
            error(text) == """
                contrast.pipeline.yaml:6:7: error: missing required key 'argv' (or 'shell') in stage 'a' (command)
                          inputs: [x]
                          ^
                """)
    }

    @Test func wrongType() {
        let text = """
            version: 1
            name: p
            stages:
              a:
                command:
                  argv: "echo hi"
            """
        #expect(
            error(text) == """
                contrast.pipeline.yaml:6:13: error: 'argv' in stage 'a' (command) must be a list of strings, found a string
                          argv: "echo hi"
                                ^
                """)
    }

    @Test func duplicateStageName() {
        let text = """
            version: 1
            name: p
            stages:
              a:
                command: {shell: "true"}
              a:
                command: {shell: "true"}
            """
        #expect(
            error(text) == """
                contrast.pipeline.yaml:6:3: error: duplicate stage name 'a' (first defined at 4:3)
                      a:
                      ^
                """)
    }

    @Test func unsupportedVersion() {
        let text = "version: 2\nname: p\nstages:\n  a:\n    command: {shell: \"true\"}\n"
        #expect(
            error(text) == """
                contrast.pipeline.yaml:1:10: error: unsupported pipeline schema version 2 (this contrast-pipe reads version 1)
                    version: 2
                             ^
                """)
    }

    @Test func twoTypesInOneStage() {
        let text = """
            version: 1
            name: p
            stages:
              a:
                command: {shell: "true"}
                description: x
                command2: {}
            """
        #expect(error(text).hasPrefix("contrast.pipeline.yaml:7:5: error: unknown stage type 'command2' in stage 'a'"))
    }

    @Test func outputOutsideWorkspace() {
        let text = """
            version: 1
            name: p
            stages:
              a:
                command: {shell: "true", outputs: [../escape.txt]}
            """
        #expect(
            error(text) == """
                contrast.pipeline.yaml:5:39: error: '../escape.txt' in 'outputs' of stage 'a' (command) must be a path inside the workspace
                        command: {shell: "true", outputs: [../escape.txt]}
                                                          ^
                """)
    }

    @Test func validPipelineLoads() throws {
        let text = """
            version: 1
            name: p
            defaults: {cache: .cache, platform: metal-qemu-snp}
            stages:
              a:
                command: {argv: [echo, hi], outputs: [a.txt]}
              b:
                description: second
                command: {shell: "cat a.txt > b.txt", inputs: [a.txt], outputs: b.txt, from: a}
            """
        let p = try PipelineLoader(registry: BuiltinStages.registry).load(
            text: text, file: "contrast.pipeline.yaml", directory: "/work/x")
        #expect(p.stages.map(\.name) == ["a", "b"])
        #expect(p.stage("b")?.dependencies == ["a"])
        #expect(p.cacheDirectory == "/work/x/.cache")
        #expect(p.defaults.platform == "metal-qemu-snp")
        let graph = try StageGraph(p)
        #expect(graph.order == ["a", "b"])
        #expect(graph.closure(of: ["a"]) == ["a"])
    }
}

@Suite struct PathTests {
    @Test(arguments: [
        ("a/b", "a/b"), ("./a", "a"), ("a//b", "a/b"), ("a/./b", "a/b"), ("a/../b", "b"), ("a/b/", "a/b"),
        ("/x/../y", "/y"), ("../a", "../a"), ("..", ".."), (".", "."), ("a/..", "."), ("/", "/"), (".hidden", ".hidden"),
        ("a/...", "a/..."),
    ])
    func normalize(input: String, expected: String) {
        #expect(Paths.normalize(input) == expected)
    }

    @Test func containment() {
        #expect(Paths.isContained("a/b"))
        #expect(!Paths.isContained("../a"))
        #expect(!Paths.isContained("a/../../b"))
        #expect(!Paths.isContained("/etc/passwd"))
        #expect(!Paths.isContained("."))
    }
}
