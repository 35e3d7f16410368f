package io.umhflux.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.umhflux.Blob;
import io.umhflux.HelperFailedException;
import io.umhflux.Restart;
import io.umhflux.UmhClient;
import io.umhflux.UmhEvent;
import io.umhflux.UmhFlux;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

class MicrometerMetricsTest {
    static final Duration TIMEOUT = Duration.ofSeconds(20);

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final MicrometerMetrics metrics = new MicrometerMetrics(registry, Tags.of("app", "test"));
    private final Blob cat = Blob.of(Path.of("/bin/cat"));

    @AfterEach
    void closeBlob() {
        cat.close();
    }

    @Test
    void requestsBytesSpawnsAndExitsOfAHelperAreItsMeters() {
        UmhClient<String, String> client = UmhFlux.spec(cat).lines(1024).metrics(metrics).maxInFlight(4).connect();
        assertThat(gauge("umh.helpers.active", "cat")).isEqualTo(1.0);
        assertThat(Flux.range(0, 10).concatMap(i -> client.exchange("line " + i)).collectList().block(TIMEOUT))
                .hasSize(10);

        Timer answered = registry.get("umh.requests").tags("helper", "cat", "outcome", "answered", "app", "test")
                .timer();
        assertThat(answered.count()).isEqualTo(10);
        assertThat(answered.totalTime(TimeUnit.NANOSECONDS)).isPositive();
        assertThat(answered.max(TimeUnit.NANOSECONDS)).isLessThan(TIMEOUT.toNanos());
        assertThat(gauge("umh.requests.active", "cat")).isZero();
        long bytes = "line 0\n".length() * 10L;
        assertThat(counter("umh.bytes", "cat", "direction", "out")).isEqualTo(bytes);
        await().atMost(TIMEOUT).untilAsserted(() ->
                assertThat(counter("umh.bytes", "cat", "direction", "in")).isEqualTo(bytes));
        assertThat(registry.get("umh.bytes").tags("direction", "in").counter().getId().getBaseUnit())
                .isEqualTo("bytes");
        assertThat(counter("umh.helpers.spawns", "cat")).isEqualTo(1);

        client.close().block(TIMEOUT);
        assertThat(counter("umh.helpers.exits", "cat", "cause", "exit 0")).isEqualTo(1);
        assertThat(gauge("umh.helpers.active", "cat")).isZero();
        assertThat(registry.find("umh.requests").tags("outcome", "failed").timer().count()).isZero();
    }

    @Test
    void aKilledSupervisedHelperCountsItsExitByCauseItsRestartAndTheRequestItFailed() {
        Blob silent = Blob.of("silent", "#!/bin/sh\nexec sleep 60\n".getBytes(StandardCharsets.UTF_8));
        UmhClient<String, String> client = UmhFlux.spec(silent).lines(1024).metrics(metrics)
                .supervise(Restart.backoff(Duration.ofMillis(10), Duration.ofMillis(10))
                        .budget(3, Duration.ofMinutes(1)));
        try {
            UmhEvent.Started first = client.events().ofType(UmhEvent.Started.class).blockFirst(TIMEOUT);
            Disposable pending = client.exchange("never answered").subscribe(r -> { }, e -> { });
            await().atMost(TIMEOUT).untilAsserted(() ->
                    assertThat(gauge("umh.requests.active", "silent")).isEqualTo(1.0));
            assertThat(ProcessHandle.of(first.pid()).orElseThrow().destroyForcibly()).isTrue();

            await().atMost(TIMEOUT).untilAsserted(() -> {
                assertThat(counter("umh.helpers.exits", "silent", "cause", "SIGKILL")).isEqualTo(1);
                assertThat(counter("umh.helpers.restarts", "silent")).isEqualTo(1);
                assertThat(counter("umh.helpers.spawns", "silent")).isEqualTo(2);
                assertThat(gauge("umh.helpers.active", "silent")).isEqualTo(1.0);
                assertThat(gauge("umh.requests.active", "silent")).isZero();
            });
            assertThat(registry.get("umh.requests").tags("helper", "silent", "outcome", "failed").timer().count())
                    .isEqualTo(1);
            assertThat(pending.isDisposed()).isTrue();
            // another name, other meters
            assertThat(registry.find("umh.helpers.spawns").tags("helper", "cat").counter()).isNull();
        } finally {
            client.dispose();
            silent.close();
        }
        await().atMost(TIMEOUT).untilAsserted(() -> assertThat(gauge("umh.helpers.active", "silent")).isZero());
    }

    @Test
    void aFailedRequestIsTimedAsFailed() {
        Blob exits = Blob.of("exits", "#!/bin/sh\nread line\nexit 3\n".getBytes(StandardCharsets.UTF_8));
        try (exits) {
            UmhClient<String, String> client = UmhFlux.spec(exits).lines(1024).metrics(metrics).connect();
            assertThatThrownBy(() -> client.exchange("x").block(TIMEOUT)).isInstanceOf(HelperFailedException.class);
            assertThat(registry.get("umh.requests").tags("helper", "exits", "outcome", "failed").timer().count())
                    .isEqualTo(1);
            assertThat(counter("umh.helpers.exits", "exits", "cause", "exit 3")).isEqualTo(1);
        }
    }

    @Test
    void twoInstancesOnOneRegistryShareItsGauges() {
        MicrometerMetrics other = new MicrometerMetrics(registry, Tags.of("app", "test"));
        UmhClient<String, String> first = UmhFlux.spec(cat).lines(1024).metrics(metrics).connect();
        UmhClient<String, String> second = UmhFlux.spec(cat).lines(1024).metrics(other).connect();
        try {
            assertThat(gauge("umh.helpers.active", "cat")).isEqualTo(2.0);
            assertThat(counter("umh.helpers.spawns", "cat")).isEqualTo(2);
        } finally {
            first.close().block(TIMEOUT);
            second.close().block(TIMEOUT);
        }
        assertThat(gauge("umh.helpers.active", "cat")).isZero();
        assertThat(counter("umh.helpers.exits", "cat", "cause", "exit 0")).isEqualTo(2);
    }

    private double gauge(String name, String helper) {
        return registry.get(name).tags("helper", helper, "app", "test").gauge().value();
    }

    private double counter(String name, String helper, String... tags) {
        return registry.get(name).tags("helper", helper, "app", "test").tags(tags).counter().count();
    }
}
