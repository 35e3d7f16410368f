package io.umhflux.examples;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.umhflux.Blob;
import io.umhflux.ExitStatus;
import io.umhflux.HelperFailedException;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The demo: loads {@code /bin/cat} into one sealed in-memory blob, streams data through many helpers spawned
 * from it at once, then shows what a crashing helper looks like to its owner.
 *
 * <pre>
 * usage: Demo [--helpers N] [--mib M] [--help]
 * </pre>
 */
public final class Demo {
    private Demo() {
    }

    public static void main(String[] args) {
        int helpers = 100;
        int mib = 8;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--helpers":
                    helpers = Integer.parseInt(args[++i]);
                    break;
                case "--mib":
                    mib = Integer.parseInt(args[++i]);
                    break;
                case "--help":
                case "-h":
                    System.out.println("usage: Demo [--helpers N] [--mib M]\n"
                            + "  --helpers N  helpers spawned from one blob, streaming at once (default 100)\n"
                            + "  --mib M      mebibytes echoed through each (default 8)");
                    return;
                default:
                    System.err.println("unknown option " + args[i] + "; try --help");
                    System.exit(2);
            }
        }
        run(helpers, mib);
    }

    /** Runs the demo and returns the bytes echoed, for the test. */
    static long run(int helpers, int mib) {
        try (Blob cat = Blob.of(Path.of("/bin/cat"))) {
            System.out.printf(Locale.ROOT, "blob '%s': %d bytes, sha256 %s…, placed in a %s%n", cat.name(),
                    cat.size(), cat.sha256().substring(0, 16), cat.placement() == Blob.Placement.MEMFD
                            ? "sealed memfd (no file on disk)" : "private file (memfd exec refused here)");
            long bytes = stream(cat, helpers, mib);
            crash();
            return bytes;
        }
    }

    private static long stream(Blob cat, int helpers, int mib) {
        int chunk = 64 * 1024;
        ByteBuf data = ByteBufAllocator.DEFAULT.directBuffer(chunk).writerIndex(chunk);
        AtomicLong echoed = new AtomicLong();
        long start = System.nanoTime();
        try {
            UmhSpec<ByteBuf, ByteBuf> spec = UmhFlux.spec(cat);
            List<Mono<ExitStatus>> runs = new ArrayList<>();
            for (int i = 0; i < helpers; i++) {
                Umh<ByteBuf, ByteBuf> umh = spec.spawn();
                umh.outbound().send(Flux.range(0, mib * 16).map(n -> data.retainedDuplicate())).subscribe();
                runs.add(umh.inbound().doOnNext(b -> echoed.addAndGet(b.readableBytes())).then(umh.exit()));
            }
            List<ExitStatus> statuses = Flux.merge(runs).collectList().block(Duration.ofMinutes(5));
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf(Locale.ROOT, "%d helpers from one memfd echoed %d MiB in %.2f s (%.2f GB/s); "
                    + "exit statuses: %s; JVM threads now: %d%n", helpers, echoed.get() >> 20, seconds,
                    echoed.get() / seconds / 1e9, summarize(statuses),
                    java.lang.management.ManagementFactory.getThreadMXBean().getThreadCount());
        } finally {
            data.release();
        }
        return echoed.get();
    }

    private static String summarize(List<ExitStatus> statuses) {
        long ok = statuses.stream().filter(ExitStatus::isSuccess).count();
        return ok == statuses.size() ? "all " + ok + " exited 0" : ok + " of " + statuses.size() + " exited 0";
    }

    private static void crash() {
        String script = "#!/bin/sh\necho 'working on it'\necho 'about to crash' >&2\nkill -SEGV $$\n";
        try (Blob crasher = Blob.of("crasher", script.getBytes(StandardCharsets.UTF_8))) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(crasher);
            umh.outbound().close().subscribe();
            umh.inbound()
                    .doOnNext(b -> System.out.print("crasher said: " + b.toString(StandardCharsets.UTF_8)))
                    .then()
                    .onErrorResume(HelperFailedException.class, e -> {
                        System.out.println("the owner saw: " + e.getMessage().replace("\n", "\n  "));
                        return Mono.empty();
                    })
                    .block(Duration.ofSeconds(30));
        }
    }
}
