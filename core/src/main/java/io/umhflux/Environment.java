package io.umhflux;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The environment a helper starts with: the JVM's ({@link #inherit()}), none ({@link #empty()}), or only
 * the named variables of the JVM's ({@link #allow(String...)}), each with additions and removals.
 * Immutable; resolved against {@link System#getenv()} at each spawn.
 *
 * <p>An allowlist is the safe choice for helpers that process untrusted input: secrets in the JVM's
 * environment (tokens, passwords) never reach them.
 */
public final class Environment {
    private static final Environment INHERIT = new Environment(null, Map.of());
    private static final Environment EMPTY = new Environment(Set.of(), Map.of());

    /** {@code null}: inherit everything; otherwise the names taken from the JVM's environment. */
    private final @Nullable Set<String> allowed;
    /** Additions (a value) and removals ({@code null}), applied last, in order. */
    private final Map<String, @Nullable String> edits;

    private Environment(@Nullable Set<String> allowed, Map<String, @Nullable String> edits) {
        this.allowed = allowed;
        this.edits = edits;
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
        return new Environment(Collections.unmodifiableSet(set), Map.of());
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
        return new Environment(allowed, Collections.unmodifiableMap(copy));
    }

    private static String checkName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("environment variable name must be non-empty without '=' or NUL: "
                    + name);
        }
        return name;
    }

    /** @return the variables a helper spawned now would get */
    public Map<String, String> resolve() {
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
        return out;
    }

    /** @return {@code NAME=value} strings, as {@code envp} takes them */
    List<String> toEnvp() {
        return resolve().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }

    @Override
    public String toString() {
        return (allowed == null ? "inherit" : "allow" + allowed) + (edits.isEmpty() ? "" : " " + edits.keySet());
    }
}
