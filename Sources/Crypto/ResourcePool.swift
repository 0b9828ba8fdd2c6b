import Synchronization

/// A fixed set of interchangeable non-Sendable values (parsed OpenSSL keys and certificates), each behind its own
/// mutex: a caller borrows whichever copy is free, so several threads sign or verify in parallel without sharing one
/// OpenSSL object and without re-parsing it per use (OpenSSL 3's decoders cost more than a P-384 signature).
public final class ResourcePool<Value>: Sendable {
    private final class Slot: Sendable {
        let mutex: Mutex<Value>
        init(_ value: consuming sending Value) { mutex = Mutex(value) }
    }

    private let slots: [Slot]
    private let next = Atomic<Int>(0)

    /// `count` copies made by `make`.
    public init<E: Error>(count: Int, make: () throws(E) -> sending Value) throws(E) {
        var slots: [Slot] = []
        for _ in 0..<max(1, count) { slots.append(Slot(try make())) }
        self.slots = slots
    }

    /// Runs `body` with exclusive use of one copy: the first free one, else waits for one.
    public func with<R: Sendable, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        let start = next.wrappingAdd(1, ordering: .relaxed).oldValue
        for i in 0..<slots.count {
            let slot = slots[(start + i) % slots.count]
            if let result = try slot.mutex.withLockIfAvailable({ (value: inout sending Value) throws(E) -> sending R in
                try body(&value)
            }) {
                return result
            }
        }
        return try slots[start % slots.count].mutex.withLock { (value: inout sending Value) throws(E) -> sending R in
            try body(&value)
        }
    }
}
