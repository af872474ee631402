import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A TCP port on 127.0.0.1 that was free a moment ago, for a server whose public URL must be known before it
/// starts (issuers and key URLs name the port).
///
/// Ports come from below the kernel's ephemeral range (32768–60999 on Linux), so an outgoing connection of another
/// test cannot take one between this check and the server's bind, and each is handed out once per process, so two
/// tests running side by side never get the same one.
package func freeLoopbackPort() -> Int {
    while true {
        let port = FreePorts.next.withLock { next -> Int in
            defer { next = next >= FreePorts.range.upperBound ? FreePorts.range.lowerBound : next + 1 }
            return next
        }
        if isFree(port) { return port }
    }
}

private enum FreePorts {
    static let range = 20_000...32_000
    /// A start that differs per process, so test processes running at once rarely try the same ports.
    static let next = Mutex(Int.random(in: range))
}

private func isFree(_ port: Int) -> Bool {
    #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let length = socklen_t(MemoryLayout<sockaddr_in>.size)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    } == 0
}
