package io.umhflux.flink;

import io.umhflux.Blob;
import io.umhflux.PoolSpec;
import io.umhflux.Restart;
import io.umhflux.UmhClient;
import io.umhflux.UmhFlux;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The helpers of one worker JVM (of one user-code class loader, where this module ships in the job's jar): one
 * loaded blob and one pool per helper definition and request timeout, shared by every task that uses it, counted
 * by the operators that hold it and closed when the last lets go, or when the job's class loader is released.
 */
final class HelperRegistry {
    private static final Map<String, Entry> ENTRIES = new HashMap<>(); // guarded by itself

    private HelperRegistry() {
    }

    /** One definition's blob and pool, and how many operators hold it. */
    private static final class Entry {
        final String key;
        final Blob blob;
        final @Nullable UmhClient<?, ?> client;
        int holders;

        Entry(String key, Blob blob, @Nullable UmhClient<?, ?> client) {
            this.key = key;
            this.blob = blob;
            this.client = client;
        }

        void close() {
            try {
                if (client != null) {
                    // stops every helper now: the operators that held the pool are closed (finished, failed or
                    // cancelled), so no request of theirs is left to wait for
                    client.dispose();
                }
            } finally {
                blob.close();
            }
        }
    }

    /** What an operator holds: its definition's pool, until {@link #release()}. */
    static final class Lease<I, O> {
        private final Entry entry;
        private boolean released;

        private Lease(Entry entry) {
            this.entry = entry;
        }

        /** The pool: it takes an element ({@code I}) and answers with {@code O}. */
        @SuppressWarnings("unchecked")
        UmhClient<O, I> client() {
            return (UmhClient<O, I>) java.util.Objects.requireNonNull(entry.client, "a blob's lease has no pool");
        }

        Blob blob() {
            return entry.blob;
        }

        void release() {
            synchronized (ENTRIES) {
                if (released) {
                    return;
                }
                released = true;
                if (--entry.holders == 0 && ENTRIES.remove(entry.key, entry)) {
                    entry.close();
                }
            }
        }
    }

    /**
     * The pool of {@code helper} with {@code requestTimeout} in this JVM (or, for a pipelined definition, the helper of
     * {@code subtask}), started on first use: the blob loaded from {@code classLoader} (or the definition's bytes)
     * into a sealed memfd.
     */
    static <I, O> Lease<I, O> acquire(UmhHelper<I, O> helper, Duration requestTimeout, ClassLoader classLoader,
            int subtask) {
        // a pool serves every subtask of the JVM; a pipelined helper serves one subtask, in its order
        String key = helper.key() + "/" + requestTimeout + (helper.pipelined() > 0 ? "/subtask " + subtask : "");
        synchronized (ENTRIES) {
            Entry entry = ENTRIES.get(key);
            if (entry == null) {
                Blob blob = helper.load(classLoader);
                UmhClient<O, I> client;
                try {
                    var spec = helper.spec(UmhFlux.spec(blob)).requestTimeout(requestTimeout);
                    client = helper.pipelined() > 0
                            ? spec.maxInFlight(helper.pipelined())
                                    .supervise(Restart.backoff(Duration.ofMillis(100), Duration.ofSeconds(5)))
                            : spec.pool(PoolSpec.of(helper.poolSize()).idempotent(helper.idempotentRetries()));
                } catch (RuntimeException e) {
                    blob.close();
                    throw e;
                }
                entry = new Entry(key, blob, client);
                ENTRIES.put(key, entry);
            }
            entry.holders++;
            return new Lease<>(entry);
        }
    }

    /** The blob of {@code helper} in this JVM, loaded on first use, for stages that spawn their own helpers. */
    static <I, O> Lease<I, O> acquireBlob(UmhHelper<I, O> helper, ClassLoader classLoader) {
        String key = helper.key() + "/blob";
        synchronized (ENTRIES) {
            Entry entry = ENTRIES.get(key);
            if (entry == null) {
                entry = new Entry(key, helper.load(classLoader), null);
                ENTRIES.put(key, entry);
            }
            entry.holders++;
            return new Lease<>(entry);
        }
    }

    /** Closes every pool and blob left, whoever holds them: the job's class loader is being released. */
    static void closeAll() {
        List<Entry> left;
        synchronized (ENTRIES) {
            left = new ArrayList<>(ENTRIES.values());
            ENTRIES.clear();
        }
        for (Entry e : left) {
            e.close();
        }
    }

    /** How many definitions have a pool in this JVM now. */
    static int size() {
        synchronized (ENTRIES) {
            return ENTRIES.size();
        }
    }
}
