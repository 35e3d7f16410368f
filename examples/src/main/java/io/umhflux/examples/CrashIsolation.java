package io.umhflux.examples;

import io.umhflux.Blob;
import io.umhflux.HelperFailedException;
import io.umhflux.PoolSpec;
import io.umhflux.UmhClient;
import io.umhflux.UmhEvent;
import io.umhflux.UmhMetrics;
import io.umhflux.examples.Checksums.Checksum;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Crash isolation: a pool of the embedded C checksum helper ({@link Checksums}) serves requests, and some of
 * them are poison that crashes the helper which gets it with SIGSEGV. The crash stays in that process: the
 * pool evicts the dead helper, starts a new one in its place, and keeps answering. Only the poison requests
 * fail, each with a {@link HelperFailedException} whose exit status names the signal; every other request
 * gets its checksum.
 *
 * <pre>{@code
 * UmhClient<Checksum, byte[]> pool = Checksums.spec(helper).metrics(counters).pool(PoolSpec.of(3));
 * pool.events().subscribe(events::add);                       // Started, Exited (SIGSEGV), Started, ...
 * pool.exchange(payload)                                      // a Checksum, or the helper's crash
 *         .subscribe(answer -> ..., crash -> ...);
 * }</pre>
 */
public final class CrashIsolation {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private CrashIsolation() {
    }

    /**
     * What became of one request.
     *
     * @param payload what was sent
     * @param answer the helper's answer, or {@code null} when the request failed
     * @param failure why it failed, or {@code null} when it was answered
     */
    public record Result(byte[] payload, @Nullable Checksum answer, @Nullable Throwable failure) {
        /** @return whether this request was poison */
        public boolean isPoison() {
            return Checksums.POISON.equals(new String(payload, StandardCharsets.UTF_8));
        }
    }

    /**
     * A run: the results in the order of the requests, the pool's events in the order they happened (those
     * seen until the pool was closed and its helpers had exited), and the counters.
     *
     * @param results one per request
     * @param events what happened to the helpers
     * @param counters spawns, exits by cause, requests and bytes
     */
    public record Report(List<Result> results, List<UmhEvent> events, UmhMetrics.Counters counters) {
        /** @return the requests that were answered */
        public long answered() {
            return results.stream().filter(r -> r.answer() != null).count();
        }

        /** @return the requests that failed */
        public long failed() {
            return results.stream().filter(r -> r.failure() != null).count();
        }
    }

    /** The {@code i}-th request: {@value Checksums#POISON} when {@code i % poisonEvery == poisonEvery / 2}. */
    static byte[] payload(int i, int poisonEvery) {
        String text = i % poisonEvery == poisonEvery / 2 ? Checksums.POISON : "request " + i;
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Sends {@code requests} requests through a pool of {@code poolSize} helpers spawned from {@code helper},
     * two per helper at a time, every {@code poisonEvery}-th of them poison; closes the pool afterwards.
     */
    public static Report run(Blob helper, int requests, int poisonEvery, int poolSize) {
        UmhMetrics.Counters counters = UmhMetrics.counting();
        UmhClient<Checksum, byte[]> pool = Checksums.spec(helper)
                .metrics(counters)
                .stopGrace(Duration.ofMillis(500))
                .pool(PoolSpec.of(poolSize));
        List<UmhEvent> events = new CopyOnWriteArrayList<>();
        Disposable watching = pool.events().subscribe(events::add);
        try {
            List<Result> results = Flux.range(0, requests)
                    .map(i -> payload(i, poisonEvery))
                    .flatMapSequential(payload -> pool.exchange(payload)
                            .map(answer -> new Result(payload, answer, null))
                            .onErrorResume(e -> Mono.just(new Result(payload, null, e))), 2 * poolSize)
                    .collectList()
                    .block(TIMEOUT);
            pool.close().block(TIMEOUT);       // lets the helpers exit at end of input, and waits for them
            return new Report(List.copyOf(results), events, counters);
        } finally {
            pool.dispose();                    // after close(), nothing is left to stop; on an error, it stops all
            watching.dispose();
        }
    }

    /** Runs 40 requests, every 10th poison, through a pool of 3 helpers and prints what happened. */
    public static void main(String[] args) {
        if (!Checksums.isBuilt()) {
            System.out.println("the C helper " + Checksums.RESOURCE + " was not built (gcc was missing at build "
                    + "time): nothing to show");
            return;
        }
        Report report;
        try (Blob helper = Checksums.blob()) {
            report = run(helper, 40, 10, 3);
        }
        for (Result r : report.results()) {
            if (r.failure() != null) {
                System.out.println("\"" + new String(r.payload(), StandardCharsets.UTF_8) + "\" failed: "
                        + r.failure().getMessage());
            }
        }
        System.out.println("events:");
        for (UmhEvent e : report.events()) {
            System.out.println("  " + describe(e));
        }
        long wrong = report.results().stream()
                .filter(r -> r.answer() != null && !r.answer().equals(Checksum.of(r.payload())))
                .count();
        System.out.printf(Locale.ROOT, "%d requests: %d answered (%d wrong), %d failed%ncounters: %s%n",
                report.results().size(), report.answered(), wrong, report.failed(), report.counters());
    }

    static String describe(UmhEvent event) {
        if (event instanceof UmhEvent.Started s) {
            return "started " + s.helper() + " pid " + s.pid();
        }
        if (event instanceof UmhEvent.Exited x) {
            return "exited  " + x.helper() + " pid " + x.pid() + ": " + x.status();
        }
        return event.toString();
    }
}
