package io.umhflux.codec;

import io.netty.buffer.ByteBuf;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Codecs for plain values. */
public final class Codecs {
    private Codecs() {
    }

    /**
     * UTF-8 text, strictly: a malformed byte sequence fails the decode (and with it the helper) instead of
     * turning into U+FFFD, so corrupted output is never mistaken for text.
     */
    public static Codec<String> utf8() {
        return new Utf8();
    }

    /** The bytes as they are, copied into a {@code byte[]}. */
    public static Codec<byte[]> bytes() {
        return Bytes.INSTANCE;
    }

    /**
     * Also an {@link ArrayCodec}: under a framing that hands over arrays, lines and prefixed frames are decoded from
     * the array they were read into and encoded into the writer's batch, with no {@code ByteBuf} call per message.
     */
    private static final class Utf8 implements ArrayCodec<String> {
        private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class,
                ByteOrder.LITTLE_ENDIAN);
        private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);

        @Override
        public void encode(String value, ByteBuf out) {
            // the JDK's String.getBytes: a plain copy for ASCII text, with no loop over chars
            // (an unpaired surrogate becomes '?', as with Netty's writeUtf8)
            out.writeBytes(value.getBytes(StandardCharsets.UTF_8));
        }

        /**
         * A string over the framing's maximum gets -1 from the default five-argument form, as one that does not fit:
         * the {@code ByteBuf} way then encodes it once more and refuses it with its exact length.
         */
        @Override
        public int encode(String value, byte[] array, int offset, int limit) {
            byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            if (bytes.length > limit - offset) {
                return -1;
            }
            System.arraycopy(bytes, 0, array, offset, bytes.length);
            return offset + bytes.length;
        }

        @Override
        public String decode(ByteBuf frame) throws CharacterCodingException {
            byte[] bytes = new byte[frame.readableBytes()];
            frame.readBytes(bytes);
            return decode(bytes, 0, bytes.length);
        }

        @Override
        public String decode(byte[] array, int offset, int length) throws CharacterCodingException {
            if (isAscii(array, offset, length)) {
                // ASCII reads the same: a copy, no decoding
                return new String(array, offset, length, StandardCharsets.ISO_8859_1);
            }
            return decoder.reset().decode(ByteBuffer.wrap(array, offset, length)).toString();
        }

        /** Eight bytes at a time: no byte has its high bit set. */
        private static boolean isAscii(byte[] bytes, int offset, int length) {
            int i = offset;
            int end = offset + length;
            for (; i + Long.BYTES <= end; i += Long.BYTES) {
                if (((long) LONGS.get(bytes, i) & 0x8080808080808080L) != 0) {
                    return false;
                }
            }
            for (; i < end; i++) {
                if (bytes[i] < 0) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public Utf8 forHelper() {
            return new Utf8(); // the CharsetDecoder is stateful
        }
    }

    /** Also an {@link ArrayCodec}: frames are copied out of the array they were read into, and into the batch's. */
    private enum Bytes implements ArrayCodec<byte[]> {
        INSTANCE;

        @Override
        public void encode(byte[] value, ByteBuf out) {
            out.writeBytes(value);
        }

        @Override
        public int encode(byte[] value, byte[] array, int offset, int limit) {
            if (value.length > limit - offset) {
                return -1; // over the maximum too: the ByteBuf way refuses it, naming its length
            }
            System.arraycopy(value, 0, array, offset, value.length);
            return offset + value.length;
        }

        @Override
        public byte[] decode(ByteBuf frame) {
            byte[] bytes = new byte[frame.readableBytes()];
            frame.readBytes(bytes);
            return bytes;
        }

        @Override
        public byte[] decode(byte[] array, int offset, int length) {
            return Arrays.copyOfRange(array, offset, offset + length);
        }

        @Override
        public Bytes forHelper() {
            return this; // no state
        }
    }
}
