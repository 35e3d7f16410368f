package io.umhflux.micrometer;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.umhflux.UmhClient;
import io.umhflux.UmhEvent;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;

/**
 * Each request of a {@link UmhClient} as a Micrometer {@link Observation}: with micrometer-tracing, a span per
 * request, child of the observation in the subscriber's Reactor context (where Spring WebFlux and
 * reactor-netty put the current one); with a meter handler, a timer {@code umh.request}. The observation is
 * started when the exchange is subscribed and stopped when it ends, errors (the error recorded) or is
 * cancelled; it is in the Reactor context of the client's call, under the key Micrometer's context propagation
 * uses.
 *
 * <pre>{@code
 * UmhClient<String, String> client = UmhObservations.observe(spec.supervise(restart), "checksum", registry);
 * }</pre>
 */
public final class UmhObservations {
    /** The Reactor context key of the current observation, as Micrometer's context propagation names it. */
    static final String OBSERVATION_KEY = "micrometer.observation";

    private UmhObservations() {
    }

    /**
     * @param client the client whose requests are observed
     * @param helper the name the observations give the helper ({@code umh.helper})
     * @param registry where the observations go; a no-op registry observes nothing and costs nothing
     * @return a client that observes each request and otherwise does what {@code client} does; closing or
     *     disposing it closes or disposes {@code client}
     */
    public static <I, O> UmhClient<I, O> observe(UmhClient<I, O> client, String helper, ObservationRegistry registry) {
        return observe(client, helper, registry, null);
    }

    /**
     * @param convention names and tags the observations; {@code null} for
     *     {@link DefaultUmhRequestObservationConvention} (or the one the registry's configuration sets)
     * @return see {@link #observe(UmhClient, String, ObservationRegistry)}
     */
    public static <I, O> UmhClient<I, O> observe(UmhClient<I, O> client, String helper, ObservationRegistry registry,
            @Nullable UmhRequestObservationConvention convention) {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(helper, "helper");
        Objects.requireNonNull(registry, "registry");
        return new Observed<>(client, helper, registry, convention);
    }

    private static final class Observed<I, O> implements UmhClient<I, O> {
        private final UmhClient<I, O> client;
        private final String helper;
        private final ObservationRegistry registry;
        private final @Nullable UmhRequestObservationConvention convention;

        Observed(UmhClient<I, O> client, String helper, ObservationRegistry registry,
                @Nullable UmhRequestObservationConvention convention) {
            this.client = client;
            this.helper = helper;
            this.registry = registry;
            this.convention = convention;
        }

        @Override
        public Mono<I> exchange(O request) {
            if (registry.isNoop()) {
                return client.exchange(request);
            }
            return Mono.deferContextual(context -> {
                UmhRequestContext c = new UmhRequestContext(helper);
                Object parent = context.getOrDefault(OBSERVATION_KEY, null);
                Observation observation = Observation.createNotStarted(convention,
                        DefaultUmhRequestObservationConvention.INSTANCE, () -> c, registry)
                        .parentObservation(parent instanceof Observation ? (Observation) parent : null)
                        .start();
                return client.exchange(request)
                        .doOnError(observation::error)
                        .doFinally(signal -> {
                            c.outcome(signal == SignalType.ON_COMPLETE ? UmhRequestContext.Outcome.ANSWERED
                                    : signal == SignalType.CANCEL ? UmhRequestContext.Outcome.CANCELLED
                                    : UmhRequestContext.Outcome.FAILED);
                            observation.stop();
                        })
                        .contextWrite(ctx -> ctx.put(OBSERVATION_KEY, observation));
            });
        }

        @Override
        public int inFlight() {
            return client.inFlight();
        }

        @Override
        public Flux<UmhEvent> events() {
            return client.events();
        }

        @Override
        public Mono<Void> close() {
            return client.close();
        }

        @Override
        public void dispose() {
            client.dispose();
        }

        @Override
        public boolean isDisposed() {
            return client.isDisposed();
        }

        @Override
        public String toString() {
            return "observed " + client;
        }
    }
}
