package io.umhflux.benchmarks;

import io.umhflux.Blob;
import io.umhflux.UmhClient;
import io.umhflux.UmhFlux;
import io.umhflux.codec.Codecs;
import io.umhflux.codec.Framing;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.publisher.Flux;

/**
 * Request/response latency through one long-lived {@code cat}: one 32-byte message in a 4-byte length-prefixed
 * frame, then wait for its echo. {@code run.sh} compares it with the C baseline {@code pingpong_baseline} over
 * the same {@code cat}.
 *
 * <ul>
 *   <li>{@code umhFlux}: {@link UmhClient#exchange} from the benchmark thread, blocking for the answer (two
 *       thread hand-offs per round trip on top of the pipes: to the event loop and back);
 *   <li>{@code umhFluxOnLoop}: 1,000 round trips chained with {@code concatMap}, each next request made on the
 *       event loop that delivered the previous answer (how a reactive service calls it);
 *   <li>{@code processBuilder}: a JDK {@code ProcessBuilder} {@code cat}, blocking streams.
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class PingPongBenchmark {
    private static final int CHAIN = 1000;
    private static final byte[] MESSAGE = new byte[32];

    private Blob cat;
    private UmhClient<byte[], byte[]> client;
    private Process process;
    private DataOutputStream toCat;
    private DataInputStream fromCat;
    private final byte[] answer = new byte[MESSAGE.length];

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        cat = Blob.of(Path.of("/bin/cat"));
        client = UmhFlux.spec(cat).codec(Framing.lengthPrefixed(1024), Codecs.bytes(), Codecs.bytes()).connect();
        process = new ProcessBuilder("/bin/cat").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        toCat = new DataOutputStream(process.getOutputStream());
        fromCat = new DataInputStream(process.getInputStream());
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        client.close().block(Duration.ofSeconds(10));
        cat.close();
        toCat.close();
        process.waitFor();
    }

    @Benchmark
    public byte[] umhFlux() {
        return client.exchange(MESSAGE).block();
    }

    @Benchmark
    @OperationsPerInvocation(CHAIN)
    public byte[] umhFluxOnLoop() {
        return Flux.range(0, CHAIN).concatMap(i -> client.exchange(MESSAGE)).blockLast();
    }

    @Benchmark
    public byte[] processBuilder() throws IOException {
        toCat.writeInt(MESSAGE.length);
        toCat.write(MESSAGE);
        toCat.flush();
        int length = fromCat.readInt();
        fromCat.readFully(answer, 0, length);
        return answer;
    }
}
