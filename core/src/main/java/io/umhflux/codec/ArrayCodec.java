package io.umhflux.codec;

/**
 * A {@link Codec} that can also work on plain arrays: decode a frame straight from the array the bytes were read
 * into, and encode a message straight into the array the writer batches messages in.
 *
 * <p>For a codec of this kind, the length-prefixed, varint-prefixed and line framings keep what they read from
 * stdout in a heap array while its frames are small (4 KiB on average, or less) and hand over each frame as
 * {@code (array, offset, length)}: no slice object and no {@code ByteBuf} calls per message, work that weighs
 * most with small messages. Bigger frames stay in the native memory they were read into and come as slices: the
 * copy into the heap would cost more than it saves. On the way out, the length-prefixed and line framings ask the
 * codec to write each message into the writer's batch array ({@link #encode(Object, byte[], int, int)}), and use
 * {@link Codec#encode(Object, io.netty.buffer.ByteBuf)} only for a message that does not fit there. Implement it
 * when the codec reads and writes arrays natively, as Kryo's {@code Input} and {@code Output} or protobuf's
 * {@code CodedInputStream} and {@code CodedOutputStream} do ({@link Codecs#utf8()} and {@link Codecs#bytes()}
 * are). The {@code ByteBuf} methods are still used elsewhere: for the raw framing, for a last line without a line
 * end, for the varint framing's output, and by callers of the codec outside a framing.
 *
 * <p>The framing checks the length before a decode, as for {@link Codec#decode}; the codec checks that the
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

    /**
     * Writes {@code value} into {@code array} from {@code offset} on, no further than {@code limit}, and returns
     * the index just past its last byte; or returns -1 when it does not fit. The caller then calls
     * {@link Codec#encode(Object, io.netty.buffer.ByteBuf)} for the same value, with room to grow: the codec may
     * keep the bytes of the attempt for that call, so that its encoder sees each message once ({@code KryoCodec}
     * does, for a Kryo that keeps state across messages). Bytes past the returned index, or any after -1 or an
     * exception, may have been written and mean nothing. An index outside {@code offset..limit} is refused like
     * any other failure to encode, with an {@link IllegalStateException} naming the codec as the cause.
     *
     * @throws Exception when the value cannot be encoded; the outbound treats it as for {@code encode}
     */
    int encode(T value, byte[] array, int offset, int limit) throws Exception;

    /**
     * {@link #encode(Object, byte[], int, int)} under a framing that takes at most {@code maxLength} bytes per
     * message: returns -2 as soon as the message is known to take more, having written or kept no more than
     * about {@code maxLength} bytes of it, so that a message far over the maximum costs no memory of its size
     * (the outbound then refuses it, naming the maximum). -1 still means that it did not fit before
     * {@code limit} but may fit the maximum; the attempt may be kept for the {@code encode(Object, ByteBuf)}
     * call that follows, as above.
     *
     * <p>The default calls the four-argument method with {@code limit} lowered to {@code offset + maxLength}:
     * a message over the maximum then takes the {@code ByteBuf} way and is refused once written there.
     *
     * @throws Exception when the value cannot be encoded; the outbound treats it as for {@code encode}
     */
    default int encode(T value, byte[] array, int offset, int limit, int maxLength) throws Exception {
        return encode(value, array, offset, (int) Math.min(limit, (long) offset + maxLength));
    }

    /**
     * The arrays given to this instance so far may now be reused or freed by the caller: a codec that keeps a
     * reference to the last one between calls, to skip binding its reader or writer to it for every message, drops
     * it here. The writer calls it whenever it closes a batch (at 64 KiB, and at each flush when messages come
     * slowly) and at the end; the reader after each turn of reading and at the end. It is called on the event loop
     * of the direction that uses this instance (the one {@link #forHelper()} returned for it). An exception fails
     * that direction (the send, or the inbound). The default does nothing.
     *
     * <p>Binding per message costs more than it seems: storing an array reference into a long-lived object passes
     * the garbage collector's write barrier, a memory fence with G1 when the two are in different regions.
     * {@code KryoCodec} keeps its {@code Input} and {@code Output} bound between messages this way.
     */
    default void releaseArrays() {
    }

    /** @return the instance one helper uses for one direction: an {@code ArrayCodec} too, for the array path */
    @Override
    ArrayCodec<T> forHelper();
}
