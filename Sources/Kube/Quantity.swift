/// Kubernetes resource quantities (as used for memory): parses `400Mi`, `1Gi`, `500M`, `1e3`, `419430400`.
public enum Quantity {
    /// The value in bytes (rounded down), nil when the text is not a quantity.
    public static func bytes(_ text: String) -> Int64? {
        let suffixes: [(String, Double)] = [
            ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776),
            ("Pi", 1_125_899_906_842_624), ("Ei", 1_152_921_504_606_846_976), ("k", 1e3), ("M", 1e6), ("G", 1e9),
            ("T", 1e12), ("P", 1e15), ("E", 1e18), ("m", 1e-3),
        ]
        var number = Substring(text)
        var factor = 1.0
        for (suffix, f) in suffixes where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            factor = f
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." || $0 == "e" || $0 == "E" || $0 == "+" || $0 == "-" }),
            let value = Double(number), value >= 0
        else { return nil }
        return Int64((value * factor).rounded(.down))
    }
}
