package io.umhflux.supervise;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.umhflux.Blob;
import io.umhflux.Environment;
import io.umhflux.HelperFailedException;
import io.umhflux.PoolSpec;
import io.umhflux.Restart;
import io.umhflux.TestHelpers;
import io.umhflux.UmhClient;
import io.umhflux.UmhEvent;
import io.umhflux.UmhFlux;
import io.umhflux.UmhMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Supervision at its edges: close with requests in flight, requests the codec refuses, the timeouts of pooled and
 * supervised requests, the cold exchange, bad frames, a supervised helper's events, helpers that close stdout.
 */
class SupervisionEdgeCasesTest {
    private static final Duration T = TestHelpers.TIMEOUT;

    private static Object outcome(Mono<String> m) {
        return m.<Object>map(s -> s).onErrorResume(e -> Mono.just(e.getClass().getSimpleName() + ": "
                + e.getMessage().lines().findFirst().orElse(""))).block(T);
    }

    /** {@code UmhClient.close()} lets the requests in flight finish before the helper is stopped. */
    @Test
    void closeLetsRequestsInFlightFinish() {
        try (Blob slow = TestHelpers.script("slow", "while read l; do sleep 0.3; echo \"$l\"; done")) {
            UmhClient<String, String> client = UmhFlux.spec(slow).stopGrace(Duration.ofSeconds(3)).lines(1024)
                    .maxInFlight(1).connect();
            List<Mono<String>> calls = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Mono<String> c = client.exchange("r" + i).cache();
                c.subscribe(v -> { }, e -> { });
                calls.add(c);
            }
            client.close().block(T);
            List<Object> results = new ArrayList<>();
            calls.forEach(c -> results.add(outcome(c)));
            assertThat(results).containsExactly("r0", "r1", "r2");
        }
    }

    /**
     * {@code close()} after a request timed out on a helper stuck on it: the close waits for no answer that no one
     * waits for, and stops the helper within its grace (connected and supervised clients alike).
     */
    @Test
    void closeAfterATimedOutRequestStopsTheStuckHelper() {
        try (Blob stuckOne = TestHelpers.script("stuckone",
                "while read l; do if [ \"$l\" = stuck ]; then sleep 1000; fi; echo \"$l\"; done")) {
            List<UmhClient<String, String>> clients = List.of(
                    UmhFlux.spec(stuckOne).lines(1024).stopGrace(Duration.ofMillis(200))
                            .requestTimeout(Duration.ofMillis(200)).connect(),
                    UmhFlux.spec(stuckOne).lines(1024).stopGrace(Duration.ofMillis(200))
                            .requestTimeout(Duration.ofMillis(200))
                            .supervise(Restart.backoff(Duration.ofMillis(10), Duration.ofMillis(10))));
            for (UmhClient<String, String> client : clients) {
                try {
                    assertThat(client.exchange("fine").block(T)).isEqualTo("fine");
                    assertThat(outcome(client.exchange("stuck"))).asString().startsWith("TimeoutException");
                    client.close().block(Duration.ofSeconds(5)); // the 1000 s sleep would outlast it
                } finally {
                    client.dispose();
                }
            }
        }
    }

    /**
     * {@code dispose()} while the restarted helper is being spawned: that helper is stopped too, none is left
     * running. The spawn is held for a moment in the environment's context function (a busy wait, as the restart
     * spawns on a parallel thread, where BlockHound refuses a sleep).
     */
    @Test
    void disposeWhileARestartSpawnsStopsTheNewHelper() throws Exception {
        AtomicInteger spawns = new AtomicInteger();
        CountDownLatch restarting = new CountDownLatch(1);
        UmhMetrics.Counters metrics = UmhMetrics.counting();
        try (Blob crashOnce = TestHelpers.script("crashonce", "if [ \"$RUN\" = 1 ]; then exit 1; fi; exec cat")) {
            Environment env = Environment.inherit().withContext(ctx -> {
                int n = spawns.incrementAndGet();
                if (n == 2) {
                    restarting.countDown();
                    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
                    while (System.nanoTime() < until) {
                        Math.sqrt(until);
                    }
                }
                return Map.of("RUN", String.valueOf(n));
            });
            UmhClient<String, String> client = UmhFlux.spec(crashOnce).lines(1024).environment(env).metrics(metrics)
                    .supervise(Restart.backoff(Duration.ofMillis(1), Duration.ofMillis(1)));
            assertThat(restarting.await(10, TimeUnit.SECONDS)).isTrue();
            client.dispose();
            await().atMost(T).untilAsserted(() -> assertThat(metrics.exits().values().stream()
                    .mapToLong(Long::longValue).sum()).as("helpers reaped (spawned: %d)", metrics.spawns())
                    .isEqualTo(2));
        }
    }

    /** A pooled idempotent request sent again after its helper died: the metrics count each attempt. */
    @Test
    void aRetriedPooledRequestCountsEachAttempt() {
        UmhMetrics.Counters metrics = UmhMetrics.counting();
        AtomicInteger spawns = new AtomicInteger();
        try (Blob crashFirst = TestHelpers.script("crashfirst",
                "if [ \"$RUN\" = 1 ]; then read l; exit 3; fi; exec cat")) {
            Environment env = Environment.inherit()
                    .withContext(ctx -> Map.of("RUN", String.valueOf(spawns.incrementAndGet())));
            UmhClient<String, String> pool = UmhFlux.spec(crashFirst).lines(1024).environment(env).metrics(metrics)
                    .pool(PoolSpec.of(1).idempotent(1));
            try {
                assertThat(pool.exchange("x").block(T)).isEqualTo("x");
                assertThat(metrics.requests()).as("%s", metrics).isEqualTo(2);
                assertThat(metrics.failedRequests()).as("%s", metrics).isEqualTo(1);
            } finally {
                pool.dispose();
            }
        }
    }

    /** Pool: a request's TimeoutException arrives at requestTimeout, without waiting for the stuck helper's stop. */
    @Test
    void poolTimeoutArrivesOnTime() {
        try (Blob stuck = TestHelpers.script("stuck", "while read l; do sleep 10; done")) {
            UmhClient<String, String> pool = UmhFlux.spec(stuck).stopGrace(Duration.ofMillis(1500)).lines(1024)
                    .requestTimeout(Duration.ofMillis(200)).pool(PoolSpec.of(1));
            long t0 = System.nanoTime();
            Object r = outcome(pool.exchange("x"));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            pool.dispose();
            assertThat(ms).isLessThan(800);
        }
    }

    /** A request that cannot be encoded fails alone: the helper and every other request go on. */
    @Test
    void anUnencodableRequestFailsAlone() {
        try (Blob slow = TestHelpers.script("slow", "while read l; do sleep 0.2; echo \"$l\"; done")) {
            UmhClient<String, String> client = UmhFlux.spec(slow).stopGrace(Duration.ofMillis(200)).lines(1024)
                    .maxInFlight(4).connect();
            Mono<String> good = client.exchange("good").cache();
            good.subscribe(v -> { }, e -> { });
            Object bad = outcome(client.exchange("bad\nline"));
            Object g = outcome(good);
            Object after = outcome(client.exchange("after"));
            client.dispose();
            assertThat(g).isEqualTo("good");
            assertThat(after).isEqualTo("after");
        }
    }

    /** requestTimeout bounds a supervised request's wait for a restart too: it fails on time during the backoff. */
    @Test
    void supervisedRequestTimeoutCoversTheWaitForARestart() {
        try (Blob cat = TestHelpers.cat()) {
            List<UmhEvent> events = new CopyOnWriteArrayList<>();
            List<Long> before = TestHelpers.children('*');
            UmhClient<String, String> client = UmhFlux.spec(cat).stopGrace(Duration.ofMillis(200)).lines(1024)
                    .requestTimeout(Duration.ofMillis(200))
                    .supervise(Restart.backoff(Duration.ofSeconds(2), Duration.ofSeconds(2)));
            client.events().subscribe(events::add);
            assertThat(client.exchange("one").block(T)).isEqualTo("one");
            long pid = TestHelpers.newChildren(before).get(0);
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();
            await().atMost(T).until(() -> events.stream().anyMatch(e -> e instanceof UmhEvent.Restarting));
            long t0 = System.nanoTime();
            Object r = outcome(client.exchange("two"));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            client.dispose();
            assertThat(ms).isLessThan(800);
        }
    }

    /** Cold exchange: "Errors if ... the helper closed its stdin before it had everything ... exited 0". */
    @Test
    void coldExchangeOnOneLoopReportsAnUnfinishedSend() throws Exception {
        IoEventLoopGroup one = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (Blob quits = TestHelpers.script("quits", "exit 0")) {
            int completed = 0;
            for (int i = 0; i < 10; i++) {
                Object r = UmhFlux.spec(quits).eventLoopGroup(one).lines(1024)
                        .exchange(Flux.just("a", "b").delayElements(Duration.ofMillis(300)))
                        .then(Mono.just("completed"))
                        .onErrorResume(e -> Mono.just("error " + e.getMessage())).block(T);
                if ("completed".equals(r)) {
                    completed++;
                }
            }
            for (int i = 0; i < 5; i++) {
                Object r = UmhFlux.spec(quits).lines(1024)
                        .exchange(Flux.just("a", "b").delayElements(Duration.ofMillis(300)))
                        .then(Mono.just("completed"))
                        .onErrorResume(e -> Mono.just("error " + e.getMessage())).block(T);
            }
            assertThat(completed).isZero();
        } finally {
            one.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
        }
    }

    /** A client-side encoding error is no helper crash: two refused requests leave a restart budget of 1 unspent. */
    @Test
    void unencodableRequestsSpendTheRestartBudget() {
        try (Blob cat = TestHelpers.cat()) {
            UmhClient<String, String> client = UmhFlux.spec(cat).stopGrace(Duration.ofMillis(200)).lines(1024)
                    .supervise(Restart.backoff(Duration.ofMillis(10), Duration.ofMillis(10)).budget(1,
                            Duration.ofMinutes(1)));
            outcome(client.exchange("a\nb")); // refused by the codec: fails alone, spends nothing of the budget
            await().atMost(T).until(() -> "ok".equals(outcome(client.exchange("ok"))));
            outcome(client.exchange("c\nd"));
            Object later = null;
            for (int i = 0; i < 20 && !(later instanceof String s && s.startsWith("RestartsExhausted")); i++) {
                later = outcome(client.exchange("fine"));
            }
            client.dispose();
            assertThat(later).isEqualTo("fine");
        }
    }

    /** A bad frame: requests in flight fail with a HelperFailedException that carries the exit status. */
    @Test
    void aBadFrameFailsRequestsWithTheExitStatus() {
        try (Blob longLine = TestHelpers.script("long", "read l; head -c 3000 /dev/zero | tr '\\0' x; echo")) {
            UmhClient<String, String> client = UmhFlux.spec(longLine).stopGrace(Duration.ofMillis(200))
                    .lines(1024).connect();
            Throwable e = client.exchange("x").map(v -> (Throwable) null).onErrorResume(Mono::just).block(T);
            client.dispose();
            assertThat(((HelperFailedException) e).exitStatus()).isNotNull();
        }
    }

    /** Events: a supervised helper's whole life is seen, up to its last Exited after close(). */
    @Test
    void supervisedEventsShowTheWholeLife() {
        try (Blob cat = TestHelpers.cat()) {
            List<UmhEvent> events = new CopyOnWriteArrayList<>();
            UmhClient<String, String> client = UmhFlux.spec(cat).stopGrace(Duration.ofMillis(200)).lines(1024)
                    .supervise(Restart.backoff(Duration.ofMillis(10), Duration.ofMillis(10)));
            client.events().subscribe(events::add);
            assertThat(client.exchange("one").block(T)).isEqualTo("one");
            client.close().block(T);
            await().pollDelay(Duration.ofMillis(300)).atMost(T).until(() -> true);
            assertThat(events).hasAtLeastOneElementOfType(UmhEvent.Exited.class);
        }
    }
    /**
     * A helper that closes its stdout but keeps running can never answer again: after the drain timeout it is
     * stopped, the request fails saying why, and the supervisor starts another that answers.
     */
    @Test
    void aHelperThatClosedItsStdoutIsStoppedAndReplaced() {
        try (Blob half = TestHelpers.script("half",
                "read l; echo \"$l\"; exec >&-; while read l; do :; done; sleep 1000")) {
            List<UmhEvent> events = new CopyOnWriteArrayList<>();
            UmhClient<String, String> client = UmhFlux.spec(half).stopGrace(Duration.ofMillis(200)).lines(1024)
                    .drainTimeout(Duration.ofMillis(300))
                    .supervise(Restart.backoff(Duration.ofMillis(10), Duration.ofMillis(10)));
            client.events().subscribe(events::add);
            try {
                assertThat(client.exchange("one").block(T)).isEqualTo("one");
                Throwable second = client.exchange("two").map(v -> (Throwable) null).onErrorResume(Mono::just)
                        .block(Duration.ofSeconds(5));
                assertThat(second).isInstanceOf(HelperFailedException.class)
                        .hasMessageContaining("closed its stdout but kept running");
                assertThat(client.exchange("three").block(T)).isEqualTo("three");
                assertThat(events).hasAtLeastOneElementOfType(UmhEvent.Restarting.class);
            } finally {
                client.dispose();
            }
        }
    }
    /**
     * A helper that closed its stdout and then exited (a grandchild holding stderr delays its final status) is
     * reported with its exit, not as one that kept running.
     */
    @Test
    void aHelperThatExitedSoonAfterClosingStdoutIsReportedWithItsExit() {
        try (Blob sh = TestHelpers.script("exits3",
                "read l; exec >&-; sleep 3 >/dev/null </dev/null & sleep 0.05; exit 3")) {
            UmhClient<String, String> client = UmhFlux.spec(sh).lines(1024)
                    .drainTimeout(Duration.ofMillis(500)).connect();
            try {
                Throwable error = client.exchange("q").map(v -> (Throwable) null).onErrorResume(Mono::just)
                        .block(Duration.ofSeconds(10));
                assertThat(error).isInstanceOf(HelperFailedException.class)
                        .hasMessageNotContaining("kept running").hasMessageContaining("code 3");
                assertThat(((HelperFailedException) error).exitStatus().code()).isEqualTo(3);
            } finally {
                client.dispose();
            }
        }
    }
}
