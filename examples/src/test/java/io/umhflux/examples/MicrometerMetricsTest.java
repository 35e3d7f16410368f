package io.umhflux.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.umhflux.Blob;
import io.umhflux.HelperFailedException;
import io.umhflux.Restart;
import io.umhflux.UmhClient;
import io.umhflux.UmhFlux;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class MicrometerMetricsTest {
    private static final Duration T = Duration.ofSeconds(30);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void countsASpawnItsRequestsTheirBytesAndTheExit() {
        try (Blob cat = Blob.of(Path.of("/bin/cat"))) {
            UmhClient<String, String> client = UmhFlux.spec(cat).lines(1024)
                    .metrics(new MicrometerMetrics(registry))
                    .connect();
            for (String request : List.of("one", "two", "three")) {
                assertThat(client.exchange(request).block(T)).isEqualTo(request);
            }
            client.close().block(T);
        }
        assertThat(count("umh.spawns")).isEqualTo(1);
        assertThat(registry.get("umh.exits").tags("helper", "cat", "cause", "exit 0").counter().count()).isEqualTo(1);
        assertThat(registry.get("umh.requests").tag("outcome", "answered").counter().count()).isEqualTo(3);
        assertThat(registry.find("umh.requests").tag("outcome", "failed").counter()).isNull();
        assertThat(registry.get("umh.bytes").tag("direction", "out").counter().count())
                .isEqualTo("one\ntwo\nthree\n".length());
        assertThat(registry.get("umh.bytes").tag("direction", "in").counter().count())
                .isEqualTo("one\ntwo\nthree\n".length());
        assertThat(registry.get("umh.requests.inflight").tag("helper", "cat").gauge().value()).isZero();
        assertThat(registry.find("umh.restarts").counter()).isNull();
    }

    @Test
    void countsFailedRequestsTheCauseOfACrashAndTheRestart() {
        // answers nothing, and kills itself once it has read two requests; exits 0 when its stdin closes
        String script = "#!/bin/sh\nread a || exit 0\nread b || exit 0\nkill -9 $$\n";
        try (Blob dies = Blob.of("dies", script.getBytes(StandardCharsets.UTF_8))) {
            UmhClient<String, String> client = UmhFlux.spec(dies).lines(1024).maxInFlight(2)
                    .metrics(new MicrometerMetrics(registry))
                    .supervise(Restart.backoff(Duration.ZERO, Duration.ZERO));
            Mono<String> first = client.exchange("a").cache();
            first.subscribe(v -> { }, e -> { });
            await().atMost(T).until(() -> registry.find("umh.requests.inflight").tag("helper", "dies").gauge() != null
                    && registry.get("umh.requests.inflight").gauge().value() == 1);

            StepVerifier.create(client.exchange("b")).expectError(HelperFailedException.class).verify(T);
            StepVerifier.create(first).expectError(HelperFailedException.class).verify(T);
            await().atMost(T).until(() -> count("umh.spawns") == 2);   // started again
            client.close().block(T);
        }
        assertThat(registry.get("umh.exits").tag("cause", "SIGKILL").counter().count()).isEqualTo(1);
        assertThat(registry.get("umh.exits").tag("cause", "exit 0").counter().count()).isEqualTo(1);
        assertThat(count("umh.restarts")).isEqualTo(1);
        assertThat(registry.get("umh.requests").tag("outcome", "failed").counter().count()).isEqualTo(2);
        assertThat(registry.find("umh.requests").tag("outcome", "answered").counter()).isNull();
        assertThat(registry.get("umh.requests.inflight").gauge().value()).isZero();
        assertThat(registry.get("umh.bytes").tag("direction", "out").counter().count()).isEqualTo("a\nb\n".length());
    }

    private double count(String counter) {
        return registry.get(counter).counter().count();
    }
}
