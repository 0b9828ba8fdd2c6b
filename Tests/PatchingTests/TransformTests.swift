import Kube
import Patching
import Testing
import YAML

let workloads = """
    apiVersion: v1
    kind: Pod
    metadata: {name: p}
    spec:
      containers:
      - name: c
        image: x
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, labels: {tier: front}}
    spec:
      template:
        metadata:
          labels: {app: web}
        spec:
          initContainers:
          - name: init
            image: i
          containers:
          - name: web-svc
            image: w
          - name: helper
            image: h
    ---
    apiVersion: batch/v1
    kind: CronJob
    metadata: {name: nightly}
    spec:
      schedule: "0 0 * * *"
      jobTemplate:
        spec:
          template:
            spec:
              containers:
              - name: job
                image: j
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: web-svc}
    spec:
      ports:
      - port: 443
    """

@Suite struct TransformTests {
    func load() throws -> KubeDocuments { try KubeDocuments(yaml: workloads, file: "w.yaml") }

    @Test func runtimeClassOnEveryPodSpecKind() throws {
        var docs = try load()
        let n = try Transform(action: .runtimeClass("contrast-cc")).apply(to: &docs)
        #expect(n == 3)
        #expect(docs.resources[0].podSpec?["runtimeClassName"]?.scalar == "contrast-cc")
        #expect(docs.resources[1].podSpec?["runtimeClassName"]?.scalar == "contrast-cc")
        #expect(docs.resources[2].node.value(at: ["spec", "jobTemplate", "spec", "template", "spec", "runtimeClassName"])?.scalar == "contrast-cc")
        // The Service passes through untouched.
        #expect(docs.resources[3] == (try load()).resources[3])
    }

    @Test func memoryRequestsEqualLimitsPerContainer() throws {
        var docs = try load()
        var selector = Selector()
        selector.names = ["web"]
        _ = try Transform(action: .memory("400Mi", containers: []), selector: selector).apply(to: &docs)
        _ = try Transform(action: .memory("1Gi", containers: ["helper"]), selector: selector).apply(to: &docs)
        let yaml = try docs.yaml()
        let expected = [
            "      - name: web-svc", "        image: w", "        resources:", "          limits:",
            "            memory: 400Mi", "          requests:", "            memory: 400Mi", "      - name: helper",
            "        image: h", "        resources:", "          limits:", "            memory: 1Gi", "          requests:",
            "            memory: 1Gi",
        ].joined(separator: "\n")
        #expect(yaml.contains(expected))
        #expect(docs.resources[1].podSpec?["initContainers"]?.items?[0]["resources"]?["limits"]?["memory"]?.scalar == "400Mi")
        #expect(docs.resources[0].podSpec?["containers"]?.items?[0]["resources"] == nil)
    }

    @Test func annotationsAddAndRemoveByLabel() throws {
        var docs = try load()
        var selector = Selector()
        selector.labels = ["tier": "front"]
        _ = try Transform(
            action: .annotations(["contrast.edgeless.systems/servicemesh-ingress": "", "b": "true"], order: ["contrast.edgeless.systems/servicemesh-ingress", "b"]),
            selector: selector
        ).apply(to: &docs)
        let yaml = try docs.yaml()
        let expected = [
            "    metadata:", "      labels: {app: web}", "      annotations:",
            "        contrast.edgeless.systems/servicemesh-ingress: \"\"", "        b: \"true\"",
        ].joined(separator: "\n")
        #expect(yaml.contains(expected))
        _ = try Transform(action: .removeAnnotations(["b", "contrast.edgeless.systems/servicemesh-ingress"]), selector: selector)
            .apply(to: &docs)
        #expect(docs.resources[1].podTemplate?["metadata"]?["annotations"] == nil)
    }

    @Test func selectorMatchingNothingIsAnError() throws {
        var docs = try load()
        var selector = Selector()
        selector.names = ["wbe"]
        #expect(throws: Diagnostic(location: nil, message: "transform 'runtime-class' selects no workload")) {
            try Transform(action: .runtimeClass("x"), selector: selector).apply(to: &docs)
        }
    }

    @Test func unknownContainerIsAnError() throws {
        var docs = try load()
        var selector = Selector()
        selector.names = ["web"]
        #expect(throws: Diagnostic(location: nil, message: "Deployment/web has no container named 'nope'")) {
            try Transform(action: .memory("1Gi", containers: ["nope"]), selector: selector).apply(to: &docs)
        }
    }

    @Test func quantities() {
        #expect(Quantity.bytes("400Mi") == 419_430_400)
        #expect(Quantity.bytes("419430400") == 419_430_400)
        #expect(Quantity.bytes("1G") == 1_000_000_000)
        #expect(Quantity.bytes("lots") == nil)
    }
}
