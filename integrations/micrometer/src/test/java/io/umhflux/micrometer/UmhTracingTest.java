package io.umhflux.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelPropagator;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.micrometer.tracing.propagation.Propagator;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.umhflux.Blob;
import io.umhflux.Environment;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/** Real OpenTelemetry tracing through Micrometer's bridge, and helpers that print the environment they got. */
class UmhTracingTest {
    static final Duration TIMEOUT = Duration.ofSeconds(20);
    /** Prints its trace variables once its stdin ended. */
    static final String PRINT = "cat >/dev/null; printf '%s|%s\\n' \"${TRACEPARENT-none}\" \"${TRACESTATE-none}\"";

    private final SdkTracerProvider provider = SdkTracerProvider.builder().build();
    private final io.opentelemetry.api.trace.Tracer otel = provider.get("test");
    private final Tracer tracer = new OtelTracer(otel, new OtelCurrentTraceContext(), event -> { });
    private final Propagator propagator = new OtelPropagator(
            ContextPropagators.create(W3CTraceContextPropagator.getInstance()), otel);
    private final Blob sh = Blob.of(Path.of("/bin/sh"));
    private final UmhSpec<String, String> spec = UmhFlux.spec(sh).args("-c", PRINT).lines(4096)
            .environment(Environment.allow("PATH").withContext(UmhTracing.traceContext(tracer, propagator)));

    @AfterEach
    void close() {
        sh.close();
        provider.close();
    }

    @Test
    void aHelperSpawnedInsideAnObservedSubscriptionContinuesItsTrace() {
        ObservationRegistry registry = ObservationRegistry.create();
        registry.observationConfig().observationHandler(new DefaultTracingObservationHandler(tracer));
        Observation request = Observation.start("http.server.requests", registry);
        DefaultTracingObservationHandler.TracingContext tracing = request.getContextView()
                .get(DefaultTracingObservationHandler.TracingContext.class);
        Span span = tracing.getSpan();

        String seen = spec.exchange(Flux.<String>empty()).contextWrite(c -> c.put("micrometer.observation", request))
                .blockLast(TIMEOUT);
        request.stop();

        // the flags: sampled (01), and OpenTelemetry's random trace id (02) where it sets it
        assertThat(seen).matches("00-" + span.context().traceId() + "-" + span.context().spanId() + "-0[13]\\|none");
    }

    @Test
    void outsideASubscriptionTheCurrentSpanAndItsTraceStateGo() {
        // a span continuing a caller's trace that carries vendor state
        String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        Span span = propagator.extract(Map.of("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01",
                "tracestate", "vendor=abc"), Map::get).name("job").start();
        String seen;
        try (Tracer.SpanInScope scope = tracer.withSpan(span)) {
            assertThat(tracer.currentSpan()).as("in %s", scope).isEqualTo(span);
            var umh = spec.spawn();
            umh.outbound().close().subscribe();
            seen = umh.inbound().blockLast(TIMEOUT);
        } finally {
            span.end();
        }
        assertThat(seen).matches("00-" + traceId + "-" + span.context().spanId() + "-0[13]\\|vendor=abc");
        assertThat(span.context().spanId()).isNotEqualTo("00f067aa0ba902b7"); // the helper's parent is the job's span
    }

    @Test
    void withoutASpanNoVariableIsAdded() {
        assertThat(spec.exchange(Flux.<String>empty()).blockLast(TIMEOUT)).isEqualTo("none|none");
        assertThat(UmhTracing.variableName("traceparent")).isEqualTo("TRACEPARENT");
        assertThat(UmhTracing.variableName("X-B3-TraceId")).isEqualTo("X_B3_TRACEID");
    }
}
