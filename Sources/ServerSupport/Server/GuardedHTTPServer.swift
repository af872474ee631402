import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Vapor

/// The services' HTTP/1.1 server: Vapor's routing, middleware and handlers behind a pipeline that also answers
/// what NIO's HTTP parser refuses before any handler sees it — a header section over 80 KB (431), bytes a
/// header may not hold or a malformed request line (400) — in the service's own error shape, where Vapor's
/// server closes the connection without a word.
///
/// Bodies are collected here (Vapor's own server streams them into the route); each route's limit is then
/// checked by ``BodyLimitMiddleware`` inside the service's error handling, so a too-large body is a 413 in the
/// interface's shape as before. A body over `maxBodySize` is not kept at all.
package final class GuardedHTTPServer: Server, Sendable {
    /// What a request refused before routing is told: status and a reason, shaped by the service.
    package typealias Refusal =
        @Sendable (_ status: HTTPResponseStatus, _ reason: String) -> (
            contentType: String, body: String
        )

    private struct State {
        var serverChannel: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var quiescing = false
        /// Made when the server starts: a promise nobody completes would trap when freed.
        var shutdown: EventLoopPromise<Void>?
    }

    private let application: Application
    private let refusal: Refusal
    private let maxBodySize: Int
    private let state = NIOLockedValueBox(State())

    package init(application: Application, maxBodySize: Int = 4 << 20, refusal: @escaping Refusal) {
        self.application = application
        self.refusal = refusal
        self.maxBodySize = maxBodySize
    }

    package var onShutdown: EventLoopFuture<Void> {
        state.withLockedValue { $0.shutdown?.futureResult }
            ?? application.eventLoopGroup.any().makeSucceededVoidFuture()
    }

    /// The address the server listens on (port 0 binds a free port).
    package var localAddress: SocketAddress? { state.withLockedValue { $0.serverChannel?.localAddress } }

    @available(*, noasync)
    package func start(address: BindAddress?) throws {
        try bootstrap(address: address).wait()
    }

    package func start(address: BindAddress?) async throws {
        try await bootstrap(address: address).get()
    }

    private func bootstrap(address: BindAddress?) -> EventLoopFuture<Void> {
        let configuration = application.http.server.configuration
        let sslContext: NIOSSLContext?
        do {
            // HTTP/1.1 only: ALPN must not offer h2 (Vapor's server did, with TLS).
            sslContext = try configuration.tlsConfiguration.map { configuration in
                var tls = configuration
                tls.applicationProtocols = ["http/1.1"]
                return try NIOSSLContext(configuration: tls)
            }
        } catch {
            return application.eventLoopGroup.any().makeFailedFuture(error)
        }
        let application = self.application
        let refusal = self.refusal
        let maxBodySize = self.maxBodySize
        // Built once: each `responder.current` builds a new router over every route.
        let responder = application.responder.current
        let bootstrap = ServerBootstrap(group: application.eventLoopGroup)
            .serverChannelOption(.backlog, value: Int32(configuration.backlog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: configuration.reuseAddress ? 1 : 0)
            .childChannelInitializer { [weak self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let sslContext { try pipeline.addHandler(NIOSSLServerHandler(context: sslContext)) }
                    try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: false)
                    try pipeline.addHandler(ParserRefusalHandler(refusal: refusal))
                    try pipeline.addHandler(
                        VaporRequestHandler(
                            application: application, responder: responder, maxBodySize: maxBodySize, server: self))
                    self?.track(channel)
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: configuration.tcpNoDelay ? 1 : 0)
            .childChannelOption(.socketOption(.so_reuseaddr), value: configuration.reuseAddress ? 1 : 0)
        let bound: EventLoopFuture<any Channel>
        switch address {
        case .unixDomainSocket(let path):
            bound = bootstrap.bind(unixDomainSocketPath: path)
        case .hostname(let hostname, let port):
            bound = bootstrap.bind(host: hostname ?? configuration.hostname, port: port ?? configuration.port)
        case nil:
            bound = bootstrap.bind(host: configuration.hostname, port: configuration.port)
        }
        return bound.map { [self] channel in
            let promise = channel.eventLoop.makePromise(of: Void.self)
            state.withLockedValue {
                $0.serverChannel = channel
                $0.shutdown = promise
            }
            application.logger.notice("Server started on \(channel.localAddress.map { "\($0)" } ?? "?")")
        }
    }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLockedValue { $0.connections[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.state.withLockedValue { _ = $0.connections.removeValue(forKey: id) }
        }
    }

    /// True once shutdown began: responses end their connections.
    var isQuiescing: Bool { state.withLockedValue { $0.quiescing } }

    @available(*, noasync)
    package func shutdown() {
        try? closeAll().wait()
    }

    package func shutdown() async {
        try? await closeAll().get()
    }

    /// Stops accepting connections and closes the open ones; a connection answering a request closes once its
    /// response is written.
    private func closeAll() -> EventLoopFuture<Void> {
        let (server, connections, promise) = state.withLockedValue { state in
            state.quiescing = true
            let taken = (state.serverChannel, Array(state.connections.values), state.shutdown)
            state.serverChannel = nil
            return taken
        }
        guard let server, let promise else { return onShutdown }
        for connection in connections {
            connection.pipeline.fireUserInboundEventTriggered(ConnectionShouldClose())
        }
        server.close(promise: nil)
        server.closeFuture.whenComplete { _ in promise.succeed() }
        return promise.futureResult
    }

    /// Asks a connection to close once it is idle.
    struct ConnectionShouldClose {}
}

extension Application {
    private struct GuardedServerKey: StorageKey {
        typealias Value = GuardedHTTPServer
    }

    /// Serves this app with ``GuardedHTTPServer``; `refusal` shapes what requests refused before routing are told.
    package func useGuardedServer(refusal: @escaping GuardedHTTPServer.Refusal) {
        let server = GuardedHTTPServer(application: self, refusal: refusal)
        storage[GuardedServerKey.self] = server
        servers.use { app in app.storage[GuardedServerKey.self] ?? server }
    }

    /// The guarded server, when this app uses one.
    package var guardedServer: GuardedHTTPServer? { storage[GuardedServerKey.self] }
}

/// Answers a request NIO's parser refused, then lets the connection close (the parser's state is lost).
private final class ParserRefusalHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let refusal: GuardedHTTPServer.Refusal
    private var hasUnterminatedResponse = false

    init(refusal: @escaping GuardedHTTPServer.Refusal) {
        self.refusal = refusal
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if !hasUnterminatedResponse {
            let (status, reason) = Self.describe(parserError)
            let (contentType, text) = refusal(status, reason)
            var body = context.channel.allocator.buffer(capacity: text.utf8.count)
            body.writeString(text)
            let headers = HTTPHeaders([
                ("Content-Type", contentType), ("Content-Length", String(body.readableBytes)), ("Connection", "close"),
            ])
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
                promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.close(promise: nil)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code < 200:
            break
        case .head:
            hasUnterminatedResponse = true
        case .body:
            break
        case .end:
            hasUnterminatedResponse = false
        }
        context.write(data, promise: promise)
    }

    static func describe(_ error: HTTPParserError) -> (HTTPResponseStatus, String) {
        switch error {
        case .headerOverflow:
            (.requestHeaderFieldsTooLarge, "The request's headers (or its URL) are larger than 80 KB.")
        case .invalidHeaderToken, .invalidConstant, .lfExpected, .invalidCharactersUsed:
            (.badRequest, "A header holds bytes that are not allowed there.")
        case .invalidURL, .invalidPath, .invalidQueryString, .invalidFragment:
            (.badRequest, "The request URL is malformed.")
        case .invalidMethod:
            (.notImplemented, "The request method is not recognized.")
        case .invalidContentLength, .unexpectedContentLength:
            (.badRequest, "The Content-Length header is malformed.")
        default:
            (.badRequest, "The request is not valid HTTP/1.1.")
        }
    }
}

/// Collects a request (head and body), hands it to the app's responder and writes the response.
private final class VaporRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let application: Application
    private let responder: any Responder
    private let maxBodySize: Int
    private weak var server: GuardedHTTPServer?
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var bodyBytes = 0
    private var inFlight = false
    private var closeWhenIdle = false

    init(application: Application, responder: any Responder, maxBodySize: Int, server: GuardedHTTPServer?) {
        self.application = application
        self.responder = responder
        self.maxBodySize = maxBodySize
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = nil
            bodyBytes = 0
            // A client that asks first (curl does for bodies over 1 KB) gets its go-ahead at once instead of
            // waiting a second; a body announced too large is refused when it has arrived, in the route's shape.
            if head.headers.first(name: .expect)?.lowercased() == "100-continue",
                (head.headers.first(name: .contentLength).flatMap { Int($0) } ?? 0) <= maxBodySize
            {
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
        case .body(var chunk):
            // Counted even once dropped, so the limit check sees the real size.
            bodyBytes = InputNumber.saturatingSum(bodyBytes, chunk.readableBytes)
            guard bodyBytes <= maxBodySize else {
                body = nil
                return
            }
            if body == nil {
                body = chunk
            } else {
                body?.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, body: body, bodyBytes: bodyBytes, context: context)
            body = nil
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is GuardedHTTPServer.ConnectionShouldClose {
            closeWhenIdle = true
            if !inFlight { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !(error is HTTPParserError), !(error is NIOSSLError) {
            application.logger.debug("Connection error", metadata: ["error": "\(String(reflecting: error))"])
        }
        context.close(promise: nil)
    }

    private func respond(to head: HTTPRequestHead, body: ByteBuffer?, bodyBytes: Int, context: ChannelHandlerContext) {
        let request = Request(
            application: application, method: head.method, url: URI(string: head.uri), version: head.version,
            headersNoUpdate: head.headers, collectedBody: body,
            remoteAddress: context.channel.remoteAddress, logger: application.logger,
            byteBufferAllocator: context.channel.allocator, on: context.eventLoop)
        request.receivedBodyBytes = bodyBytes
        let keepAlive = head.isKeepAlive
        let isHead = head.method == .HEAD
        inFlight = true
        let bound = NIOLoopBound((context, self), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        responder.respond(to: request)
            .hop(to: eventLoop)
            .flatMap { response in response.body.collect(on: eventLoop).map { (response, $0) } }
            .whenComplete { result in
                let (context, handler) = bound.value
                switch result {
                case .success(let (response, buffer)):
                    handler.write(response, body: buffer, keepAlive: keepAlive, isHead: isHead, context: context)
                case .failure(let error):
                    handler.application.logger.error(
                        "Request failed outside the service's error handling",
                        metadata: ["error": "\(String(reflecting: error))"])
                    handler.write(
                        Response(status: .internalServerError), body: nil, keepAlive: false, isHead: isHead,
                        context: context)
                }
            }
    }

    private func write(
        _ response: Response, body: ByteBuffer?, keepAlive: Bool, isHead: Bool, context: ChannelHandlerContext
    ) {
        let staysOpen = keepAlive && !closeWhenIdle && !(server?.isQuiescing ?? true)
        var headers = response.headers
        headers.remove(name: .transferEncoding)
        let noBody =
            response.status == .noContent || response.status == .notModified
            || response.status.code < 200
        if noBody {
            headers.remove(name: .contentLength)
        } else {
            headers.replaceOrAdd(name: .contentLength, value: String(body?.readableBytes ?? 0))
        }
        headers.replaceOrAdd(name: .connection, value: staysOpen ? "keep-alive" : "close")
        headers.replaceOrAdd(name: .date, value: HTTPDate.now())
        context.write(
            wrapOutboundOut(
                .head(HTTPResponseHead(version: response.version, status: response.status, headers: headers))),
            promise: nil)
        if !isHead, !noBody, let body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        inFlight = false
        if !staysOpen {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            done.whenComplete { _ in bound.value.close(promise: nil) }
        }
    }
}

/// `Date` header values (RFC 9110 IMF-fixdate), formatted once per second.
private enum HTTPDate {
    private static let cache = NIOLockedValueBox<(second: Int, text: String)>((0, ""))

    static func now() -> String {
        let seconds = Int(Date().timeIntervalSince1970)
        if let cached = cache.withLockedValue({ $0.second == seconds ? $0.text : nil }) { return cached }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let text = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        cache.withLockedValue { $0 = (seconds, text) }
        return text
    }
}
