package io.umhflux.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CodecsTest {
    private final Codec<String> utf8 = Codecs.utf8();

    private String roundTrip(String value) throws Exception {
        ByteBuf buf = Unpooled.directBuffer();
        try {
            utf8.encode(value, buf);
            assertThat(buf.toString(StandardCharsets.UTF_8)).isEqualTo(value);
            String back = utf8.decode(buf);
            assertThat(buf.isReadable()).as("the frame is consumed").isFalse();
            return back;
        } finally {
            buf.release();
        }
    }

    /** Every length around the eight-byte steps of the ASCII check, with the non-ASCII char at every position. */
    @Test
    void utf8RoundTripsAsciiAndNonAsciiAtEveryPosition() throws Exception {
        for (int length = 0; length <= 24; length++) {
            String ascii = "abcdefghijklmnopqrstuvwxyz".substring(0, length);
            assertThat(roundTrip(ascii)).isEqualTo(ascii);
            for (int at = 0; at < length; at++) {
                String mixed = ascii.substring(0, at) + "\u00fc\u20ac" + ascii.substring(at);
                assertThat(roundTrip(mixed)).isEqualTo(mixed);
            }
        }
        assertThat(roundTrip("\uD83D\uDE00 emoji")).isEqualTo("\uD83D\uDE00 emoji");
    }

    /** A malformed byte fails the decode wherever it is: inside an eight-byte word or in the tail. */
    @Test
    void utf8RefusesMalformedBytesAnywhere() {
        for (int length = 1; length <= 20; length++) {
            for (int at = 0; at < length; at++) {
                byte[] stray = new byte[length];
                java.util.Arrays.fill(stray, (byte) 'a');
                stray[at] = (byte) 0xFF; // never valid in UTF-8
                assertThatThrownBy(() -> utf8.decode(Unpooled.wrappedBuffer(stray)))
                        .isInstanceOf(CharacterCodingException.class);
            }
            byte[] cut = new byte[length];
            java.util.Arrays.fill(cut, (byte) 'a');
            cut[length - 1] = (byte) 0xC3; // a lead byte without its continuation
            assertThatThrownBy(() -> utf8.decode(Unpooled.wrappedBuffer(cut)))
                    .isInstanceOf(CharacterCodingException.class);
        }
    }
}
