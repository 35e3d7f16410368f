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

    /** Whether {@link #encodeArray} works: the writer may then encode straight into its batch's array. */
    default boolean encodesArrays() {
        return false;
    }

    /**
     * Writes the framed bytes of {@code message} into {@code array} from {@code position}, no further than
     * {@code limit}, and returns the index past them; or -1 when they do not fit, and the writer then calls
     * {@link #encode} for the same message (which may use what the attempt kept, see
     * {@link io.umhflux.codec.ArrayCodec#encode(Object, byte[], int, int)}). A message over the framing's
     * maximum is refused with an {@link IllegalArgumentException}, as soon as the codec knows it
     * ({@link io.umhflux.codec.ArrayCodec#encode(Object, byte[], int, int, int)}). Only called when
     * {@link #encodesArrays} is true.
     */
    default int encodeArray(O message, byte[] array, int position, int limit) throws Exception {
        throw new UnsupportedOperationException("this encoder writes no arrays");
    }

    /**
     * The arrays given to {@link #encodeArray} and the batches given to {@link #encode} so far may be reused or
     * freed: let go of them ({@link io.umhflux.codec.ArrayCodec#releaseArrays()}). Called on the event loop.
     */
    default void releaseArrays() {
    }

    /** The writer is done: free what the encoder holds. Called once, on the event loop. */
    default void release() {
    }
}
