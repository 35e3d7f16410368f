package io.umhflux.micrometer;

import static io.micrometer.observation.tck.TestObservationRegistryAssert.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistry;
import io.umhflux.Blob;
import io.umhflux.HelperFailedException;
import io.umhflux.UmhClient;
import io.umhflux.UmhFlux;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

class UmhObservationsTest {
    static final Duration TIMEOUT = Duration.ofSeconds(20);

    private final TestObservationRegistry registry = TestObservationRegistry.create();

    @Test
    void anAnsweredRequestIsOneStoppedObservationChildOfTheOneInTheReactorContext() {
        try (Blob cat = Blob.of(Path.of("/bin/cat"))) {
            UmhClient<String, String> client = UmhObservations.observe(UmhFlux.spec(cat).lines(1024).connect(),
                    "upper", registry);
            Observation parent = Observation.start("http.server.requests", registry);
            assertThat(client.exchange("hello").contextWrite(c -> c.put("micrometer.observation", parent))
                    .block(TIMEOUT)).isEqualTo("hello");
            parent.stop();

            assertThat(registry).hasNumberOfObservationsWithNameEqualTo("umh.request", 1)
                    .hasObservationWithNameEqualTo("umh.request").that()
                    .hasContextualNameEqualTo("umh upper")
                    .hasLowCardinalityKeyValue("umh.helper", "upper")
                    .hasLowCardinalityKeyValue("outcome", "answered")
                    .hasBeenStarted().hasBeenStopped().doesNotHaveError()
                    .hasParentObservationEqualTo(parent);
            client.close().block(TIMEOUT);
        }
    }

    @Test
    void aRequestTheHelperFailedRecordsTheHelpersError() {
        Blob exits = Blob.of("exits", "#!/bin/sh\nread line\nexit 3\n".getBytes(StandardCharsets.UTF_8));
        try (exits) {
            UmhClient<String, String> client = UmhObservations.observe(UmhFlux.spec(exits).lines(1024).connect(),
                    "exits", registry);
            assertThatThrownBy(() -> client.exchange("x").block(TIMEOUT)).isInstanceOf(HelperFailedException.class);
            assertThat(registry).hasObservationWithNameEqualTo("umh.request").that()
                    .hasLowCardinalityKeyValue("outcome", "failed")
                    .hasBeenStopped()
                    .assertThatError().isInstanceOf(HelperFailedException.class).hasMessageContaining("exit 3");
        }
    }

    @Test
    void aCancelledRequestIsStoppedAsCancelled() {
        Blob silent = Blob.of("silent", "#!/bin/sh\nexec sleep 60\n".getBytes(StandardCharsets.UTF_8));
        try (silent) {
            UmhClient<String, String> client = UmhObservations.observe(UmhFlux.spec(silent).lines(1024).connect(),
                    "silent", registry);
            Disposable call = client.exchange("never answered").subscribe();
            await().atMost(TIMEOUT).until(() -> client.inFlight() == 1);
            assertThat(registry).hasObservationWithNameEqualTo("umh.request").that().hasBeenStarted()
                    .isNotStopped();
            call.dispose();
            assertThat(registry).hasObservationWithNameEqualTo("umh.request").that()
                    .hasLowCardinalityKeyValue("outcome", "cancelled").hasBeenStopped().doesNotHaveError();
            client.dispose();
        }
    }

    @Test
    void aNoopRegistryLeavesTheClientsCallsAsTheyAre() {
        try (Blob cat = Blob.of(Path.of("/bin/cat"))) {
            UmhClient<String, String> plain = UmhFlux.spec(cat).lines(1024).connect();
            UmhClient<String, String> client = UmhObservations.observe(plain, "cat", ObservationRegistry.NOOP);
            assertThat(client.exchange("x").block(TIMEOUT)).isEqualTo("x");
            assertThat(client.toString()).contains("observed");
            client.dispose();
            assertThat(plain.isDisposed()).isTrue();
        }
    }
}
