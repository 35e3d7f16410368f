package io.umhflux.internal.pipe;

import io.netty.buffer.ByteBuf;

/**
 * Turns outbound messages into bytes for the helper's stdin. Called on the helper's event loop only.
 *
 * @param <O> the message type
 */
public interface FrameEncoder<O> {
    /**
     * Appends the framed bytes of {@code message} to {@code out}, a buffer the writer batches many messages
     * into (it grows as needed).
     */
    void encode(O message, ByteBuf out) throws Exception;

    /**
     * For {@link io.netty.buffer.ByteBuf} messages written as they are: the writer takes ownership of the
     * buffer itself (no copy) and releases it once written. {@link #encode} is then never called.
     */
    default boolean passThrough() {
        return false;
    }

    /** The writer is done: free what the encoder holds. Called once, on the event loop. */
    default void release() {
    }
}
