package io.umhflux.internal.handle;

import io.netty.buffer.ByteBufAllocator;
import io.umhflux.internal.pipe.FrameDecoder;
import io.umhflux.internal.pipe.FrameEncoder;
import java.time.Duration;
import java.util.function.Supplier;

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
 */
public record SessionConfig<I, O>(Supplier<? extends FrameDecoder<I>> decoder,
        Supplier<? extends FrameEncoder<O>> encoder, ByteBufAllocator allocator,
        Duration stopGrace, Duration drainTimeout, int tailLines, int maxStderrLine, long highWaterMark,
        int readSize) {
}
