package io.umhflux.benchmarks;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.umhflux.Blob;
import io.umhflux.Sandbox;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
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
import reactor.core.publisher.Flux;

/**
 * Raw bytes echoed through {@code cat}: {@code TOTAL} bytes written in {@code chunk}-byte pieces and read
 * back, one fresh {@code cat} per operation. umh-flux (cat from a sealed memfd blob, the publisher handing
 * over slices of one direct buffer) against JDK {@code ProcessBuilder} with a writer thread and a reader
 * (64 KiB reads), as users write it. The C baseline is {@code benchmarks/c/echo_baseline.c}.
 *
 * <p>Throughput is {@code TOTAL / (ms/op)}; {@code run.sh} computes it and the ratios.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class EchoBenchmark {
    /** Bytes echoed per operation. */
    public static final long TOTAL = 64L << 20;

    @Param({"4096", "65536", "1048576"})
    public int chunk;

    /**
     * -1: umh-flux's default (1 MiB stdin and stdout within its budget); 0: the kernel's default pipe (64 KiB);
     * otherwise F_SETPIPE_SZ for umh-flux's pipes. ProcessBuilder always has the kernel's default.
     */
    @Param({"-1"})
    public int pipeSize;

    /** 0: each writev takes what the pipe takes; otherwise {@code UmhSpec.writeSize} for umh-flux. */
    @Param({"0"})
    public int writeSize;

    /** umh-flux's {@code cat} confined by {@code Sandbox.confined()} with its libraries read-only. */
    @Param({"false"})
    public boolean sandboxed;

    private Blob cat;
    private UmhSpec<ByteBuf, ByteBuf> spec;
    private ByteBuf source;
    private byte[] heapChunk;

    @Setup(Level.Trial)
    public void setUp() {
        cat = Blob.of(Path.of("/bin/cat"));
        UmhSpec<ByteBuf, ByteBuf> s = UmhFlux.spec(cat).writeSize(writeSize);
        s = pipeSize < 0 ? s : s.pipeSize(pipeSize);
        spec = sandboxed ? s.sandbox(Sandbox.confined().readOnly(Path.of("/usr"), Path.of("/lib"),
                Path.of("/lib64"))) : s;
        source = ByteBufAllocator.DEFAULT.directBuffer(chunk);
        source.writerIndex(chunk);
        heapChunk = new byte[chunk];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        source.release();
        cat.close();
    }

    @Benchmark
    public long umhFlux() {
        int n = (int) (TOTAL / chunk);
        Umh<ByteBuf, ByteBuf> umh = spec.spawn();
        umh.outbound().send(Flux.range(0, n).map(i -> source.retainedDuplicate())).subscribe();
        AtomicLong received = new AtomicLong();
        umh.inbound().doOnNext(b -> received.addAndGet(b.readableBytes())).then().block();
        if (received.get() != TOTAL) {
            throw new IllegalStateException("echoed " + received.get() + " of " + TOTAL);
        }
        return received.get();
    }

    @Benchmark
    public long processBuilder() throws Exception {
        int n = (int) (TOTAL / chunk);
        Process p = new ProcessBuilder("/bin/cat").start();
        Thread writer = new Thread(() -> {
            try (OutputStream out = p.getOutputStream()) {
                for (int i = 0; i < n; i++) {
                    out.write(heapChunk);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        writer.start();
        long received = 0;
        byte[] buf = new byte[65536];
        try (InputStream in = p.getInputStream()) {
            for (int k; (k = in.read(buf)) > 0;) {
                received += k;
            }
        }
        writer.join();
        p.waitFor();
        if (received != TOTAL) {
            throw new IllegalStateException("echoed " + received + " of " + TOTAL);
        }
        return received;
    }
}
