/// A dependency cycle, as the path that closes it (first element repeated at the end).
public struct CycleError: Error, Sendable, CustomStringConvertible {
    /// e.g. `["a", "b", "c", "a"]`: a needs b, b needs c, c needs a.
    public var path: [String]
    public var description: String { "dependency cycle: \(path.joined(separator: " -> "))" }
}

/// The stage DAG of a pipeline: dependency lists, a deterministic topological order and target closures.
public struct StageGraph: Sendable {
    /// Stage names in file order.
    public let names: [String]
    /// Stage → its direct dependencies.
    public let dependencies: [String: [String]]
    /// Stage → stages that depend on it directly.
    public let dependents: [String: [String]]
    /// Dependencies before dependents; ties keep file order.
    public let order: [String]

    /// Builds the graph, rejecting cycles with the cycle's path.
    public init(_ pipeline: Pipeline) throws(CycleError) {
        names = pipeline.stages.map(\.name)
        var deps: [String: [String]] = [:]
        var rdeps: [String: [String]] = [:]
        for s in pipeline.stages {
            deps[s.name] = s.dependencies
            for d in s.dependencies { rdeps[d, default: []].append(s.name) }
        }
        dependencies = deps
        dependents = rdeps
        // Cycle detection by DFS with an explicit path.
        var state: [String: Int] = [:]  // 1 = on stack, 2 = done
        var stack: [String] = []
        func visit(_ n: String) -> [String]? {
            if state[n] == 2 { return nil }
            if state[n] == 1 {
                let start = stack.firstIndex(of: n) ?? 0
                return Array(stack[start...]) + [n]
            }
            state[n] = 1
            stack.append(n)
            for d in deps[n] ?? [] where deps[d] != nil {
                if let cycle = visit(d) { return cycle }
            }
            stack.removeLast()
            state[n] = 2
            return nil
        }
        for n in names {
            if let cycle = visit(n) { throw CycleError(path: cycle) }
        }
        // Kahn's algorithm, always taking the earliest ready stage in file order (a min-heap of positions).
        var indegree = names.map { (deps[$0] ?? []).count }
        let position = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        var heap = MinHeap()
        for (i, d) in indegree.enumerated() where d == 0 { heap.push(i) }
        var out: [String] = []
        out.reserveCapacity(names.count)
        while let i = heap.pop() {
            let n = names[i]
            out.append(n)
            for m in rdeps[n] ?? [] {
                guard let j = position[m] else { continue }
                indegree[j] -= 1
                if indegree[j] == 0 { heap.push(j) }
            }
        }
        order = out
    }

    /// `targets` and everything they transitively need, in topological order. Empty targets: all stages.
    public func closure(of targets: [String]) -> [String] {
        if targets.isEmpty { return order }
        var keep = Set<String>()
        var work = targets
        while let n = work.popLast() {
            if keep.insert(n).inserted { work.append(contentsOf: dependencies[n] ?? []) }
        }
        return order.filter { keep.contains($0) }
    }

    /// Graphviz DOT text of the graph; edges follow the data flow (from a stage to the stages that need it).
    public func dot(name: String, types: [String: String]) -> String {
        var out = "digraph \(Canonical.quote(name)) {\n    rankdir=LR;\n    node [shape=box];\n"
        for n in names {
            // Stage and type names are restricted to [A-Za-z0-9._-], so they need no escaping.
            out += "    \"\(n)\" [label=\"\(n)\\n(\(types[n] ?? "?"))\"];\n"
        }
        for n in names {
            for d in dependencies[n] ?? [] {
                out += "    \"\(d)\" -> \"\(n)\";\n"
            }
        }
        return out + "}\n"
    }
}

/// A binary min-heap of integers.
private struct MinHeap {
    private var items: [Int] = []

    mutating func push(_ x: Int) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[parent] > items[i] else { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> Int? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var smallest = i
                if l < items.count && items[l] < items[smallest] { smallest = l }
                if r < items.count && items[r] < items[smallest] { smallest = r }
                if smallest == i { break }
                items.swapAt(i, smallest)
                i = smallest
            }
        }
        return top
    }
}
