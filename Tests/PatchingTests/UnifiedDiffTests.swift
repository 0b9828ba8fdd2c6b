import Patching
import Testing

let original = (1...12).map { "line \($0)" }.joined(separator: "\n") + "\n"

@Suite struct UnifiedDiffTests {
    @Test func appliesAtTheHeaderPosition() throws {
        let diff = try UnifiedDiff(
            text: "@@ -3,3 +3,4 @@\n line 3\n line 4\n+inserted\n line 5\n", name: "a.diff")
        let r = try diff.apply(to: original)
        #expect(r.text.contains("line 4\ninserted\nline 5\n"))
        #expect(r.notes.isEmpty)
    }

    @Test func toleratesAndReportsOffsets() throws {
        let diff = try UnifiedDiff(
            text: "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n line 7\n-line 8\n+LINE 8\n line 9\n", name: "b.diff")
        let r = try diff.apply(to: original)
        #expect(r.text.contains("line 7\nLINE 8\nline 9\n"))
        #expect(r.notes == ["b.diff: hunk @@ -1,3 +1,3 @@ applied at line 7 (offset 6 lines)"])
    }

    @Test func failingHunkNamesFileHeaderAndLine() throws {
        let diff = try UnifiedDiff(text: "@@ -3,3 +3,3 @@\n line 3\n-line four\n+LINE 4\n line 5\n", name: "c.diff")
        #expect(throws: PatchError.self) { try diff.apply(to: original) }
        do {
            _ = try diff.apply(to: original)
        } catch {
            #expect(error.message == "c.diff: hunk @@ -3,3 +3,3 @@ does not apply: line 4 should be 'line four', found 'line 4'")
        }
    }

    @Test func allHunksOrNothing() throws {
        let diff = try UnifiedDiff(
            text: "@@ -1,2 +1,2 @@\n-line 1\n+LINE 1\n line 2\n@@ -10,2 +10,2 @@\n line 10\n-nope\n+x\n", name: "d.diff")
        #expect(throws: PatchError.self) { try diff.apply(to: original) }
    }

    @Test func fuzzIsOptIn() throws {
        // The first context line is wrong; fuzz 1 ignores it.
        let diff = try UnifiedDiff(text: "@@ -3,3 +3,3 @@\n changed 3\n-line 4\n+LINE 4\n line 5\n", name: "e.diff")
        #expect(throws: PatchError.self) { try diff.apply(to: original) }
        let r = try diff.apply(to: original, fuzz: 1)
        #expect(r.text.contains("line 3\nLINE 4\nline 5"))
        #expect(r.notes == ["e.diff: hunk @@ -3,3 +3,3 @@ applied at line 3 (fuzz 1)"])
    }

    @Test func malformedDiffs() {
        #expect(throws: PatchError(message: "x.diff: no hunks found")) { try UnifiedDiff(text: "hello\n", name: "x.diff") }
        #expect(throws: PatchError(message: "x.diff:1: malformed hunk header: @@ nonsense @@")) {
            try UnifiedDiff(text: "@@ nonsense @@\n", name: "x.diff")
        }
        #expect(throws: PatchError(message: "x.diff: hunk @@ -1,3 +1,3 @@ is truncated")) {
            try UnifiedDiff(text: "@@ -1,3 +1,3 @@\n line 1\n", name: "x.diff")
        }
        #expect(throws: PatchError(message: "y.diff:6: the patch changes more than one file")) {
            try UnifiedDiff(text: "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n--- c\n+++ d\n", name: "y.diff")
        }
    }

    @Test func sectionTextAfterHeaderIsAccepted() throws {
        let diff = try UnifiedDiff(text: "@@ -2,2 +2,3 @@ spec:\n line 2\n+x\n line 3\n", name: "f.diff")
        #expect(diff.hunks[0].header == "@@ -2,2 +2,3 @@")
        #expect(try diff.apply(to: original).text.hasPrefix("line 1\nline 2\nx\nline 3\n"))
    }
}
