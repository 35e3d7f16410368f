package io.umhflux.internal.pipe;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ReferenceCountUtil;
import io.umhflux.codec.ArrayCodec;
import io.umhflux.codec.Codec;
import io.umhflux.codec.Framing;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import org.jspecify.annotations.Nullable;

/**
 * A {@link Framing} with the codecs of one helper: cuts stdout into frames and decodes them, encodes
 * messages and frames them for stdin. One instance per helper, used on its event loop only.
 *
 * <p>Lengths are checked before anything is allocated for a frame: a prefix of {@code 0x7FFFFFFF} fails at
 * once with the offset and the claimed length, it never becomes a 2 GiB allocation.
 */
public final class FramedCodec<I, O> implements FrameDecoder<I>, FrameEncoder<O> {
    private static final int MAX_VARINT_BYTES = 5;

    private final Framing framing;
    private final Framing.Kind kind;
    private final int max;
    private final @Nullable Codec<I> inbound;
    private final @Nullable Codec<O> outbound;
    private @Nullable ByteBuf scratch;
    /** The inbound codec when it decodes from arrays too: frames from a heap cumulation need no slice then. */
    private final @Nullable ArrayCodec<I> arrayCodec;
    /** The outbound codec when it writes into arrays and the framing lets it ({@link #encodesArrays}). */
    private final @Nullable ArrayCodec<O> arrayEncoder;
    /**
     * Frames of at most this many bytes on average are read into a heap cumulation for an {@link ArrayCodec};
     * bigger ones stay in native memory, where a codec reads them in place without the copy into the heap.
     */
    private static final int SMALL_FRAME = 4096;
    /** A moving mean of the lengths of the frames decoded (each new one weighs an eighth). */
    private int meanLength;
    /** Where the frame the last {@link #decodeArray} took ends in its array. */
    private int arrayEnd;
    private static final VarHandle BIG_ENDIAN_INT =
            MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle LITTLE_ENDIAN_LONG =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private FramedCodec(Framing framing, @Nullable Codec<I> inbound, @Nullable Codec<O> outbound) {
        this.framing = framing;
        this.kind = framing.kind();
        this.max = framing.maxFrameBytes();
        this.inbound = inbound == null ? null : inbound.forHelper();
        this.outbound = outbound == null ? null : outbound.forHelper();
        this.arrayCodec = this.inbound instanceof ArrayCodec ? (ArrayCodec<I>) this.inbound : null;
        // frames written straight into the writer's array: behind a fixed-size prefix, written afterwards, or
        // as lines, ended afterwards
        this.arrayEncoder = this.outbound instanceof ArrayCodec
                && (kind == Framing.Kind.LENGTH_PREFIXED || kind == Framing.Kind.LINES)
                ? (ArrayCodec<O>) this.outbound : null;
    }

    /** The stdout side of one helper: its own instance of {@code codec}. */
    public static <I> FrameDecoder<I> decoder(Framing framing, Codec<I> codec) {
        return new FramedCodec<I, Object>(framing, codec, null);
    }

    /** The stdin side of one helper: its own instance of {@code codec}. */
    public static <O> FrameEncoder<O> encoder(Framing framing, Codec<O> codec) {
        return new FramedCodec<Object, O>(framing, null, codec);
    }

    @Override
    public @Nullable I decode(ByteBuf in, long offset) throws FrameException {
        if (in.hasArray() && decodesArrays()) {
            return fromArray(in, offset); // an ArrayCodec's frames in a heap buffer: decoded in its array
        }
        switch (kind) {
            case LENGTH_PREFIXED:
                return decodeLengthPrefixed(in, offset);
            case VARINT_PREFIXED:
                return decodeVarintPrefixed(in, offset);
            case LINES:
                return decodeLine(in, offset);
            case RAW:
                return in.isReadable() ? payload(in.readSlice(in.readableBytes()), offset) : null;
            default:
                throw new IllegalStateException("unknown framing " + framing);
        }
    }

    private @Nullable I decodeLengthPrefixed(ByteBuf in, long offset) throws FrameException {
        if (in.readableBytes() < 4) {
            return null;
        }
        long length = in.getUnsignedInt(in.readerIndex());
        checkLength(length, offset);
        if (in.readableBytes() < 4 + length) {
            return null;
        }
        return frame(in, 4, (int) length, in.readerIndex() + 4 + (int) length, offset);
    }

    private @Nullable I decodeVarintPrefixed(ByteBuf in, long offset) throws FrameException {
        long length = 0;
        int at = in.readerIndex();
        for (int i = 0; ; i++) {
            if (i == MAX_VARINT_BYTES) {
                throw new FrameException("malformed varint length at offset " + offset + ": more than "
                        + MAX_VARINT_BYTES + " bytes", offset, i);
            }
            if (at + i >= in.writerIndex()) {
                return null;
            }
            byte b = in.getByte(at + i);
            length |= (long) (b & 0x7f) << (7 * i);
            if (b >= 0) {
                checkLength(length, offset);
                int header = i + 1;
                if (in.readableBytes() < header + length) {
                    return null;
                }
                return frame(in, header, (int) length, in.readerIndex() + header + (int) length, offset);
            }
        }
    }

    /** {@link #decodeArray} on {@code in}'s array, moving its reader index past the frame taken. */
    private @Nullable I fromArray(ByteBuf in, long offset) throws FrameException {
        int base = in.arrayOffset();
        I message = decodeArray(in.array(), base + in.readerIndex(), base + in.writerIndex(), offset);
        if (message != null) {
            in.readerIndex(arrayEnd - base);
        }
        return message;
    }

    @Override
    public boolean decodesArrays() {
        return arrayCodec != null && kind != Framing.Kind.RAW;
    }

    @Override
    public @Nullable I decodeArray(byte[] array, int from, int to, long offset) throws FrameException {
        ArrayCodec<I> codec = arrayCodec;
        if (codec == null) {
            throw new IllegalStateException("the codec of this framing decodes no arrays");
        }
        if (kind == Framing.Kind.LINES) {
            return lineFromArray(codec, array, from, to, offset);
        }
        int start;
        long length;
        if (kind == Framing.Kind.LENGTH_PREFIXED) {
            if (to - from < 4) {
                return null;
            }
            length = (int) BIG_ENDIAN_INT.get(array, from) & 0xFFFF_FFFFL;
            start = from + 4;
        } else {
            length = 0;
            start = from;
            for (int shift = 0; ; shift += 7) {
                if (start - from == MAX_VARINT_BYTES) {
                    throw new FrameException("malformed varint length at offset " + offset + ": more than "
                            + MAX_VARINT_BYTES + " bytes", offset, MAX_VARINT_BYTES);
                }
                if (start == to) {
                    return null;
                }
                byte b = array[start++];
                length |= (long) (b & 0x7f) << shift;
                if (b >= 0) {
                    break;
                }
            }
        }
        checkLength(length, offset);
        if (to - start < length) {
            return null;
        }
        int n = (int) length;
        I message = fromArray(codec, array, start, n, offset);
        arrayEnd = start + n;
        return message;
    }

    /** {@link #decodeArray} for the line framing: the same checks as {@link #decodeLine}. */
    private @Nullable I lineFromArray(ArrayCodec<I> codec, byte[] array, int from, int to, long offset)
            throws FrameException {
        int nl = indexOfLineEnd(array, from, lineSearchEnd(from, to));
        if (nl < 0) {
            checkUnendedLine(to - from, offset);
            return null;
        }
        int n = lineLength(from, nl, nl > from && array[nl - 1] == '\r', offset);
        I message = fromArray(codec, array, from, n, offset);
        arrayEnd = nl + 1;
        return message;
    }

    /** Where the search for a line end starting at {@code from} stops: past the maximum and a "\r\n". */
    private int lineSearchEnd(int from, int to) {
        return (int) Math.min(to, (long) from + max + 2); // long: max may be Integer.MAX_VALUE
    }

    /** No line end among the {@code readable} bytes: wait for more, unless they are more than a line may have. */
    private void checkUnendedLine(long readable, long offset) throws FrameException {
        if (readable > (long) max + 1) {
            throw new FrameException("line at offset " + offset + " is longer than the maximum of " + max + " bytes",
                    offset, readable);
        }
    }

    /** The length of the line from {@code start} to its end at {@code nl}, a '\r' before it left out, if within max. */
    private int lineLength(int start, int nl, boolean carriageReturn, long offset) throws FrameException {
        int length = nl - start - (carriageReturn ? 1 : 0);
        if (length > max) {
            throw new FrameException("line at offset " + offset + " has " + length + " bytes; the maximum is " + max,
                    offset, length);
        }
        return length;
    }

    /** The codec's message from {@code length} bytes of {@code array} at {@code start}; a failure names them. */
    private I fromArray(ArrayCodec<I> codec, byte[] array, int start, int length, long offset) throws FrameException {
        meanLength += (length - meanLength) >> 3;
        I message;
        try {
            message = codec.decode(array, start, length);
        } catch (Exception | OutOfMemoryError | StackOverflowError e) {
            throw cannotDecode(e, offset, length);
        }
        return notNull(message, offset, length);
    }

    /**
     * The index of the first {@code '\n'} in {@code array} from {@code from} to {@code to}, or -1: eight bytes at a
     * time, each XOR-ed with the line end so that a match becomes a zero byte, found with the borrow of a
     * subtraction; the lowest such byte is always a true match.
     */
    static int indexOfLineEnd(byte[] array, int from, int to) {
        int i = from;
        for (; i + Long.BYTES <= to; i += Long.BYTES) {
            long x = (long) LITTLE_ENDIAN_LONG.get(array, i) ^ 0x0A0A_0A0A_0A0A_0A0AL;
            long zeros = (x - 0x0101_0101_0101_0101L) & ~x & 0x8080_8080_8080_8080L;
            if (zeros != 0) {
                return i + (Long.numberOfTrailingZeros(zeros) >>> 3);
            }
        }
        for (; i < to; i++) {
            if (array[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    @Override
    public int arrayEnd() {
        return arrayEnd;
    }

    /** A message refused for its size: {@code encodes} is its length, or "more than" the maximum. */
    private IllegalArgumentException overMaximum(Object encodes) {
        return new IllegalArgumentException("message encodes to " + encodes + " bytes; the framing's maximum is "
                + max);
    }

    private void checkLength(long length, long offset) throws FrameException {
        if (length > max) {
            throw new FrameException("frame at offset " + offset + " claims " + length + " bytes (unsigned "
                    + "0x" + Long.toHexString(length) + "); the maximum is " + max, offset, length);
        }
    }

    private @Nullable I decodeLine(ByteBuf in, long offset) throws FrameException {
        int start = in.readerIndex();
        int nl = in.indexOf(start, lineSearchEnd(start, in.writerIndex()), (byte) '\n');
        if (nl < 0) {
            checkUnendedLine(in.readableBytes(), offset);
            return null;
        }
        int length = lineLength(start, nl, nl > start && in.getByte(nl - 1) == '\r', offset);
        return frame(in, 0, length, nl + 1, offset);
    }

    /**
     * Decodes the frame of {@code length} bytes that starts {@code header} bytes past {@code in}'s reader index as a
     * slice (index 0 is the frame's first byte), then moves the reader index to {@code next}. (The frames of an
     * {@link ArrayCodec} in a heap buffer take {@link #decodeArray} instead.)
     */
    private I frame(ByteBuf in, int header, int length, int next, long offset) throws FrameException {
        meanLength += (length - meanLength) >> 3;
        ByteBuf frame = in.slice(in.readerIndex() + header, length);
        in.readerIndex(next);
        return payload(frame, offset);
    }

    private I payload(ByteBuf frame, long offset) throws FrameException {
        int length = frame.readableBytes();
        I message;
        Codec<I> codec = inbound;
        if (codec == null) {
            throw new IllegalStateException("an encoder-only FramedCodec cannot decode");
        }
        try {
            message = codec.decode(frame);
        } catch (Exception | OutOfMemoryError | StackOverflowError e) {
            throw cannotDecode(e, offset, length);
        }
        if (frame.isReadable() && kind != Framing.Kind.RAW) {
            ReferenceCountUtil.release(message); // a codec's ByteBuf message would otherwise leak here
            throw new FrameException("the codec left " + frame.readableBytes() + " of the " + length
                    + " bytes of the frame at offset " + offset + " unread", offset, length);
        }
        return notNull(message, offset, length);
    }

    /**
     * A codec's failure on one frame, which fails that helper's inbound. An {@code OutOfMemoryError} (an array of a
     * size the frame declared) or a {@code StackOverflowError} (nesting it declared) counts too: thrown on the event
     * loop, either would end the loop and every helper on it, for one helper's bad bytes.
     */
    private static FrameException cannotDecode(Throwable e, long offset, int length) {
        return (FrameException) new FrameException("cannot decode the " + length + "-byte frame at offset " + offset
                + ": " + e, offset, length).initCause(e);
    }

    private static <I> I notNull(@Nullable I message, long offset, int length) throws FrameException {
        if (message == null) {
            throw new FrameException("the codec decoded the frame at offset " + offset + " to null", offset, length);
        }
        return message;
    }

    /**
     * For an {@link ArrayCodec} while the frames are small: other codecs, and big frames, get slices of the native
     * buffer stdout was read into.
     */
    @Override
    public boolean heapCumulation() {
        return arrayCodec != null && kind != Framing.Kind.RAW && meanLength <= SMALL_FRAME;
    }

    @Override
    public @Nullable I endOfStream(ByteBuf leftover, long offset) throws FrameException {
        if (kind == Framing.Kind.LINES && leftover.readableBytes() <= max) {
            return payload(leftover.readSlice(leftover.readableBytes()), offset); // a last line without '\n'
        }
        return FrameDecoder.super.endOfStream(leftover, offset);
    }

    @Override
    public boolean encodesArrays() {
        return arrayEncoder != null;
    }

    @Override
    public int encodeArray(O message, byte[] array, int position, int limit) throws Exception {
        ArrayCodec<O> codec = arrayEncoder;
        if (codec == null) {
            throw new IllegalStateException("this framing and codec write no arrays");
        }
        if (kind == Framing.Kind.LINES) {
            return lineIntoArray(codec, message, array, position, limit);
        }
        int start = position + 4;
        if (limit - start < 0) {
            return -1;
        }
        int end = payloadIntoArray(codec, message, array, start, limit);
        if (end >= 0) {
            BIG_ENDIAN_INT.set(array, position, end - start);
        }
        return end;
    }

    /** {@link #encodeArray} for the line framing: the message's bytes, checked as in {@link #encode}, then '\n'. */
    private int lineIntoArray(ArrayCodec<O> codec, O message, byte[] array, int position, int limit)
            throws Exception {
        if (limit - position < 1) {
            return -1;
        }
        int end = payloadIntoArray(codec, message, array, position, limit - 1); // room for the '\n'
        if (end < 0) {
            return end;
        }
        if (indexOfLineEnd(array, position, end) >= 0) {
            throw lineEndInside();
        }
        if (end > position && array[end - 1] == '\r') {
            throw carriageReturnAtEnd();
        }
        array[end] = '\n';
        return end + 1;
    }

    /**
     * The codec writes {@code message} from {@code start} on, before {@code limit}: the index past it, or -1 when it
     * does not fit there; a message over the maximum, or one the codec writes outside the room given, throws.
     */
    private int payloadIntoArray(ArrayCodec<O> codec, O message, byte[] array, int start, int limit)
            throws Exception {
        // the codec stops a message over the maximum as soon as it knows (-2), rather than writing it all first
        int end = codec.encode(message, array, start, limit, max);
        if (end == -1) {
            return -1;
        }
        if (end == -2) {
            throw overMaximum("more than " + max);
        }
        if (end < start || end > limit) {
            throw new IllegalStateException(codec.getClass().getName() + " wrote a message from " + start + " to "
                    + end + ", outside the room it was given (" + start + " to " + limit + ")");
        }
        if (end - start > max) {
            throw overMaximum(end - start);
        }
        return end;
    }

    private static IllegalArgumentException lineEndInside() {
        return new IllegalArgumentException("a line message contains '\\n'");
    }

    private static IllegalArgumentException carriageReturnAtEnd() {
        return new IllegalArgumentException("a line message ends in '\\r', which the reader takes for part of a"
                + " \"\\r\\n\" line end");
    }

    @Override
    public void encode(O message, ByteBuf out) throws Exception {
        Codec<O> codec = outbound;
        if (codec == null) {
            throw new IllegalStateException("a decoder-only FramedCodec cannot encode");
        }
        int mark = out.writerIndex();
        try {
            switch (kind) {
                case LENGTH_PREFIXED: {
                    out.writeInt(0);
                    int length = encodePayload(codec, message, out, mark + 4);
                    out.setInt(mark, length);
                    break;
                }
                case VARINT_PREFIXED:
                    encodeVarintPrefixed(codec, message, out);
                    break;
                case LINES: {
                    int length = encodePayload(codec, message, out, mark);
                    if (out.indexOf(mark, mark + length, (byte) '\n') >= 0) {
                        throw lineEndInside();
                    }
                    if (length > 0 && out.getByte(mark + length - 1) == '\r') {
                        throw carriageReturnAtEnd();
                    }
                    out.writeByte('\n');
                    break;
                }
                case RAW:
                    codec.encode(message, out);
                    break;
                default:
                    throw new IllegalStateException("unknown framing " + framing);
            }
        } catch (Exception | Error e) {
            out.writerIndex(mark); // nothing half-written stays in the batch
            throw e;
        }
    }

    private int encodePayload(Codec<O> codec, O message, ByteBuf out, int start) throws Exception {
        codec.encode(message, out);
        int length = out.writerIndex() - start;
        if (length > max) {
            throw overMaximum(length);
        }
        return length;
    }

    private void encodeVarintPrefixed(Codec<O> codec, O message, ByteBuf out) throws Exception {
        ByteBuf s = scratch;
        if (s == null) {
            // never grows past the maximum: a message over it fails there, not once written whole
            s = ByteBufAllocator.DEFAULT.heapBuffer(Math.min(256, max), max);
            scratch = s;
        }
        s.clear();
        int length;
        try {
            length = encodePayload(codec, message, s, 0);
        } catch (IndexOutOfBoundsException e) {
            // most likely the bound (a codec's own out-of-bounds failure reads the same: it is the cause)
            throw new IllegalArgumentException("cannot encode the message within the framing's maximum of " + max
                    + " bytes: " + e.getMessage(), e);
        }
        for (long v = length; ; v >>>= 7) {
            if (v < 0x80) {
                out.writeByte((int) v);
                break;
            }
            out.writeByte((int) (v & 0x7f) | 0x80);
        }
        out.writeBytes(s, 0, length);
    }

    @Override
    public void releaseArrays() {
        if (arrayCodec != null) {
            arrayCodec.releaseArrays();
        }
        if (outbound instanceof ArrayCodec) {
            ((ArrayCodec<?>) outbound).releaseArrays();
        }
    }

    /** Frees the scratch buffer; the helper's writer is done. */
    @Override
    public void release() {
        ByteBuf s = scratch;
        scratch = null;
        if (s != null) {
            s.release();
        }
    }
}
