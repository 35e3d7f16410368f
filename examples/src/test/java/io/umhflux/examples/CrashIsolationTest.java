package io.umhflux.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.umhflux.Blob;
import io.umhflux.ExitStatus;
import io.umhflux.HelperFailedException;
import io.umhflux.UmhEvent;
import io.umhflux.examples.CrashIsolation.Report;
import io.umhflux.examples.CrashIsolation.Result;
import io.umhflux.examples.Checksums.Checksum;
import io.umhflux.test.NoLeaksExtension;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class CrashIsolationTest {
    private static final int SIGSEGV = 11;

    @Test
    void onlyThePoisonRequestsFailAndThePoolReplacesTheHelpersTheyCrashed() {
        Assumptions.assumeTrue(Checksums.isBuilt(), "the build compiles " + Checksums.RESOURCE
                + " only where /usr/bin/gcc exists (profile c-helpers); it was missing, so this is skipped");
        List<Long> before = NoLeaksExtension.children();
        Report report;
        try (Blob helper = Checksums.blob()) {
            report = CrashIsolation.run(helper, 200, 20, 3);      // 10 poison requests, more than the pool's size
        }

        List<Result> results = report.results();
        assertThat(results).hasSize(200);
        List<Result> poison = results.stream().filter(Result::isPoison).toList();
        assertThat(poison).hasSize(10);
        for (Result r : results) {
            if (r.isPoison()) {
                assertThat(r.answer()).isNull();
                assertThat(r.failure()).isInstanceOfSatisfying(HelperFailedException.class, e -> {
                    ExitStatus status = e.exitStatus();
                    assertThat(status).as("exit status of %s", e.getMessage()).isNotNull();
                    assertThat(status.hasExited()).isFalse();
                    assertThat(status.signal()).isEqualTo(SIGSEGV);
                    assertThat(e.getMessage()).contains("SIGSEGV (11)");
                });
            } else {
                assertThat(r.failure()).as("failure of a good request").isNull();
                assertThat(r.answer()).isEqualTo(Checksum.of(r.payload()));
            }
        }
        assertThat(report.answered()).isEqualTo(190);
        assertThat(report.failed()).isEqualTo(10);

        // every crashed helper exited by SIGSEGV, every other one exited 0 when the pool closed
        long spawns = report.counters().spawns();
        assertThat(spawns).as("helpers started: more than crashed, so some replaced the crashed ones")
                .isGreaterThan(10).isLessThanOrEqualTo(10 + 3);
        assertThat(report.counters().exits()).containsOnly(
                java.util.Map.entry("SIGSEGV", 10L), java.util.Map.entry("exit 0", spawns - 10));
        assertThat(report.counters().requests()).isEqualTo(200);
        assertThat(report.counters().failedRequests()).isEqualTo(10);
        assertThat(report.counters().inFlight()).isZero();

        // the events tell the same story: each helper started once, and each crashed one exited by SIGSEGV.
        // (The exits of the last helpers, at close, may come after the pool ended its event stream.)
        List<UmhEvent> events = List.copyOf(report.events());
        Set<Long> started = pids(events, UmhEvent.Started.class);
        assertThat(started).hasSize((int) spawns);
        assertThat(count(events, UmhEvent.Started.class)).isEqualTo(spawns);
        Set<Long> crashedPids = poison.stream().map(r -> ((HelperFailedException) r.failure()).pid())
                .collect(Collectors.toSet());
        assertThat(crashedPids).as("one helper per poison request").hasSize(10).isSubsetOf(started);
        assertThat(events.stream().filter(e -> e instanceof UmhEvent.Exited x && x.status().signal() == SIGSEGV)
                .map(e -> ((UmhEvent.Exited) e).pid())).containsExactlyInAnyOrderElementsOf(crashedPids);
        assertThat(pids(events, UmhEvent.Exited.class)).isSubsetOf(started);

        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(NoLeaksExtension.children()).isSubsetOf(before));
    }

    private static long count(List<UmhEvent> events, Class<? extends UmhEvent> type) {
        return events.stream().filter(type::isInstance).count();
    }

    private static Set<Long> pids(List<UmhEvent> events, Class<? extends UmhEvent> type) {
        return events.stream().filter(type::isInstance)
                .map(e -> e instanceof UmhEvent.Started s ? s.pid() : ((UmhEvent.Exited) e).pid())
                .collect(Collectors.toSet());
    }
}
