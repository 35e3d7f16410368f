package io.umhflux.supervise;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.umhflux.Blob;
import io.umhflux.ExitStatus;
import io.umhflux.HelperFailedException;
import io.umhflux.PoolSpec;
import io.umhflux.TestHelpers;
import io.umhflux.UmhClient;
import io.umhflux.UmhEvent;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** Pools of helpers on reactor-pool: dispatch, eviction, replacement, retries, idle stop, close, chaos. */
class PoolTest {
    private static final Duration T = TestHelpers.TIMEOUT;
    /** Answers each line with its own pid and the line; dies by SIGKILL on "poison", saying so on stderr. */
    private static final String PID_ECHO = "while read l; do case $l in poison) echo dying >&2; kill -9 $$;; "
            + "slow*) sleep 0.3;; esac; echo \"$$ $l\"; done";

    private static UmhSpec<String, String> lines(Blob blob) {
        return UmhFlux.spec(blob).stopGrace(Duration.ofMillis(200)).lines(1024);
    }

    private static long pidOf(String answer) {
        return Long.parseLong(answer.substring(0, answer.indexOf(' ')));
    }

    @Test
    void startsLazilyAndGoesRoundTheHelpersInTurn() {
        try (Blob echo = TestHelpers.script("pid-echo", PID_ECHO)) {
            UmhClient<String, String> pool = lines(echo).pool(PoolSpec.of(3));
            assertThat(TestHelpers.newChildren(TestHelpers.children('*'))).isEmpty();
            assertThat(((io.umhflux.internal.supervise.PooledClient<?, ?>) pool).helpers()).isZero();
            // three slow ones at once make the pool start three helpers
            List<String> first = Flux.range(0, 3).flatMap(i -> pool.exchange("slow" + i)).collectList().block(T);
            assertThat(first.stream().map(PoolTest::pidOf).distinct()).hasSize(3);
            List<Long> order = Flux.range(0, 9).concatMap(i -> pool.exchange("b" + i)).map(PoolTest::pidOf)
                    .collectList().block(T);
            assertThat(new HashSet<>(order.subList(0, 3))).hasSize(3);
            assertThat(order.subList(3, 6)).isEqualTo(order.subList(0, 3));
            assertThat(order.subList(6, 9)).isEqualTo(order.subList(0, 3));
            pool.close().block(T);
        }
    }

    /** The README's example, as written there. */
    @Test
    void theReadmeExampleAnswers() {
        try (Blob sed = Blob.of(Path.of("/bin/sed"))) {
            UmhClient<String, String> upper = UmhFlux.spec(sed).args("-u", "s/[a-z]/\\U&/g")
                    .lines(1024).requestTimeout(Duration.ofSeconds(2))
                    .pool(PoolSpec.of(4).idleTimeout(Duration.ofMinutes(1)).idempotent(1));
            assertThat(upper.exchange("hello").block(T)).isEqualTo("HELLO");
            upper.close().block(T);
        }
    }

    @Test
    void mostRecentlyUsedKeepsOneHelperBusy() {
        try (Blob echo = TestHelpers.script("pid-echo", PID_ECHO)) {
            UmhClient<String, String> pool = lines(echo)
                    .pool(PoolSpec.of(3).dispatch(PoolSpec.Dispatch.MOST_RECENTLY_USED));
            Flux.range(0, 3).flatMap(i -> pool.exchange("slow" + i)).blockLast(T);
            List<Long> order = Flux.range(0, 6).concatMap(i -> pool.exchange("b" + i)).map(PoolTest::pidOf)
                    .collectList().block(T);
            assertThat(new HashSet<>(order)).hasSize(1);
            pool.close().block(T);
        }
    }

    @Test
    void onlyTheRequestOnTheDeadHelperFailsAndTheHelperIsReplaced() {
        try (Blob echo = TestHelpers.script("pid-echo", PID_ECHO)) {
            List<UmhEvent> events = new CopyOnWriteArrayList<>();
            UmhClient<String, String> pool = lines(echo).pool(PoolSpec.of(3));
            pool.events().subscribe(events::add);
            List<Object> results = Flux.range(0, 60)
                    .flatMap(i -> pool.exchange(i == 30 ? "poison" : "r" + i).<Object>map(s -> s)
                            .onErrorResume(e -> Mono.just(e)), 6)
                    .collectList().block(T);
            List<Object> failures = results.stream().filter(r -> r instanceof Throwable).toList();
            assertThat(failures).hasSize(1);
            assertThat(failures.get(0)).isInstanceOfSatisfying(HelperFailedException.class, e -> {
                assertThat(e.exitStatus().signal()).isEqualTo(9);
                assertThat(e.exitStatus().stderrTail()).containsExactly("dying");
            });
            assertThat(results).hasSize(60);
            // the pool carries on with a new helper in the dead one's place
            assertThat(Flux.range(0, 30).flatMap(i -> pool.exchange("s" + i), 6).count().block(T)).isEqualTo(30);
            assertThat(events.stream().filter(e -> e instanceof UmhEvent.Exited).toList())
                    .singleElement().isInstanceOfSatisfying(UmhEvent.Exited.class,
                            e -> assertThat(e.stopped()).as("it crashed: nobody asked it to stop").isFalse());
            assertThat(events.stream().filter(e -> e instanceof UmhEvent.Started).count()).isEqualTo(4);
            pool.close().block(T);
        }
    }

    @Test
    void idempotentRequestsAreRetriedOnAnotherHelper(@TempDir Path dir) {
        Path marker = dir.resolve("died-once");
        // the first helper dies as it starts; every later one works
        String body = "if [ ! -e " + marker + " ]; then touch " + marker + "; echo 'first one dies' >&2; "
                + "kill -9 $$; fi; " + PID_ECHO;
        try (Blob flaky = TestHelpers.script("flaky", body)) {
            UmhClient<String, String> strict = lines(flaky).pool(PoolSpec.of(1));
            StepVerifier.create(strict.exchange("x")).expectError(HelperFailedException.class).verify(T);
            strict.close().block(T);
            assertThat(marker.toFile().delete()).isTrue();

            UmhClient<String, String> retrying = lines(flaky).pool(PoolSpec.of(1).idempotent(2));
            assertThat(retrying.exchange("x").block(T)).endsWith(" x");
            retrying.close().block(T);
        }
    }

    /** Retries used up: the request fails with the last helper's end, not Reactor's RetryExhaustedException. */
    @Test
    void exhaustedRetriesFailWithTheLastHelpersEnd() {
        try (Blob dies = TestHelpers.script("dies", "read l; echo 'poison' >&2; exit 3")) {
            UmhClient<String, String> pool = lines(dies).pool(PoolSpec.of(1).idempotent(2));
            try {
                StepVerifier.create(pool.exchange("x"))
                        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(HelperFailedException.class)
                                .hasMessageContaining("exited with code 3").hasMessageContaining("poison"))
                        .verify(T);
            } finally {
                pool.dispose();
            }
        }
    }

    /**
     * The request timeout runs from the call, the wait for a free helper included: with one stuck helper, a
     * second request times out with the first one, not a timeout after the first one gave its helper up.
     */
    @Test
    void theTimeoutCoversTheWaitForAFreeHelper() {
        try (Blob stuck = TestHelpers.script("stuck", "while read l; do sleep 10; done")) {
            UmhClient<String, String> pool = UmhFlux.spec(stuck).stopGrace(Duration.ofMillis(200)).lines(1024)
                    .requestTimeout(Duration.ofSeconds(1)).pool(PoolSpec.of(1));
            try {
                long t0 = System.nanoTime();
                Mono<Long> first = pool.exchange("a").then(Mono.just(0L))
                        .onErrorResume(java.util.concurrent.TimeoutException.class, e -> Mono.just(System.nanoTime()));
                Mono<Long> second = pool.exchange("b").then(Mono.just(0L))
                        .onErrorResume(java.util.concurrent.TimeoutException.class, e -> Mono.just(System.nanoTime()));
                List<Long> ends = Flux.merge(first, second).collectList().block(T);
                assertThat(ends).hasSize(2).allSatisfy(end -> assertThat(end)
                        .as("each request timed out, within 1.7 s of the call")
                        .isBetween(t0 + 900_000_000L, t0 + 1_700_000_000L));
            } finally {
                pool.dispose();
            }
        }
    }

    /** close() also waits for a helper the pool threw away after a timeout, and its Exited event comes first. */
    @Test
    void closeWaitsForAHelperDiscardedAfterATimeout() {
        try (Blob stuck = TestHelpers.script("stuck", "while read l; do sleep 10; done")) {
            List<Long> before = TestHelpers.children('*');
            List<UmhEvent> events = new CopyOnWriteArrayList<>();
            UmhClient<String, String> pool = UmhFlux.spec(stuck).stopGrace(Duration.ofMillis(500)).lines(1024)
                    .requestTimeout(Duration.ofMillis(200)).pool(PoolSpec.of(1));
            pool.events().subscribe(events::add);
            StepVerifier.create(pool.exchange("x")).expectError(java.util.concurrent.TimeoutException.class)
                    .verify(T);
            pool.close().block(T);
            assertThat(TestHelpers.newChildren(before)).as("helpers running after close()").isEmpty();
            // stuck in sleep past the stop grace: killed by SIGTERM, but because the pool stopped it
            assertThat(events).anyMatch(e -> e instanceof UmhEvent.Exited x && x.stopped()
                    && !x.status().isSuccess());
        }
    }

    /**
     * A caller that gives up on a request (its own timeout, a cancel) leaves the answer due on that helper;
     * the next request must not queue behind it: the pool replaces that helper.
     */
    @Test
    void aCancelledRequestDoesNotHoldUpTheNextOne() {
        try (Blob slow = TestHelpers.script("slow-echo", "while read l; do case $l in slow*) sleep 3;; esac; "
                + "echo \"$l\"; done")) {
            UmhClient<String, String> pool = lines(slow).pool(PoolSpec.of(1));
            StepVerifier.create(pool.exchange("slow one").timeout(Duration.ofMillis(200)))
                    .expectError(java.util.concurrent.TimeoutException.class)
                    .verify(T);
            long start = System.nanoTime();
            assertThat(pool.exchange("quick one").block(T)).isEqualTo("quick one");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("the next request's wait")
                    .isLessThan(Duration.ofMillis(2500));
            pool.close().block(T);
        }
    }

    @Test
    void idleHelpersAreStopped() {
        try (Blob cat = TestHelpers.cat()) {
            List<Long> before = TestHelpers.children('*');
            UmhClient<String, String> pool = lines(cat).pool(PoolSpec.of(2).idleTimeout(Duration.ofMillis(300)));
            assertThat(pool.exchange("x").block(T)).isEqualTo("x");
            assertThat(TestHelpers.newChildren(before)).hasSize(1);
            await().atMost(T).until(() -> TestHelpers.newChildren(before).isEmpty());
            assertThat(((io.umhflux.internal.supervise.PooledClient<?, ?>) pool).helpers()).isZero();
            // and started again on demand
            assertThat(pool.exchange("y").block(T)).isEqualTo("y");
            pool.close().block(T);
        }
    }

    @Test
    void closeLetsRequestsInFlightFinishThenStopsEveryHelper() {
        try (Blob slow = TestHelpers.script("slow", "while read l; do sleep 0.3; echo \"$l\"; done")) {
            List<Long> before = TestHelpers.children('*');
            UmhClient<String, String> pool = lines(slow).pool(PoolSpec.of(2));
            Mono<String> inFlight = pool.exchange("slowly").cache();
            inFlight.subscribe(v -> { }, e -> { });
            await().atMost(T).until(() -> TestHelpers.newChildren(before).size() == 1);
            Mono<Void> closing = pool.close().cache();
            closing.subscribe(v -> { }, e -> { });
            StepVerifier.create(pool.exchange("too late")).expectError(IllegalStateException.class).verify(T);
            assertThat(inFlight.block(T)).isEqualTo("slowly");
            closing.block(T);
            await().atMost(T).until(() -> TestHelpers.newChildren(before).isEmpty());
            TestHelpers.assertNoZombies();
        }
    }

    /**
     * Chaos: a pool serves 100,000 requests while helpers are killed with SIGKILL at random;
     * each request succeeds with its own answer or fails naming the helper's exit; afterwards descriptors,
     * threads and children are back where they started.
     */
    @Test
    void chaosHundredThousandRequestsWhileHelpersAreKilled() throws InterruptedException {
        int requests = "full".equals(System.getProperty("umh.soak")) ? 1_000_000 : 100_000;
        try (Blob cat = TestHelpers.cat()) {
            UmhSpec<String, String> spec = lines(cat);
            UmhClient<String, String> warm = spec.pool(PoolSpec.of(4));
            Flux.range(0, 100).flatMap(i -> warm.exchange("w" + i), 8).blockLast(T);
            warm.close().block(T);
            await().atMost(T).untilAsserted(() -> assertThat(TestHelpers.children('*')).isEmpty());
            Set<String> fds = TestHelpers.openFds();
            int threads = Thread.getAllStackTraces().size();

            UmhClient<String, String> pool = spec.pool(PoolSpec.of(4));
            AtomicBoolean done = new AtomicBoolean();
            AtomicInteger kills = new AtomicInteger();
            Thread killer = new Thread(() -> {
                while (!done.get()) {
                    List<Long> kids = TestHelpers.children('*');
                    if (!kids.isEmpty()) {
                        long pid = kids.get(ThreadLocalRandom.current().nextInt(kids.size()));
                        ProcessHandle.of(pid).ifPresent(p -> {
                            if (p.destroyForcibly()) {
                                kills.incrementAndGet();
                            }
                        });
                    }
                    try {
                        Thread.sleep(ThreadLocalRandom.current().nextInt(5, 40));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "chaos-killer");
            killer.start();
            AtomicInteger ok = new AtomicInteger();
            AtomicInteger failed = new AtomicInteger();
            List<Throwable> wrong = new CopyOnWriteArrayList<>();
            Flux.range(0, requests)
                    .flatMap(i -> pool.exchange("q" + i)
                            .doOnNext(answer -> {
                                if (answer.equals("q" + i)) {
                                    ok.incrementAndGet();
                                } else {
                                    wrong.add(new AssertionError("request q" + i + " got " + answer));
                                }
                            })
                            .onErrorResume(e -> {
                                ExitStatus s = e instanceof HelperFailedException
                                        ? ((HelperFailedException) e).exitStatus() : null;
                                if (s != null && s.signal() == 9 && e.getMessage().contains("SIGKILL")) {
                                    failed.incrementAndGet();
                                } else {
                                    wrong.add(e);
                                }
                                return Mono.empty();
                            }), 16)
                    .blockLast(Duration.ofMinutes(10));
            done.set(true);
            killer.join();
            pool.close().block(T);
            System.out.printf("chaos: %d requests, %d answered, %d failed by %d SIGKILLs%n", requests, ok.get(),
                    failed.get(), kills.get());

            assertThat(wrong).as("answers that were wrong or errors that name no exit")
                    .extracting(Throwable::toString).isEmpty();
            assertThat(ok.get() + failed.get()).isEqualTo(requests);
            assertThat(kills.get()).as("helpers killed").isPositive();
            assertThat(failed.get()).as("requests failed by kills").isPositive().isLessThanOrEqualTo(kills.get());
            await().atMost(T).untilAsserted(() -> {
                assertThat(TestHelpers.children('*')).as("children (zombies included)").isEmpty();
                assertThat(TestHelpers.newFds(fds)).as("new descriptors").isEmpty();
            });
            assertThat(Thread.getAllStackTraces().size()).as("threads").isLessThanOrEqualTo(threads + 1);
        }
    }
}
