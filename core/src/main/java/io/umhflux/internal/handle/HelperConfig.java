package io.umhflux.internal.handle;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEventLoopGroup;
import io.umhflux.Blob;
import io.umhflux.Environment;
import io.umhflux.UmhMetrics;
import io.umhflux.internal.loop.EventLoops;
import io.umhflux.internal.pipe.FrameDecoder;
import io.umhflux.internal.pipe.FrameEncoder;
import io.umhflux.internal.spawn.PipeBudget;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Everything a {@link io.umhflux.UmhSpec} says about its helpers, immutable: {@link #defaults} makes the first one
 * from named defaults, and {@link #with} is the one way to derive a changed copy. The decoder and encoder are made
 * per helper (a codec may hold state, such as a Kryo instance, that must not be shared across helpers or threads).
 *
 * @param <I> messages read from the helper's stdout
 * @param <O> messages written to the helper's stdin
 */
public final class HelperConfig<I, O> {
    /** Between stdin close, SIGTERM and SIGKILL when stopping. */
    public static final Duration STOP_GRACE = Duration.ofSeconds(1);
    /** How long stdout and stderr may stay open after the helper exited, and what was taken may wait to be read. */
    public static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(2);
    /** How many last stderr lines an exit status carries. */
    public static final int STDERR_TAIL_LINES = 20;
    /** Longer stderr lines are cut. */
    public static final int MAX_STDERR_LINE = 8192;
    /** Outbound bytes that may wait for the helper before the publisher is asked for no more. */
    public static final long HIGH_WATER_MARK = 256 * 1024;
    /** The most one read from stdout takes. */
    public static final int READ_SIZE = 64 * 1024;
    /** The most one write to stdin takes: 0, as much as the pipe takes. */
    public static final int WRITE_SIZE = 0;
    /** Requests a client writes ahead of their answers. */
    public static final int MAX_IN_FLIGHT = 1;

    private final Settings<I, O> s;

    private HelperConfig(Settings<I, O> settings) {
        this.s = settings;
    }

    /**
     * The defaults for {@code blob}: argv[0] the blob's name, no arguments, the JVM's environment and working
     * directory, the shared event loops, pipes sized by the {@link PipeBudget}, the constants above, the default
     * allocator, no metrics, no request timeout, the process group killed at exit, no sandbox.
     *
     * @param raw whether the messages are the raw bytes as read (nothing to decode)
     */
    public static <I, O> HelperConfig<I, O> defaults(Blob blob, Supplier<? extends FrameDecoder<I>> decoder,
            Supplier<? extends FrameEncoder<O>> encoder, boolean raw) {
        Settings<I, O> s = new Settings<>();
        s.blob = blob;
        s.argv0 = blob.name();
        s.args = List.of();
        s.environment = Environment.inherit();
        s.eventLoopGroup = EventLoops.shared();
        s.pipeSize = PipeBudget.AUTO;
        s.decoder = decoder;
        s.encoder = encoder;
        s.raw = raw;
        s.allocator = ByteBufAllocator.DEFAULT;
        s.stopGrace = STOP_GRACE;
        s.drainTimeout = DRAIN_TIMEOUT;
        s.tailLines = STDERR_TAIL_LINES;
        s.maxStderrLine = MAX_STDERR_LINE;
        s.highWaterMark = HIGH_WATER_MARK;
        s.readSize = READ_SIZE;
        s.writeSize = WRITE_SIZE;
        s.metrics = UmhMetrics.none();
        s.maxInFlight = MAX_IN_FLIGHT;
        s.killGroupAtExit = true;
        return new HelperConfig<>(s);
    }

    /** A copy with what {@code change} sets on a copy of the settings: {@code config.with(s -> s.stopGrace = g)}. */
    public HelperConfig<I, O> with(Consumer<Settings<I, O>> change) {
        Settings<I, O> copy = s.copy();
        change.accept(copy);
        return new HelperConfig<>(copy);
    }

    /** The same settings with other codecs (and message types), for messages that are decoded ({@code raw} false). */
    @SuppressWarnings("unchecked")
    public <I2, O2> HelperConfig<I2, O2> withCodecs(Supplier<? extends FrameDecoder<I2>> decoder,
            Supplier<? extends FrameEncoder<O2>> encoder) {
        Settings<I2, O2> copy = (Settings<I2, O2>) (Settings<?, ?>) s.copy();
        copy.decoder = decoder;
        copy.encoder = encoder;
        copy.raw = false;
        return new HelperConfig<>(copy);
    }

    public Blob blob() {
        return s.blob;
    }

    public String argv0() {
        return s.argv0;
    }

    public List<String> args() {
        return s.args;
    }

    public Environment environment() {
        return s.environment;
    }

    public @Nullable Path workingDirectory() {
        return s.workingDirectory;
    }

    public IoEventLoopGroup eventLoopGroup() {
        return s.eventLoopGroup;
    }

    /** The size of the helper's pipes in bytes, 0 for the kernel's, or {@link PipeBudget#AUTO}. */
    public int pipeSize() {
        return s.pipeSize;
    }

    /** The sandbox launcher's options ({@code io.umhflux.Sandbox}'s), or null for no sandbox. */
    public @Nullable List<String> sandboxOptions() {
        return s.sandboxOptions;
    }

    /** Whether the sandbox may leave out what the kernel cannot do, with a warning on the helper's stderr. */
    public boolean sandboxBestEffort() {
        return s.sandboxBestEffort;
    }

    public Supplier<? extends FrameDecoder<I>> decoder() {
        return s.decoder;
    }

    public Supplier<? extends FrameEncoder<O>> encoder() {
        return s.encoder;
    }

    /** Whether the messages are the raw bytes as read (nothing to decode). */
    public boolean raw() {
        return s.raw;
    }

    public ByteBufAllocator allocator() {
        return s.allocator;
    }

    public Duration stopGrace() {
        return s.stopGrace;
    }

    public Duration drainTimeout() {
        return s.drainTimeout;
    }

    public int tailLines() {
        return s.tailLines;
    }

    public int maxStderrLine() {
        return s.maxStderrLine;
    }

    public long highWaterMark() {
        return s.highWaterMark;
    }

    public int readSize() {
        return s.readSize;
    }

    public int writeSize() {
        return s.writeSize;
    }

    public UmhMetrics metrics() {
        return s.metrics;
    }

    public int maxInFlight() {
        return s.maxInFlight;
    }

    /** How long a client's request may wait for its answer, or null for ever. */
    public @Nullable Duration requestTimeout() {
        return s.requestTimeout;
    }

    public boolean killGroupAtExit() {
        return s.killGroupAtExit;
    }

    /**
     * The settings, as fields to set in {@link #with}; a copy is made for each change, and none is visible once
     * its config exists.
     */
    public static final class Settings<I, O> {
        public Blob blob;
        public String argv0;
        public List<String> args;
        public Environment environment;
        public @Nullable Path workingDirectory;
        public IoEventLoopGroup eventLoopGroup;
        public int pipeSize;
        public @Nullable List<String> sandboxOptions;
        public boolean sandboxBestEffort;
        public Supplier<? extends FrameDecoder<I>> decoder;
        public Supplier<? extends FrameEncoder<O>> encoder;
        public boolean raw;
        public ByteBufAllocator allocator;
        public Duration stopGrace;
        public Duration drainTimeout;
        public int tailLines;
        public int maxStderrLine;
        public long highWaterMark;
        public int readSize;
        public int writeSize;
        public UmhMetrics metrics;
        public int maxInFlight;
        public @Nullable Duration requestTimeout;
        public boolean killGroupAtExit;

        private Settings() {
        }

        private Settings<I, O> copy() {
            Settings<I, O> c = new Settings<>();
            c.blob = blob;
            c.argv0 = argv0;
            c.args = args;
            c.environment = environment;
            c.workingDirectory = workingDirectory;
            c.eventLoopGroup = eventLoopGroup;
            c.pipeSize = pipeSize;
            c.sandboxOptions = sandboxOptions;
            c.sandboxBestEffort = sandboxBestEffort;
            c.decoder = decoder;
            c.encoder = encoder;
            c.raw = raw;
            c.allocator = allocator;
            c.stopGrace = stopGrace;
            c.drainTimeout = drainTimeout;
            c.tailLines = tailLines;
            c.maxStderrLine = maxStderrLine;
            c.highWaterMark = highWaterMark;
            c.readSize = readSize;
            c.writeSize = writeSize;
            c.metrics = metrics;
            c.maxInFlight = maxInFlight;
            c.requestTimeout = requestTimeout;
            c.killGroupAtExit = killGroupAtExit;
            return c;
        }
    }
}
