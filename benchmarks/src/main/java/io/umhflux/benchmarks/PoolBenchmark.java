package io.umhflux.benchmarks;

import io.umhflux.Blob;
import io.umhflux.PoolSpec;
import io.umhflux.UmhClient;
import io.umhflux.UmhFlux;
import io.umhflux.codec.Codecs;
import io.umhflux.codec.Framing;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.publisher.Flux;

/**
 * Requests per second through a pool of {@code helpers} {@code cat}s (32-byte length-prefixed messages), with
 * four requests waiting per helper so that no helper idles between requests.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class PoolBenchmark {
    private static final int BATCH = 2000;
    private static final byte[] MESSAGE = new byte[32];

    @Param({"1", "2", "4"})
    public int helpers;

    private Blob cat;
    private UmhClient<byte[], byte[]> pool;

    @Setup(Level.Trial)
    public void setUp() {
        cat = Blob.of(Path.of("/bin/cat"));
        pool = UmhFlux.spec(cat).codec(Framing.lengthPrefixed(1024), Codecs.bytes(), Codecs.bytes())
                .pool(PoolSpec.of(helpers));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close().block(Duration.ofSeconds(10));
        cat.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public Long requests() {
        return Flux.range(0, BATCH).flatMap(i -> pool.exchange(MESSAGE), helpers * 4).count().block();
    }
}
