package io.umhflux.codec;

import io.netty.buffer.ByteBuf;

/**
 * Turns one message into bytes and back; the {@link Framing} around it says where a message ends.
 *
 * <p>Threading: each helper gets its own instance per direction from {@link #forHelper()}, used only on that
 * helper's event loop. A stateful codec (a Kryo instance, a reusable buffer) returns a fresh copy there and
 * never needs to be thread-safe; a stateless one returns itself.
 *
 * @param <T> the message type
 */
public interface Codec<T> {
    /**
     * Appends the bytes of {@code value} to {@code out} (a buffer shared by many messages: write at its
     * writer index only, never read or change what is before it).
     *
     * <p>{@code out.maxWritableBytes()} is the most the message may take: writing more fails as the buffer
     * does, with an {@link IndexOutOfBoundsException}. The varint-prefixed framing bounds it by its maximum, so
     * that a message over it fails there rather than once written whole; a codec that stages its bytes elsewhere
     * before appending them does best to stop at that bound too, as {@code KryoCodec} does. (Under the
     * length-prefixed framing, a codec that is an {@link ArrayCodec} is stopped at the maximum through
     * {@link ArrayCodec#encode(Object, byte[], int, int, int)}; there and under the lines framing, a message of any
     * other codec is checked against the maximum once written.)
     *
     * <p>A {@code value} that is reference counted stays the writer's: it releases it once this returns or
     * throws, as Netty's {@code MessageToByteEncoder} does. Do not release it here.
     *
     * @throws Exception when {@code value} cannot be encoded; the send fails with it (a request client fails
     *     that one request and goes on, unless it is a {@link CodecBrokenException})
     */
    void encode(T value, ByteBuf out) throws Exception;

    /**
     * Reads one message from {@code frame}, exactly the bytes the framing cut for it: a slice whose index 0 is
     * the frame's first byte and whose capacity is its length. The buffer is owned by the caller and valid only
     * during this call: copy what you keep, or take a {@code retainedSlice()} and release it later.
     *
     * @throws Exception when the bytes are not a valid message; the inbound fails, naming the offset
     */
    T decode(ByteBuf frame) throws Exception;

    /** @return the instance one helper uses for one direction; {@code this} for a stateless codec */
    default Codec<T> forHelper() {
        return this;
    }
}
