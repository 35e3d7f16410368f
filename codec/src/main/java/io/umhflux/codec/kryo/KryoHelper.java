package io.umhflux.codec.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The helper's side of a Kryo pipe: a blocking loop {@code stdin → decode → function → encode → stdout}
 * that makes a plain Java {@code main} the helper. Frames are 4-byte big-endian length prefixes around
 * {@link Kryo#writeClassAndObject} bytes, exactly what {@link KryoCodec} with
 * {@link io.umhflux.codec.Framing#lengthPrefixed(int)} reads and writes. No Netty or Reactor is used.
 *
 * <pre>{@code
 * public static void main(String[] args) {
 *     KryoHelper.serve(Point.class, kryo -> kryo.register(Point.class, 20), p -> new Point(p.x() * 2, p.y() * 2));
 * }
 * }</pre>
 *
 * <p>Replies are flushed whenever no more input is waiting, so a requester is never kept waiting while
 * throughput still batches. At end of stdin (the owner closed it, stopped, or died — even by SIGKILL) the
 * loop returns and the helper exits 0. A failure (a bad frame, the function's exception, a stdout that no one
 * reads any more) is printed to stderr, where the owner's {@code ExitStatus} shows its last lines, and the JVM exits
 * with status 1.
 */
public final class KryoHelper {
    private KryoHelper() {
    }

    /**
     * Serves until end of input; on any failure prints it and exits the JVM with status 1.
     *
     * @param type the class requests are instances of
     * @param registrations registers the message classes with the same ids as the owner
     * @param function turns each request into its reply
     */
    public static <I, O> void serve(Class<I> type, Consumer<Kryo> registrations, Function<? super I, O> function) {
        try {
            // stdout itself, not System.out: a PrintStream swallows write errors, and a helper whose reader is gone
            // would go on answering into nothing
            serve(type, registrations, function, System.in, new FileOutputStream(FileDescriptor.out));
        } catch (Throwable t) {
            System.err.println("umh-flux helper failed: " + t);
            t.printStackTrace(System.err);
            System.err.flush();
            System.exit(1);
        }
    }

    private static void flushQuietly(OutputStream out, Throwable failure) {
        try {
            out.flush();
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }

    /** The loop itself, on any streams; returns at end of input. */
    static <I, O> void serve(Class<I> type, Consumer<Kryo> registrations, Function<? super I, O> function,
            InputStream stdin, OutputStream stdout) throws IOException {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(function, "function");
        Kryo kryo = new Kryo();
        kryo.setRegistrationRequired(true);
        registrations.accept(kryo);
        DataInputStream in = new DataInputStream(new BufferedInputStream(stdin, 64 * 1024));
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(stdout, 64 * 1024));
        Input input = new FrameInputs.ArrayFrameInput(); // what a frame declares is checked against it (Kryo #1282)
        Output output = new Output(4096, -1);
        byte[] frame = new byte[4096];
        try {
            while (true) {
                int first = in.read();
                if (first < 0) {
                    out.flush();
                    return;
                }
                int length;
                try {
                    length = first << 24 | in.readUnsignedByte() << 16 | in.readUnsignedShort();
                } catch (EOFException cut) {
                    throw new EOFException("the input ended inside a request frame's 4-byte length prefix");
                }
                if (length < 0) {
                    throw new IOException("frame length " + Integer.toUnsignedString(length) + " is too large");
                }
                // the array grows as the bytes arrive, not to what the header claims: a bogus length costs no more
                // than the bytes that came
                for (int got = 0; got < length; ) {
                    if (got == frame.length) {
                        frame = java.util.Arrays.copyOf(frame, (int) Math.min(length, 2L * frame.length));
                    }
                    int n = in.read(frame, got, Math.min(frame.length, length) - got);
                    if (n < 0) {
                        throw new EOFException("a request frame ended after " + got + " of its " + length + " bytes");
                    }
                    got += n;
                }
                input.setBuffer(frame, 0, length);
                Object request = kryo.readClassAndObject(input);
                if (input.position() != length) {
                    throw new IOException("the request took " + input.position() + " of its frame's " + length
                            + " bytes; " + (length - input.position()) + " were left unread");
                }
                if (!type.isInstance(request)) {
                    throw new IOException("received a " + (request == null ? "null" : request.getClass().getName())
                            + ", not a " + type.getName());
                }
                O reply = function.apply(type.cast(request));
                output.reset();
                kryo.writeClassAndObject(output, reply); // whole, before any of its bytes go out
                out.writeInt(output.position());
                out.write(output.getBuffer(), 0, output.position());
                if (in.available() == 0) {
                    out.flush(); // nothing more is waiting: do not sit on replies someone waits for
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            // a bad or cut request, an unregistered class, the function or the reply failing: the replies
            // computed before still reach the owner
            flushQuietly(out, e);
            throw e;
        }
    }
}
