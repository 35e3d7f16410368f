package io.umhflux;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandle;
import io.umhflux.codec.Codec;
import io.umhflux.codec.Codecs;
import io.umhflux.codec.Framing;
import io.umhflux.internal.handle.HelperConfig;
import io.umhflux.internal.handle.HelperHandle;
import io.umhflux.internal.handle.HelperStarter;
import io.umhflux.internal.handle.HelperStarter.Use;
import io.umhflux.internal.pipe.FrameDecoder;
import io.umhflux.internal.pipe.FrameEncoder;
import io.umhflux.internal.pipe.FramedCodec;
import io.umhflux.internal.supervise.PooledClient;
import io.umhflux.internal.supervise.RequestPipeline;
import io.umhflux.internal.supervise.SupervisedClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * How to run a helper: arguments, environment, working directory, event loops and limits. Immutable: every
 * setter returns a new spec, so one spec can be shared and specialized freely.
 *
 * <pre>{@code
 * UmhSpec<ByteBuf, ByteBuf> spec = UmhFlux.spec(blob)
 *         .args("-n")
 *         .environment(Environment.allow("PATH", "LANG"))
 *         .stopGrace(Duration.ofMillis(500));
 * Umh<ByteBuf, ByteBuf> umh = spec.spawn();
 * }</pre>
 *
 * @param <I> messages read from the helper's stdout
 * @param <O> messages written to the helper's stdin
 */
public final class UmhSpec<I, O> {
    /** The most stderr lines an exit status carries (each up to the maximum line length). */
    private static final int MAX_TAIL_LINES = 10_000;
    private final HelperConfig<I, O> config;

    private UmhSpec(HelperConfig<I, O> config) {
        this.config = config;
    }

    static <I, O> UmhSpec<I, O> of(Blob blob, Supplier<? extends FrameDecoder<I>> decoder,
            Supplier<? extends FrameEncoder<O>> encoder, boolean raw) {
        return new UmhSpec<>(HelperConfig.defaults(blob, decoder, encoder, raw));
    }

    /** The one way a setter derives its new spec: a copy of this one's settings with {@code change} applied. */
    private UmhSpec<I, O> with(Consumer<HelperConfig.Settings<I, O>> change) {
        return new UmhSpec<>(config.with(change));
    }

    /**
     * Typed messages: {@code framing} cuts both pipes into frames, {@code inbound} decodes the helper's stdout
     * frames, {@code outbound} encodes what is sent to its stdin. Each helper gets its own codec instances
     * ({@link Codec#forHelper()}), used on its event loop only. Keeps every other setting.
     *
     * <pre>{@code
     * UmhSpec<Reply, Request> spec = UmhFlux.spec(blob)
     *         .codec(Framing.lengthPrefixed(1 << 20), replyCodec, requestCodec);
     * }</pre>
     */
    public <I2, O2> UmhSpec<I2, O2> codec(Framing framing, Codec<I2> inbound, Codec<O2> outbound) {
        Objects.requireNonNull(framing, "framing");
        Objects.requireNonNull(inbound, "inbound");
        Objects.requireNonNull(outbound, "outbound");
        return new UmhSpec<>(config.<I2, O2>withCodecs(() -> FramedCodec.decoder(framing, inbound),
                () -> FramedCodec.encoder(framing, outbound)));
    }

    /**
     * UTF-8 lines both ways, for helpers in any language that read and print lines: a {@code String} per line
     * (without its line end), strictly decoded; longer lines than {@code maxLineBytes} fail the helper.
     */
    public UmhSpec<String, String> lines(int maxLineBytes) {
        return codec(Framing.lines(maxLineBytes), Codecs.utf8(), Codecs.utf8());
    }

    /** @param args the arguments after argv[0]; replaces any set before */
    public UmhSpec<I, O> args(String... args) {
        return args(List.of(args));
    }

    /** @param args the arguments after argv[0]; replaces any set before */
    public UmhSpec<I, O> args(List<String> args) {
        Objects.requireNonNull(args, "args");
        for (int i = 0; i < args.size(); i++) {
            String a = Objects.requireNonNull(args.get(i), "args[" + i + "]");
            if (a.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("argument contains NUL: " + a);
            }
        }
        List<String> copy = List.copyOf(args);
        return with(s -> s.args = copy);
    }

    /**
     * @param argv0 what the helper sees as its own name, argv[0]; default the blob's name
     * @throws IllegalArgumentException if it contains a NUL character, as {@link #args} does
     */
    public UmhSpec<I, O> argv0(String argv0) {
        Objects.requireNonNull(argv0, "argv0");
        if (argv0.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("argv0 contains NUL (the helper would see it cut there): " + argv0);
        }
        return with(s -> s.argv0 = argv0);
    }

    /** @param environment the helper's environment; default {@link Environment#inherit()} */
    public UmhSpec<I, O> environment(Environment environment) {
        Objects.requireNonNull(environment, "environment");
        return with(s -> s.environment = environment);
    }

    /** @param directory the helper's working directory; default the JVM's */
    public UmhSpec<I, O> workingDirectory(Path directory) {
        Objects.requireNonNull(directory, "directory");
        return with(s -> s.workingDirectory = directory);
    }

    /**
     * The event loops the helper's pipes and exit watch run on; each helper lives on one loop of the group.
     * Default: a shared group of daemon epoll loops, one per core. Any Netty 4.2 group built on
     * {@code EpollIoHandler} works, such as reactor-netty's {@code LoopResources} with native epoll, so an
     * HTTP server and its helpers share threads.
     *
     * @throws IllegalArgumentException if the group's loops cannot take epoll handles
     */
    public UmhSpec<I, O> eventLoopGroup(IoEventLoopGroup group) {
        Objects.requireNonNull(group, "group");
        if (!group.isCompatible(EpollIoHandle.class)) {
            throw new IllegalArgumentException("the event loop group must run Netty's EpollIoHandler: " + group);
        }
        return with(s -> s.eventLoopGroup = group);
    }

    /**
     * The size of the helper's pipes. By default, a helper from {@link #spawn()}, {@link #using} or
     * {@link #exchange(Publisher)} gets stdin and stdout pipes of 1 MiB ({@code pipe-max-size} if lower; stderr
     * keeps the kernel's 64 KiB) while at most four helpers of this JVM hold such pipes; later ones get the
     * kernel's default until earlier ones are done (exited, and both pipes closed here: a slow subscriber keeps
     * stdout open), and so does a helper whose pipes the kernel refuses to enlarge.
     * Request/response clients ({@link #connect()}, {@link #supervise}, {@link #pool}) keep the kernel's
     * default. Larger pipes mean fewer wake-ups of both processes and more bytes per system call. The limit exists
     * because Linux counts every pipe's capacity against the user's {@code pipe-user-pages-soft} (64 MiB by default),
     * past which all new pipes of that user, in any program, get two pages; the default takes at most an eighth of it.
     *
     * @param bytes the size of all three pipes ({@code F_SETPIPE_SZ}; a refusal fails the spawn), or 0 for
     *     the kernel's default (64 KiB on Linux) and no enlarging. Unprivileged users are limited by
     *     {@code /proc/sys/fs/pipe-max-size} and {@code pipe-user-pages-soft}.
     */
    public UmhSpec<I, O> pipeSize(int bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("pipe size must be >= 0: " + bytes);
        }
        return with(s -> s.pipeSize = bytes);
    }

    /**
     * Whether what the helper leaves in its process group dies with it. By default ({@code true}), when the helper
     * exits — by itself, by a crash or by a stop — every process still in its group (a daemon it started, a
     * pipeline stage it forgot) gets SIGKILL just before the helper is reaped, as systemd's process-group kill mode
     * does for a unit: race-free, since the group's number cannot be reused while the helper is unreaped.
     *
     * <p>{@code false} is for helpers that start long-lived daemons on purpose: they outlive the helper. Once the
     * helper is reaped, {@link Umh#stop()} and {@link Umh#dispose()} only report its exit and signal nothing (its
     * pid and group number may belong to someone else by then); what it left running is the caller's to end.
     *
     * <p>Either way a process that left the group ({@code setsid()}, or {@code setpgid()} into another group) is
     * not reached: a process group is not a cgroup. To contain such helpers, run them in a cgroup of their own
     * (systemd-run {@code --scope}, a container) or have them keep their children in their group.
     */
    public UmhSpec<I, O> killGroupAtExit(boolean kill) {
        return with(s -> s.killGroupAtExit = kill);
    }

    /**
     * @param grace between stdin close, SIGTERM and SIGKILL when stopping; default 1 s (like every duration of
     *     the spec, one longer than about 292 years, such as {@code ChronoUnit.FOREVER}'s, is taken as that)
     */
    public UmhSpec<I, O> stopGrace(Duration grace) {
        requirePositive(grace, "grace");
        Duration capped = capped(grace);
        return with(s -> s.stopGrace = capped);
    }

    /**
     * @param timeout how long stdout and stderr may stay open after the helper exited (a process it started
     *     may hold them) before the inbound ends with an error that says so; and how long messages taken before a
     *     publisher's error may wait for the helper to read them before the send fails without them, and how
     *     long a send that hit EPIPE waits for the helper's exit status; default 2 s
     */
    public UmhSpec<I, O> drainTimeout(Duration timeout) {
        requirePositive(timeout, "timeout");
        Duration capped = capped(timeout);
        return with(s -> s.drainTimeout = capped);
    }

    /** @param lines how many last stderr lines an {@link ExitStatus} carries, 0 to 10,000; default 20 */
    public UmhSpec<I, O> stderrTailLines(int lines) {
        if (lines < 0 || lines > MAX_TAIL_LINES) {
            throw new IllegalArgumentException("lines must be 0 to " + MAX_TAIL_LINES + ": " + lines);
        }
        return with(s -> s.tailLines = lines);
    }

    /**
     * @param bytes outbound bytes that may wait for the helper before the publisher is asked for no more;
     *     default 256 KiB. This, plus one request batch, bounds the memory a slow helper can cost.
     */
    public UmhSpec<I, O> highWaterMark(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("high-water mark must be positive: " + bytes);
        }
        return with(s -> s.highWaterMark = bytes);
    }

    /** @param bytes the most one read from stdout takes; default 64 KiB */
    public UmhSpec<I, O> readSize(int bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("read size must be positive: " + bytes);
        }
        return with(s -> s.readSize = bytes);
    }

    /**
     * @param bytes the most one write to stdin takes, or 0 (the default) for as much as the pipe takes (typed
     *     messages: one 64 KiB batch a write; raw buffers: as many as the pipe takes, in one {@code writev}). Writes
     *     of one page (4096) let the helper start on the first page while the rest is still being written: more
     *     throughput for a stream on spare cores, for more CPU in this JVM (a system call per page); not worth it
     *     for many helpers or small messages, where CPU is scarce. With it, the helper's stdout is read on another
     *     loop of the group, as typed messages are.
     */
    public UmhSpec<I, O> writeSize(int bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("write size must be 0 (no limit) or positive: " + bytes);
        }
        return with(s -> s.writeSize = bytes);
    }

    /** @param allocator where pipe buffers come from; default Netty's default allocator (pooling) */
    public UmhSpec<I, O> allocator(ByteBufAllocator allocator) {
        Objects.requireNonNull(allocator, "allocator");
        return with(s -> s.allocator = allocator);
    }

    /**
     * Confines each helper of this spec: what it may read and write, no network unless allowed, refused system
     * calls, and resource limits, applied by a small launcher between the spawn and the helper's first
     * instruction (see {@link Sandbox}).
     *
     * <pre>{@code
     * UmhSpec<ByteBuf, ByteBuf> convert = UmhFlux.spec(blob)
     *         .sandbox(Sandbox.confined().readOnly(Path.of("/usr/lib")).addressSpace(512L << 20));
     * }</pre>
     *
     * @param sandbox the policy; {@code null} for none (the default)
     */
    public UmhSpec<I, O> sandbox(@Nullable Sandbox sandbox) {
        List<String> options = sandbox == null ? null : sandbox.options();
        boolean bestEffort = sandbox != null && sandbox.isBestEffort();
        return with(s -> {
            s.sandboxOptions = options;
            s.sandboxBestEffort = bestEffort;
        });
    }

    /** @param metrics hooks told of spawns, exits, restarts, requests and bytes; default none */
    public UmhSpec<I, O> metrics(UmhMetrics metrics) {
        Objects.requireNonNull(metrics, "metrics");
        return with(s -> s.metrics = metrics);
    }

    /**
     * @param requests how many requests a {@linkplain #connect() client} of one helper writes before the first
     *     answer arrives (pipelining); the rest wait in order. Default 1. A {@linkplain #pool pool} gives each
     *     helper one request at a time.
     */
    public UmhSpec<I, O> maxInFlight(int requests) {
        if (requests < 1) {
            throw new IllegalArgumentException("max in flight must be at least 1: " + requests);
        }
        return with(s -> s.maxInFlight = requests);
    }

    /** @param timeout how long a client's request may wait for its answer; default no limit */
    public UmhSpec<I, O> requestTimeout(Duration timeout) {
        requirePositive(timeout, "timeout");
        Duration capped = capped(timeout);
        return with(s -> s.requestTimeout = capped);
    }

    /** The longest wait a timer can take, about 292 years: longer ones (such as {@code FOREVER}) mean no limit. */
    private static final Duration LONGEST = Duration.ofNanos(Long.MAX_VALUE);

    private static Duration capped(Duration d) {
        return d.compareTo(LONGEST) > 0 ? LONGEST : d;
    }

    private static void requirePositive(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive: " + d);
        }
    }

    /**
     * Spawns the helper now, on the calling thread ({@code posix_spawn} takes well under a millisecond).
     *
     * @throws SpawnException when the kernel refuses to start it (nothing is left behind)
     * @throws IllegalStateException when the blob was closed
     */
    public Umh<I, O> spawn() {
        return start(Use.STREAM, Context.empty());
    }

    private HelperHandle<I, O> start(Use use, ContextView context) {
        return HelperStarter.start(config, use, config.environment().toEnvp(context));
    }

    /**
     * Cold: every subscription spawns a fresh helper, runs {@code body} on it, and stops the helper when the
     * body's publisher terminates or is cancelled. {@code retryWhen(...)} on the result therefore restarts a
     * crashed helper.
     */
    public <T> Flux<T> using(Function<? super Umh<I, O>, ? extends Publisher<T>> body) {
        Objects.requireNonNull(body, "body");
        return using(Use.STREAM, body);
    }

    private <T> Flux<T> using(Use use, Function<? super HelperHandle<I, O>, ? extends Publisher<T>> body) {
        // a cancel that comes while the spawn runs (a dispose during a restart) gets the new helper discarded
        Mono<HelperHandle<I, O>> spawned = Mono.deferContextual(
                c -> Mono.fromCallable(() -> start(use, c)))
                .doOnDiscard(Disposable.class, Disposable::dispose);
        return Flux.usingWhen(spawned, body,
                umh -> umh.stop().then(), (umh, error) -> umh.stop().then(), umh -> umh.stop().then());
    }

    /**
     * Cold: every subscription spawns a fresh helper, sends it {@code messages} and emits what it writes.
     * Errors if the helper fails, or if the send failed (the publisher's error, or the helper closed its stdin
     * before it had everything) even when the helper then exited 0; cancelling stops it. The helper's output
     * goes straight to the subscriber, so raw {@code ByteBuf}s are released after {@code onNext} as with
     * {@link Umh#inbound()}.
     */
    public Flux<I> exchange(Publisher<? extends O> messages) {
        Objects.requireNonNull(messages, "messages");
        return using(umh -> {
            // no merge: its queue would hold buffers that the inbound releases once onNext returns. The send's
            // own outcome is waited for after the output ended (it may be settled only then).
            AtomicReference<Throwable> publisherError = new AtomicReference<>();
            Mono<Void> sent = umh.outbound().send(messages)
                    .doOnError(e -> {
                        if (!(e instanceof HelperFailedException)) {
                            publisherError.set(e);
                            umh.dispose(); // the publisher failed: the helper gets no more input
                        }
                    })
                    .cache();
            return umh.inbound()
                    .doOnSubscribe(s -> sent.subscribe(null, e -> { }))
                    .onErrorMap(e -> publisherError.get() != null ? publisherError.get() : e)
                    .concatWith(sent.then(Mono.empty()));
        });
    }

    /**
     * Spawns one helper now and serves requests over it ({@link UmhClient}): each request one message to its
     * stdin, each response the next message from its stdout. When the helper ends, the client is done:
     * requests fail with the helper's end. See {@link #supervise(Restart)} for one that starts it again.
     *
     * @throws SpawnException when the kernel refuses to start it
     */
    public UmhClient<I, O> connect() {
        return RequestPipeline.start(start(Use.REQUESTS, Context.empty()),
                config.maxInFlight(), config.requestTimeout(), config.metrics());
    }

    /**
     * Serves requests over one helper that is started again whenever it ends (crash, OOM kill, an
     * administrator's kill, or an exit nobody asked for), after the {@code policy}'s backoff, until its budget
     * is spent. Requests made while a new helper is on its way wait for it; those in flight on the helper that
     * ended fail with its {@link ExitStatus}. Built on {@link #using} and Reactor's {@code retryWhen}. The first
     * helper starts now.
     */
    public UmhClient<I, O> supervise(Restart policy) {
        Objects.requireNonNull(policy, "policy");
        return new SupervisedClient<>(config.blob().name(), body -> using(Use.REQUESTS, body), policy,
                config.maxInFlight(),
                config.requestTimeout(), config.metrics());
    }

    /**
     * A pool of helpers on reactor-pool, started lazily as requests come, each serving one request at a
     * time; see {@link PoolSpec} for eviction, idle timeout, dispatch and retries.
     */
    public UmhClient<I, O> pool(PoolSpec pool) {
        Objects.requireNonNull(pool, "pool");
        return new PooledClient<>(config.blob().name(),
                () -> start(Use.REQUESTS, Context.empty()), pool, config.requestTimeout(),
                config.metrics());
    }

    @Override
    public String toString() {
        return "UmhSpec{" + config.blob().name() + " " + config.args() + ", env " + config.environment() + "}";
    }
}
