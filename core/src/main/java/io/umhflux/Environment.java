package io.umhflux;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * The environment a helper starts with: the JVM's ({@link #inherit()}), none ({@link #empty()}), or only
 * the named variables of the JVM's ({@link #allow(String...)}), each with additions and removals.
 * Immutable; resolved against {@link System#getenv()} at each spawn.
 *
 * <p>An allowlist is the safe choice for helpers that process untrusted input: secrets in the JVM's
 * environment (tokens, passwords) never reach them.
 *
 * <p>Variables can also come from the Reactor {@link ContextView} of the subscription that spawns the helper
 * ({@link #withContext}): the trace context of the request being served, say, so that a helper's spans join the
 * caller's trace (the {@code umh-flux-micrometer} artifact's {@code UmhTracing} gives {@code TRACEPARENT} and
 * {@code TRACESTATE} this way).
 */
public final class Environment {
    private static final Environment INHERIT = new Environment(null, Map.of(), List.of());
    private static final Environment EMPTY = new Environment(Set.of(), Map.of(), List.of());

    /** {@code null}: inherit everything; otherwise the names taken from the JVM's environment. */
    private final @Nullable Set<String> allowed;
    /** Additions (a value) and removals ({@code null}), applied last, in order. */
    private final Map<String, @Nullable String> edits;
    /** Variables from the spawning subscription's context, applied after the edits, in order. */
    private final List<Function<? super ContextView, ? extends Map<String, String>>> contextual;

    private Environment(@Nullable Set<String> allowed, Map<String, @Nullable String> edits,
            List<Function<? super ContextView, ? extends Map<String, String>>> contextual) {
        this.allowed = allowed;
        this.edits = edits;
        this.contextual = contextual;
    }

    /** @return the JVM's whole environment */
    public static Environment inherit() {
        return INHERIT;
    }

    /** @return no variables at all */
    public static Environment empty() {
        return EMPTY;
    }

    /** @return exactly {@code variables}, nothing of the JVM's */
    public static Environment of(Map<String, String> variables) {
        Environment e = EMPTY;
        for (Map.Entry<String, String> v : variables.entrySet()) {
            e = e.with(v.getKey(), v.getValue());
        }
        return e;
    }

    /** @return only the named variables of the JVM's environment (those that are set) */
    public static Environment allow(String... names) {
        Set<String> set = new LinkedHashSet<>();
        for (String n : names) {
            set.add(checkName(n));
        }
        return new Environment(Collections.unmodifiableSet(set), Map.of(), List.of());
    }

    /** @return this environment with {@code name} set to {@code value} */
    public Environment with(String name, String value) {
        Objects.requireNonNull(value, "value");
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("environment value of " + name + " contains NUL");
        }
        return edit(checkName(name), value);
    }

    /** @return this environment without {@code name} */
    public Environment without(String name) {
        return edit(checkName(name), null);
    }

    private Environment edit(String name, @Nullable String value) {
        Map<String, @Nullable String> copy = new LinkedHashMap<>(edits);
        copy.remove(name);
        copy.put(name, value);
        return new Environment(allowed, Collections.unmodifiableMap(copy), contextual);
    }

    /**
     * Adds the variables that {@code variables} finds in the Reactor context of the subscription that spawns
     * a helper, at each spawn, over every other variable. Helpers spawned outside a subscription
     * ({@link UmhSpec#spawn()}, {@link UmhSpec#connect()}, a supervised client's or a pool's helpers) see an
     * empty context, where the function may read what the spawning thread holds (a current span, say): for a
     * pool, the thread of the request that made it start one; for a supervised client's restarts, a timer
     * thread. The variables stay what they were at the spawn for the helper's whole life.
     *
     * <pre>{@code
     * Environment env = Environment.allow("PATH")
     *         .withContext(ctx -> Map.of("REQUEST_ID", ctx.getOrDefault("requestId", "none")));
     * }</pre>
     *
     * @param variables called on the spawning thread, once per spawn; must not block. A name or value it gives
     *     that an environment cannot hold fails the spawn with an {@link IllegalArgumentException}.
     * @return this environment with the contextual variables added
     */
    public Environment withContext(Function<? super ContextView, ? extends Map<String, String>> variables) {
        Objects.requireNonNull(variables, "variables");
        List<Function<? super ContextView, ? extends Map<String, String>>> copy = new ArrayList<>(contextual);
        copy.add(variables);
        return new Environment(allowed, edits, List.copyOf(copy));
    }

    private static String checkName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("environment variable name must be non-empty without '=' or NUL: "
                    + name);
        }
        return name;
    }

    /** @return the variables a helper spawned now outside any subscription would get */
    public Map<String, String> resolve() {
        return resolve(Context.empty());
    }

    /** @return the variables a helper spawned now by a subscription with {@code context} would get */
    public Map<String, String> resolve(ContextView context) {
        Objects.requireNonNull(context, "context");
        Map<String, String> jvm = System.getenv();
        Map<String, String> out = new LinkedHashMap<>();
        if (allowed == null) {
            out.putAll(jvm);
        } else {
            for (String name : allowed) {
                String v = jvm.get(name);
                if (v != null) {
                    out.put(name, v);
                }
            }
        }
        for (Map.Entry<String, @Nullable String> e : edits.entrySet()) {
            String v = e.getValue();
            if (v == null) {
                out.remove(e.getKey());
            } else {
                out.put(e.getKey(), v);
            }
        }
        for (Function<? super ContextView, ? extends Map<String, String>> f : contextual) {
            Map<String, String> added = f.apply(context);
            if (added == null) {
                throw new IllegalArgumentException("the context's variables of " + f + " were null");
            }
            for (Map.Entry<String, String> e : added.entrySet()) {
                String v = Objects.requireNonNull(e.getValue(), () -> "the context's value of " + e.getKey());
                if (v.indexOf('\0') >= 0) {
                    throw new IllegalArgumentException("environment value of " + e.getKey() + " contains NUL");
                }
                out.put(checkName(e.getKey()), v);
            }
        }
        return out;
    }

    /** @return {@code NAME=value} strings, as {@code envp} takes them */
    List<String> toEnvp(ContextView context) {
        return resolve(context).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }

    @Override
    public String toString() {
        return (allowed == null ? "inherit" : "allow" + allowed) + (edits.isEmpty() ? "" : " " + edits.keySet())
                + (contextual.isEmpty() ? "" : " + " + contextual.size() + " from the context");
    }
}
