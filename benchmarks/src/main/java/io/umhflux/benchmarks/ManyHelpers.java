package io.umhflux.benchmarks;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.umhflux.Blob;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Scale: N {@code cat} helpers streaming at the same time, each echoing {@code MiB} mebibytes. Samples the
 * JVM's live thread count and used heap every 10 ms and prints one JSON line:
 * {@code {"helpers":N,"bytes":..,"seconds":..,"threads_max":..,"threads_limit":..,"heap_max_mib":..}}.
 *
 * <p>usage: {@code java -cp benchmarks.jar io.umhflux.benchmarks.ManyHelpers [N] [MiB]}
 */
public final class ManyHelpers {
    private ManyHelpers() {
    }

    public static void main(String[] args) throws Exception {
        int helpers = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int mib = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        int chunk = 64 * 1024;
        int chunks = mib * 16;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        AtomicLong threadsMax = new AtomicLong();
        AtomicLong heapMax = new AtomicLong();
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(() -> {
            threadsMax.accumulateAndGet(threads.getThreadCount(), Math::max);
            heapMax.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
        }, 0, 10, TimeUnit.MILLISECONDS);
        ByteBuf source = ByteBufAllocator.DEFAULT.directBuffer(chunk).writerIndex(chunk);
        AtomicLong echoed = new AtomicLong();
        long start = System.nanoTime();
        try (Blob cat = Blob.of(Path.of("/bin/cat"))) {
            UmhSpec<ByteBuf, ByteBuf> spec = UmhFlux.spec(cat);
            List<Mono<Void>> runs = new ArrayList<>(helpers);
            List<Umh<ByteBuf, ByteBuf>> started = new ArrayList<>(helpers);
            for (int i = 0; i < helpers; i++) {
                Umh<ByteBuf, ByteBuf> umh = spec.spawn(); // all alive at once before any stream starts
                started.add(umh);
            }
            for (Umh<ByteBuf, ByteBuf> umh : started) {
                umh.outbound().send(Flux.range(0, chunks).map(i -> source.retainedDuplicate())).subscribe();
                runs.add(umh.inbound().doOnNext(b -> echoed.addAndGet(b.readableBytes())).then());
            }
            Mono.when(runs).block(Duration.ofMinutes(10));
        } finally {
            source.release();
            sampler.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int cores = Runtime.getRuntime().availableProcessors();
        System.out.printf(Locale.ROOT, "{\"helpers\":%d,\"bytes\":%d,\"seconds\":%.3f,\"threads_max\":%d,"
                + "\"threads_limit\":%d,\"heap_max_mib\":%.1f}%n", helpers, echoed.get(), seconds, threadsMax.get(),
                2 * cores + 8, heapMax.get() / 1048576.0);
        if (echoed.get() != (long) helpers * chunks * chunk) {
            throw new IllegalStateException("echoed " + echoed.get() + " bytes, expected "
                    + (long) helpers * chunks * chunk);
        }
    }
}
