package io.umhflux.codec;

/**
 * A {@link Codec} that can also decode a frame straight from the array the bytes were read into.
 *
 * <p>For a codec of this kind, the length-prefixed, varint-prefixed and line framings keep what they read from
 * stdout in a heap array while its frames are small (4 KiB on average, or less) and hand over each frame as
 * {@code (array, offset, length)}: no slice object and no {@code ByteBuf} calls per message, which is
 * measurable with small messages (about 4% of the CPU per ~30-byte Kryo message, measured with
 * TypedEchoBenchmark). Bigger frames stay in the native memory they were read into and come as slices: the
 * copy into the heap would cost more than it saves. Implement it when the decoder reads arrays natively, as
 * Kryo's {@code Input} or protobuf's {@code CodedInputStream} do. {@link Codec#decode(io.netty.buffer.ByteBuf)}
 * is still used elsewhere: for the raw framing, for a last line without a line end, and by callers of the
 * codec outside a framing.
 *
 * <p>The framing checks the length before the call, as for {@link Codec#decode}; the codec checks that the
 * bytes are exactly one message.
 *
 * @param <T> the message type
 */
public interface ArrayCodec<T> extends Codec<T> {
    /**
     * Reads one message from exactly {@code length} bytes of {@code array} at {@code offset}: the bytes the
     * framing cut for it. The array belongs to the caller and may be reused after the call: copy what you keep.
     *
     * @throws Exception when the bytes are not one valid message, including when some of them are left
     *     unread; the inbound fails, naming the offset
     */
    T decode(byte[] array, int offset, int length) throws Exception;

    /** @return the instance one helper uses for one direction: an {@code ArrayCodec} too, for the array path */
    @Override
    ArrayCodec<T> forHelper();
}
