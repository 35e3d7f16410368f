package io.umhflux.micrometer;

import io.micrometer.observation.Observation;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.handler.TracingObservationHandler;
import io.micrometer.tracing.propagation.Propagator;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.util.context.ContextView;

/**
 * The current trace context handed to a helper at spawn, in its environment, as OpenTelemetry's environment
 * carrier does: each field the {@link Propagator} writes becomes a variable of the upper-cased name —
 * {@code TRACEPARENT} and {@code TRACESTATE} with the W3C propagation (OpenTelemetry's default, and Brave's when
 * configured so), {@code BAGGAGE} when there is baggage. A helper built with an OpenTelemetry SDK that reads them
 * (or any that parses {@code TRACEPARENT}) continues the caller's trace.
 *
 * <pre>{@code
 * UmhSpec<String, String> spec = UmhFlux.spec(blob).lines(4096)
 *         .environment(Environment.allow("PATH").withContext(UmhTracing.traceContext(tracer, propagator)));
 * spec.exchange(lines).contextWrite(...)   // each helper gets the trace of the subscription that spawns it
 * }</pre>
 *
 * <p>The span is the one of the observation in the spawning subscription's Reactor context (where WebFlux and
 * reactor-netty put the current observation), or else the tracer's current span on the spawning thread (for
 * {@code spawn()}, {@code connect()}, and inside an open scope). Without either, no variable is added.
 *
 * <p>A helper's environment is set once, when it starts: the trace context fits helpers that serve one
 * subscription ({@code using}, {@code exchange(Publisher)}, a {@code spawn()} in a traced task). A pooled helper
 * keeps the trace of the request that happened to start it, and a supervised one started again on a timer
 * thread has whatever that thread holds: for those, leave the trace out of the environment and let the
 * observation of each request ({@link UmhObservations}) carry it.
 */
public final class UmhTracing {
    private UmhTracing() {
    }

    /**
     * @param tracer gives the current span when the context holds no observation with a span
     * @param propagator writes the span's context; its fields name the variables
     * @return for {@link io.umhflux.Environment#withContext}
     */
    public static Function<ContextView, Map<String, String>> traceContext(Tracer tracer, Propagator propagator) {
        Objects.requireNonNull(tracer, "tracer");
        Objects.requireNonNull(propagator, "propagator");
        return context -> {
            Span span = spanOf(context);
            if (span == null) {
                span = tracer.currentSpan();
            }
            if (span == null) {
                return Map.of();
            }
            Map<String, String> variables = new LinkedHashMap<>();
            propagator.inject(span.context(), variables, (carrier, field, value) -> {
                if (carrier != null && value != null && !value.isEmpty()) {
                    carrier.put(variableName(field), value);
                }
            });
            return Collections.unmodifiableMap(variables);
        };
    }

    private static @Nullable Span spanOf(ContextView context) {
        Object o = context.getOrDefault(UmhObservations.OBSERVATION_KEY, null);
        if (!(o instanceof Observation)) {
            return null;
        }
        TracingObservationHandler.TracingContext tracing = ((Observation) o).getContextView()
                .get(TracingObservationHandler.TracingContext.class);
        return tracing == null ? null : tracing.getSpan();
    }

    /** {@code traceparent} to {@code TRACEPARENT}: upper case, other than letters and digits as {@code _}. */
    static String variableName(String field) {
        StringBuilder b = new StringBuilder(field.length());
        for (char ch : field.toUpperCase(Locale.ROOT).toCharArray()) {
            b.append(ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' ? ch : '_');
        }
        return b.toString();
    }
}
