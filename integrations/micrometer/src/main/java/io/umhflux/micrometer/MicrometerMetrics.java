package io.umhflux.micrometer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.umhflux.ExitStatus;
import io.umhflux.UmhMetrics;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@link UmhMetrics} hooks as Micrometer meters, each tagged with {@code helper}, the helper's name (its
 * blob's name):
 *
 * <table>
 * <caption>Meters</caption>
 * <tr><th>Name</th><th>Type</th><th>Other tags</th><th>What</th></tr>
 * <tr><td>{@code umh.helpers.active}</td><td>gauge</td><td></td><td>helpers running now</td></tr>
 * <tr><td>{@code umh.helpers.spawns}</td><td>counter</td><td></td><td>helpers started</td></tr>
 * <tr><td>{@code umh.helpers.exits}</td><td>counter</td><td>{@code cause}: {@code exit 0}, {@code exit 3},
 *     {@code SIGKILL}, ...</td><td>helpers that ended</td></tr>
 * <tr><td>{@code umh.helpers.restarts}</td><td>counter</td><td></td><td>supervised helpers started again</td></tr>
 * <tr><td>{@code umh.requests.active}</td><td>gauge</td><td></td><td>requests accepted and not yet ended</td></tr>
 * <tr><td>{@code umh.requests}</td><td>timer</td><td>{@code outcome}: {@code answered} or {@code failed}</td>
 *     <td>requests that ended (failed, timed out or cancelled ones are {@code failed}), from acceptance to
 *     end</td></tr>
 * <tr><td>{@code umh.bytes}</td><td>counter (bytes)</td><td>{@code direction}: {@code in} (read from stdout) or
 *     {@code out} (written to stdin)</td><td>bytes through the pipes</td></tr>
 * </table>
 *
 * <p>Every tag has few values, as a meter's tags should. Meters are registered when a helper first reports,
 * and looked up once per helper name: the hooks called on the event loops cost an increment.
 *
 * <pre>{@code
 * MicrometerMetrics metrics = new MicrometerMetrics(meterRegistry);
 * UmhClient<String, String> client = UmhFlux.spec(blob).lines(1024).metrics(metrics).connect();
 * }</pre>
 *
 * <p>Any number of instances may report to one registry: they share its meters, the gauges included (their
 * values are kept per registry, for as long as the registry lives).
 */
public final class MicrometerMetrics implements UmhMetrics {
    private final MeterRegistry registry;
    private final Tags common;
    private final Map<String, HelperMeters> byHelper = new ConcurrentHashMap<>();
    /**
     * The gauges' values of each registry, by gauge name and tags: shared by every instance on the registry (a
     * gauge registered again returns the first one, bound to the first value) and held as long as the registry
     * is (Micrometer keeps only weak references to them). Keyed by identity; the values never refer to the key.
     */
    private static final Map<MeterRegistry, Map<List<Object>, AtomicLong>> GAUGES =
            Collections.synchronizedMap(new WeakHashMap<>());

    /** @param registry where the meters are registered, on first use */
    public MicrometerMetrics(MeterRegistry registry) {
        this(registry, Tags.empty());
    }

    /**
     * @param registry where the meters are registered, on first use
     * @param tags added to every meter (an application or a pool name, say)
     */
    public MicrometerMetrics(MeterRegistry registry, Iterable<io.micrometer.core.instrument.Tag> tags) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.common = Tags.of(Objects.requireNonNull(tags, "tags"));
    }

    @Override
    public void spawned(String helper, long pid) {
        HelperMeters m = meters(helper);
        m.active.incrementAndGet();
        m.spawns.increment();
    }

    @Override
    public void exited(String helper, ExitStatus status) {
        HelperMeters m = meters(helper);
        m.active.decrementAndGet();
        m.exits.computeIfAbsent(UmhMetrics.exitCause(status), cause -> Counter.builder("umh.helpers.exits")
                .description("Helpers that ended, by cause").tags(m.tags).tag("cause", cause).register(registry))
                .increment();
    }

    @Override
    public void restarted(String helper) {
        meters(helper).restarts.increment();
    }

    @Override
    public void requestStarted(String helper) {
        meters(helper).requestsActive.incrementAndGet();
    }

    @Override
    public void requestEnded(String helper, boolean failed, long nanos) {
        HelperMeters m = meters(helper);
        m.requestsActive.decrementAndGet();
        (failed ? m.failed : m.answered).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void bytesIn(String helper, long bytes) {
        meters(helper).bytesIn.increment(bytes);
    }

    @Override
    public void bytesOut(String helper, long bytes) {
        meters(helper).bytesOut.increment(bytes);
    }

    private HelperMeters meters(String helper) {
        HelperMeters m = byHelper.get(helper);
        return m != null ? m
                : byHelper.computeIfAbsent(helper, h -> new HelperMeters(registry, common.and("helper", h)));
    }

    @Override
    public String toString() {
        return "MicrometerMetrics{" + registry.getClass().getSimpleName() + ", helpers " + byHelper.keySet() + "}";
    }

    /** One helper name's meters. */
    private static final class HelperMeters {
        final Tags tags;
        final AtomicLong active;
        final AtomicLong requestsActive;
        final Counter spawns;
        final Counter restarts;
        final Map<String, Counter> exits = new ConcurrentHashMap<>();
        final Timer answered;
        final Timer failed;
        final Counter bytesIn;
        final Counter bytesOut;

        HelperMeters(MeterRegistry registry, Tags tags) {
            this.tags = tags;
            active = gauge(registry, "umh.helpers.active", "Helpers running", tags);
            requestsActive = gauge(registry, "umh.requests.active", "Requests accepted and not yet ended", tags);
            spawns = Counter.builder("umh.helpers.spawns").description("Helpers started").tags(tags)
                    .register(registry);
            restarts = Counter.builder("umh.helpers.restarts").description("Supervised helpers started again")
                    .tags(tags).register(registry);
            answered = requests(registry, tags, "answered");
            failed = requests(registry, tags, "failed");
            bytesIn = bytes(registry, tags, "in");
            bytesOut = bytes(registry, tags, "out");
        }

        private static AtomicLong gauge(MeterRegistry registry, String name, String description, Tags tags) {
            // registered by the first instance that needs it; a later one finds the value and the gauge
            return GAUGES.computeIfAbsent(registry, r -> new ConcurrentHashMap<>())
                    .computeIfAbsent(List.of(name, tags), k -> {
                        AtomicLong value = new AtomicLong();
                        Gauge.builder(name, value, AtomicLong::get).description(description).tags(tags)
                                .register(registry);
                        return value;
                    });
        }

        private static Timer requests(MeterRegistry registry, Tags tags, String outcome) {
            return Timer.builder("umh.requests").description("Requests to helpers, from acceptance to end")
                    .tags(tags).tag("outcome", outcome).register(registry);
        }

        private static Counter bytes(MeterRegistry registry, Tags tags, String direction) {
            return Counter.builder("umh.bytes").description("Bytes through helpers' pipes").baseUnit("bytes")
                    .tags(tags).tag("direction", direction).register(registry);
        }
    }
}
