package io.umhflux.internal.pipe;

import io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;

/**
 * Cuts the helper's stdout byte stream into messages. Called on the helper's event loop only, so an
 * implementation may keep state (one instance per helper).
 *
 * @param <I> the message type
 */
public interface FrameDecoder<I> {
    /**
     * Takes the next whole message from the readable bytes of {@code in}, advancing its reader index, or
     * returns {@code null} (reader index unchanged) when {@code in} does not hold a whole one yet.
     *
     * @param in the bytes read so far; owned by the caller
     * @param offset the stream offset of {@code in}'s reader index, for error messages
     * @throws FrameException for bytes that can never become a message (the helper is then stopped)
     */
    @Nullable I decode(ByteBuf in, long offset) throws FrameException;

    /**
     * The stream ended with {@code leftover} readable bytes that {@link #decode} did not take: return them as
     * a last message (a final line without its line end), or throw.
     *
     * @throws FrameException naming the offset and length of what was cut short
     */
    default @Nullable I endOfStream(ByteBuf leftover, long offset) throws FrameException {
        throw new FrameException("the stream ended inside a frame: " + leftover.readableBytes()
                + " bytes at offset " + offset + " form no whole message", offset, leftover.readableBytes());
    }

    /**
     * Whether the next bytes read are best kept in a heap buffer (read into a native one, then appended: one
     * copy per read): for a codec that decodes small frames from an array in place
     * ({@link io.umhflux.codec.ArrayCodec}), where it saves a slice and a copy per frame. False otherwise: the
     * bytes stay in the native buffer they were read into. Asked before each read; the answer may change, and
     * {@link #decode} takes either kind of buffer.
     */
    default boolean heapCumulation() {
        return false;
    }

    /**
     * Whether {@link #decodeArray} works: the hot path for small frames in a heap cumulation, where the caller
     * walks the array itself, frame after frame, without a {@code ByteBuf} call per message.
     */
    default boolean decodesArrays() {
        return false;
    }

    /**
     * Takes the next whole message from {@code array} between {@code from} and {@code to} (the readable bytes of a
     * heap cumulation) and notes where its frame ends ({@link #arrayEnd}), or returns {@code null} when they do not
     * hold a whole one yet. Only called when {@link #decodesArrays} is true.
     *
     * @param offset the stream offset of {@code from}, for error messages
     * @throws FrameException for bytes that can never become a message
     */
    default @Nullable I decodeArray(byte[] array, int from, int to, long offset) throws FrameException {
        throw new UnsupportedOperationException("this decoder reads no arrays");
    }

    /** Where the frame of the message the last {@link #decodeArray} returned ends in its array. */
    default int arrayEnd() {
        throw new UnsupportedOperationException("this decoder reads no arrays");
    }

    /**
     * The arrays and buffers decoded from so far may be reused or freed: let go of them
     * ({@link io.umhflux.codec.ArrayCodec#releaseArrays()}). Called on the event loop.
     */
    default void releaseArrays() {
    }

    /** Whether messages are reference-counted buffers that must be released after {@code onNext}. */
    default boolean releaseAfterDelivery() {
        return false;
    }
}
