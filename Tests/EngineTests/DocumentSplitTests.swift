@testable import Stages
import Testing

@Suite struct DocumentSplitTests {
    @Test func splitsAtMarkersKeepingLineNumbers() {
        let text = "---\na: 1\n---\n\n---\nb: |\n  ---not a marker\n--- c: 2\n---"
        let docs = GenerateStage.splitDocuments(text)
        #expect(docs.map(\.0) == ["a: 1\n", "b: |\n  ---not a marker\n", "c: 2\n"])
        #expect(docs.map(\.1) == [2, 6, 8])
    }

    @Test func directivesKeepTheStreamWhole() {
        #expect(GenerateStage.splitDocuments("%YAML 1.2\n---\na: 1\n").count == 1)
    }
}
