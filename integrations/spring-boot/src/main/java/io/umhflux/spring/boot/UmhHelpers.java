package io.umhflux.spring.boot;

import io.netty.channel.IoEventLoopGroup;
import io.umhflux.Blob;
import io.umhflux.BlobException;
import io.umhflux.Environment;
import io.umhflux.ExitStatus;
import io.umhflux.PoolSpec;
import io.umhflux.Restart;
import io.umhflux.SpawnException;
import io.umhflux.UmhClient;
import io.umhflux.UmhEvent;
import io.umhflux.UmhFlux;
import io.umhflux.UmhMetrics;
import io.umhflux.UmhSpec;
import io.umhflux.codec.Codecs;
import io.umhflux.codec.Framing;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.io.Resource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The helpers of {@code umh.helpers.*}: their blobs, loaded once into sealed memfds, and their clients, also
 * beans of their own qualified by the helper's name. Started with the application context (eager helpers spawn
 * then, and one that cannot start fails the context with the property to blame), stopped after the web server
 * in the graceful shutdown: every client is closed (requests in flight answered, stdin closed, stopped after the
 * stop grace) and every helper reaped before the context is closed.
 *
 * <pre>{@code
 * @Autowired UmhHelpers helpers;
 * UmhClient<String, String> upper = helpers.client("upper");
 * }</pre>
 */
public final class UmhHelpers implements SmartLifecycle {
    /** After the web server stopped (and its graceful shutdown ended), before the event loops are freed. */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

    private static final Logger LOG = LoggerFactory.getLogger(UmhHelpers.class);

    private final Map<String, Helper> helpers = new LinkedHashMap<>();
    private volatile boolean running;
    /** Stopped since the last start: a start makes the clients again. */
    private boolean stopped;

    /** What the helpers are built with besides their properties. */
    record Context(UmhMetrics metrics, @Nullable Supplier<@Nullable IoEventLoopGroup> serverLoops,
            Function<String, @Nullable Object> beans, @Nullable Object jsonMapper,
            BiFunction<String, UmhClient<?, ?>, UmhClient<?, ?>> decorator) {
        /**
         * The web server's event loops as they are now, for a helper that runs on them: a stopped and started context
         * has new ones. Null where there are none (umh-flux's own loops then).
         */
        @Nullable IoEventLoopGroup serverLoopsNow() {
            return serverLoops == null ? null : serverLoops.get();
        }
    }

    /** A helper's state, as its health shows it. */
    public record HelperState(String name, boolean up, String state, Set<Long> pids, @Nullable ExitStatus lastExit,
            @Nullable Throwable failure) {
    }

    private record Helper(String name, Blob blob, Supplier<UmhSpec<?, ?>> spec, ManagedClient<?, ?> client,
            boolean eager,
            Duration stopGrace) {
    }

    UmhHelpers(UmhProperties properties, Context context) {
        try {
            properties.getHelpers().forEach((name, p) -> helpers.put(name, build(name, p, context)));
        } catch (RuntimeException e) {
            closeClients();
            closeBlobs();
            throw e;
        }
    }

    private static Helper build(String name, UmhProperties.Helper p, Context context) {
        String prefix = "umh.helpers." + name;
        Blob blob = load(prefix, name, p);
        try {
            UmhSpec<?, ?> built = spec(prefix, blob, p, context);
            // on the server's loops as they are when each client is made, not as they were at start-up
            Supplier<UmhSpec<?, ?>> spec = p.getEventLoops() == UmhProperties.EventLoops.SERVER
                    ? () -> onLoops(built, context.serverLoopsNow()) : () -> built;
            UmhProperties.Client kind = p.getClient();
            ManagedClient<?, ?> client = managed(name, prefix, spec, p, context);
            if (p.getStartup() == UmhProperties.Startup.EAGER) {
                try {
                    client.client();
                } catch (RuntimeException e) {
                    throw new InvalidConfigurationPropertyValueException(prefix + ".blob", describe(p.getBlob()),
                            "the helper could not be started (" + kind.name().toLowerCase(java.util.Locale.ROOT)
                                    + " client): " + e.getMessage());
                }
            }
            return new Helper(name, blob, spec, client, p.getStartup() == UmhProperties.Startup.EAGER,
                    p.getStopGrace());
        } catch (RuntimeException e) {
            blob.close();
            throw e;
        }
    }

    private static UmhSpec<?, ?> onLoops(UmhSpec<?, ?> spec, @Nullable IoEventLoopGroup loops) {
        return loops == null ? spec : spec.eventLoopGroup(loops);
    }

    /** {@code build}, with a refusal of its value turned into an error that names {@code property}. */
    private static <T> T namingProperty(String property, @Nullable Object value, Supplier<T> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigurationPropertyValueException(property, value, e.getMessage());
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static ManagedClient<?, ?> managed(String name, String prefix, Supplier<UmhSpec<?, ?>> spec,
            UmhProperties.Helper p, Context context) {
        UmhProperties.Client kind = p.getClient();
        Supplier<UmhClient<?, ?>> make = switch (kind) {
            case SINGLE -> () -> spec.get().connect();
            case SUPERVISED -> {
                UmhProperties.Restart r = p.getRestart();
                Restart backoff = namingProperty(prefix + ".restart.first-backoff", r.getFirstBackoff(),
                        () -> Restart.backoff(r.getFirstBackoff(), r.getMaxBackoff()));
                if (r.getMaxRestarts() < 0) {
                    throw new InvalidConfigurationPropertyValueException(prefix + ".restart.max-restarts",
                            r.getMaxRestarts(), "it must be 0 or more");
                }
                Restart policy = namingProperty(prefix + ".restart.window", r.getWindow(),
                        () -> backoff.budget(r.getMaxRestarts(), r.getWindow()));
                yield () -> firstStarted(spec.get().supervise(policy));
            }
            case POOL -> {
                UmhProperties.Pool pool = p.getPool();
                if (pool.getSize() < 1) {
                    throw new InvalidConfigurationPropertyValueException(prefix + ".pool.size", pool.getSize(),
                            "a pool needs at least one helper");
                }
                PoolSpec sized = PoolSpec.of(pool.getSize());
                PoolSpec ps = namingProperty(prefix + ".pool.idempotent-retries", pool.getIdempotentRetries(),
                        () -> sized.idempotent(pool.getIdempotentRetries()));
                if (pool.getIdleTimeout() != null) {
                    PoolSpec retrying = ps;
                    ps = namingProperty(prefix + ".pool.idle-timeout", pool.getIdleTimeout(),
                            () -> retrying.idleTimeout(pool.getIdleTimeout()));
                }
                PoolSpec built = ps;
                yield () -> spec.get().pool(built);
            }
        };
        Supplier<UmhClient<?, ?>> checked = make;
        if (kind == UmhProperties.Client.POOL && p.getStartup() == UmhProperties.Startup.EAGER) {
            // a pool starts helpers as requests come: an eager one shows now that it can start one
            checked = () -> {
                spec.get().spawn().dispose();
                return make.get();
            };
        }
        Supplier<UmhClient<?, ?>> made = checked;
        return new ManagedClient(name, () -> context.decorator().apply(name, made.get()),
                kind == UmhProperties.Client.SINGLE);
    }

    /**
     * A supervised client whose first helper could not even be spawned would try again on its backoff until its
     * budget is spent, its requests waiting: such a client is given up at once and the spawn's failure thrown.
     */
    private static UmhClient<?, ?> firstStarted(UmhClient<?, ?> client) {
        AtomicReference<UmhEvent> first = new AtomicReference<>();
        client.events().take(1).subscribe(first::set, e -> { });
        if (first.get() instanceof UmhEvent.Restarting r && r.cause() instanceof SpawnException spawn) {
            client.dispose();
            throw spawn;
        }
        return client;
    }

    private static Blob load(String prefix, String name, UmhProperties.Helper p) {
        Resource resource = p.getBlob();
        if (resource == null) {
            throw new InvalidConfigurationPropertyValueException(prefix + ".blob", null,
                    "a helper needs its executable: a resource location such as classpath:bin/" + name);
        }
        if (!resource.exists()) {
            throw new InvalidConfigurationPropertyValueException(prefix + ".blob", describe(resource),
                    "the resource does not exist");
        }
        Blob.Loader loader = Blob.loader().name(name);
        String sha256 = p.getSha256();
        if (sha256 != null && !sha256.isEmpty()) {
            try {
                loader = loader.sha256(sha256);
            } catch (IllegalArgumentException e) {
                throw new InvalidConfigurationPropertyValueException(prefix + ".sha256", sha256, e.getMessage());
            }
        }
        try (InputStream in = resource.getInputStream()) {
            return loader.load(in);
        } catch (BlobException e) {
            boolean pin = sha256 != null && String.valueOf(e.getMessage()).contains("SHA-256");
            String property = pin ? ".sha256" : ".blob";
            throw new InvalidConfigurationPropertyValueException(prefix + property,
                    property.equals(".sha256") ? sha256 : describe(resource), e.getMessage());
        } catch (IOException e) {
            throw new InvalidConfigurationPropertyValueException(prefix + ".blob", describe(resource),
                    "the resource could not be read: " + e);
        }
    }

    private static UmhSpec<?, ?> spec(String prefix, Blob blob, UmhProperties.Helper p, Context context) {
        UmhSpec<?, ?> base = UmhFlux.spec(blob).args(p.getArgs()).environment(environment(p.getEnvironment()))
                .metrics(context.metrics());
        UmhSpec<?, ?> spec = namingProperty(prefix + ".stop-grace", p.getStopGrace(),
                () -> base.stopGrace(p.getStopGrace()));
        if (p.getMaxInFlight() < 1) {
            throw new InvalidConfigurationPropertyValueException(prefix + ".max-in-flight", p.getMaxInFlight(),
                    "at least one request must be in flight");
        }
        spec = spec.maxInFlight(p.getMaxInFlight());
        if (p.getRequestTimeout() != null) {
            UmhSpec<?, ?> untimed = spec;
            spec = namingProperty(prefix + ".request-timeout", p.getRequestTimeout(),
                    () -> untimed.requestTimeout(p.getRequestTimeout()));
        }
        long max = p.getMaxMessageSize().toBytes();
        if (max < 1 || max > Integer.MAX_VALUE) {
            throw new InvalidConfigurationPropertyValueException(prefix + ".max-message-size", p.getMaxMessageSize(),
                    "it must be between 1 byte and 2 GiB");
        }
        Framing framing = framing(p, (int) max);
        return switch (p.getCodec()) {
            case LINES -> spec.codec(framing, Codecs.utf8(), Codecs.utf8());
            case BYTES -> spec.codec(framing, Codecs.bytes(), Codecs.bytes());
            case JSON -> OptionalCodecs.json(prefix, spec, framing, p.getJson(), context.jsonMapper());
            case KRYO -> OptionalCodecs.kryo(prefix, spec, framing, p.getKryo(), context.beans());
        };
    }

    private static Framing framing(UmhProperties.Helper p, int max) {
        UmhProperties.Framing f = p.getFraming();
        if (f == UmhProperties.Framing.DEFAULT) {
            f = p.getCodec() == UmhProperties.Codec.LINES || p.getCodec() == UmhProperties.Codec.JSON
                    ? UmhProperties.Framing.LINES : UmhProperties.Framing.LENGTH_PREFIXED;
        }
        return switch (f) {
            case LINES -> Framing.lines(max);
            case LENGTH_PREFIXED, DEFAULT -> Framing.lengthPrefixed(max);
            case VARINT_PREFIXED -> Framing.varintPrefixed(max);
        };
    }

    private static Environment environment(UmhProperties.Environment e) {
        List<String> allow = e.getAllow();
        Environment env = allow == null ? Environment.inherit() : Environment.allow(allow.toArray(String[]::new));
        for (Map.Entry<String, String> v : e.getVariables().entrySet()) {
            env = env.with(v.getKey(), v.getValue());
        }
        return env;
    }

    private static String describe(@Nullable Resource resource) {
        return resource == null ? "(none)" : resource.getDescription();
    }

    /**
     * @param name a helper's name, as under {@code umh.helpers}
     * @return its client
     * @throws NoSuchElementException when no helper has that name
     */
    @SuppressWarnings("unchecked")
    public <I, O> UmhClient<I, O> client(String name) {
        return (UmhClient<I, O>) helper(name).client();
    }

    /**
     * The helper's spec as its properties make it (blob, arguments, environment, codec, event loops, meters), for
     * a helper per subscription: {@code helpers.<byte[], byte[]>spec("checksum").exchange(frames)} streams
     * {@code frames} through a helper of its own. Such helpers are the subscription's: cancelling it stops them.
     *
     * @param name a helper's name
     * @return its spec
     * @throws NoSuchElementException when no helper has that name
     */
    @SuppressWarnings("unchecked")
    public <I, O> UmhSpec<I, O> spec(String name) {
        return (UmhSpec<I, O>) helper(name).spec().get();
    }

    /**
     * @param name a helper's name
     * @return the blob its helpers run
     * @throws NoSuchElementException when no helper has that name
     */
    public Blob blob(String name) {
        return helper(name).blob();
    }

    /** @return the helpers' names, in the order of the properties */
    public Set<String> names() {
        return Collections.unmodifiableSet(helpers.keySet());
    }

    /**
     * @param name a helper's name
     * @return its state now: up while a helper runs or one can be started; down after its helper crashed and
     *     none runs, a spawn failed, or a supervised client gave up
     */
    public HelperState state(String name) {
        return helper(name).client().state();
    }

    private Helper helper(String name) {
        Helper h = helpers.get(name);
        if (h == null) {
            throw new NoSuchElementException("no helper '" + name + "' under umh.helpers; there are " + names());
        }
        return h;
    }

    /** Starts the eager helpers again after a {@link #stop()} (the first ones started with the bean). */
    @Override
    public synchronized void start() {
        if (stopped) {
            stopped = false;
            for (Helper h : helpers.values()) {
                h.client().reopen();
                if (h.eager()) {
                    h.client().client();
                }
            }
        }
        running = true;
    }

    /**
     * Closes every client, in parallel: each lets its requests in flight end, closes its helpers' stdin and
     * stops them after their stop grace; returns once every helper was reaped. A later {@link #start()} starts
     * the helpers again.
     */
    @Override
    public synchronized void stop() {
        running = false;
        stopped = true;
        closeClients();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }

    private void closeClients() {
        List<Helper> all = new ArrayList<>(helpers.values());
        // the longest stop grace, and time for the requests in flight to be answered
        Duration timeout = all.stream().map(Helper::stopGrace).max(Duration::compareTo).orElse(Duration.ZERO)
                .plusSeconds(30);
        try {
            Flux.fromIterable(all).flatMap(h -> h.client().close()
                    .onErrorResume(e -> {
                        LOG.warn("helper '{}' ended with an error while it was stopped: {}", h.name(), e.toString());
                        return Mono.empty();
                    }))
                    .then().block(timeout);
        } catch (RuntimeException e) {
            LOG.warn("helpers still running after {}: stopping them now ({})", timeout, e.toString());
            all.forEach(h -> h.client().dispose());
        } finally {
            all.forEach(h -> h.client().forget());
        }
    }

    private void closeBlobs() {
        helpers.values().forEach(h -> h.blob().close());
    }

    /** With the context: closes the clients (if no lifecycle stop did) and frees the blobs. */
    synchronized void destroy() {
        if (!stopped) {
            closeClients();
            stopped = true;
        }
        closeBlobs();
    }

    @Override
    public String toString() {
        return "UmhHelpers" + names();
    }
}
