package io.umhflux.internal.pipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.umhflux.TestHelpers;
import io.umhflux.codec.ArrayCodec;
import io.umhflux.codec.Codec;
import io.umhflux.codec.Codecs;
import io.umhflux.codec.Framing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Frames on the wire: exact bytes, any chunking, and every kind of bad input. */
class FramedCodecTest {
    private static final int MAX = 1 << 16;

    private static Framing framing(Framing.Kind kind) {
        switch (kind) {
            case LENGTH_PREFIXED:
                return Framing.lengthPrefixed(MAX);
            case VARINT_PREFIXED:
                return Framing.varintPrefixed(MAX);
            case LINES:
                return Framing.lines(MAX);
            default:
                return Framing.raw();
        }
    }

    /**
     * Encodes {@code values} as the writer does: for an encoder that writes arrays, every other message straight into
     * the buffer's array (the {@code ByteBuf} way when it does not fit), so that both ways meet in one stream.
     */
    private static <T> byte[] encode(Framing framing, Codec<T> codec, List<T> values) throws Exception {
        FrameEncoder<T> encoder = FramedCodec.encoder(framing, codec);
        ByteBuf out = Unpooled.buffer();
        try {
            boolean viaArray = false;
            for (T v : values) {
                viaArray = !viaArray;
                if (viaArray && encoder.encodesArrays()) {
                    out.ensureWritable(64);
                    int base = out.arrayOffset();
                    int end = encoder.encodeArray(v, out.array(), base + out.writerIndex(), base + out.capacity());
                    if (end >= 0) {
                        out.writerIndex(end - base);
                        continue;
                    }
                }
                encoder.encode(v, out);
            }
            byte[] bytes = new byte[out.readableBytes()];
            out.readBytes(bytes);
            return bytes;
        } finally {
            out.release();
            encoder.release();
        }
    }

    /** Feeds {@code wire} in pieces cut at {@code cuts}, as reads would, and decodes like the inbound pipe. */
    private static <T> List<T> decode(Framing framing, Codec<T> codec, byte[] wire, int[] cuts) throws Exception {
        return decode(framing, codec, wire, cuts, false);
    }

    /**
     * As {@link #decode(Framing, Codec, byte[], int[])}, the bytes kept in native memory when {@code direct}. A heap
     * cumulation is walked as the inbound walks it: for a decoder of arrays, every other message is taken straight
     * from the array, the others through the {@code ByteBuf} (as while a message waits for demand).
     */
    private static <T> List<T> decode(Framing framing, Codec<T> codec, byte[] wire, int[] cuts, boolean direct)
            throws Exception {
        FrameDecoder<T> decoder = FramedCodec.decoder(framing, codec);
        ByteBuf cumulation = direct ? Unpooled.directBuffer() : Unpooled.buffer();
        List<T> out = new ArrayList<>();
        long offset = 0;
        try {
            int from = 0;
            for (int i = 0; i <= cuts.length; i++) {
                int to = i < cuts.length ? cuts[i] : wire.length;
                cumulation.writeBytes(wire, from, to - from);
                from = to;
                boolean viaArray = false;
                for (T v; ; ) {
                    int before = cumulation.readerIndex();
                    viaArray = !viaArray;
                    if (viaArray && !direct && decoder.decodesArrays()) {
                        int base = cumulation.arrayOffset();
                        v = decoder.decodeArray(cumulation.array(), base + before, base + cumulation.writerIndex(),
                                offset);
                        if (v != null) {
                            cumulation.readerIndex(decoder.arrayEnd() - base);
                        }
                    } else {
                        v = decoder.decode(cumulation, offset);
                    }
                    offset += cumulation.readerIndex() - before;
                    if (v == null) {
                        break;
                    }
                    out.add(v);
                }
                cumulation.discardReadBytes();
            }
            if (cumulation.isReadable()) {
                T last = decoder.endOfStream(cumulation, offset);
                if (last != null) {
                    out.add(last);
                }
            }
            return out;
        } finally {
            cumulation.release();
        }
    }

    private static <T> void roundTrip(Framing framing, Codec<T> codec, int expectedLength, T value) throws Exception {
        byte[] wire = encode(framing, codec, List.of(value));
        assertThat(wire).as("encoded length of %s with %s", value, framing).hasSize(expectedLength);
        assertThat(decode(framing, codec, wire, new int[0])).containsExactly(value);
    }

    @Test
    void encodedLengthsArePinned() throws Exception {
        String accented = "h\u00e9llo"; // 6 bytes of UTF-8
        roundTrip(Framing.lengthPrefixed(MAX), Codecs.utf8(), 4 + 6, accented);
        roundTrip(Framing.varintPrefixed(MAX), Codecs.utf8(), 1 + 6, accented);
        roundTrip(Framing.varintPrefixed(MAX), Codecs.utf8(), 2 + 300, "x".repeat(300));
        roundTrip(Framing.varintPrefixed(MAX), Codecs.utf8(), 3 + 20_000, "y".repeat(20_000));
        roundTrip(Framing.lines(MAX), Codecs.utf8(), 6 + 1, accented);
        roundTrip(Framing.lengthPrefixed(MAX), Codecs.utf8(), 4, "");
        assertThat(encode(Framing.lengthPrefixed(MAX), Codecs.bytes(), List.of(new byte[] {7, 8})))
                .containsExactly(0, 0, 0, 2, 7, 8);
        assertThat(encode(Framing.varintPrefixed(MAX), Codecs.bytes(), List.of(new byte[300])))
                .startsWith((byte) 0xac, (byte) 0x02);
    }

    @ParameterizedTest
    @EnumSource(value = Framing.Kind.class, names = {"LENGTH_PREFIXED", "VARINT_PREFIXED", "LINES"})
    void randomMessagesSurviveRandomChunkBoundaries(Framing.Kind kind) throws Exception {
        Random random = new Random(kind.ordinal() * 7919L);
        Framing framing = framing(kind);
        for (int round = 0; round < 200; round++) {
            List<String> messages = new ArrayList<>();
            for (int i = random.nextInt(20); i > 0; i--) {
                StringBuilder sb = new StringBuilder();
                for (int k = random.nextInt(random.nextBoolean() ? 10 : 400); k > 0; k--) {
                    sb.append((char) (random.nextBoolean() ? 'a' + random.nextInt(26) : 0xe0 + random.nextInt(32)));
                }
                messages.add(sb.toString());
            }
            byte[] wire = encode(framing, Codecs.utf8(), messages);
            int[] cuts = random.ints(random.nextInt(10), 0, wire.length + 1).sorted().toArray();
            assertThat(decode(framing, Codecs.utf8(), wire, cuts)).as("round %d, cuts %s", round, cuts)
                    .containsExactlyElementsOf(messages);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Framing.Kind.class, names = {"LENGTH_PREFIXED", "VARINT_PREFIXED", "LINES"})
    void aFrameSplitAtEveryOffsetDecodes(Framing.Kind kind) throws Exception {
        Framing framing = framing(kind);
        List<String> messages = List.of("first", "", "\u00fcber-" + "z".repeat(200), "last");
        byte[] wire = encode(framing, Codecs.utf8(), messages);
        for (int cut = 0; cut <= wire.length; cut++) {
            assertThat(decode(framing, Codecs.utf8(), wire, new int[] {cut})).containsExactlyElementsOf(messages);
        }
    }

    /** Codecs.bytes() is an ArrayCodec: any bytes, prefixed, survive both ways and any cuts, from heap or native. */
    @ParameterizedTest
    @EnumSource(value = Framing.Kind.class, names = {"LENGTH_PREFIXED", "VARINT_PREFIXED"})
    void bytesSurviveTheArrayAndByteBufWays(Framing.Kind kind) throws Exception {
        Random random = new Random(kind.ordinal() * 131L);
        Framing framing = framing(kind);
        assertThat(FramedCodec.decoder(framing, Codecs.bytes()).decodesArrays()).isTrue();
        for (int round = 0; round < 100; round++) {
            List<byte[]> messages = new ArrayList<>();
            for (int i = random.nextInt(20); i > 0; i--) {
                byte[] m = new byte[random.nextInt(random.nextBoolean() ? 10 : 400)];
                random.nextBytes(m);
                messages.add(m);
            }
            byte[] wire = encode(framing, Codecs.bytes(), messages);
            int[] cuts = random.ints(random.nextInt(10), 0, wire.length + 1).sorted().toArray();
            for (boolean direct : new boolean[] {false, true}) {
                List<byte[]> decoded = decode(framing, Codecs.bytes(), wire, cuts, direct);
                assertThat(decoded).as("round %d, cuts %s", round, cuts).hasSameSizeAs(messages);
                for (int i = 0; i < messages.size(); i++) {
                    assertThat(decoded.get(i)).as("message %d", i).isEqualTo(messages.get(i));
                }
            }
        }
    }

    /** The header checks, for a plain codec and for an ArrayCodec, whose frames are walked in the array. */
    private static List<Codec<?>> bothPaths() {
        return List.of(TestHelpers.plainBytes(), new Ascii());
    }

    @ParameterizedTest
    @MethodSource("bothPaths")
    void hugeOrNegativeLengthIsRejectedAtTheHeader(Codec<?> codec) {
        for (byte[] header : List.of(new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff},
                new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xfe})) {
            byte[] wire = new byte[8 + header.length];
            wire[3] = 4; // a good 4-byte frame first
            System.arraycopy(header, 0, wire, 8, header.length);
            // only the 4 header bytes of the bad frame are there: it fails without waiting for (or
            // allocating) the claimed gigabytes
            assertThatThrownBy(() -> decode(Framing.lengthPrefixed(MAX), codec, wire, new int[0]))
                    .isInstanceOfSatisfying(FrameException.class, e -> {
                        assertThat(e.offset()).isEqualTo(8);
                        assertThat(e.length()).isGreaterThan(MAX);
                        assertThat(e.getMessage()).contains("offset 8").contains("maximum is " + MAX);
                    });
        }
    }

    @ParameterizedTest
    @MethodSource("bothPaths")
    void malformedVarintIsRejected(Codec<?> codec) {
        // a good 1-byte frame, then six bytes of length of which five are read: it fails without the sixth too
        byte[] wire = {1, 'a', (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 1};
        for (int cut : new int[] {0, wire.length - 1}) {
            assertThatThrownBy(() -> decode(Framing.varintPrefixed(MAX), codec, wire, new int[] {cut}))
                    .isInstanceOfSatisfying(FrameException.class, e -> {
                        assertThat(e.offset()).isEqualTo(2);
                        assertThat(e.getMessage()).contains("malformed varint length at offset 2");
                    });
        }
    }

    @ParameterizedTest
    @MethodSource("bothPaths")
    void truncatedFrameAtEndOfStreamNamesOffsetAndLength(Codec<?> codec) {
        byte[] wire = {0, 0, 0, 1, 42, 0, 0, 0, 10, 1, 2, 3};
        assertThatThrownBy(() -> decode(Framing.lengthPrefixed(MAX), codec, wire, new int[0]))
                .isInstanceOfSatisfying(FrameException.class, e -> {
                    assertThat(e.offset()).isEqualTo(5);
                    assertThat(e.length()).isEqualTo(7);
                    assertThat(e.getMessage()).contains("ended inside a frame");
                });
    }

    @Test
    void invalidUtf8AndOverlongLinesAreRejected() {
        byte[] bad = {'o', 'k', '\n', (byte) 0xff, (byte) 0xfe, '\n'};
        assertThatThrownBy(() -> decode(Framing.lines(MAX), Codecs.utf8(), bad, new int[0]))
                .isInstanceOfSatisfying(FrameException.class, e -> {
                    assertThat(e.offset()).isEqualTo(3);
                    assertThat(e.getMessage()).contains("2-byte frame at offset 3").contains("Malformed");
                });
        byte[] longLine = "0123456789abcdef".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> decode(Framing.lines(8), Codecs.utf8(), longLine, new int[0]))
                .isInstanceOf(FrameException.class).hasMessageContaining("longer than the maximum of 8");
    }

    /** The largest maximum means "no limit": a line cut by a read waits for its end (max + 1 overflowed). */
    @Test
    void aLineCutByAReadWaitsForItsEndWithTheLargestMaximum() throws Exception {
        byte[] wire = "hello\nworld\n".getBytes(StandardCharsets.UTF_8);
        assertThat(decode(Framing.lines(Integer.MAX_VALUE), Codecs.utf8(), wire, new int[] {3, 8}))
                .containsExactly("hello", "world");
    }

    @Test
    void lastLineWithoutLineEndIsDelivered() throws Exception {
        byte[] wire = "a\r\nb\nc".getBytes(StandardCharsets.UTF_8);
        assertThat(decode(Framing.lines(MAX), Codecs.utf8(), wire, new int[0])).containsExactly("a", "b", "c");
    }

    @Test
    void oversizedOrMultilineMessagesAreRefusedOnEncode() {
        assertThatThrownBy(() -> encode(Framing.lengthPrefixed(4), Codecs.utf8(), List.of("12345")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maximum is 4");
        assertThatThrownBy(() -> encode(Framing.lines(MAX), Codecs.utf8(), List.of("two\nlines")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'\\n'");
        // the reader takes "\r\n" for a line end: "abc\r" would come back as "abc"
        assertThatThrownBy(() -> encode(Framing.lines(MAX), Codecs.utf8(), List.of("abc\r")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ends in '\\r'");
    }
    /** Reads its frame by absolute index, as the contract allows: index 0 is the frame's first byte. */
    private enum FirstByte implements Codec<Integer> {
        INSTANCE;

        @Override
        public void encode(Integer value, ByteBuf out) {
            out.writeByte(value).writeByte(value);
        }

        @Override
        public Integer decode(ByteBuf frame) {
            assertThat(frame.capacity()).as("the frame's capacity is its length").isEqualTo(2);
            int v = frame.getByte(0) & 0xff;
            frame.skipBytes(frame.readableBytes());
            return v;
        }
    }

    @ParameterizedTest
    @EnumSource(value = Framing.Kind.class, names = {"LENGTH_PREFIXED", "VARINT_PREFIXED"})
    void theCodecSeesItsFrameFromIndexZero(Framing.Kind kind) throws Exception {
        List<Integer> values = List.of(1, 2, 3, 200);
        byte[] wire = encode(framing(kind), FirstByte.INSTANCE, values);
        assertThat(decode(framing(kind), FirstByte.INSTANCE, wire, new int[] {3, 5})).isEqualTo(values);
    }

    /** Takes a retained slice of the first byte only, leaving the rest of its frame unread. */
    private static final class HalfReader implements Codec<ByteBuf> {
        @Override
        public void encode(ByteBuf value, ByteBuf out) {
            out.writeBytes(value);
        }

        @Override
        public ByteBuf decode(ByteBuf frame) {
            return frame.readRetainedSlice(1);
        }
    }

    @Test
    void aMessageRejectedForLeavingBytesUnreadIsReleased() throws Exception {
        HalfReader codec = new HalfReader();
        FrameDecoder<ByteBuf> decoder = FramedCodec.decoder(Framing.lengthPrefixed(MAX), codec);
        ByteBuf in = Unpooled.buffer().writeInt(3).writeBytes(new byte[] {7, 8, 9});
        try {
            assertThatThrownBy(() -> decoder.decode(in, 0)).isInstanceOf(FrameException.class)
                    .hasMessageContaining("left 2 of the 3 bytes of the frame at offset 0 unread");
            // the slice shares the input's count: retained by the codec, released with the rejected message
            assertThat(in.refCnt()).as("the rejected message was released").isEqualTo(1);
        } finally {
            in.release();
        }
    }

    /** ASCII strings, decoded from an array range or a slice; says which, and fails on "bad" and "null". */
    private static final class Ascii implements ArrayCodec<String> {
        final List<String> paths = new ArrayList<>();

        @Override
        public void encode(String value, ByteBuf out) {
            out.writeCharSequence(value, StandardCharsets.US_ASCII);
        }

        @Override
        public String decode(ByteBuf frame) {
            paths.add("slice");
            return check(frame.readCharSequence(frame.readableBytes(), StandardCharsets.US_ASCII).toString());
        }

        @Override
        public String decode(byte[] array, int offset, int length) {
            paths.add("array");
            return check(new String(array, offset, length, StandardCharsets.US_ASCII));
        }

        @Override
        public int encode(String value, byte[] array, int offset, int limit) {
            if (value.equals("unwritable")) {
                throw new IllegalArgumentException("cannot write that");
            }
            byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
            if (limit - offset < bytes.length) {
                return -1;
            }
            System.arraycopy(bytes, 0, array, offset, bytes.length);
            return offset + bytes.length;
        }

        private static String check(String s) {
            if (s.equals("bad")) {
                throw new IllegalArgumentException("bad input");
            }
            return s.equals("null") ? null : s;
        }

        @Override
        public Ascii forHelper() {
            return this;
        }
    }

    @ParameterizedTest
    @EnumSource(value = Framing.Kind.class, names = {"LENGTH_PREFIXED", "VARINT_PREFIXED", "LINES"})
    void anArrayCodecReadsFramesFromTheArrayOfHeapBytesAndSlicesOfNativeOnes(Framing.Kind kind) throws Exception {
        Random random = new Random(kind.ordinal() * 31L);
        Framing framing = framing(kind);
        for (boolean direct : new boolean[] {false, true}) {
            for (int round = 0; round < 100; round++) {
                List<String> messages = new ArrayList<>();
                for (int i = random.nextInt(20) + 1; i > 0; i--) {
                    messages.add("m" + "x".repeat(random.nextInt(random.nextBoolean() ? 10 : 300)));
                }
                byte[] wire = encode(framing, new Ascii(), messages);
                int[] cuts = random.ints(random.nextInt(10), 0, wire.length + 1).sorted().toArray();
                Ascii codec = new Ascii();
                assertThat(decode(framing, codec, wire, cuts, direct)).as("round %d, cuts %s", round, cuts)
                        .containsExactlyElementsOf(messages);
                assertThat(codec.paths).as("how the frames were handed over").hasSize(messages.size())
                        .containsOnly(direct ? "slice" : "array");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Framing.Kind.class, names = {"LENGTH_PREFIXED", "VARINT_PREFIXED", "LINES"})
    void anArrayCodecsFailureOrNullNamesTheFramesOffsetAndLength(Framing.Kind kind) throws Exception {
        Framing framing = framing(kind);
        for (String wrong : List.of("bad", "null")) {
            byte[] wire = encode(framing, new Ascii(), List.of("good", wrong, "never"));
            int at = encode(framing, new Ascii(), List.of("good")).length;
            assertThatThrownBy(() -> decode(framing, new Ascii(), wire, new int[] {at + 1}))
                    .isInstanceOfSatisfying(FrameException.class, e -> {
                        assertThat(e.offset()).isEqualTo(at);
                        assertThat(e.length()).isEqualTo(wrong.length());
                        assertThat(e.getMessage()).contains("offset " + at)
                                .contains(wrong.equals("bad") ? "bad input" : "to null");
                    });
        }
    }

    /** Small frames are kept in a heap array for an ArrayCodec, big ones in native memory; other codecs never. */
    @Test
    void theBytesOfSmallFramesGoToTheHeapForAnArrayCodecOnly() throws Exception {
        FrameDecoder<String> arrays = FramedCodec.decoder(Framing.lengthPrefixed(MAX), new Ascii());
        FrameDecoder<byte[]> plain = FramedCodec.decoder(Framing.lengthPrefixed(MAX), TestHelpers.plainBytes());
        assertThat(arrays.heapCumulation()).as("an ArrayCodec, before any frame").isTrue();
        assertThat(plain.heapCumulation()).as("another codec").isFalse();
        assertThat(FramedCodec.decoder(Framing.raw(), new Ascii()).heapCumulation()).as("raw chunks").isFalse();
        String big = "b".repeat(60_000);
        String small = "s".repeat(30);
        decodeAll(arrays, List.of(big));
        assertThat(arrays.heapCumulation()).as("after a 60,000-byte frame").isFalse();
        decodeAll(arrays, java.util.Collections.nCopies(30, small));
        assertThat(arrays.heapCumulation()).as("after thirty 30-byte frames").isTrue();
    }

    /**
     * Length-prefixed frames written straight into an array are the bytes the ByteBuf path writes; a frame that
     * does not fit below the limit, or whose message is over the maximum, is refused with -1 and nothing kept
     * (the writer then takes the ByteBuf path, which grows or names the maximum); the codec's own errors pass.
     */
    @Test
    void anArrayCodecWritesLengthPrefixedFramesStraightIntoAnArray() throws Exception {
        Framing framing = Framing.lengthPrefixed(8);
        FrameEncoder<String> encoder = FramedCodec.encoder(framing, new Ascii());
        assertThat(encoder.encodesArrays()).isTrue();
        assertThat(FramedCodec.encoder(Framing.varintPrefixed(8), new Ascii()).encodesArrays()).as("varint").isFalse();
        assertThat(FramedCodec.encoder(framing, TestHelpers.plainBytes()).encodesArrays()).as("another codec")
                .isFalse();
        byte[] array = new byte[40];
        java.util.Arrays.fill(array, (byte) 0x55);
        int end = encoder.encodeArray("ab", array, 3, 40);
        end = encoder.encodeArray("", array, end, 40);
        end = encoder.encodeArray("12345678", array, end, 40);
        assertThat(end).isEqualTo(3 + 6 + 4 + 12);
        assertThat(java.util.Arrays.copyOfRange(array, 3, end))
                .isEqualTo(encode(framing, new Ascii(), List.of("ab", "", "12345678")));
        assertThat(array[2]).isEqualTo((byte) 0x55);
        assertThat(array[end]).isEqualTo((byte) 0x55);
        assertThat(encoder.encodeArray("abc", array, 30, 36)).as("prefix fits, payload not").isEqualTo(-1);
        assertThat(encoder.encodeArray("", array, 30, 33)).as("no room for the prefix").isEqualTo(-1);
        assertThat(encoder.encodeArray("123456789", array, 0, 40)).as("over the maximum of 8").isEqualTo(-1);
        assertThatThrownBy(() -> encoder.encodeArray("unwritable", array, 0, 40))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("cannot write that");
    }

    /**
     * Lines written straight into an array are the bytes the ByteBuf path writes, the line end after each; a line
     * with no room for its end, or over the maximum, is -1 (the ByteBuf way then); a line end inside or a '\r' at the
     * end is refused as on the ByteBuf path.
     */
    @Test
    void anArrayCodecWritesLinesStraightIntoAnArray() throws Exception {
        Framing framing = Framing.lines(8);
        FrameEncoder<String> encoder = FramedCodec.encoder(framing, Codecs.utf8());
        assertThat(encoder.encodesArrays()).isTrue();
        assertThat(FramedCodec.encoder(Framing.raw(), Codecs.utf8()).encodesArrays()).as("raw").isFalse();
        byte[] array = new byte[40];
        java.util.Arrays.fill(array, (byte) 0x55);
        int end = encoder.encodeArray("ab", array, 3, 40);
        end = encoder.encodeArray("", array, end, 40);
        end = encoder.encodeArray("\u00fcber", array, end, 40);
        assertThat(end).isEqualTo(3 + 3 + 1 + 6);
        assertThat(java.util.Arrays.copyOfRange(array, 3, end))
                .isEqualTo("ab\n\n\u00fcber\n".getBytes(StandardCharsets.UTF_8))
                .isEqualTo(encode(framing, Codecs.bytes(), List.of("ab".getBytes(StandardCharsets.UTF_8), new byte[0],
                        "\u00fcber".getBytes(StandardCharsets.UTF_8))));
        assertThat(array[2]).isEqualTo((byte) 0x55);
        assertThat(array[end]).isEqualTo((byte) 0x55);
        assertThat(encoder.encodeArray("abc", array, 30, 33)).as("no room for the line end").isEqualTo(-1);
        assertThat(encoder.encodeArray("abc", array, 30, 34)).as("just room").isEqualTo(34);
        assertThat(encoder.encodeArray("", array, 30, 30)).as("no room at all").isEqualTo(-1);
        // over the maximum: the ByteBuf way refuses it, with its length
        assertThat(encoder.encodeArray("123456789", array, 0, 40)).as("over the maximum of 8").isEqualTo(-1);
        assertThat(encoder.encodeArray("\u00fc\u00fc\u00fc\u00fc\u00fc", array, 0, 40)).as("5 chars, 10 bytes")
                .isEqualTo(-1);
        assertThatThrownBy(() -> encode(framing, Codecs.utf8(), List.of("\u00fc\u00fc\u00fc\u00fc\u00fc")))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("message encodes to 10 bytes; the framing's"
                        + " maximum is 8");
        assertThatThrownBy(() -> encoder.encodeArray("two\nof", array, 0, 40))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'\\n'");
        assertThatThrownBy(() -> encoder.encodeArray("abc\r", array, 0, 40))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ends in '\\r'");
    }

    /** The line end is found in every position of an eight-byte word, and past the words; none is found outside. */
    @Test
    void theLineEndIsFoundWhereverItIs() {
        for (int length = 0; length <= 40; length++) {
            for (int at = -1; at < length; at++) {
                byte[] array = new byte[length + 6];
                java.util.Arrays.fill(array, (byte) 0x8a); // 0x0a with the high bit: no line end
                array[0] = '\n';
                array[array.length - 1] = '\n';
                if (at >= 0) {
                    array[3 + at] = '\n';
                    array[3 + at + (at + 1 < length ? 1 : 0)] = '\n'; // the first of two counts
                }
                assertThat(FramedCodec.indexOfLineEnd(array, 3, 3 + length)).as("length %d, at %d", length, at)
                        .isEqualTo(at < 0 ? -1 : 3 + at);
            }
        }
    }

    /** ASCII strings from and into ByteBufs and arrays; how it writes arrays is up to each subclass. */
    private abstract static class PlainAscii implements ArrayCodec<String> {
        @Override
        public void encode(String value, ByteBuf out) {
            out.writeCharSequence(value, StandardCharsets.US_ASCII);
        }

        @Override
        public String decode(ByteBuf frame) {
            return frame.readCharSequence(frame.readableBytes(), StandardCharsets.US_ASCII).toString();
        }

        @Override
        public String decode(byte[] array, int offset, int length) {
            return new String(array, offset, length, StandardCharsets.US_ASCII);
        }

        @Override
        public PlainAscii forHelper() {
            return this;
        }
    }

    /** Throws what a decoder may hit on a frame's word: an array of the size it declares, or nesting as deep. */
    private static final class ErrorThrowing extends PlainAscii {
        @Override
        public String decode(ByteBuf frame) {
            return thrown(super.decode(frame));
        }

        @Override
        public String decode(byte[] array, int offset, int length) {
            return thrown(super.decode(array, offset, length));
        }

        private static String thrown(String word) {
            if (word.equals("huge")) {
                throw new OutOfMemoryError("Requested array size exceeds VM limit");
            }
            if (word.equals("deep")) {
                throw new StackOverflowError();
            }
            return word;
        }

        @Override
        public int encode(String value, byte[] array, int offset, int limit) {
            return -1;
        }
    }

    /**
     * An OutOfMemoryError or StackOverflowError from a codec fails the frame, like any decode failure: thrown on
     * the event loop, it would end the loop and every helper on it.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void errorsADecoderHitsOnAFrameAreFrameErrors(boolean direct) throws Exception {
        for (Framing framing : List.of(Framing.lengthPrefixed(MAX), Framing.lines(MAX))) {
            for (String word : List.of("huge", "deep")) {
                byte[] wire = encode(framing, new Ascii(), List.of("ok", word));
                assertThatThrownBy(() -> decode(framing, new ErrorThrowing(), wire, new int[0], direct))
                        .as("%s, %s, direct %s", framing, word, direct)
                        .isInstanceOfSatisfying(FrameException.class, e -> {
                            assertThat(e.offset()).isEqualTo(framing.kind() == Framing.Kind.LINES ? 3 : 6);
                            assertThat(e.getMessage()).contains("cannot decode the 4-byte frame");
                        })
                        .hasCauseInstanceOf(word.equals("huge") ? OutOfMemoryError.class : StackOverflowError.class);
            }
        }
    }

    /** Writes ASCII into arrays; knows a value's length up front, and heeds the maximum or not. */
    private static final class SizedAscii extends PlainAscii {
        private final boolean heedsMaximum;

        SizedAscii(boolean heedsMaximum) {
            this.heedsMaximum = heedsMaximum;
        }

        @Override
        public int encode(String value, byte[] array, int offset, int limit) {
            return encode(value, array, offset, limit, Integer.MAX_VALUE);
        }

        @Override
        public int encode(String value, byte[] array, int offset, int limit, int maxLength) {
            if (heedsMaximum && value.length() > maxLength) {
                return -2;
            }
            if (value.length() > limit - offset) {
                return -1;
            }
            byte[] ascii = value.getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(ascii, 0, array, offset, ascii.length);
            return offset + ascii.length;
        }

    }

    /** A message over the maximum is refused as soon as the codec knows; one that passes it anyway, once written. */
    @Test
    void anArrayCodecTellsOfAMessageOverTheMaximumOrItIsRefusedOnceWritten() throws Exception {
        byte[] array = new byte[40];
        FrameEncoder<String> heeding = FramedCodec.encoder(Framing.lengthPrefixed(8), new SizedAscii(true));
        assertThatThrownBy(() -> heeding.encodeArray("123456789", array, 0, 40))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("message encodes to more than 8 bytes; the framing's maximum is 8");
        assertThat(heeding.encodeArray("12345678", array, 0, 40)).isEqualTo(12);
        assertThat(heeding.encodeArray("12345678", array, 30, 40)).as("fits the maximum, not the room").isEqualTo(-1);
        FrameEncoder<String> heedless = FramedCodec.encoder(Framing.lengthPrefixed(8), new SizedAscii(false));
        assertThatThrownBy(() -> heedless.encodeArray("123456789", array, 0, 40))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("message encodes to 9 bytes; the framing's maximum is 8");
    }

    /** The varint framing's own buffer stops at the maximum: a message far over it is not copied whole first. */
    @Test
    void aVarintPrefixedMessageOverTheMaximumFailsBeforeItIsCopied() throws Exception {
        int[] room = new int[1];
        Codec<byte[]> bytes = new Codec<>() {
            @Override
            public void encode(byte[] value, ByteBuf out) {
                room[0] = out.maxWritableBytes();
                out.writeBytes(value);
            }

            @Override
            public byte[] decode(ByteBuf frame) {
                throw new UnsupportedOperationException();
            }
        };
        FrameEncoder<byte[]> encoder = FramedCodec.encoder(Framing.varintPrefixed(16), bytes);
        ByteBuf out = Unpooled.buffer();
        try {
            assertThatThrownBy(() -> encoder.encode(new byte[32 << 20], out))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("cannot encode the message within the framing's maximum of 16 bytes")
                    .hasCauseInstanceOf(IndexOutOfBoundsException.class);
            assertThat(room[0]).as("what the codec may write").isEqualTo(16);
            assertThat(out.writerIndex()).isZero();
            encoder.encode(new byte[16], out);
            assertThat(out.readableBytes()).isEqualTo(1 + 16);
        } finally {
            encoder.release();
            out.release();
        }
    }

    /** Says it wrote further than it was allowed to, or ended before it began. */
    private static final class Overreaching extends PlainAscii {
        private final int by;

        Overreaching(int by) {
            this.by = by;
        }

        @Override
        public int encode(String value, byte[] array, int offset, int limit) {
            return by > 0 ? limit + by : offset + by;
        }

    }

    /** An end outside the room given is the codec's bug: an error naming it, never a corrupt batch. */
    @Test
    void anArrayCodecThatEndsOutsideItsRoomIsAnError() {
        byte[] array = new byte[40];
        for (int by : new int[] {1, -1}) {
            FrameEncoder<String> encoder = FramedCodec.encoder(Framing.lengthPrefixed(MAX), new Overreaching(by));
            assertThatThrownBy(() -> encoder.encodeArray("x", array, 0, 20))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(Overreaching.class.getName())
                    .hasMessageContaining("outside the room it was given (4 to 20)");
        }
    }

    private static void decodeAll(FrameDecoder<String> decoder, List<String> messages) throws Exception {
        ByteBuf in = Unpooled.wrappedBuffer(encode(Framing.lengthPrefixed(MAX), new Ascii(), messages));
        try {
            for (String m : messages) {
                assertThat(decoder.decode(in, 0)).isEqualTo(m);
            }
        } finally {
            in.release();
        }
    }
}
