package io.umhflux.micrometer;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.umhflux.UmhClient;
import io.umhflux.UmhEvent;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Each request of a {@link UmhClient} as a Micrometer {@link Observation}: with micrometer-tracing, a span per
 * request, child of the observation in the subscriber's Reactor context (where Spring WebFlux and
 * reactor-netty put the current one), or else of the observation current on the subscribing thread; with a meter
 * handler, a timer {@code umh.request}. The observation is started when the exchange is subscribed and stopped
 * when the answer arrives, the request fails (the error recorded) or is cancelled, before the subscriber is told;
 * it is in the Reactor context of the client's call, under the key Micrometer's context propagation uses.
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
     * @param helper the name the observations give the helper (their {@code helper} key)
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
                Observation observation = Observation.createNotStarted(convention,
                        DefaultUmhRequestObservationConvention.INSTANCE, () -> c, registry);
                // the one in the subscriber's context; else createNotStarted took the thread's current one
                Object parent = context.getOrDefault(OBSERVATION_KEY, null);
                if (parent instanceof Observation) {
                    observation.parentObservation((Observation) parent);
                }
                observation.start();
                AtomicBoolean stopped = new AtomicBoolean();
                // stopped before the signal goes on: the observation times the request, not what the subscriber
                // does with its answer, and a subscriber that cancels once it has the answer does not undo it
                return client.exchange(request)
                        .doOnSuccess(answer -> stop(observation, c, stopped, UmhRequestContext.Outcome.ANSWERED, null))
                        .doOnError(e -> stop(observation, c, stopped, UmhRequestContext.Outcome.FAILED, e))
                        .doOnCancel(() -> stop(observation, c, stopped, UmhRequestContext.Outcome.CANCELLED, null))
                        .contextWrite(ctx -> ctx.put(OBSERVATION_KEY, observation));
            });
        }

        private static void stop(Observation observation, UmhRequestContext context, AtomicBoolean stopped,
                UmhRequestContext.Outcome outcome, @Nullable Throwable error) {
            if (!stopped.compareAndSet(false, true)) {
                return;
            }
            context.outcome(outcome);
            if (error != null) {
                observation.error(error);
            }
            observation.stop();
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
