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
import io.micrometer.observation.ObservationHandler;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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
                    .hasLowCardinalityKeyValue("helper", "upper")
                    .hasLowCardinalityKeyValue("outcome", "answered")
                    .hasBeenStarted().hasBeenStopped().doesNotHaveError()
                    .hasParentObservationEqualTo(parent);
            client.close().block(TIMEOUT);
        }
    }

    @Test
    void theObservationIsStoppedBeforeTheSubscriberHasTheAnswerAndTakesTheThreadsParent() {
        try (Blob cat = Blob.of(Path.of("/bin/cat"))) {
            UmhClient<String, String> client = UmhObservations.observe(UmhFlux.spec(cat).lines(1024).connect(),
                    "cat", registry);
            AtomicInteger stops = new AtomicInteger();
            registry.observationConfig().observationHandler(new ObservationHandler<Observation.Context>() {
                @Override
                public boolean supportsContext(Observation.Context context) {
                    return context instanceof UmhRequestContext;
                }

                @Override
                public void onStop(Observation.Context context) {
                    stops.incrementAndGet();
                }
            });
            Observation job = Observation.start("job", registry);
            AtomicBoolean stoppedFirst = new AtomicBoolean();
            try (Observation.Scope scope = job.openScope()) {
                assertThat(registry.getCurrentObservation()).as("in %s", scope).isSameAs(job);
                // next() cancels once it has the value: the request was still answered
                String answer = client.exchange("x").flux()
                        .doOnNext(a -> stoppedFirst.set(stops.get() == 1))
                        .next().block(TIMEOUT);
                assertThat(answer).isEqualTo("x");
            }
            job.stop();
            assertThat(stoppedFirst).as("stopped when the subscriber got the answer").isTrue();
            assertThat(registry).hasObservationWithNameEqualTo("umh.request").that()
                    .hasLowCardinalityKeyValue("outcome", "answered").hasParentObservationEqualTo(job);
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
