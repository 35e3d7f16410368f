package io.umhflux.examples;

import io.umhflux.Blob;
import io.umhflux.PoolSpec;
import io.umhflux.UmhClient;
import io.umhflux.UmhEvent;
import io.umhflux.UmhMetrics;
import io.umhflux.examples.Checksums.Checksum;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The demo: streams many typed messages (random payloads of 16 to 256 bytes) through a pool of the C checksum
 * helper that ships inside this jar ({@link Checksums}), each helper spawned from the jar's bytes; shows a
 * progress bar; kills one helper with SIGKILL halfway, which the pool replaces while the request it was
 * answering is retried on another helper (the requests are idempotent); and checks every answer against a
 * CRC-32 computed in Java. Where gcc was missing at build time, a Java helper with the same protocol
 * ({@link JavaChecksumHelper}) stands in for the C one, and the demo says so.
 *
 * <p>{@code --serve} runs the HTTP example ({@link HttpService}) instead, until Ctrl-C.
 */
public final class Demo {
    static final String USAGE = String.join("\n",
            "usage: Demo [--messages N] [--helpers N] [--no-kill]",
            "       Demo --serve [--port N]",
            String.format(Locale.ROOT, "  --messages N  checksum requests to stream through the pool (default %,d)",
                    Options.MESSAGES),
            "  --helpers N   helpers in the pool (default " + Options.HELPERS + ")",
            "  --no-kill     do not kill a helper halfway",
            "  --serve       run the HTTP example instead: POST /upper streams a body through tr a-z A-Z",
            "  --port N      the HTTP example's port on 127.0.0.1 (default 8080)",
            "  --help        this text");
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(20);

    private Demo() {
    }

    /**
     * What to run.
     *
     * @param messages how many checksum requests
     * @param helpers the pool's size
     * @param kill whether to kill a helper halfway
     */
    record Options(int messages, int helpers, boolean kill) {
        static final int MESSAGES = 1_000_000;
        static final int HELPERS = 4;

        Options {
            if (messages < 1 || helpers < 1) {
                throw new IllegalArgumentException("--messages and --helpers must be at least 1");
            }
        }
    }

    /**
     * How a run went.
     *
     * @param helper the helper's name: {@code checksum} (the C one) or {@code JavaChecksumHelper}
     * @param messages requests made
     * @param answered requests answered
     * @param lost requests that failed even after their retries
     * @param mismatches answers that differ from the checksum computed in Java
     * @param killedPid the helper killed halfway, or 0
     * @param replacements helpers started after the kill
     * @param counters the pool's counters: spawns, exits by cause, requests to helpers (retries included)
     * @param elapsed from the first request to the last answer
     */
    record Summary(String helper, long messages, long answered, long lost, long mismatches, long killedPid,
            long replacements, UmhMetrics.Counters counters, Duration elapsed) {
        double perSecond() {
            return answered / Math.max(1e-9, elapsed.toNanos() / 1e9);
        }
    }

    public static void main(String[] args) {
        int code = execute(args, System.out, System.err, System.console() != null);
        if (code != 0) {
            System.exit(code);
        }
    }

    /** Parses {@code args} and runs what they ask for; returns the exit code (2 for bad arguments). */
    static int execute(String[] args, PrintStream out, PrintStream err, boolean terminal) {
        int messages = Options.MESSAGES;
        int helpers = Options.HELPERS;
        boolean kill = true;
        boolean serve = false;
        int port = 8080;
        Options options;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--messages" -> messages = number(args, ++i);
                    case "--helpers" -> helpers = number(args, ++i);
                    case "--no-kill" -> kill = false;
                    case "--serve" -> serve = true;
                    case "--port" -> port = number(args, ++i);
                    case "--help", "-h" -> {
                        out.println(USAGE);
                        return 0;
                    }
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            options = new Options(messages, helpers, kill);
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage() + "\n" + USAGE);
            return 2;
        }
        if (serve) {
            serve(port, out);
        } else {
            run(options, out, terminal);
        }
        return 0;
    }

    private static int number(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        try {
            return Integer.parseInt(args[i]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(args[i - 1] + " needs a number, not " + args[i], e);
        }
    }

    private static void serve(int port, PrintStream out) {
        HttpService service = HttpService.start("127.0.0.1", port);
        Runtime.getRuntime().addShutdownHook(new Thread(service::close, "http-service-stop"));
        out.println("HTTP example listening on 127.0.0.1:" + service.port() + "; Ctrl-C stops it. Try:\n"
                + "  curl --data-binary @README.md http://127.0.0.1:" + service.port() + "/upper");
        service.awaitClose();
    }

    /** Runs the checksum demo, printing to {@code out}; {@code terminal} redraws the progress bar in place. */
    static Summary run(Options options, PrintStream out, boolean terminal) {
        boolean builtIn = Checksums.isBuilt();
        try (Blob helper = builtIn ? Checksums.blob() : javaHelper()) {
            if (builtIn) {
                out.format(Locale.ROOT, "blob '%s': %,d bytes of a static C program in this jar (sha256 %s…), "
                        + "in a %s%n", helper.name(), helper.size(), helper.sha256().substring(0, 16),
                        helper.placement() == Blob.Placement.MEMFD ? "sealed memfd: no file on disk"
                                : "private file (memfd exec is refused here)");
            } else {
                out.println("the C helper " + Checksums.RESOURCE + " was not built (gcc was missing at build time):"
                        + " a Java helper with the same protocol, JavaChecksumHelper, stands in for it");
            }
            out.format(Locale.ROOT, "%,d checksum requests through a pool of %d helpers%s%n", options.messages(),
                    options.helpers(), options.kill() ? "; one is killed with SIGKILL halfway" : "");
            Summary summary = stream(helper, options, out, terminal);
            print(summary, out);
            return summary;
        }
    }

    /** The Java stand-in, run from wherever this class was loaded (a jar, target/classes, exec:java's loader). */
    static Blob javaHelper() {
        try {
            Path classes = Path.of(Demo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return Blob.javaMainOnClassPath(classes.toString(), JavaChecksumHelper.class, "-Xmx32m",
                    "-XX:+UseSerialGC");
        } catch (URISyntaxException e) {
            throw new IllegalStateException("where is this class loaded from?", e);
        }
    }

    /** The {@code i}-th payload: 16 to 256 random bytes, the same every run. */
    static byte[] payload(int i) {
        SplittableRandom random = new SplittableRandom(i * 0x9E3779B97F4A7C15L);
        byte[] bytes = new byte[16 + random.nextInt(241)];
        random.nextBytes(bytes);
        return bytes;
    }

    private static Summary stream(Blob helper, Options options, PrintStream out, boolean terminal) {
        UmhMetrics.Counters counters = UmhMetrics.counting();
        UmhClient<Checksum, byte[]> pool = Checksums.spec(helper)
                .metrics(counters)
                .requestTimeout(REQUEST_TIMEOUT)
                .stopGrace(Duration.ofMillis(500))
                .pool(PoolSpec.of(options.helpers()).idempotent(2)); // a request on a killed helper goes again
        HelperWatch watch = new HelperWatch();
        Disposable watching = pool.events().subscribe(watch);
        LongAdder answered = new LongAdder();
        LongAdder lost = new LongAdder();
        LongAdder mismatches = new LongAdder();
        AtomicReference<@Nullable Throwable> firstLoss = new AtomicReference<>();
        AtomicReference<@Nullable Throwable> broken = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        int killAt = options.kill() ? options.messages() / 2 : -1;
        ProgressBar progress = new ProgressBar(out, terminal, options.messages());
        long start = System.nanoTime();
        try {
            Flux.range(0, options.messages())
                    .doOnNext(i -> {
                        if (i == killAt) {
                            watch.killOne();
                        }
                    })
                    .flatMap(i -> {
                        byte[] payload = payload(i);
                        return pool.exchange(payload)
                                .doOnNext(answer -> {
                                    answered.increment();
                                    if (!answer.equals(Checksum.of(payload))) {
                                        mismatches.increment();
                                    }
                                })
                                .onErrorResume(e -> {
                                    lost.increment();
                                    firstLoss.compareAndSet(null, e);
                                    return Mono.empty();
                                });
                    }, 2 * options.helpers())
                    .subscribe(null, e -> {
                        broken.set(e);
                        done.countDown();
                    }, done::countDown);
            while (!done.await(200, TimeUnit.MILLISECONDS)) {
                watch.showNotes(progress, answered.sum() + lost.sum());
                progress.show(answered.sum() + lost.sum());
            }
            Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
            watch.showNotes(progress, answered.sum() + lost.sum());
            progress.finish(answered.sum() + lost.sum());
            Throwable e = broken.get();
            if (e != null) {
                throw new IllegalStateException("the demo's stream failed", e);
            }
            Throwable loss = firstLoss.get();
            if (loss != null) {
                out.println("first lost request: " + loss);
            }
            pool.close().block(Duration.ofSeconds(30)); // the helpers exit 0 at the end of their input
            return new Summary(helper.name(), options.messages(), answered.sum(), lost.sum(), mismatches.sum(),
                    watch.killed.get(), watch.replacements.get(), counters, elapsed);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            pool.dispose();
            watching.dispose();
        }
    }

    private static void print(Summary s, PrintStream out) {
        UmhMetrics.Counters c = s.counters();
        out.format(Locale.ROOT, "%,d messages in %.1f s: %,.0f msg/s through %s helpers%n", s.messages(),
                s.elapsed().toNanos() / 1e9, s.perSecond(), s.helper());
        out.format(Locale.ROOT, "  answered %,d, lost %,d, checksum mismatches %,d%n", s.answered(), s.lost(),
                s.mismatches());
        if (s.killedPid() != 0) {
            out.format(Locale.ROOT, "  killed pid %d; helpers started after the kill: %d%n", s.killedPid(),
                    s.replacements());
        }
        out.format(Locale.ROOT, "  helpers started %d, exits by cause %s%n", c.spawns(), c.exits());
        out.format(Locale.ROOT, "  requests to helpers %,d, of which %,d failed with their helper (each sent again, "
                + "up to twice, or counted lost above); bytes out %,d, in %,d%n", c.requests(), c.failedRequests(),
                c.bytesOut(), c.bytesIn());
    }

    /**
     * Follows the pool's events: which helpers run, which one was killed and which started after it, and
     * notes for the progress bar's thread about them. The pool tells one event at a time.
     */
    private static final class HelperWatch implements Consumer<UmhEvent> {
        final AtomicLong killed = new AtomicLong();
        final AtomicLong replacements = new AtomicLong();
        private final Set<Long> running = ConcurrentHashMap.newKeySet();
        private final Queue<String> notes = new ConcurrentLinkedQueue<>();
        /** Replacements that started before the killed helper's exit was told: told after it. */
        private final List<String> early = new ArrayList<>();

        @Override
        public void accept(UmhEvent event) {
            if (event instanceof UmhEvent.Started s) {
                running.add(s.pid());
                if (killed.get() != 0) {
                    replacements.incrementAndGet();
                    String note = "helper pid " + s.pid() + " started in its place";
                    if (running.contains(killed.get())) {
                        early.add(note); // the pool evicts a helper as soon as it sees its end, before the event
                    } else {
                        notes.add(note);
                    }
                }
            } else if (event instanceof UmhEvent.Exited x) {
                running.remove(x.pid());
                if (!x.status().isSuccess()) {
                    notes.add("helper pid " + x.pid() + " ended: " + x.status());
                }
                if (x.pid() == killed.get()) {
                    notes.addAll(early);
                }
            }
        }

        /** Kills a running helper with SIGKILL, as an OOM killer or an administrator would. */
        void killOne() {
            for (long pid : running) {
                // before the kill, which the helper's exit event may follow at once on another thread
                killed.set(pid);
                notes.add("killing helper pid " + pid + " with SIGKILL");
                if (ProcessHandle.of(pid).map(ProcessHandle::destroyForcibly).orElse(false)) {
                    return;
                }
                notes.add("(it had ended already)");
                killed.set(0);
            }
            notes.add("no helper was running to be killed");
        }

        void showNotes(ProgressBar progress, long done) {
            for (String note = notes.poll(); note != null; note = notes.poll()) {
                progress.note(note, done);
            }
        }
    }
}
