package io.umhflux.examples;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.umhflux.ExitStatus;
import io.umhflux.UmhMetrics;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@link UmhMetrics} hooks as Micrometer meters, each tagged with the helper's blob name:
 * {@code umh.spawns}, {@code umh.exits} by {@code cause} ({@code "exit 0"}, {@code "SIGKILL"}, ...),
 * {@code umh.restarts}, {@code umh.requests} by {@code outcome} ({@code answered} or {@code failed}),
 * {@code umh.bytes} by {@code direction} ({@code in}: read from stdout, {@code out}: written to stdin) and the
 * gauge {@code umh.requests.inflight}. Every tag has few values, as a meter's tags should.
 *
 * <pre>{@code
 * UmhClient<String, String> client = UmhFlux.spec(blob).lines(1024)
 *         .metrics(new MicrometerMetrics(registry))
 *         .connect();
 * }</pre>
 *
 * <p>Make one per registry and share it between every spec and client that reports there: a second instance's
 * in-flight gauge would not be registered over the first's, so what it counts would not be seen.
 */
public final class MicrometerMetrics implements UmhMetrics {
    private final MeterRegistry registry;
    /** The gauges' values, held here: Micrometer keeps only a weak reference to them. */
    private final Map<String, AtomicLong> inFlight = new ConcurrentHashMap<>();

    /** @param registry where the meters are registered, on first use */
    public MicrometerMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void spawned(String helper, long pid) {
        registry.counter("umh.spawns", "helper", helper).increment();
    }

    @Override
    public void exited(String helper, ExitStatus status) {
        registry.counter("umh.exits", "helper", helper, "cause", UmhMetrics.exitCause(status)).increment();
    }

    @Override
    public void restarted(String helper) {
        registry.counter("umh.restarts", "helper", helper).increment();
    }

    @Override
    public void requestStarted(String helper) {
        inFlight(helper).incrementAndGet();
    }

    @Override
    public void requestEnded(String helper, boolean failed) {
        inFlight(helper).decrementAndGet();
        registry.counter("umh.requests", "helper", helper, "outcome", failed ? "failed" : "answered").increment();
    }

    @Override
    public void bytesIn(String helper, long bytes) {
        registry.counter("umh.bytes", "helper", helper, "direction", "in").increment(bytes);
    }

    @Override
    public void bytesOut(String helper, long bytes) {
        registry.counter("umh.bytes", "helper", helper, "direction", "out").increment(bytes);
    }

    private AtomicLong inFlight(String helper) {
        return inFlight.computeIfAbsent(helper, h -> {
            AtomicLong n = new AtomicLong();
            Gauge.builder("umh.requests.inflight", n, AtomicLong::get).tag("helper", h).register(registry);
            return n;
        });
    }
}
