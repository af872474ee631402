import Dispatch

/// Runs `work` (milliseconds to seconds of CPU: an index build, a sentence encoding) on a dispatch thread and
/// returns its result: the cooperative pool has one thread per core and serves every request of the process,
/// so holding one of them that long would stall all services.
package func offCooperativePool<T: Sendable>(
    qos: DispatchQoS.QoSClass = .userInitiated, _ work: @escaping @Sendable () -> T
) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global(qos: qos).async { continuation.resume(returning: work()) }
    }
}
