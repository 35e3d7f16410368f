package io.umhflux.benchmarks;

import com.google.gson.JsonObject;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.umhflux.Blob;
import io.umhflux.SpawnException;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Scale: N {@code cat} helpers streaming at the same time, each echoing {@code MiB} mebibytes. Samples the
 * JVM's live thread count and used heap every 10 ms and prints one JSON line:
 * {@code {"helpers":N,"spawned":N,"bytes":..,"seconds":..,"threads_max":..,"threads_limit":..,
 * "heap_max_mib":..,"fd_limit":..,"proc_limit":..,"pid_max":..}}.
 *
 * <p>When the system refuses a helper before all N are alive (out of descriptors, processes or memory),
 * the ones already spawned are stopped, nothing is streamed, and the line says how far it got and why:
 * {@code "spawned"} is the number alive at the refusal, {@code "limit"} names the limit reached (like
 * {@code open files (ulimit -n 20000)}), {@code "error"} is the exception's message, {@code "fds_open"} and
 * {@code "mem_available_mib"} are taken at the refusal. That is a result, not a failure: the exit code is 0.
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
        // read before spawning: at the refusal there may be no descriptor left to open /proc files with
        long fdLimit = limit("Max open files");
        long procLimit = limit("Max processes");
        long pidMax = procNumber(Path.of("/proc/sys/kernel/pid_max"));
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
        List<Umh<ByteBuf, ByteBuf>> started = new ArrayList<>(helpers);
        JsonObject line = new JsonObject();
        line.addProperty("helpers", helpers);
        long start = System.nanoTime();
        try (Blob cat = Blob.of(Path.of("/bin/cat"))) {
            UmhSpec<ByteBuf, ByteBuf> spec = UmhFlux.spec(cat);
            Throwable refused = null;
            for (int i = 0; i < helpers && refused == null; i++) {
                try {
                    started.add(spec.spawn()); // all alive at once before any stream starts
                } catch (RuntimeException | OutOfMemoryError e) { // OOM: "unable to create native thread"
                    refused = e;
                }
            }
            line.addProperty("spawned", started.size());
            if (refused != null) {
                line.addProperty("limit", limitReached(refused, fdLimit, procLimit, pidMax));
                line.addProperty("error", messages(refused));
                line.addProperty("fds_open", count(Path.of("/proc/self/fd")));
                long available = memInfo("MemAvailable:");
                line.addProperty("mem_available_mib", available < 0 ? -1 : available / 1024);
                List<Mono<?>> stops = new ArrayList<>(started.size());
                for (Umh<ByteBuf, ByteBuf> umh : started) {
                    stops.add(umh.stop(Duration.ofSeconds(1)));
                }
                Mono.when(stops).block(Duration.ofMinutes(2));
            } else {
                List<Mono<Void>> runs = new ArrayList<>(helpers);
                for (Umh<ByteBuf, ByteBuf> umh : started) {
                    umh.outbound().send(Flux.range(0, chunks).map(i -> source.retainedDuplicate())).subscribe();
                    runs.add(umh.inbound().doOnNext(b -> echoed.addAndGet(b.readableBytes())).then());
                }
                Mono.when(runs).block(Duration.ofMinutes(10));
            }
        } finally {
            source.release();
            sampler.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int cores = Runtime.getRuntime().availableProcessors();
        line.addProperty("bytes", echoed.get());
        line.addProperty("seconds", Math.round(seconds * 1000) / 1000.0);
        line.addProperty("threads_max", threadsMax.get());
        line.addProperty("threads_limit", 2 * cores + 8);
        line.addProperty("heap_max_mib", Math.round(heapMax.get() / 1048576.0 * 10) / 10.0);
        line.addProperty("fd_limit", fdLimit);
        line.addProperty("proc_limit", procLimit);
        line.addProperty("pid_max", pidMax);
        System.out.println(line);
        if (!line.has("limit") && echoed.get() != (long) helpers * chunks * chunk) {
            throw new IllegalStateException("echoed " + echoed.get() + " bytes, expected "
                    + (long) helpers * chunks * chunk);
        }
    }

    /** Which limit a refusal to spawn ran into, from its errno or, failing that, its messages. */
    static String limitReached(Throwable refusal, long fdLimit, long procLimit, long pidMax) {
        String errno = refusal instanceof SpawnException s ? s.errnoName() : "";
        String text = messages(refusal);
        if (errno.equals("EMFILE") || text.contains("Too many open files")) {
            return "open files (ulimit -n " + fdLimit + ")";
        }
        if (errno.equals("ENFILE") || text.contains("Too many open files in system")) {
            return "open files of the whole system (fs.file-max)";
        }
        if (errno.equals("EAGAIN") || text.contains("Resource temporarily unavailable")
                || text.contains("unable to create native thread")) {
            return "processes (ulimit -u " + procLimit + ", kernel.pid_max " + pidMax + ")";
        }
        if (errno.equals("ENOMEM") || refusal instanceof OutOfMemoryError || text.contains("Cannot allocate")) {
            return "memory";
        }
        return "other: " + (errno.isEmpty() ? refusal.getClass().getSimpleName() : errno);
    }

    /** The messages of a throwable and its causes, joined. */
    static String messages(Throwable t) {
        StringBuilder text = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (text.length() > 0) {
                text.append(" <- ");
            }
            text.append(c.getClass().getSimpleName()).append(": ").append(c.getMessage());
        }
        return text.toString();
    }

    /** The soft limit named {@code name} in /proc/self/limits; -1 when unlimited or unreadable. */
    private static long limit(String name) {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/limits"))) {
            return lines.filter(l -> l.startsWith(name)).findFirst()
                    .map(l -> l.substring(name.length()).trim().split("\\s+")[0])
                    .map(v -> v.equals("unlimited") ? -1L : Long.parseLong(v)).orElse(-1L);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The number in a /proc file; -1 when unreadable. (Files.readString reads one byte of procfs files.) */
    private static long procNumber(Path file) {
        try (Stream<String> lines = Files.lines(file)) {
            return lines.findFirst().map(l -> Long.parseLong(l.trim())).orElse(-1L);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** A /proc/meminfo value in KiB; -1 when unreadable (as at the descriptor limit). */
    private static long memInfo(String key) {
        try (Stream<String> lines = Files.lines(Path.of("/proc/meminfo"))) {
            return lines.filter(l -> l.startsWith(key)).findFirst()
                    .map(l -> Long.parseLong(l.substring(key.length()).trim().split("\\s+")[0])).orElse(-1L);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static long count(Path directory) {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.count();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
