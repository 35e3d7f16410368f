package io.umhflux.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

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

    private static final class Utf8 implements Codec<String> {
        private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);

        @Override
        public void encode(String value, ByteBuf out) {
            ByteBufUtil.writeUtf8(out, value);
        }

        @Override
        public String decode(ByteBuf frame) throws CharacterCodingException {
            ByteBuffer bytes = frame.nioBufferCount() == 1 ? frame.nioBuffer()
                    : ByteBuffer.wrap(ByteBufUtil.getBytes(frame));
            CharBuffer chars = decoder.reset().decode(bytes);
            frame.skipBytes(frame.readableBytes());
            return chars.toString();
        }

        @Override
        public Codec<String> forHelper() {
            return new Utf8(); // the CharsetDecoder is stateful
        }
    }

    private enum Bytes implements Codec<byte[]> {
        INSTANCE;

        @Override
        public void encode(byte[] value, ByteBuf out) {
            out.writeBytes(value);
        }

        @Override
        public byte[] decode(ByteBuf frame) {
            byte[] bytes = new byte[frame.readableBytes()];
            frame.readBytes(bytes);
            return bytes;
        }
    }
}
