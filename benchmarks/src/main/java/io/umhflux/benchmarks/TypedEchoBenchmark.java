package io.umhflux.benchmarks;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.umhflux.Blob;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSink;
import io.umhflux.UmhSpec;
import io.umhflux.codec.Framing;
import io.umhflux.codec.kryo.KryoCodec;
import com.zaxxer.nuprocess.NuAbstractProcessHandler;
import com.zaxxer.nuprocess.NuProcess;
import com.zaxxer.nuprocess.NuProcessBuilder;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Kryo messages echoed through {@code cat}: {@code count} messages per operation, one fresh {@code cat} per
 * operation. umh-flux (length-prefixed {@link KryoCodec} frames) against a hand-written JDK
 * {@code ProcessBuilder} loop (writer thread with a 64 KiB Kryo {@code Output}, reader with a 64 KiB
 * {@code Input}, Kryo's own self-delimiting stream) and NuProcess 3.0.0 with the same length-prefixed frames
 * encoded and decoded in its callbacks. {@code run.sh} turns ms/op into messages per second.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class TypedEchoBenchmark {
    /** A small message: about 30 bytes with Kryo. */
    public record Small(long id, int a, int b, String tag) {
    }

    /** A large message: about 64 KiB. */
    public record Large(long id, byte[] data) {
    }

    private static final Duration EMIT_TIMEOUT = Duration.ofMinutes(1);

    @Param({"small", "large"})
    public String size;

    private Blob cat;
    private UmhSpec<Object, Object> spec;
    private Object message;
    private Object[] messages;
    private int count;

    static Kryo kryo() {
        Kryo kryo = new Kryo();
        kryo.setRegistrationRequired(true);
        kryo.register(Small.class, 20);
        kryo.register(Large.class, 21);
        kryo.register(byte[].class, 22);
        return kryo;
    }

    @Setup(Level.Trial)
    public void setUp() {
        cat = Blob.of(Path.of("/bin/cat"));
        KryoCodec<Object> codec = KryoCodec.withFactory(Object.class, TypedEchoBenchmark::kryo);
        spec = UmhFlux.spec(cat).codec(Framing.lengthPrefixed(1 << 20), codec, codec);
        boolean small = size.equals("small");
        message = small ? new Small(123456789L, 42, -7, "payload-0123") : new Large(1L, new byte[64 * 1024]);
        count = small ? 200_000 : 1_000;
        messages = new Object[count];
        java.util.Arrays.fill(messages, message);
    }

    /** Sends {@code n} messages per operation instead (for {@link Interleaved}'s start-and-stop comparison). */
    void messagesPerOp(int n) {
        count = n;
        messages = java.util.Arrays.copyOf(messages, n);
        java.util.Arrays.fill(messages, message);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        cat.close();
    }

    /**
     * The messages are sent from an array and counted by a plain subscriber: the same work as the
     * ProcessBuilder loop's {@code for} over one message and its {@code received++}. ({@code Flux.range(..).map}
     * boxes an {@code Integer} per message and {@code count()} looks up a discard hook per message: work per
     * message that is not umh-flux's.)
     */
    @Benchmark
    public long umhFlux() throws Exception {
        long n = CountingSubscriber.echoed(spec, messages);
        check(n);
        return n;
    }

    /**
     * The same messages pushed by one plain thread (this one) through {@link UmhSink#emitBlocking}, as a listener
     * or task thread would, instead of published: the sink's cost against {@link #umhFlux}'s {@code send}.
     */
    @Benchmark
    public long umhFluxSink() throws Exception {
        Umh<Object, Object> umh = spec.spawn();
        UmhSink<Object> sink = umh.outbound().sink();
        CountingSubscriber received = new CountingSubscriber();
        umh.inbound().subscribe(received);
        Object m = message;
        for (int i = 0; i < count; i++) {
            sink.emitBlocking(m, EMIT_TIMEOUT);
        }
        sink.complete();
        long n = received.count();
        check(n);
        return n;
    }

    @Benchmark
    public long processBuilder() throws Exception {
        Process p = new ProcessBuilder("/bin/cat").start();
        Object m = message;
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            Kryo kryo = kryo();
            try (Output out = new Output(p.getOutputStream(), 64 * 1024)) {
                for (int i = 0; i < count; i++) {
                    kryo.writeClassAndObject(out, m);
                }
            }
        });
        Kryo kryo = kryo();
        long received = 0;
        try (Input in = new Input(p.getInputStream(), 64 * 1024)) {
            while (received < count) {
                kryo.readClassAndObject(in);
                received++;
            }
        }
        writer.get();
        p.waitFor();
        check(received);
        return received;
    }

    @Benchmark
    public long nuProcess() throws Exception {
        Handler handler = new Handler(message, count);
        NuProcess p = new NuProcessBuilder(handler, "/bin/cat").start();
        p.wantWrite();
        handler.done.get(5, TimeUnit.MINUTES);
        p.waitFor(1, TimeUnit.MINUTES);
        if (handler.received.get() != count) {
            throw new IllegalStateException("NuProcess echoed " + handler.received.get() + " of " + count
                    + "; cat exit " + handler.exitCode + "; failure " + handler.failure);
        }
        return handler.received.get();
    }

    private void check(long received) {
        if (received != count) {
            throw new IllegalStateException("echoed " + received + " of " + count);
        }
    }

    /**
     * NuProcess callbacks: encodes length-prefixed Kryo frames into a staging buffer about 64 KiB at a time
     * and copies them into stdin as it takes them; decodes what comes back across chunk boundaries.
     */
    private static final class Handler extends NuAbstractProcessHandler {
        final CompletableFuture<Void> done = new CompletableFuture<>();
        final AtomicLong received = new AtomicLong();
        volatile int exitCode = -1;
        volatile Throwable failure;
        private final Kryo writeKryo = kryo();
        private final Kryo readKryo = kryo();
        private final Output staged = new Output(1 << 17, -1);
        private final Input input = new Input();
        private final Object message;
        private final int count;
        private int sent;
        private int stagedOut;
        private byte[] pending = new byte[1 << 17];
        private int pendingLength;
        private NuProcess process;

        Handler(Object message, int count) {
            this.message = message;
            this.count = count;
        }

        @Override
        public void onStart(NuProcess nuProcess) {
            process = nuProcess;
        }

        @Override
        public boolean onStdinReady(ByteBuffer buffer) {
            try {
                while (buffer.hasRemaining()) {
                    if (stagedOut == staged.position()) {
                        if (sent == count) {
                            break;
                        }
                        staged.reset();
                        stagedOut = 0;
                        while (sent < count && staged.position() < 64 * 1024) {
                            int lengthAt = staged.position();
                            staged.writeInt(0);
                            writeKryo.writeClassAndObject(staged, message);
                            int length = staged.position() - lengthAt - 4;
                            byte[] b = staged.getBuffer(); // big-endian, as umh-flux frames (Kryo's writeInt is not)
                            b[lengthAt] = (byte) (length >>> 24);
                            b[lengthAt + 1] = (byte) (length >>> 16);
                            b[lengthAt + 2] = (byte) (length >>> 8);
                            b[lengthAt + 3] = (byte) length;
                            sent++;
                        }
                    }
                    int n = Math.min(buffer.remaining(), staged.position() - stagedOut);
                    buffer.put(staged.getBuffer(), stagedOut, n);
                    stagedOut += n;
                }
                buffer.flip();
                if (sent == count && stagedOut == staged.position()) {
                    process.closeStdin(false);
                    return false;
                }
                return true;
            } catch (RuntimeException e) {
                failure = e;
                done.completeExceptionally(e);
                throw e;
            }
        }

        @Override
        public void onStdout(ByteBuffer buffer, boolean closed) {
            try {
                int n = buffer.remaining();
                if (pending.length < pendingLength + n) {
                    pending = java.util.Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + n));
                }
                buffer.get(pending, pendingLength, n);
                pendingLength += n;
                int at = 0;
                while (pendingLength - at >= 4) {
                    int length = ((pending[at] & 0xff) << 24) | ((pending[at + 1] & 0xff) << 16)
                            | ((pending[at + 2] & 0xff) << 8) | (pending[at + 3] & 0xff);
                    if (pendingLength - at - 4 < length) {
                        break;
                    }
                    input.setBuffer(pending, at + 4, length);
                    readKryo.readClassAndObject(input);
                    received.incrementAndGet();
                    at += 4 + length;
                }
                System.arraycopy(pending, at, pending, 0, pendingLength - at);
                pendingLength -= at;
                if (closed) {
                    done.complete(null);
                }
            } catch (RuntimeException e) {
                failure = e;
                done.completeExceptionally(e);
                throw e;
            }
        }

        @Override
        public void onExit(int statusCode) {
            exitCode = statusCode;
            done.complete(null);
        }
    }
}
