package io.umhflux.codec.kryo;

import com.esotericsoftware.kryo.io.ByteBufferInput;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.KryoBufferUnderflowException;
import java.util.function.IntUnaryOperator;

/**
 * Kryo inputs over one frame that check what the frame declares before Kryo allocates for it (Kryo #1282): a
 * {@code byte[]}, a primitive array or a string takes at least one byte per element or character, so a length
 * beyond the bytes left in the frame is refused before the array is made. Without this, a 6-byte frame that
 * declares a {@code byte[]} of 2^30 bytes makes Kryo 5.6.2 allocate 1 GiB before it finds the frame short.
 *
 * <p>Kryo's collection, map and object-array serializers size what they make from the declared count themselves
 * (an {@code ArrayList} of that capacity); that is beyond an {@code Input}'s reach and fixed upstream (Kryo pull
 * request #1284, after 5.6.2). Decode only frames from helpers you trust with such messages, or register
 * serializers of your own for them.
 */
final class FrameInputs {
    private FrameInputs() {
    }

    /** Refuses {@code count} elements of at least a byte each where {@code remaining} bytes are left. */
    static void check(long count, int remaining) {
        if (count < 0 || count > remaining) {
            throw new KryoBufferUnderflowException("the frame declares " + count + " elements where only " + remaining
                    + " bytes are left; nothing was allocated for them");
        }
    }

    /**
     * Checks the character count of the string that starts at {@code position}, as Kryo's {@code Output} wrote it
     * (UTF-8: a flag bit, then the count plus one as a variable-length int of 6 then 7 bits per byte; ASCII strings
     * carry no count and are bounded by the input as they are read).
     */
    static void checkString(IntUnaryOperator byteAt, int position, int limit) {
        if (position >= limit) {
            return; // Kryo reports the underflow itself
        }
        int at = position;
        int b = byteAt.applyAsInt(at++);
        if ((b & 0x80) == 0) {
            return; // ASCII
        }
        int count = b & 0x3F; // as Kryo's readVarIntFlag(true) reads it, overflow included
        if ((b & 0x40) != 0) {
            for (int shift = 6; shift <= 27; shift += 7) {
                if (at >= limit) {
                    return; // cut short: Kryo reports it
                }
                b = byteAt.applyAsInt(at++);
                count |= (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    break;
                }
            }
        }
        int chars = count - 1; // as Kryo counts down: Integer.MIN_VALUE becomes Integer.MAX_VALUE
        if (chars > 0) { // a count of 0 is null, 1 the empty string; Kryo allocates nothing for a negative one
            check(chars, limit - at);
        }
    }

    /** An {@link Input} on an array range (the array path, small frames). */
    static final class ArrayFrameInput extends Input {
        private final IntUnaryOperator byteAt = i -> buffer[i];

        @Override
        public byte[] readBytes(int length) {
            check(length, limit - position);
            return super.readBytes(length);
        }

        @Override
        public int[] readInts(int length) {
            check(length, limit - position);
            return super.readInts(length);
        }

        @Override
        public int[] readInts(int length, boolean optimizePositive) {
            check(length, limit - position);
            return super.readInts(length, optimizePositive);
        }

        @Override
        public long[] readLongs(int length) {
            check(length, limit - position);
            return super.readLongs(length);
        }

        @Override
        public long[] readLongs(int length, boolean optimizePositive) {
            check(length, limit - position);
            return super.readLongs(length, optimizePositive);
        }

        @Override
        public float[] readFloats(int length) {
            check(length, limit - position);
            return super.readFloats(length);
        }

        @Override
        public double[] readDoubles(int length) {
            check(length, limit - position);
            return super.readDoubles(length);
        }

        @Override
        public short[] readShorts(int length) {
            check(length, limit - position);
            return super.readShorts(length);
        }

        @Override
        public char[] readChars(int length) {
            check(length, limit - position);
            return super.readChars(length);
        }

        @Override
        public boolean[] readBooleans(int length) {
            check(length, limit - position);
            return super.readBooleans(length);
        }

        @Override
        public String readString() {
            if (position < limit && buffer[position] < 0) { // counted (UTF-8); ASCII strings are the common case
                checkString(byteAt, position, limit);
            }
            return super.readString();
        }

        @Override
        public StringBuilder readStringBuilder() {
            if (position < limit && buffer[position] < 0) {
                checkString(byteAt, position, limit);
            }
            return super.readStringBuilder();
        }
    }

    /** A {@link ByteBufferInput} on a frame in native memory (large frames, read in place). */
    static final class BufferFrameInput extends ByteBufferInput {
        private final IntUnaryOperator byteAt = i -> byteBuffer.get(i);

        @Override
        public byte[] readBytes(int length) {
            check(length, limit - position);
            return super.readBytes(length);
        }

        @Override
        public int[] readInts(int length) {
            check(length, limit - position);
            return super.readInts(length);
        }

        @Override
        public int[] readInts(int length, boolean optimizePositive) {
            check(length, limit - position);
            return super.readInts(length, optimizePositive);
        }

        @Override
        public long[] readLongs(int length) {
            check(length, limit - position);
            return super.readLongs(length);
        }

        @Override
        public long[] readLongs(int length, boolean optimizePositive) {
            check(length, limit - position);
            return super.readLongs(length, optimizePositive);
        }

        @Override
        public float[] readFloats(int length) {
            check(length, limit - position);
            return super.readFloats(length);
        }

        @Override
        public double[] readDoubles(int length) {
            check(length, limit - position);
            return super.readDoubles(length);
        }

        @Override
        public short[] readShorts(int length) {
            check(length, limit - position);
            return super.readShorts(length);
        }

        @Override
        public char[] readChars(int length) {
            check(length, limit - position);
            return super.readChars(length);
        }

        @Override
        public boolean[] readBooleans(int length) {
            check(length, limit - position);
            return super.readBooleans(length);
        }

        @Override
        public String readString() {
            checkString(byteAt, position, limit);
            return super.readString();
        }

        @Override
        public StringBuilder readStringBuilder() {
            checkString(byteAt, position, limit);
            return super.readStringBuilder();
        }
    }
}
