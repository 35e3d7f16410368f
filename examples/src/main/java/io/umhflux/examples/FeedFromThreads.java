package io.umhflux.examples;

import io.umhflux.Blob;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSink;
import io.umhflux.UmhSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Feeding a helper from code that pushes rather than publishes: plain threads (a Kafka or JMS listener, a task
 * thread), a callback that must not block, and a reactive chain. Each goes through {@link UmhSink}, so a helper
 * that reads slowly slows the producers down instead of filling the heap. The helper is {@code tr}, upper-casing
 * lines.
 */
public final class FeedFromThreads {
    private FeedFromThreads() {
    }

    private static UmhSpec<String, String> upperCase(Blob tr) {
        return UmhFlux.spec(tr).args("a-z", "A-Z").lines(1024);
    }

    /** {@code threads} plain threads, each pushing {@code perThread} lines; the lines the helper wrote back. */
    public static List<String> fromThreads(int threads, int perThread) throws Exception {
        try (Blob tr = Blob.of(Path.of("/usr/bin/tr"))) {
            Umh<String, String> umh = upperCase(tr).spawn();
            UmhSink<String> sink = umh.outbound().sink();                 // instead of send(publisher)
            CompletableFuture<List<String>> out = umh.inbound().collectList().toFuture();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<Future<?>> producers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                producers.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        sink.emitBlocking("thread " + id + " line " + i, Duration.ofSeconds(10)); // waits for room
                    }
                    return null;
                }));
            }
            for (Future<?> p : producers) {
                p.get();                                                   // a timeout or the helper's end shows here
            }
            pool.shutdown();
            sink.complete();                                               // what was accepted is written, then EOF
            return out.get(30, TimeUnit.SECONDS);
        }
    }

    /**
     * A callback that must never wait (it runs on someone else's thread, an event loop perhaps): it answers
     * whether the record was taken, so that its caller can pause the source while the helper is behind.
     */
    static boolean onRecord(UmhSink<String> sink, String record) {
        return sink.tryEmit(record) == Sinks.EmitResult.OK;               // FAIL_OVERFLOW: pause, try again later
    }

    /** Records from a callback source, paused while the helper is behind; the lines the helper wrote back. */
    public static List<String> fromCallbacks(List<String> records) throws Exception {
        try (Blob tr = Blob.of(Path.of("/usr/bin/tr"))) {
            Umh<String, String> umh = upperCase(tr).spawn();
            UmhSink<String> sink = umh.outbound().sink();
            CompletableFuture<List<String>> out = umh.inbound().collectList().toFuture();
            for (String record : records) {
                while (!onRecord(sink, record)) {
                    Thread.onSpinWait();                                   // a real source would pause its reads
                }
            }
            sink.complete();
            return out.get(30, TimeUnit.SECONDS);
        }
    }

    /** A reactive chain: each emit waits for the one before it to be accepted. */
    public static List<String> fromAChain(List<String> records) {
        try (Blob tr = Blob.of(Path.of("/usr/bin/tr"))) {
            Umh<String, String> umh = upperCase(tr).spawn();
            UmhSink<String> sink = umh.outbound().sink();
            Flux.fromIterable(records)
                    .concatMap(sink::emit)                                 // at most the high-water mark in flight
                    .then(Mono.fromRunnable(sink::complete))
                    .subscribe(null, sink::error);
            return umh.inbound().collectList().block(Duration.ofSeconds(30));
        }
    }

    public static void main(String[] args) throws Exception {
        List<String> lines = fromThreads(4, 100_000);
        System.out.println(lines.size() + " lines from 4 threads, the last: " + lines.get(lines.size() - 1));
    }
}
