package io.umhflux.codec.kryo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The SDK's loop on in-memory streams: requests that arrive together (so nothing is flushed between them) and
 * then a bad one. The replies to the good ones must still come out, whatever the failure.
 */
class KryoHelperTest {
    private static byte[] frames(Object... requests) throws IOException {
        Kryo kryo = new Kryo();
        kryo.register(Point.class, 20);
        kryo.register(java.util.ArrayList.class, 30); // known to this side only: the helper refuses id 30
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        for (Object r : requests) {
            Output o = new Output(256, -1);
            kryo.writeClassAndObject(o, r);
            out.writeInt(o.position());
            out.write(o.getBuffer(), 0, o.position());
        }
        return bytes.toByteArray();
    }

    /** One frame of {@code request} whose length counts {@code extra} bytes after the message. */
    private static byte[] frameWithExtra(Object request, byte... extra) throws IOException {
        Kryo kryo = new Kryo();
        kryo.register(Point.class, 20);
        Output o = new Output(256, -1);
        kryo.writeClassAndObject(o, request);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(o.position() + extra.length);
        out.write(o.getBuffer(), 0, o.position());
        out.write(extra);
        return bytes.toByteArray();
    }

    private static List<Object> replies(byte[] wire) throws IOException {
        Kryo kryo = new Kryo();
        Messages.register(kryo);
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(wire));
        List<Object> out = new ArrayList<>();
        while (in.available() > 0) {
            byte[] frame = new byte[in.readInt()];
            in.readFully(frame);
            out.add(kryo.readClassAndObject(new Input(frame)));
        }
        return out;
    }

    private static List<Object> serveUntilFailure(byte[] wire, Class<? extends Throwable> failure) throws Exception {
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        assertThatThrownBy(() -> KryoHelper.serve(Point.class, Messages::register,
                p -> {
                    if (p.x() < 0) {
                        throw new IllegalStateException("negative");
                    }
                    return new Point(p.x() * 2, p.y() * 2);
                }, new ByteArrayInputStream(wire), stdout)).isInstanceOf(failure);
        return replies(stdout.toByteArray());
    }

    @Test
    void repliesBeforeAnUnregisteredClassAreWritten() throws Exception {
        byte[] wire = frames(new Point(1, 1), new Point(2, 2), new java.util.ArrayList<>());
        assertThat(serveUntilFailure(wire, com.esotericsoftware.kryo.KryoException.class))
                .containsExactly(new Point(2, 2), new Point(4, 4));
    }

    @Test
    void repliesBeforeARequestOfAnotherTypeAreWritten() throws Exception {
        byte[] wire = frames(new Point(1, 1), new Point(2, 2), 7); // an Integer: Kryo knows it by default
        assertThat(serveUntilFailure(wire, IOException.class)).containsExactly(new Point(2, 2), new Point(4, 4));
    }

    @Test
    void repliesBeforeACutRequestAreWritten() throws Exception {
        byte[] whole = frames(new Point(1, 1), new Point(2, 2), new Point(3, 3));
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 2);
        assertThat(serveUntilFailure(cut, IOException.class)).containsExactly(new Point(2, 2), new Point(4, 4));
    }

    @Test
    void repliesBeforeAFailingFunctionAreWritten() throws Exception {
        byte[] wire = frames(new Point(1, 1), new Point(-1, 0), new Point(3, 3));
        assertThat(serveUntilFailure(wire, IllegalStateException.class)).containsExactly(new Point(2, 2));
    }
    /** Bad input on the helper's side: a request that declares 2^30 bytes it does not hold costs none. */
    @Test
    void aRequestThatDeclaresMoreThanItHoldsFailsBeforeAnythingIsAllocatedForIt() throws Exception {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        wire.write(frames(new Point(1, 1)));
        // byte[] registered as 30 (written 32), then its length plus one as a varint: 2^30 + 1
        byte[] bogus = {32, (byte) 0x81, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x04};
        new DataOutputStream(wire).writeInt(bogus.length);
        wire.write(bogus);
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        Throwable thrown = null;
        long before = Allocations.allocatedHere();
        try {
            KryoHelper.serve(Object.class, kryo -> {
                Messages.register(kryo);
                kryo.register(byte[].class, 30);
            }, request -> request, new ByteArrayInputStream(wire.toByteArray()), stdout);
        } catch (com.esotericsoftware.kryo.KryoException e) {
            thrown = e;
        }
        long allocated = Allocations.allocatedHere() - before;
        assertThat(thrown).hasMessageContaining("declares 1073741824 elements");
        assertThat(allocated).as("bytes allocated by the helper's loop").isLessThan(16L << 20);
        assertThat(replies(stdout.toByteArray())).containsExactly(new Point(1, 1));
    }
    /** A frame header that claims 2^30 bytes, followed by ten: the loop fails having allocated about what came. */
    @Test
    void aHeaderThatClaimsMoreThanComesCostsOnlyWhatCame() throws Exception {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        wire.write(frames(new Point(1, 1)));
        new DataOutputStream(wire).writeInt(1 << 30);
        wire.write(new byte[10]);
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        Throwable thrown = null;
        long before = Allocations.allocatedHere();
        try {
            KryoHelper.serve(Point.class, Messages::register, p -> p, new ByteArrayInputStream(wire.toByteArray()),
                    stdout);
        } catch (IOException e) {
            thrown = e;
        }
        long allocated = Allocations.allocatedHere() - before;
        assertThat(thrown).isInstanceOf(java.io.EOFException.class).hasMessageContaining("after 10 of its 1073741824");
        assertThat(allocated).as("bytes allocated by the helper's loop").isLessThan(16L << 20);
        assertThat(replies(stdout.toByteArray())).containsExactly(new Point(1, 1));
    }

    /** The input ends two bytes into a length prefix: a cut frame, after the reply to the whole one before. */
    @Test
    void inputEndingInsideALengthPrefixIsACutFrame() throws Exception {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        wire.write(frames(new Point(1, 2)));
        wire.write(new byte[] {0, 0});
        assertThat(serveUntilFailure(wire.toByteArray(), java.io.EOFException.class))
                .containsExactly(new Point(2, 4));
        assertThatThrownBy(() -> KryoHelper.serve(Point.class, Messages::register, p -> p,
                new ByteArrayInputStream(wire.toByteArray()), new ByteArrayOutputStream()))
                .hasMessageContaining("4-byte length prefix");
    }

    /** A request frame with bytes after its message is refused, as the owner's codec refuses such frames. */
    @Test
    void aRequestFrameWithBytesLeftUnreadIsRefused() throws Exception {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        wire.write(frames(new Point(1, 2)));
        wire.write(frameWithExtra(new Point(3, 4), (byte) 7, (byte) 7, (byte) 7));
        assertThat(serveUntilFailure(wire.toByteArray(), IOException.class)).containsExactly(new Point(2, 4));
        assertThatThrownBy(() -> KryoHelper.serve(Point.class, Messages::register, p -> p,
                new ByteArrayInputStream(wire.toByteArray()), new ByteArrayOutputStream()))
                .hasMessageContaining("3 were left unread");
    }
}
