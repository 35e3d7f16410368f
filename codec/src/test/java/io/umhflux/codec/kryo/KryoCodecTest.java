package io.umhflux.codec.kryo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static io.umhflux.codec.kryo.Allocations.allocatedHere;

import com.esotericsoftware.kryo.KryoException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class KryoCodecTest {
    private final KryoCodec<Object> codec = KryoCodec.of(Object.class, Messages::register);

    private static byte[] golden(String name) throws IOException {
        try (InputStream in = KryoCodecTest.class.getResourceAsStream("/golden/" + name)) {
            return HexFormat.of().parseHex(new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip());
        }
    }

    private ByteBuf encode(Object value) throws Exception {
        ByteBuf out = Unpooled.buffer();
        codec.encode(value, out);
        return out;
    }

    private void roundTrip(int expectedLength, Object value) throws Exception {
        ByteBuf bytes = encode(value);
        try {
            assertThat(bytes.readableBytes()).as("encoded length of %s", value).isEqualTo(expectedLength);
            byte[] written = new byte[expectedLength + 5];
            assertThat(codec.encode(value, written, 2, written.length)).as("array path end")
                    .isEqualTo(2 + expectedLength);
            assertThat(java.util.Arrays.copyOfRange(written, 2, 2 + expectedLength))
                    .isEqualTo(ByteBufUtil.getBytes(bytes));
            // the array path: the frame between other bytes of the array it was read into
            byte[] around = new byte[expectedLength + 7];
            bytes.getBytes(bytes.readerIndex(), around, 3, expectedLength);
            assertThat(codec.forHelper().decode(around, 3, expectedLength)).isEqualTo(value);
            assertThat(codec.forHelper().decode(bytes)).isEqualTo(value);
            assertThat(bytes.isReadable()).as("the whole frame is consumed").isFalse();
        } finally {
            bytes.release();
        }
    }

    /**
     * An idle helper's codec must not pin the last (possibly grown, big) array it decoded from: the reader calls
     * {@code releaseArrays()} after each turn (TypedMessagesTest checks that it does), and the codec lets go then.
     */
    @Test
    void theCodecKeepsNoReferenceToTheBytesItDecodedFromOnceReleased() throws Exception {
        byte[] point = golden("point-3-minus-4.hex");
        KryoCodec<Object> mine = codec.forHelper();
        byte[] big = new byte[8 << 20];
        System.arraycopy(point, 0, big, 100, point.length);
        assertThat(mine.decode(big, 100, point.length)).isEqualTo(new Point(3, -4));
        ByteBuf heap = Unpooled.wrappedBuffer(big, 100, point.length);
        assertThat(mine.decode(heap)).isEqualTo(new Point(3, -4));
        java.lang.ref.WeakReference<byte[]> array = new java.lang.ref.WeakReference<>(big);
        big = null;
        heap = null;
        mine.releaseArrays();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> {
            System.gc();
            return array.get() == null;
        });
        assertThat(mine.decode(point, 0, point.length)).as("still decodes after").isEqualTo(new Point(3, -4));
    }

    /** A number, read by a serializer that notes how far its Input says it has read. */
    record Counted(int n) {
    }

    /**
     * A large frame in native memory whose {@code nioBuffer()} starts past 0 (a read-only {@code ByteBuffer} that
     * Netty wraps without slicing), with the reader index past 0: the codec takes exactly the message's bytes.
     */
    @Test
    void aLargeDirectFrameIsConsumedExactlyWhereverItsNioBufferStarts() throws Exception {
        KryoCodec<Object> bytes = KryoCodec.of(Object.class, k -> k.register(byte[].class, 30));
        ByteBuf encoded = Unpooled.buffer();
        bytes.encode(new byte[5000], encoded);
        int n = encoded.readableBytes();
        java.nio.ByteBuffer direct = java.nio.ByteBuffer.allocateDirect(8 + n);
        direct.position(8);
        direct.put(encoded.nioBuffer());
        direct.clear();
        ByteBuf frame = Unpooled.wrappedBuffer(direct.asReadOnlyBuffer());
        frame.readerIndex(8);
        assertThat(bytes.forHelper().decode(frame)).isInstanceOf(byte[].class);
        assertThat(frame.readableBytes()).as("bytes left unread").isZero();
        encoded.release();
    }

    /** A read that failed leaves nothing of itself in the Input for the next frame on the same array. */
    @Test
    void aFailedReadLeavesTheInputFreshForTheNextFrameOnTheSameArray() throws Exception {
        List<Long> totals = new java.util.ArrayList<>();
        KryoCodec<Object> template = KryoCodec.of(Object.class, kryo -> kryo.register(Counted.class,
                new com.esotericsoftware.kryo.Serializer<Counted>() {
                    @Override
                    public void write(com.esotericsoftware.kryo.Kryo k, com.esotericsoftware.kryo.io.Output out,
                            Counted value) {
                        out.writeInt(value.n());
                        out.writeInt(value.n());
                    }

                    @Override
                    public Counted read(com.esotericsoftware.kryo.Kryo k, com.esotericsoftware.kryo.io.Input in,
                            Class<? extends Counted> type) {
                        int n = in.readInt();
                        in.readInt();
                        totals.add(in.total());
                        return new Counted(n);
                    }
                }, 40));
        KryoCodec<Object> mine = template.forHelper();
        byte[] array = new byte[64];
        int end = template.encode(new Counted(7), array, 0, array.length);
        assertThat(mine.decode(array, 0, end)).isEqualTo(new Counted(7));
        // cut where the second number starts: Kryo compacts its empty buffer, counting what it read, then fails
        assertThatThrownBy(() -> mine.decode(array, 0, end - 4)).isInstanceOf(KryoException.class);
        assertThat(mine.decode(array, 0, end)).isEqualTo(new Counted(7));
        assertThat(totals).hasSize(2);
        assertThat(totals.get(1)).as("what the Input counts as read, after a failed read").isEqualTo(totals.get(0));
    }

    /** Nor the last (big) array it encoded into, once released: the writer calls it after each batch. */
    @Test
    void theCodecKeepsNoReferenceToTheArrayItEncodedIntoOnceReleased() throws Exception {
        KryoCodec<Object> mine = codec.forHelper();
        byte[] big = new byte[8 << 20];
        int end = mine.encode(new Point(3, -4), big, 100, big.length);
        assertThat(mine.decode(big, 100, end - 100)).isEqualTo(new Point(3, -4));
        java.lang.ref.WeakReference<byte[]> array = new java.lang.ref.WeakReference<>(big);
        big = null;
        mine.releaseArrays();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> {
            System.gc();
            return array.get() == null;
        });
        byte[] small = new byte[64];
        int again = mine.encode(new Point(3, -4), small, 0, small.length);
        assertThat(mine.decode(small, 0, again)).as("still encodes after").isEqualTo(new Point(3, -4));
    }

    @Test
    void anArrayRangeMustHoldExactlyOneMessage() throws Exception {
        byte[] point = golden("point-3-minus-4.hex");
        byte[] longer = java.util.Arrays.copyOf(point, point.length + 2);
        assertThatThrownBy(() -> codec.decode(longer, 0, longer.length)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the message took " + point.length + " of the frame's " + longer.length + " bytes; 2 were"
                        + " left unread");
        assertThatThrownBy(() -> codec.decode(point, 0, point.length - 1)).isInstanceOf(KryoException.class)
                .hasMessageContaining("Buffer underflow");
        assertThat(codec.decode(longer, 0, point.length)).isEqualTo(new Point(3, -4));
    }

    @Test
    void recordsRoundTripWithPinnedLengths() throws Exception {
        // 1 byte class id (20 + 2, varint), then x and y as zig-zag varints
        roundTrip(3, new Point(0, 0));
        roundTrip(5, new Point(100, -100));
        roundTrip(11, new Point(Integer.MAX_VALUE, Integer.MIN_VALUE));
    }

    @Test
    void bytesMatchTheGoldenFile() throws Exception {
        // golden/point-3-minus-4.hex holds the bytes of new Point(3, -4); regenerate it (only when the wire
        // format is meant to change) by printing ByteBufUtil.hexDump(encode(new Point(3, -4)))
        ByteBuf bytes = encode(new Point(3, -4));
        try {
            assertThat(ByteBufUtil.getBytes(bytes)).isEqualTo(golden("point-3-minus-4.hex"));
        } finally {
            bytes.release();
        }
    }

    @Test
    void anUnregisteredClassIdFailsBeforeAnythingIsInstantiated() throws Exception {
        KryoCodec<Object> lenient = KryoCodec.of(Object.class, kryo -> {
            Messages.register(kryo);
            kryo.register(Messages.Secret.class, 30);
        });
        Messages.Secret secret = new Messages.Secret();
        secret.value = 7;
        ByteBuf bytes = Unpooled.buffer();
        lenient.encode(secret, bytes);
        int made = Messages.SECRETS_MADE.get();
        try {
            assertThatThrownBy(() -> codec.decode(bytes))
                    .isInstanceOf(KryoException.class)
                    .hasMessageContaining("unregistered class ID: 30");
            assertThat(Messages.SECRETS_MADE.get()).as("instances created by the failed decode").isEqualTo(made);
        } finally {
            bytes.release();
        }
    }

    @Test
    void unregisteredClassesCannotBeSent() {
        assertThatThrownBy(() -> encode(new Messages.Secret())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Class is not registered");
    }

    @Test
    void eachHelperGetsItsOwnKryo() {
        KryoCodec<?> a = (KryoCodec<?>) codec.forHelper();
        KryoCodec<?> b = (KryoCodec<?>) codec.forHelper();
        assertThat(a).isNotSameAs(b).isNotSameAs(codec);
    }
    @Test
    void heapBuffersAreWrittenInPlaceWithTheSameBytesAsDirectOnes() throws Exception {
        // heap: Kryo writes straight into the buffer's array; direct: through an Output and a copy
        Point p = new Point(Integer.MAX_VALUE, Integer.MIN_VALUE);
        ByteBuf heap = Unpooled.buffer(64);
        ByteBuf direct = Unpooled.directBuffer(64);
        ByteBuf tight = Unpooled.buffer(2); // room for 2 of the 11 bytes: the message spills, then is appended
        try {
            heap.writeByte(0x7f); // something already in the batch stays as it is
            codec.encode(p, heap);
            codec.encode(p, direct);
            codec.encode(p, tight);
            assertThat(ByteBufUtil.getBytes(heap, 1, heap.readableBytes() - 1)).isEqualTo(ByteBufUtil.getBytes(direct))
                    .isEqualTo(ByteBufUtil.getBytes(tight)).hasSize(11);
            assertThat(heap.getByte(0)).isEqualTo((byte) 0x7f);
            assertThat(codec.forHelper().decode(tight)).isEqualTo(p);
        } finally {
            heap.release();
            direct.release();
            tight.release();
        }
    }

    @Test
    void aWindowOnAnArrayIsNeverWrittenPastItsCapacity() throws Exception {
        // a slice of a larger array (as pooled heap buffers are): the bytes around it must stay untouched
        byte[] array = new byte[40];
        java.util.Arrays.fill(array, (byte) 0x55);
        ByteBuf fits = Unpooled.wrappedBuffer(array, 10, 11).clear();
        codec.encode(new Point(Integer.MAX_VALUE, Integer.MIN_VALUE), fits);
        assertThat(fits.readableBytes()).isEqualTo(11);
        ByteBuf small = Unpooled.wrappedBuffer(array, 25, 4).clear();
        assertThatThrownBy(() -> codec.encode(new Point(Integer.MAX_VALUE, Integer.MIN_VALUE), small))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(small.writerIndex()).as("nothing written into a buffer that cannot take the message").isZero();
        for (int i : new int[] {0, 9, 21, 24, 29, 39}) {
            assertThat(array[i]).as("byte %d, outside both windows", i).isEqualTo((byte) 0x55);
        }
    }
    /** A message with a string, to declare a string's length in a frame. */
    record Named(String name) {
    }

    private static final KryoCodec<Object> ARRAYS = KryoCodec.of(Object.class, kryo -> {
        kryo.register(byte[].class, 30);
        kryo.register(int[].class, 31);
        kryo.register(long[].class, 32);
        kryo.register(char[].class, 33);
        kryo.register(Named.class, 34);
    });

    /**
     * The first bytes of a frame that declares {@code count} elements of {@code kind} (or characters) and holds
     * none of them, padded with zeros to {@code length} bytes.
     */
    private static byte[] declaring(String kind, int count, int length) throws Exception {
        com.esotericsoftware.kryo.io.Output out = new com.esotericsoftware.kryo.io.Output(length);
        if (kind.equals("String")) {
            byte[] named = new byte[64];
            int end = ARRAYS.encode(new Named("\u00e9"), named, 0, named.length); // UTF-8: a counted string
            out.writeBytes(named, 0, end - 3); // all but the string's count and its two bytes
            out.writeVarIntFlag(true, count + 1, true);
        } else {
            int id = java.util.List.of("byte[]", "int[]", "long[]", "char[]").indexOf(kind) + 30;
            out.writeVarInt(id + 2, true);
            out.writeVarInt(count + 1, true);
        }
        byte[] frame = java.util.Arrays.copyOf(out.getBuffer(), length);
        return frame;
    }

    /**
     * What Kryo reads inside a frame (Kryo #1282): a frame that declares far more array
     * elements or characters than it holds fails before Kryo allocates for them, on the array path and on the
     * native-memory path of big frames.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"byte[]", "int[]", "long[]", "char[]", "String"})
    void aFrameThatDeclaresMoreThanItHoldsAllocatesNothingForIt(String kind) throws Exception {
        KryoCodec<Object> reader = ARRAYS.forHelper();
        int count = 100_000_000;
        byte[] small = declaring(kind, count, 12);
        ByteBuf big = Unpooled.directBuffer(8192).writeBytes(declaring(kind, count, 8192));
        byte[] cut = declaring(kind, 40, 12); // warm: the classes and paths a failed decode takes, but no big array
        for (int path = 0; path < 2; path++) {
            try {
                reader.decode(cut, 0, cut.length);
            } catch (KryoException expected) {
                // 40 declared, fewer held
            }
            ByteBuf held = Unpooled.directBuffer(8192).writeBytes(declaring(kind, 40, 8192));
            try {
                reader.decode(held); // 40 zeros, held
            } finally {
                held.release();
            }
        }
        for (int path = 0; path < 2; path++) { // every time: a Kryo Input keeps a char array it grew for good
            Throwable thrown = null;
            long before = allocatedHere();
            try {
                if (path == 0) {
                    reader.decode(small, 0, small.length);
                } else {
                    reader.decode(big);
                }
            } catch (KryoException e) {
                thrown = e;
            }
            long allocated = allocatedHere() - before;
            assertThat(thrown).as("path %d", path).isNotNull();
            assertThat(allocated).as("bytes allocated for a frame that declares %,d of %s (path %d)", count, kind,
                    path).isLessThan(1 << 20);
        }
        big.release();
        // a frame that holds what it declares still decodes
        char[] chars = {'a', 'b'};
        assertThat(reader.decode(encodeArray(ARRAYS, chars), 0, encodeArray(ARRAYS, chars).length)).isEqualTo(chars);
        Named named = new Named("caf\u00e9 \u2615");
        byte[] bytes = encodeArray(ARRAYS, named);
        assertThat(reader.decode(bytes, 0, bytes.length)).isEqualTo(named);
    }

    /**
     * A string's character count of Integer.MIN_VALUE, which Kryo counts down to Integer.MAX_VALUE before it makes
     * its char array: refused too, on both paths, before Kryo allocates (no OutOfMemoryError on the event loop).
     */
    @Test
    void aStringCountThatKryoWouldWrapToTheLargestIsRefusedToo() {
        byte[] frame = {3, (byte) 0xC0, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x10}; // String (id 1), then the count
        KryoCodec<Object> reader = ARRAYS.forHelper();
        assertThatThrownBy(() -> reader.decode(frame, 0, frame.length)).isInstanceOf(KryoException.class)
                .hasMessageContaining("declares 2147483647 elements");
        ByteBuf big = Unpooled.directBuffer(8192).writeBytes(frame).writeZero(8000);
        try {
            assertThatThrownBy(() -> reader.decode(big)).isInstanceOf(KryoException.class)
                    .hasMessageContaining("declares 2147483647 elements");
        } finally {
            big.release();
        }
    }

    private static byte[] encodeArray(KryoCodec<Object> codec, Object value) {
        byte[] array = new byte[256];
        return java.util.Arrays.copyOf(array, codec.encode(value, array, 0, array.length));
    }

    @Test
    void aMessageOverTheMaximumStopsKryoThereWithoutKeepingItsSize() throws Exception {
        KryoCodec<Object> bytes = KryoCodec.of(Object.class, kryo -> kryo.register(byte[].class, 30));
        byte[] huge = new byte[32 << 20];
        int max = 1 << 20;
        byte[] batch = new byte[64 * 1024];
        bytes.encode(new byte[100], batch, 0, batch.length, max); // warm: what the measured call allocates is its own
        long before = allocatedHere();
        int end = bytes.encode(huge, batch, 0, batch.length, max);
        long allocated = allocatedHere() - before;
        assertThat(end).as("over the maximum").isEqualTo(-2);
        assertThat(allocated).as("bytes allocated to find out (the message takes 32 MiB)").isLessThan(3L * max);
        // nothing of it is kept for the next message, by either path
        assertThat(bytes.encode(new byte[] {7}, batch, 10, batch.length, max)).isEqualTo(10 + 3);
        assertThat(java.util.Arrays.copyOfRange(batch, 10, 13)).containsExactly(32, 1 + 1, 7);
        ByteBuf out = Unpooled.buffer();
        bytes.encode(new byte[] {9}, out);
        assertThat(ByteBufUtil.getBytes(out)).containsExactly(32, 1 + 1, 9);
        out.release();
        // a message under the maximum but over the batch's room still spills whole, for the ByteBuf call after
        byte[] big = new byte[200_000];
        big[199_999] = 42;
        assertThat(bytes.encode(big, batch, 0, batch.length, max)).isEqualTo(-1);
        ByteBuf spilled = Unpooled.buffer();
        bytes.encode(big, spilled);
        assertThat(bytes.forHelper().decode(spilled)).isEqualTo(big);
        spilled.release();
        // the spill array a message left behind (kept while small) does not lift a smaller maximum
        assertThat(bytes.encode(new byte[30_000], batch, 0, 1000, max)).isEqualTo(-1);
        assertThat(bytes.encode(new byte[10_000], batch, 0, 1000, 5_000)).isEqualTo(-2);
    }

    @Test
    void aMessageOverWhatItsBufferCanTakeStopsKryoThere() throws Exception {
        KryoCodec<Object> bytes = KryoCodec.of(Object.class, kryo -> kryo.register(byte[].class, 30));
        byte[] huge = new byte[32 << 20];
        ByteBuf bounded = Unpooled.buffer(256, 1 << 20);
        bytes.encode(new byte[100], bounded);
        bounded.clear();
        Throwable thrown = null;
        long before = allocatedHere();
        try {
            bytes.encode(huge, bounded);
        } catch (IndexOutOfBoundsException e) {
            thrown = e;
        }
        long allocated = allocatedHere() - before;
        assertThat(thrown).isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessageContaining("more than " + (1 << 20) + " bytes");
        assertThat(allocated).as("bytes allocated to find out (the message takes 32 MiB)").isLessThan(3L << 20);
        assertThat(bounded.writerIndex()).isZero();
        bounded.release();
        // a direct buffer: through the codec's own Output, bounded the same way
        ByteBuf direct = Unpooled.directBuffer(256, 1 << 20);
        bytes.encode(new byte[100], direct);
        direct.clear();
        Throwable fromDirect = null;
        long beforeDirect = allocatedHere();
        try {
            bytes.encode(huge, direct);
        } catch (IndexOutOfBoundsException e) {
            fromDirect = e;
        }
        long allocatedDirect = allocatedHere() - beforeDirect;
        assertThat(fromDirect).isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessageContaining("more than " + (1 << 20) + " bytes");
        assertThat(allocatedDirect).as("bytes allocated on the direct path").isLessThan(3L << 20);
        assertThat(direct.writerIndex()).isZero();
        direct.release();
        // the two-argument array method (no maximum) still takes what fits an array
        assertThat(bytes.encode(new byte[] {5}, new byte[8], 0, 8)).isEqualTo(3);
    }

    @Test
    void aValueOfAnotherTypeOrNullIsRefused() throws Exception {
        KryoCodec<Object> any = KryoCodec.of(Object.class, kryo -> {
            Messages.register(kryo);
            kryo.register(String.class, 31);
        });
        KryoCodec<Point> points = KryoCodec.of(Point.class, kryo -> {
            Messages.register(kryo);
            kryo.register(String.class, 31);
        });
        ByteBuf text = Unpooled.buffer();
        ByteBuf nothing = Unpooled.buffer();
        try {
            any.encode("not a point", text);
            com.esotericsoftware.kryo.io.Output out = new com.esotericsoftware.kryo.io.Output(8);
            new com.esotericsoftware.kryo.Kryo().writeClassAndObject(out, null);
            nothing.writeBytes(out.toBytes());
            assertThatThrownBy(() -> points.decode(text)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("decoded a java.lang.String, not a " + Point.class.getName());
            assertThatThrownBy(() -> any.decode(nothing)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("decoded a null");
        } finally {
            text.release();
            nothing.release();
        }
    }
    private static Object randomValue(java.util.Random r) {
        switch (r.nextInt(7)) {
            case 0: {
                StringBuilder sb = new StringBuilder();
                for (int i = r.nextInt(300); i > 0; i--) {
                    sb.append(r.nextInt(4) == 0 ? (char) (0x80 + r.nextInt(0x3000)) : (char) (32 + r.nextInt(90)));
                }
                return sb.toString();
            }
            case 1: {
                byte[] b = new byte[r.nextInt(600)];
                r.nextBytes(b);
                return b;
            }
            case 2:
                return r.nextLong();
            case 3:
                return new Point(r.nextInt(), r.nextInt());
            case 4: {
                java.util.List<Object> l = new java.util.ArrayList<>();
                for (int i = r.nextInt(8); i > 0; i--) {
                    l.add(randomValue(r));
                }
                return l;
            }
            case 5: {
                java.util.HashMap<String, Object> m = new java.util.HashMap<>();
                m.put("k" + r.nextInt(), new Point(r.nextInt(), r.nextInt()));
                return m;
            }
            default:
                return new int[r.nextInt(100)];
        }
    }

    @Test
    void randomValuesWriteTheSameBytesInPlaceSpilledOrThroughAnOutput() throws Exception {
        // reference: a direct buffer (Kryo's Output, then a copy); in place: heap buffers with a random prefix and
        // room, which spill to the codec's own array when the message outgrows them; fixed windows on a larger
        // array, which must never be written outside
        java.util.function.Supplier<com.esotericsoftware.kryo.Kryo> open = () -> {
            com.esotericsoftware.kryo.Kryo k = new com.esotericsoftware.kryo.Kryo();
            k.setRegistrationRequired(false);
            return k;
        };
        KryoCodec<Object> reference = KryoCodec.withFactory(Object.class, open);
        KryoCodec<Object> inPlace = KryoCodec.withFactory(Object.class, open);
        java.util.Random r = new java.util.Random(7);
        for (int i = 0; i < 5000; i++) {
            Object value = randomValue(r);
            ByteBuf direct = Unpooled.directBuffer(16);
            ByteBuf heap = Unpooled.buffer(1 + r.nextInt(64));
            byte[] array = new byte[1200];
            java.util.Arrays.fill(array, (byte) 0x55);
            int from = r.nextInt(100);
            int length = r.nextInt(1000);
            ByteBuf window = Unpooled.wrappedBuffer(array, from, length).clear();
            try {
                reference.encode(value, direct);
                byte[] expected = ByteBufUtil.getBytes(direct);
                int prefix = r.nextInt(40);
                heap.writeZero(prefix);
                inPlace.encode(value, heap);
                assertThat(ByteBufUtil.getBytes(heap, prefix, heap.readableBytes() - prefix)).as("value %d", i)
                        .isEqualTo(expected);
                try {
                    inPlace.encode(value, window);
                    assertThat(ByteBufUtil.getBytes(window)).as("value %d in a window", i).isEqualTo(expected);
                } catch (IndexOutOfBoundsException tooSmall) {
                    assertThat(expected.length).as("value %d refused by a window it fits", i).isGreaterThan(length);
                    assertThat(window.writerIndex()).isZero();
                }
                for (int at = 0; at < array.length; at++) {
                    if (at < from || at >= from + length) {
                        assertThat(array[at]).as("value %d, byte %d outside the window", i, at).isEqualTo((byte) 0x55);
                    }
                }
                // the array path: the bytes in place, or -1 and the next encode of the value appends them
                java.util.Arrays.fill(array, (byte) 0x55);
                int end = inPlace.encode(value, array, from, from + length);
                if (end >= 0) {
                    assertThat(java.util.Arrays.copyOfRange(array, from, end)).as("value %d in an array", i)
                            .isEqualTo(expected);
                } else {
                    assertThat(expected.length).as("value %d refused by an array range it fits", i)
                            .isGreaterThan(length);
                    ByteBuf after = Unpooled.buffer(1);
                    try {
                        inPlace.encode(value, after);
                        assertThat(ByteBufUtil.getBytes(after)).as("value %d after -1", i).isEqualTo(expected);
                    } finally {
                        after.release();
                    }
                }
                for (int at = 0; at < array.length; at++) {
                    if (at < from || at >= from + length) {
                        assertThat(array[at]).as("value %d, byte %d outside the range", i, at).isEqualTo((byte) 0x55);
                    }
                }
            } finally {
                direct.release();
                heap.release();
            }
        }
    }

    /**
     * A message that fails midway through a Kryo that keeps state (here: the name of byte[]'s class, given an id
     * the reader never sees) leaves it ahead of the reader's for good: nothing more is encoded, by either path,
     * rather than frames the reader would misread.
     */
    @Test
    void aKryoThatKeepsStateEncodesNothingMoreAfterAMessageFailedMidway() throws Exception {
        KryoCodec<Object> encoder = KryoCodec.withFactory(Object.class, KryoCodecTest::streaming);
        byte[] batch = new byte[4096];
        int end = encoder.encode(new Point(1, 2), batch, 0, batch.length, 1000);
        assertThat(end).isPositive();
        assertThatThrownBy(() -> encoder.encode(new byte[2000], batch, end, batch.length, 1000))
                .isInstanceOf(io.umhflux.codec.CodecBrokenException.class)
                .hasMessageContaining("more than 1000 bytes, the framing's maximum");
        for (ThrowingEncode next : java.util.List.<ThrowingEncode>of(
                () -> encoder.encode(new byte[3], batch, end, batch.length, 1000),
                () -> encoder.encode(new Point(3, 4), batch, end, batch.length),
                () -> encoder.encode(new Point(3, 4), Unpooled.buffer()))) {
            assertThatThrownBy(next::run).isInstanceOf(io.umhflux.codec.CodecBrokenException.class)
                    .hasMessageContaining("keeps state across messages (auto reset off)");
        }
    }

    /**
     * With a Kryo that keeps state and requires registration, an unregistered class fails before Kryo writes or
     * records anything: that message alone is refused, and the codec goes on.
     */
    @Test
    void aKryoThatKeepsStateGoesOnAfterAnUnregisteredClass() throws Exception {
        java.util.function.Supplier<com.esotericsoftware.kryo.Kryo> registered = () -> {
            com.esotericsoftware.kryo.Kryo k = new com.esotericsoftware.kryo.Kryo();
            k.setAutoReset(false);
            k.setReferences(true);
            Messages.register(k);
            return k;
        };
        KryoCodec<Object> encoder = KryoCodec.withFactory(Object.class, registered);
        KryoCodec<Object> decoder = KryoCodec.withFactory(Object.class, registered);
        byte[] batch = new byte[256];
        assertThatThrownBy(() -> encoder.encode(new java.util.ArrayList<>(), batch, 0, batch.length, 100))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Class is not registered");
        Point p = new Point(7, 8);
        int end = encoder.encode(p, batch, 0, batch.length, 100);
        assertThat(decoder.decode(batch, 0, end)).isEqualTo(p);
        assertThatThrownBy(() -> encoder.encode(java.util.List.of(1), batch, 0, batch.length, 100))
                .isInstanceOf(IllegalArgumentException.class);
        int again = encoder.encode(p, batch, 0, batch.length, 100);
        assertThat(decoder.decode(batch, 0, again)).isEqualTo(p);
    }

    /** With auto reset (the default), a message that fails or is over the maximum takes nothing from the next. */
    @Test
    void aKryoThatResetsAfterEachMessageGoesOnAfterOneFailed() throws Exception {
        KryoCodec<Object> encoder = KryoCodec.of(Object.class, kryo -> {
            Messages.register(kryo);
            kryo.register(byte[].class, 30);
        });
        byte[] batch = new byte[4096];
        assertThat(encoder.encode(new byte[2000], batch, 0, batch.length, 1000)).isEqualTo(-2);
        assertThatThrownBy(() -> encoder.encode(java.util.List.of(1), batch, 0, batch.length, 1000))
                .hasMessageContaining("Class is not registered");
        int end = encoder.encode(new byte[] {1, 2}, batch, 0, batch.length, 1000);
        assertThat(encoder.forHelper().decode(batch, 0, end)).isEqualTo(new byte[] {1, 2});
    }

    /**
     * Whether the Kryo keeps state is seen on the factory's first Kryo, the template's: a helper's Kryo is never
     * asked for its graph context, which Kryo would otherwise clear at every reset, once per message.
     */
    @Test
    void aHelpersKryoIsNeverAskedForItsGraphContext() throws Exception {
        java.util.List<GraphContextCounting> made = new java.util.ArrayList<>();
        KryoCodec<Object> template = KryoCodec.withFactory(Object.class, () -> {
            GraphContextCounting k = new GraphContextCounting();
            k.setRegistrationRequired(true);
            Messages.register(k);
            made.add(k);
            return k;
        });
        KryoCodec<Object> encoder = template.forHelper();
        KryoCodec<Object> decoder = template.forHelper();
        byte[] batch = new byte[4096];
        int first = encoder.encode(new Point(0, 0), batch, 0, batch.length);
        int end = first;
        for (int i = 1; i < 10; i++) {
            end = encoder.encode(new Point(i, -i), batch, end, batch.length);
        }
        ByteBuf out = Unpooled.buffer();
        encoder.encode(new Point(10, -10), out);
        assertThat(decoder.decode(batch, 0, first)).isEqualTo(new Point(0, 0));
        assertThat(made).hasSize(3);
        assertThat(made.get(0).graphContextCalls).as("the template's Kryo, probed once").isEqualTo(1);
        assertThat(made.subList(1, 3)).allSatisfy(k -> assertThat(k.graphContextCalls).isZero());
        out.release();
    }

    /** A Kryo that counts the calls for its graph context. */
    private static final class GraphContextCounting extends com.esotericsoftware.kryo.Kryo {
        int graphContextCalls;

        @Override
        @SuppressWarnings("rawtypes") // Kryo's own signature
        public com.esotericsoftware.kryo.util.ObjectMap getGraphContext() {
            graphContextCalls++;
            return super.getGraphContext();
        }
    }

    @FunctionalInterface
    private interface ThrowingEncode {
        void run() throws Exception;
    }

    /** A Kryo that sends a class's name once per stream (no auto reset, no registration). */
    private static com.esotericsoftware.kryo.Kryo streaming() {
        com.esotericsoftware.kryo.Kryo k = new com.esotericsoftware.kryo.Kryo();
        k.setRegistrationRequired(false);
        k.setAutoReset(false);
        return k;
    }

    private static java.util.List<Point> hundredPoints() {
        java.util.List<Point> points = new java.util.ArrayList<>();
        for (int i = 0; i < 100; i++) {
            points.add(new Point(i, -i));
        }
        return points;
    }

    /**
     * The same through the array path: the message that does not fit is given up with -1 but was written once,
     * into the codec's own array; the encode of the same value that follows appends those bytes. A value other
     * than the one given up is encoded afresh, and the kept bytes are dropped.
     */
    @Test
    void aKryoThatKeepsStateSeesEachMessageOnceThroughTheArrayPathToo() throws Exception {
        KryoCodec<Object> encoder = KryoCodec.withFactory(Object.class, KryoCodecTest::streaming);
        KryoCodec<Object> decoder = KryoCodec.withFactory(Object.class, KryoCodecTest::streaming);
        java.util.List<Point> points = hundredPoints();
        byte[] batch = new byte[64];
        ByteBuf out = Unpooled.buffer(16);
        try {
            assertThat(encoder.encode(points, batch, 0, 16)).as("too big for 16 bytes").isEqualTo(-1);
            encoder.encode(points, out); // the bytes written with the -1, appended
            int end = encoder.encode(new Point(5, 6), batch, 0, batch.length); // Point's name is not sent again
            out.writeBytes(batch, 0, end);
            assertThat(decoder.decode(out)).isEqualTo(points);
            assertThat(decoder.decode(out)).isEqualTo(new Point(5, 6));
            assertThat(out.isReadable()).isFalse();
        } finally {
            out.release();
        }
        KryoCodec<Object> fresh = KryoCodec.of(Object.class, Messages::register);
        ByteBuf other = Unpooled.buffer();
        try {
            assertThat(fresh.encode(new Point(1, 2), batch, 0, 2)).isEqualTo(-1);
            fresh.encode(new Point(3, 4), other); // not the value given up: encoded afresh
            assertThat(fresh.forHelper().decode(other)).isEqualTo(new Point(3, 4));
        } finally {
            other.release();
        }
    }

    @Test
    void aKryoThatKeepsStateAcrossMessagesSeesEachMessageOnce() throws Exception {
        // class names once per stream (no auto reset): a message that outgrows the batch must not be written twice
        KryoCodec<Object> encoder = KryoCodec.withFactory(Object.class, KryoCodecTest::streaming);
        KryoCodec<Object> decoder = KryoCodec.withFactory(Object.class, KryoCodecTest::streaming);
        java.util.List<Point> points = hundredPoints();
        ByteBuf out = Unpooled.buffer(16); // far too small: the first message spills
        try {
            encoder.encode(points, out);
            encoder.encode(new Point(5, 6), out); // the class name of Point is not sent again
            assertThat(decoder.decode(out)).isEqualTo(points);
            assertThat(decoder.decode(out)).isEqualTo(new Point(5, 6));
            assertThat(out.isReadable()).isFalse();
        } finally {
            out.release();
        }
    }
}
