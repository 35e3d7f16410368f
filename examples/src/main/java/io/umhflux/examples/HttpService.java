package io.umhflux.examples;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.umhflux.Blob;
import io.umhflux.Environment;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import io.umhflux.micrometer.MicrometerMetrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.NettyPipeline;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.resources.LoopResources;

/**
 * A reactor-netty HTTP service that streams each request body through a helper process and the helper's
 * output back as the response body: {@code POST /upper} runs {@code tr a-z A-Z} (from its own bytes, loaded
 * once) per request.
 *
 * <pre>{@code
 * curl --data-binary @notes.txt http://127.0.0.1:8080/upper
 * curl http://127.0.0.1:8080/metrics
 * }</pre>
 *
 * <p>Backpressure goes end to end, with no buffer that grows with the body: the request body is read from
 * the socket only as fast as the helper reads its stdin, and the helper's stdout only as fast as the
 * response is written to the client, so a client that stops reading stops the helper (blocked in
 * {@code write}) and then the upload. What one stalled connection holds in this JVM is bounded by
 * reactor-netty's send queue (256 writes, each one read of at most {@value #READ_SIZE} bytes from the
 * helper) and the helper's stdin high-water mark; the rest waits in the kernel's pipe and socket buffers.
 *
 * <p>A client that disconnects cancels the response, and cancelling the helper's stdout stops the helper
 * (stdin closed, then SIGTERM and SIGKILL after the stop grace). A helper that fails ends the response
 * early: the connection is closed, so the client sees a truncated body instead of a complete one.
 *
 * <p>The helpers report to a Micrometer registry through {@link MicrometerMetrics} (the
 * {@code umh-flux-micrometer} artifact): {@code GET /metrics} lists its meters, one per line.
 *
 * <p>Threads: the server runs on its own reactor-netty {@link LoopResources} with native epoll, and each
 * helper's pipes are on the event loop of the connection it serves, so a request's bytes stay on one thread
 * from socket to pipe and back.
 *
 * <p>Like any streaming HTTP service, it answers while the request is still arriving: a client must read the
 * response while it uploads (curl and reactor-netty's {@code HttpClient} do), or a large body stalls both.
 */
public final class HttpService implements AutoCloseable {
    /** The most bytes one read from a helper's stdout takes: one response chunk. */
    public static final int READ_SIZE = 16 * 1024;

    private final Blob tr;
    private final UmhSpec<ByteBuf, ByteBuf> spec;
    private final LoopResources loops;
    private final DisposableServer server;
    private final Map<Long, Umh<ByteBuf, ByteBuf>> live = new ConcurrentHashMap<>();
    private final LongAdder bytesToHelpers = new LongAdder();
    private final LongAdder bytesFromHelpers = new LongAdder();
    private final Consumer<? super Umh<ByteBuf, ByteBuf>> onSpawn;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final MeterRegistry meters = new SimpleMeterRegistry();

    private HttpService(String host, int port, Consumer<? super Umh<ByteBuf, ByteBuf>> onSpawn) {
        this.onSpawn = onSpawn;
        tr = Blob.of(Path.of("/usr/bin/tr"));
        loops = LoopResources.create("umh-http", Math.max(2, Runtime.getRuntime().availableProcessors()), true);
        try {
            spec = UmhFlux.spec(tr)
                    .args("a-z", "A-Z")
                    .environment(Environment.inherit().with("LC_ALL", "C")) // bytes, whatever the JVM's locale
                    .readSize(READ_SIZE)
                    .stopGrace(Duration.ofMillis(500))
                    .metrics(new MicrometerMetrics(meters));
            server = HttpServer.create()
                    .host(host)
                    .port(port)
                    .runOn(loops)
                    // answers "Expect: 100-continue" (curl sends it for large bodies) on arrival: reactor-netty
                    // answers it only when the body is asked for before the response headers are out, and here
                    // the headers go out at once while the helper's stdin asks for the body a moment later
                    .doOnChannelInit((observer, channel, remote) -> {
                        if (channel.pipeline().get(NettyPipeline.HttpCodec) != null) {
                            channel.pipeline().addAfter(NettyPipeline.HttpCodec, "expect-continue",
                                    new HttpServerExpectContinueHandler());
                        }
                    })
                    .route(routes -> routes.post("/upper", this::upper)
                            .get("/metrics", (request, response) -> response.sendString(Mono.fromSupplier(
                                    this::metricsText))))
                    .bindNow();
        } catch (RuntimeException e) {
            loops.disposeLater(Duration.ZERO, Duration.ofSeconds(10)).block(Duration.ofSeconds(15));
            tr.close();
            throw e;
        }
    }

    /**
     * Starts the service.
     *
     * @param host the address to listen on, like {@code "127.0.0.1"}
     * @param port the port, or 0 for any free one (see {@link #port()})
     */
    public static HttpService start(String host, int port) {
        return start(host, port, umh -> { });
    }

    /**
     * Starts the service, telling {@code onSpawn} of every helper it spawns, to watch its pid or exit.
     * {@code onSpawn} runs on the event loop of the helper's connection, before the helper gets any input:
     * it must not block.
     */
    public static HttpService start(String host, int port, Consumer<? super Umh<ByteBuf, ByteBuf>> onSpawn) {
        Objects.requireNonNull(onSpawn, "onSpawn");
        return new HttpService(host, port, onSpawn);
    }

    private Publisher<Void> upper(HttpServerRequest request, HttpServerResponse response) {
        return spec.eventLoopGroup(loopOf(request)).using(umh -> {
            track(umh);
            Mono<Void> upload = umh.outbound()
                    .send(request.receive().retain()                     // the helper's stdin now owns each one
                            .doOnNext(b -> bytesToHelpers.add(b.readableBytes())));
            Flux<ByteBuf> download = umh.inbound()
                    .doOnNext(b -> bytesFromHelpers.add(b.readableBytes()))
                    .map(ByteBuf::retain);                               // released after onNext: keep for netty
            return Mono.when(upload, response.header(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream")
                    .send(download));
        });
    }

    /** @return the helpers' meters, {@code name{tag=value,...} measurement=value ...} per line */
    private String metricsText() {
        StringBuilder b = new StringBuilder();
        for (Meter m : meters.getMeters()) {
            b.append(m.getId().getName()).append(m.getId().getTags().stream()
                    .map(t -> t.getKey() + "=" + t.getValue()).collect(Collectors.joining(",", "{", "}")));
            StreamSupport.stream(m.measure().spliterator(), false)
                    .forEach(ms -> b.append(' ').append(ms.getStatistic().getTagValueRepresentation())
                            .append('=').append(ms.getValue()));
            b.append('\n');
        }
        return b.toString();
    }

    /** @return the registry the helpers report to */
    public MeterRegistry meters() {
        return meters;
    }

    /** The connection's own event loop where it can run helpers, else the server's loops. */
    private IoEventLoopGroup loopOf(HttpServerRequest request) {
        AtomicReference<EventLoop> loop = new AtomicReference<>();
        request.withConnection(connection -> loop.set(connection.channel().eventLoop()));
        if (loop.get() instanceof IoEventLoop io && io.isCompatible(EpollIoHandle.class)) {
            return io;
        }
        return (IoEventLoopGroup) loops.onServer(true);
    }

    private void track(Umh<ByteBuf, ByteBuf> umh) {
        long pid = umh.pid();
        live.put(pid, umh);
        umh.exit().subscribe(status -> live.remove(pid));
        onSpawn.accept(umh);
    }

    /** @return the port the service listens on */
    public int port() {
        return server.port();
    }

    /** @return the pids of the helpers running now; a pid leaves once its helper was reaped */
    public Set<Long> livePids() {
        return Set.copyOf(live.keySet());
    }

    /** @return request body bytes handed to helpers so far */
    public long bytesToHelpers() {
        return bytesToHelpers.sum();
    }

    /** @return bytes read from helpers' stdout so far */
    public long bytesFromHelpers() {
        return bytesFromHelpers.sum();
    }

    /** Blocks until the server is stopped (by {@link #close()} from another thread, or the JVM's exit). */
    public void awaitClose() {
        server.onDispose().block();
    }

    /**
     * Stops accepting, closes open connections (which stops their helpers), stops any helper left, waits for
     * them to exit and then frees the event loops and the blob. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            server.disposeNow(Duration.ofSeconds(10));
        } finally {
            try {
                Flux.fromIterable(live.values())
                        .flatMap(Umh::stop)
                        .then()
                        .block(Duration.ofSeconds(10));
            } finally {
                try {
                    loops.disposeLater(Duration.ZERO, Duration.ofSeconds(10)).block(Duration.ofSeconds(15));
                } finally {
                    tr.close(); // whatever timed out above, the blob's memfd is not left open
                }
            }
        }
    }

    /** Serves {@code POST /upper} on 127.0.0.1 until interrupted; {@code --port N} (default 8080). */
    public static void main(String[] args) {
        int port = args.length == 2 && args[0].equals("--port") ? Integer.parseInt(args[1]) : 8080;
        HttpService service = start("127.0.0.1", port);
        Runtime.getRuntime().addShutdownHook(new Thread(service::close, "http-service-stop"));
        System.out.println("listening; try: curl --data-binary @some-file http://127.0.0.1:" + service.port()
                + "/upper");
        service.awaitClose();
    }
}
