package io.umhflux.benchmarks;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.umhflux.Blob;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import io.umhflux.codec.Framing;
import io.umhflux.codec.kryo.KryoCodec;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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
import reactor.core.publisher.Flux;

/**
 * Kryo messages echoed through {@code cat}: {@code count} messages per operation, one fresh {@code cat} per
 * operation. umh-flux (length-prefixed {@link KryoCodec} frames) against a hand-written JDK
 * {@code ProcessBuilder} loop (writer thread with a 64 KiB Kryo {@code Output}, reader with a 64 KiB
 * {@code Input}, Kryo's own self-delimiting stream). {@code run.sh} turns ms/op into messages per second.
 * (The NuProcess 3.0.0 peer is not here yet: a first callback-driven version echoed nothing and was removed.)
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

    @Param({"small", "large"})
    public String size;

    private Blob cat;
    private UmhSpec<Object, Object> spec;
    private Object message;
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
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        cat.close();
    }

    @Benchmark
    public long umhFlux() {
        Umh<Object, Object> umh = spec.spawn();
        Object m = message;
        umh.outbound().send(Flux.range(0, count).map(i -> m)).subscribe();
        Long received = umh.inbound().count().block();
        check(received == null ? 0 : received);
        return received;
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

    private void check(long received) {
        if (received != count) {
            throw new IllegalStateException("echoed " + received + " of " + count);
        }
    }
}
