package io.umhflux.flink;

import io.netty.buffer.ByteBuf;
import io.umhflux.Blob;
import io.umhflux.Restart;
import io.umhflux.UmhSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.time.Duration;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * A helper as a Flink job carries it: small and serializable, made on the client, turned into a running helper on
 * each worker. The executable's bytes come from a class-path resource of the job's jar (nothing extra ships), or
 * travel inside the definition pinned to their SHA-256; either way each worker JVM loads them once per job into a
 * sealed memfd shared by every task of that job there, and never writes them to a file.
 *
 * <pre>{@code
 * UmhHelper<String, String> upper = UmhHelper.ofResource("bin/upcase")
 *         .codec(spec -> spec.lines(1024))          // a serializable lambda, run on the worker
 *         .pool(2);
 * }</pre>
 *
 * <p>Immutable; every setter returns a new definition. Two tasks of one job in one worker JVM whose definitions are
 * equal (same bytes, arguments, codec function and pool) share one pool of helpers.
 *
 * @param <I> what the stage sends the helper
 * @param <O> what the helper answers
 */
public final class UmhHelper<I, O> implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Restart DEFAULT_RESTART = Restart.backoff(Duration.ofMillis(100), Duration.ofSeconds(5));

    /**
     * Turns the raw spec of the helper into a typed one on the worker: framing, codec, limits. Serializable. The
     * spec's types read as {@link UmhSpec}'s: what the helper writes ({@code O}, the answers) first, what it reads
     * ({@code I}, the elements) second.
     */
    @FunctionalInterface
    public interface SpecFunction<I, O> extends Function<UmhSpec<ByteBuf, ByteBuf>, UmhSpec<O, I>>, Serializable {
    }

    private final @Nullable String resource;
    private final byte @Nullable [] bytes;
    private final @Nullable String sha256;
    private final String name;
    @SuppressWarnings("serial") // always a List.copyOf, which is serializable
    private final List<String> args;
    private final SpecFunction<I, O> codec;
    private final int poolSize;
    private final int idempotentRetries;
    private final int maxInFlight;
    private final boolean answersEach;
    private final Restart restart;

    private UmhHelper(@Nullable String resource, byte @Nullable [] bytes, @Nullable String sha256, String name,
            List<String> args, SpecFunction<I, O> codec, int poolSize, int idempotentRetries, int maxInFlight,
            boolean answersEach, Restart restart) {
        this.resource = resource;
        this.bytes = bytes;
        this.sha256 = sha256;
        this.name = name;
        this.args = List.copyOf(args);
        this.codec = codec;
        this.poolSize = poolSize;
        this.idempotentRetries = idempotentRetries;
        this.maxInFlight = maxInFlight;
        this.answersEach = answersEach;
        this.restart = restart;
    }

    @SuppressWarnings("unchecked")
    private static <I, O> SpecFunction<I, O> raw() {
        return spec -> (UmhSpec<O, I>) spec;
    }

    /**
     * The executable at {@code resource} on the job's class path (the user-code class loader of each task), loaded
     * on the worker. A missing resource fails the task's start, naming it.
     */
    public static UmhHelper<ByteBuf, ByteBuf> ofResource(String resource) {
        Objects.requireNonNull(resource, "resource");
        String name = resource.substring(resource.lastIndexOf('/') + 1);
        return new UmhHelper<>(resource, null, null, name, List.of(), raw(), 1, 0, 0, false, DEFAULT_RESTART);
    }

    /**
     * These bytes as the executable, carried inside the definition to every worker, checked there against
     * {@code sha256} (hex) after loading. A mismatch fails here, on the client, before the job is built.
     */
    public static UmhHelper<ByteBuf, ByteBuf> ofBytes(String name, byte[] bytes, String sha256) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(bytes, "bytes");
        Objects.requireNonNull(sha256, "sha256");
        String actual = sha256(bytes);
        if (!actual.equalsIgnoreCase(sha256)) {
            throw new IllegalArgumentException("the bytes of helper '" + name + "' hash to " + actual + ", not the "
                    + "pinned " + sha256);
        }
        return new UmhHelper<>(null, bytes.clone(), actual, name, List.of(), raw(), 1, 0, 0, false, DEFAULT_RESTART);
    }

    /** @param args the arguments after argv[0] */
    public UmhHelper<I, O> args(String... args) {
        return new UmhHelper<>(resource, bytes, sha256, name, List.of(args), codec, poolSize, idempotentRetries,
                maxInFlight, answersEach, restart);
    }

    /**
     * How the helper's pipes carry messages, applied to its spec on the worker: {@code spec -> spec.lines(1024)},
     * {@code spec -> spec.codec(Framing.lengthPrefixed(1 << 20), kryo, kryo)}. Keeps the other settings.
     */
    public <I2, O2> UmhHelper<I2, O2> codec(SpecFunction<I2, O2> codec) {
        Objects.requireNonNull(codec, "codec");
        return new UmhHelper<>(resource, bytes, sha256, name, args, codec, poolSize, idempotentRetries, maxInFlight,
                answersEach, restart);
    }

    /** @param size helpers in each worker JVM's pool for this definition; default 1 */
    public UmhHelper<I, O> pool(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("pool size must be >= 1: " + size);
        }
        return new UmhHelper<>(resource, bytes, sha256, name, args, codec, size, idempotentRetries, maxInFlight,
                answersEach, restart);
    }

    /**
     * @param retries how often a request whose helper died is sent again to another helper; 0 (the default) for
     *     requests that must not run twice
     */
    public UmhHelper<I, O> idempotent(int retries) {
        if (retries < 0) {
            throw new IllegalArgumentException("retries must be >= 0: " + retries);
        }
        return new UmhHelper<>(resource, bytes, sha256, name, args, codec, poolSize, retries, maxInFlight,
                answersEach, restart);
    }

    /**
     * How many requests each helper of the pool may have written ahead of their answers (the helper answers in
     * order; answers are matched by order). By default the request stage's capacity: Flink's async capacity is the
     * in-flight limit. {@code 1} gives each helper one request at a time, a round trip each.
     */
    public UmhHelper<I, O> maxInFlight(int requests) {
        if (requests < 1) {
            throw new IllegalArgumentException("max in flight must be >= 1: " + requests);
        }
        return new UmhHelper<>(resource, bytes, sha256, name, args, codec, poolSize, idempotentRetries, requests,
                answersEach, restart);
    }

    /** @return the definition's in-flight limit per helper, or 0 when the stage's capacity sets it */
    int maxInFlight() {
        return maxInFlight;
    }

    /**
     * Says that the helper answers every message with exactly one message, without holding output back until its
     * end of input (as {@code sort} or a block-buffered {@code tr} does). The streaming stage then waits, before a
     * checkpoint's barrier passes, until every element sent so far was answered and its answer emitted, so that no
     * output is inside the helper at a checkpoint: with checkpointing, every element's answer is in the job's
     * result exactly once. Without it, the answers still inside the helper at a checkpoint are lost on a restore.
     */
    public UmhHelper<I, O> answersEach() {
        return new UmhHelper<>(resource, bytes, sha256, name, args, codec, poolSize, idempotentRetries, maxInFlight,
                true, restart);
    }

    boolean answersEachMessage() {
        return answersEach;
    }

    /**
     * When a helper of the request stage's pool that ended is started again; by default after 100 ms, backing off to
     * 5 s, at most 5 times a minute (then the requests fail, and with them the task: Flink's restart strategy takes
     * over).
     */
    public UmhHelper<I, O> restart(Restart policy) {
        Objects.requireNonNull(policy, "policy");
        return new UmhHelper<>(resource, bytes, sha256, name, args, codec, poolSize, idempotentRetries, maxInFlight,
                answersEach, policy);
    }

    Restart restartPolicy() {
        return restart;
    }

    /** @return the helper's name: the resource's file name or the name given with the bytes */
    public String name() {
        return name;
    }

    int poolSize() {
        return poolSize;
    }

    int idempotentRetries() {
        return idempotentRetries;
    }

    /** Loads the executable in this JVM: from {@code classLoader}'s resource, or from the carried bytes. */
    Blob load(ClassLoader classLoader) {
        if (bytes != null) {
            return Blob.loader().name(name).sha256(Objects.requireNonNull(sha256)).load(bytes);
        }
        String r = Objects.requireNonNull(resource);
        if (classLoader.getResource(r) == null) {
            throw new IllegalArgumentException("helper '" + name + "': no resource " + r + " on the job's class path");
        }
        return Blob.loader().name(name).loadResource(classLoader, r);
    }

    /** What makes two definitions the same executable in one JVM, whatever else they set. */
    String blobKey() {
        return resource != null ? "resource " + resource + " as " + name : "sha256 " + sha256 + " as " + name;
    }

    /** The typed spec of a loaded blob, on the worker. */
    UmhSpec<O, I> spec(UmhSpec<ByteBuf, ByteBuf> raw) {
        UmhSpec<O, I> typed = codec.apply(raw.args(args));
        if (typed == null) {
            throw new IllegalStateException("the codec function of helper '" + name + "' returned null");
        }
        return typed;
    }

    /**
     * What makes two definitions the same helper in one JVM: the SHA-256 of this definition's serialized form
     * (bytes or resource, arguments, the codec function as serialized, pool settings).
     */
    String key() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ObjectOutputStream o = new ObjectOutputStream(out)) {
            o.writeObject(this);
        } catch (IOException e) {
            throw new UncheckedIOException("helper '" + name + "' cannot be serialized (is its codec function?)", e);
        }
        return sha256(out.toByteArray());
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "UmhHelper[" + name + (resource != null ? " from " + resource : " pinned " + sha256) + ", args "
                + args + ", pool " + poolSize + "]";
    }
}
