package io.umhflux.internal.handle;

import io.netty.buffer.ByteBufAllocator;
import io.umhflux.UmhMetrics;
import io.umhflux.internal.pipe.FrameDecoder;
import io.umhflux.internal.pipe.FrameEncoder;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * What a helper handle needs from the public spec. The decoder and encoder are made per helper (a codec may hold
 * state, such as a Kryo instance, that must not be shared across helpers or threads).
 *
 * @param stopGrace between stdin close, SIGTERM and SIGKILL
 * @param drainTimeout how long after the helper's exit stdout and stderr may stay open
 * @param tailLines stderr lines kept for the exit status
 * @param maxStderrLine longer stderr lines are cut
 * @param highWaterMark outbound bytes buffered before the publisher is asked for no more
 * @param readSize bytes per stdout read
 * @param writeSize the most one stdin {@code writev} takes, or 0 for as much as the pipe takes
 * @param metrics hooks told of spawns, exits and bytes
 * @param maxInFlight requests a client writes ahead of their answers
 * @param requestTimeout how long a client's request may wait for its answer, or null for ever
 * @param killGroupAtExit whether what the helper left in its process group is killed when it exits
 */
public record HandleConfig<I, O>(Supplier<? extends FrameDecoder<I>> decoder,
        Supplier<? extends FrameEncoder<O>> encoder, ByteBufAllocator allocator,
        Duration stopGrace, Duration drainTimeout, int tailLines, int maxStderrLine, long highWaterMark,
        int readSize, int writeSize, UmhMetrics metrics, int maxInFlight, @Nullable Duration requestTimeout,
        boolean killGroupAtExit) {

    /**
     * A copy with what {@code change} sets on a mutable copy of these settings (the codecs stay):
     * {@code config.with(s -> s.stopGrace = grace)}.
     */
    public HandleConfig<I, O> with(Consumer<Settings> change) {
        Settings s = new Settings(this);
        change.accept(s);
        return new HandleConfig<>(decoder, encoder, s.allocator, s.stopGrace, s.drainTimeout, s.tailLines,
                s.maxStderrLine, s.highWaterMark, s.readSize, s.writeSize, s.metrics, s.maxInFlight,
                s.requestTimeout, s.killGroupAtExit);
    }

    /** The settings other than the codecs, as fields to set in {@link #with}; named as the components. */
    public static final class Settings {
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

        Settings(HandleConfig<?, ?> c) {
            allocator = c.allocator;
            stopGrace = c.stopGrace;
            drainTimeout = c.drainTimeout;
            tailLines = c.tailLines;
            maxStderrLine = c.maxStderrLine;
            highWaterMark = c.highWaterMark;
            readSize = c.readSize;
            writeSize = c.writeSize;
            metrics = c.metrics;
            maxInFlight = c.maxInFlight;
            requestTimeout = c.requestTimeout;
            killGroupAtExit = c.killGroupAtExit;
        }
    }

    /** The same limits with other codecs (and message types). */
    public <I2, O2> HandleConfig<I2, O2> withCodecs(Supplier<? extends FrameDecoder<I2>> newDecoder,
            Supplier<? extends FrameEncoder<O2>> newEncoder) {
        return new HandleConfig<>(newDecoder, newEncoder, allocator, stopGrace, drainTimeout, tailLines,
                maxStderrLine, highWaterMark, readSize, writeSize, metrics, maxInFlight, requestTimeout,
                killGroupAtExit);
    }
}
