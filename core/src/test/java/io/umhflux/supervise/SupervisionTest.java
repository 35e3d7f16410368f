package io.umhflux.supervise;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.umhflux.Blob;
import io.umhflux.ExitStatus;
import io.umhflux.HelperFailedException;
import io.umhflux.Restart;
import io.umhflux.RestartsExhaustedException;
import io.umhflux.TestHelpers;
import io.umhflux.UmhClient;
import io.umhflux.UmhEvent;
import io.umhflux.UmhFlux;
import io.umhflux.UmhMetrics;
import io.umhflux.UmhSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** Request/response over one helper, restarts with backoff and budget, and the metrics hooks. */
class SupervisionTest {
    private static final Duration T = TestHelpers.TIMEOUT;

    private static UmhSpec<String, String> lines(Blob blob) {
        return UmhFlux.spec(blob).stopGrace(Duration.ofMillis(200)).lines(1024);
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() {
        try (Blob cat = TestHelpers.cat()) {
            UmhClient<String, String> client = lines(cat).maxInFlight(32).connect();
            List<String> answers = Flux.range(0, 2000)
                    .flatMapSequential(i -> client.exchange("request " + i), 256)
                    .collectList().block(T);
            assertThat(answers).hasSize(2000);
            for (int i = 0; i < answers.size(); i++) {
                assertThat(answers.get(i)).isEqualTo("request " + i);
            }
            assertThat(client.inFlight()).isZero();
            client.close().block(T);
            assertThat(client.exchange("late").onErrorResume(e -> Mono.just(e.getClass().getSimpleName()))
                    .block(T)).isEqualTo("IllegalStateException");
        }
    }

    @Test
    void noMoreThanMaxInFlightRequestsReachTheHelper(@TempDir Path dir) {
        Path seen = dir.resolve("seen");
        // reads requests and never answers: what it has read is what was written to it
        try (Blob sink = TestHelpers.script("mute", "while read l; do echo \"$l\" >> " + seen + "; done")) {
            UmhClient<String, String> client = lines(sink).maxInFlight(3).connect();
            for (int i = 0; i < 10; i++) {
                client.exchange("r" + i).subscribe(v -> { }, e -> { });
            }
            await().atMost(T).until(() -> Files.exists(seen) && Files.readAllLines(seen).size() >= 3);
            // give an over-eager writer the time to show itself
            await().pollDelay(Duration.ofMillis(300)).atMost(T).until(() -> true);
            assertThat(Files.readAllLines(seen)).as("requests the helper received").containsExactly("r0", "r1", "r2");
            assertThat(client.inFlight()).isEqualTo(10);
            client.dispose();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void everyRequestInFlightFailsWithTheHelpersEndWhenItDies() {
        try (Blob dies = TestHelpers.script("dies", "read a; read b; read c; echo 'out of memory, sort of' >&2; "
                + "kill -9 $$")) {
            UmhClient<String, String> client = lines(dies).maxInFlight(8).connect();
            List<Mono<String>> calls = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                calls.add(client.exchange("r" + i).cache());
            }
            calls.forEach(c -> c.subscribe(v -> { }, e -> { }));
            for (Mono<String> c : calls) {
                StepVerifier.create(c)
                        .expectErrorSatisfies(e -> {
                            assertThat(e).isInstanceOf(HelperFailedException.class);
                            ExitStatus s = ((HelperFailedException) e).exitStatus();
                            assertThat(s).isNotNull();
                            assertThat(s.signal()).isEqualTo(9);
                            assertThat(s.stderrTail()).containsExactly("out of memory, sort of");
                        })
                        .verify(T);
            }
            // and later requests are refused with the same end, at once
            StepVerifier.create(client.exchange("after")).expectError(HelperFailedException.class).verify(T);
            assertThat(client.inFlight()).isZero();
        }
    }

    @Test
    void aRequestTimesOutWithTheHelpersName() {
        try (Blob mute = TestHelpers.script("mute", "cat > /dev/null")) {
            UmhClient<String, String> client = lines(mute).requestTimeout(Duration.ofMillis(200)).connect();
            StepVerifier.create(client.exchange("anyone?"))
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(TimeoutException.class)
                            .hasMessageContaining("mute").hasMessageContaining("200 ms"))
                    .verify(T);
            client.dispose();
        }
    }

    @Test
    void aKilledHelperIsRestartedAfterTheBackoff() {
        try (Blob cat = TestHelpers.cat()) {
            List<UmhEvent> events = new CopyOnWriteArrayList<>();
            List<Long> times = new CopyOnWriteArrayList<>();
            UmhMetrics.Counters counters = UmhMetrics.counting();
            List<Long> before = TestHelpers.children('*');
            UmhClient<String, String> client = lines(cat).metrics(counters)
                    .supervise(Restart.backoff(Duration.ofMillis(300), Duration.ofSeconds(2)).budget(3,
                            Duration.ofMinutes(1)));
            client.events().subscribe(e -> {
                events.add(e);
                times.add(System.nanoTime());
            });
            assertThat(client.exchange("one").block(T)).isEqualTo("one");
            List<Long> mine = TestHelpers.newChildren(before);
            assertThat(mine).hasSize(1);
            long pid = mine.get(0);
            assertThat(ProcessHandle.of(pid).orElseThrow().destroyForcibly()).isTrue();
            // once its end is known, requests wait for the new helper, and count as in flight meanwhile
            await().atMost(T).until(() -> events.stream().anyMatch(e -> e instanceof UmhEvent.Exited));
            Mono<String> two = client.exchange("two").cache();
            two.subscribe(v -> { }, e -> { });
            assertThat(client.inFlight()).as("a request waiting for the restart").isEqualTo(1);
            assertThat(two.block(T)).isEqualTo("two");
            // the count drops in the call's doFinally, which may run just after block() returned
            await().atMost(T).until(() -> client.inFlight() == 0);
            List<UmhEvent> seen = List.copyOf(events);
            assertThat(seen).hasSize(4);
            // the first helper's start happened before the subscription: the events replay it
            assertThat(seen.get(0)).isInstanceOfSatisfying(UmhEvent.Started.class,
                    s -> assertThat(s.pid()).isEqualTo(pid));
            assertThat(seen.get(1)).isInstanceOfSatisfying(UmhEvent.Exited.class,
                    x -> assertThat(x.status().signal()).isEqualTo(9));
            assertThat(seen.get(2)).isInstanceOfSatisfying(UmhEvent.Restarting.class,
                    r -> assertThat(r.delay()).isEqualTo(Duration.ofMillis(300)));
            assertThat(seen.get(3)).isInstanceOfSatisfying(UmhEvent.Started.class,
                    s -> assertThat(s.pid()).isNotEqualTo(pid));
            long waitedMillis = (times.get(3) - times.get(2)) / 1_000_000;
            assertThat(waitedMillis).as("ms from Restarting to Started").isBetween(290L, 2000L);
            client.close().block(T);
            assertThat(counters.spawns()).isEqualTo(2);
            assertThat(counters.restarts()).isEqualTo(1);
            assertThat(counters.exits()).containsEntry("SIGKILL", 1L).containsEntry("exit 0", 1L);
            assertThat(counters.requests()).isEqualTo(2);
            assertThat(counters.failedRequests()).isZero();
            assertThat(counters.inFlight()).isZero();
            assertThat(counters.bytesOut()).isEqualTo("one\ntwo\n".length());
            assertThat(counters.bytesIn()).isEqualTo("one\ntwo\n".length());
            await().atMost(T).until(() -> TestHelpers.newChildren(before).isEmpty());
        }
    }

    @Test
    void theBudgetGivesUpCleanly() {
        try (Blob broken = TestHelpers.script("broken", "echo 'bad config' >&2; exit 3")) {
            List<Long> before = TestHelpers.children('*');
            UmhMetrics.Counters counters = UmhMetrics.counting();
            // the first helper starts (and may fail) before anyone can subscribe to the events: count with
            // the metrics hooks, which see everything
            UmhClient<String, String> client = lines(broken).metrics(counters)
                    .supervise(Restart.backoff(Duration.ofMillis(10), Duration.ofMillis(40)).budget(2,
                            Duration.ofMinutes(1)));
            StepVerifier.create(client.exchange("hello"))
                    .expectErrorSatisfies(e -> {
                        // the first helper may fail this request itself, or it waits for one that gives up
                        Throwable end = e instanceof RestartsExhaustedException ? e.getCause() : e;
                        assertThat(end).isInstanceOf(HelperFailedException.class);
                        assertThat(((HelperFailedException) end).exitStatus().code()).isEqualTo(3);
                        assertThat(((HelperFailedException) end).exitStatus().stderrTail()).contains("bad config");
                    })
                    .verify(T);
            await().atMost(T).until(() -> counters.exits().getOrDefault("exit 3", 0L) == 3L);
            StepVerifier.create(client.exchange("again"))
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(RestartsExhaustedException.class)
                            .hasMessageContaining("broken").hasMessageContaining("2 restart(s)")
                            .hasRootCauseInstanceOf(HelperFailedException.class))
                    .verify(T);
            // and the event stream has ended with GaveUp: a late subscriber gets the replay, then the end
            StepVerifier.create(client.events().last())
                    .expectNextMatches(e -> e instanceof UmhEvent.GaveUp)
                    .verifyComplete();
            assertThat(counters.restarts()).isEqualTo(2);
            assertThat(counters.spawns()).isEqualTo(3);
            assertThat(counters.exits()).containsOnly(Map.entry("exit 3", 3L));
            await().atMost(T).until(() -> TestHelpers.newChildren(before).isEmpty());
        }
    }

    @Test
    void eventsTellStartedExitedRestartingAndGaveUpInOrder() {
        // a helper that fails once it is asked something, so the events can be watched from its start
        try (Blob broken = TestHelpers.script("broken", "read l; echo 'bad request' >&2; exit 3")) {
            List<UmhEvent> events = new CopyOnWriteArrayList<>();
            UmhClient<String, String> client = lines(broken)
                    .supervise(Restart.backoff(Duration.ofMillis(10), Duration.ofMillis(40)).budget(1,
                            Duration.ofMinutes(1)));
            client.events().subscribe(events::add);
            StepVerifier.create(client.exchange("one")).expectError(HelperFailedException.class).verify(T);
            StepVerifier.create(client.exchange("two")).expectError(HelperFailedException.class).verify(T);
            await().atMost(T).until(() -> events.stream().anyMatch(e -> e instanceof UmhEvent.GaveUp));
            assertThat(events).extracting(e -> e.getClass().getSimpleName())
                    .containsExactly("Started", "Exited", "Restarting", "Started", "Exited", "GaveUp");
        }
    }
}
