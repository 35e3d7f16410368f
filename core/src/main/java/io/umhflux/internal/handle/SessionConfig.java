package io.umhflux.internal.handle;

import io.netty.buffer.ByteBufAllocator;
import io.umhflux.UmhMetrics;
import io.umhflux.internal.pipe.FrameDecoder;
import io.umhflux.internal.pipe.FrameEncoder;
import java.time.Duration;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * What a session needs from the public spec. The decoder and encoder are made per helper (a codec may hold
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
 */
public record SessionConfig<I, O>(Supplier<? extends FrameDecoder<I>> decoder,
        Supplier<? extends FrameEncoder<O>> encoder, ByteBufAllocator allocator,
        Duration stopGrace, Duration drainTimeout, int tailLines, int maxStderrLine, long highWaterMark,
        int readSize, int writeSize, UmhMetrics metrics, int maxInFlight, @Nullable Duration requestTimeout) {

    public SessionConfig<I, O> withAllocator(ByteBufAllocator value) {
        return new SessionConfig<>(decoder, encoder, value, stopGrace, drainTimeout, tailLines, maxStderrLine,
                highWaterMark, readSize, writeSize, metrics,
                maxInFlight, requestTimeout);
    }

    public SessionConfig<I, O> withStopGrace(Duration value) {
        return new SessionConfig<>(decoder, encoder, allocator, value, drainTimeout, tailLines, maxStderrLine,
                highWaterMark, readSize, writeSize, metrics,
                maxInFlight, requestTimeout);
    }

    public SessionConfig<I, O> withDrainTimeout(Duration value) {
        return new SessionConfig<>(decoder, encoder, allocator, stopGrace, value, tailLines, maxStderrLine,
                highWaterMark, readSize, writeSize, metrics,
                maxInFlight, requestTimeout);
    }

    public SessionConfig<I, O> withTailLines(int value) {
        return new SessionConfig<>(decoder, encoder, allocator, stopGrace, drainTimeout, value, maxStderrLine,
                highWaterMark, readSize, writeSize, metrics,
                maxInFlight, requestTimeout);
    }

    public SessionConfig<I, O> withHighWaterMark(long value) {
        return new SessionConfig<>(decoder, encoder, allocator, stopGrace, drainTimeout, tailLines, maxStderrLine,
                value, readSize, writeSize, metrics,
                maxInFlight, requestTimeout);
    }

    public SessionConfig<I, O> withReadSize(int value) {
        return new SessionConfig<>(decoder, encoder, allocator, stopGrace, drainTimeout, tailLines, maxStderrLine,
                highWaterMark, value, writeSize,
                metrics, maxInFlight, requestTimeout);
    }

    public SessionConfig<I, O> withWriteSize(int value) {
        return new SessionConfig<>(decoder, encoder, allocator, stopGrace, drainTimeout, tailLines, maxStderrLine,
                highWaterMark, readSize, value, metrics, maxInFlight, requestTimeout);
    }

    public SessionConfig<I, O> withMetrics(UmhMetrics value) {
        return new SessionConfig<>(decoder, encoder, allocator, stopGrace, drainTimeout, tailLines, maxStderrLine,
                highWaterMark, readSize, writeSize, value, maxInFlight, requestTimeout);
    }

    public SessionConfig<I, O> withMaxInFlight(int value) {
        return new SessionConfig<>(decoder, encoder, allocator, stopGrace, drainTimeout, tailLines, maxStderrLine,
                highWaterMark, readSize, writeSize, metrics, value, requestTimeout);
    }

    public SessionConfig<I, O> withRequestTimeout(@Nullable Duration value) {
        return new SessionConfig<>(decoder, encoder, allocator, stopGrace, drainTimeout, tailLines, maxStderrLine,
                highWaterMark, readSize, writeSize, metrics, maxInFlight, value);
    }

    /** The same limits with other codecs (and message types). */
    public <I2, O2> SessionConfig<I2, O2> withCodecs(Supplier<? extends FrameDecoder<I2>> newDecoder,
            Supplier<? extends FrameEncoder<O2>> newEncoder) {
        return new SessionConfig<>(newDecoder, newEncoder, allocator, stopGrace, drainTimeout, tailLines,
                maxStderrLine, highWaterMark, readSize, writeSize, metrics,
                maxInFlight, requestTimeout);
    }
}
