package io.umhflux.codec.kryo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.esotericsoftware.kryo.KryoException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
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
            assertThat(codec.forHelper().decode(bytes)).isEqualTo(value);
            assertThat(bytes.isReadable()).as("the whole frame is consumed").isFalse();
        } finally {
            bytes.release();
        }
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
        ByteBuf tight = Unpooled.buffer(2); // room for 2 of the 11 bytes: the in-place write gives up, the buffer grows
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
}
