package io.umhflux.flink;

import io.umhflux.Blob;
import io.umhflux.UmhFlux;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.RuntimeContext;
import reactor.core.scheduler.Schedulers;

/**
 * What the operators of one job share in a worker JVM: one loaded blob per executable, and one {@link HelperPool} per
 * helper definition and in-flight limit. Each is counted by the operators that hold it and closed when the last lets
 * go, or when the job's class loader is released. Entries are kept per user-code class loader: where this module sits
 * in Flink's {@code lib/}, one copy serves every job of the task manager, and one job's end touches no other job's
 * helpers, nor does a job get another's executable for a resource of the same name.
 */
final class HelperRegistry {
    /** By user-code class loader, then by key. */
    private static final Map<ClassLoader, Map<String, Entry>> ENTRIES = new HashMap<>(); // guarded by itself

    private HelperRegistry() {
    }

    /** One shared thing and how many hold it. */
    private static final class Entry {
        final ClassLoader loader;
        final String key;
        final Object value;
        final Runnable close;
        int holders;

        Entry(ClassLoader loader, String key, Object value, Runnable close) {
            this.loader = loader;
            this.key = key;
            this.value = value;
            this.close = close;
        }
    }

    /** What an operator holds, until {@link #release()}. */
    static final class Lease<T> {
        private final Entry entry;
        private final Class<T> type;
        private boolean released;

        private Lease(Entry entry, Class<T> type) {
            this.entry = entry;
            this.type = type;
        }

        T get() {
            return type.cast(entry.value);
        }

        void release() {
            synchronized (ENTRIES) {
                if (released) {
                    return;
                }
                released = true;
                if (--entry.holders == 0 && remove(entry)) {
                    entry.close.run();
                }
            }
        }
    }

    /**
     * The pool of {@code helper} in this JVM, each helper taking up to {@code maxInFlight} requests at once (unless
     * the definition sets its own limit), started on first use.
     */
    @SuppressWarnings("unchecked")
    static <I, O> Lease<HelperPool<I, O>> acquirePool(UmhHelper<I, O> helper, int maxInFlight,
            ClassLoader classLoader) {
        int inFlight = helper.maxInFlight() > 0 ? helper.maxInFlight() : maxInFlight;
        String key = "pool " + helper.key() + "/" + inFlight;
        synchronized (ENTRIES) {
            Entry entry = ENTRIES.getOrDefault(classLoader, Map.of()).get(key);
            if (entry == null) {
                Lease<Blob> blob = acquireBlob(helper, classLoader);
                HelperPool<I, O> pool;
                try {
                    pool = new HelperPool<>(helper.spec(UmhFlux.spec(blob.get())), helper.poolSize(), inFlight,
                            helper.idempotentRetries(), helper.restartPolicy());
                } catch (RuntimeException e) {
                    blob.release();
                    throw e;
                }
                entry = new Entry(classLoader, key, pool, () -> {
                    try {
                        // stops every helper now: the operators that held the pool are closed (finished, failed
                        // or cancelled), so no request of theirs is left to wait for
                        pool.dispose();
                    } finally {
                        blob.release();
                    }
                });
                add(entry);
            }
            entry.holders++;
            return new Lease<>(entry, (Class<HelperPool<I, O>>) (Class<?>) HelperPool.class);
        }
    }

    /**
     * The blob of {@code helper} for the job of {@code classLoader} in this JVM, loaded on first use from that class
     * loader's resource or the definition's bytes: one sealed memfd per executable, whatever the stage and the rest of
     * the definition.
     */
    static Lease<Blob> acquireBlob(UmhHelper<?, ?> helper, ClassLoader classLoader) {
        String key = "blob " + helper.blobKey();
        synchronized (ENTRIES) {
            Entry entry = ENTRIES.getOrDefault(classLoader, Map.of()).get(key);
            if (entry == null) {
                Blob blob = helper.load(classLoader);
                entry = new Entry(classLoader, key, blob, blob::close);
                add(entry);
            }
            entry.holders++;
            return new Lease<>(entry, Blob.class);
        }
    }

    /** Under the lock: puts {@code entry} in its class loader's scope. */
    private static void add(Entry entry) {
        ENTRIES.computeIfAbsent(entry.loader, l -> new HashMap<>()).put(entry.key, entry);
    }

    /** Under the lock: takes {@code entry} out of its class loader's scope, if it is still there. */
    private static boolean remove(Entry entry) {
        Map<String, Entry> scope = ENTRIES.get(entry.loader);
        if (scope == null || !scope.remove(entry.key, entry)) {
            return false;
        }
        if (scope.isEmpty()) {
            ENTRIES.remove(entry.loader);
        }
        return true;
    }

    /**
     * The job's user-code class loader is being released (Flink's release hook): closes every pool and blob of that
     * class loader left, and when this copy of umh-flux came with the job (its jar, not Flink's {@code lib/}, which
     * every job shares) ends the library's threads too, and Reactor's when Reactor came with the job as well, so that
     * nothing of the job keeps running or keeps its class loader reachable.
     */
    static void release(ClassLoader classLoader) {
        try {
            closeAll(classLoader);
        } finally {
            ClassLoader flinks = RuntimeContext.class.getClassLoader();
            if (UmhFlux.class.getClassLoader() != flinks) {
                UmhFlux.shutdown(Duration.ofSeconds(5));
            }
            if (Schedulers.class.getClassLoader() != flinks) {
                Schedulers.shutdownNow();
            }
        }
    }

    /** Closes every pool and blob of {@code classLoader}'s job left, whoever holds them. */
    private static void closeAll(ClassLoader classLoader) {
        List<Entry> left;
        synchronized (ENTRIES) {
            Map<String, Entry> scope = ENTRIES.remove(classLoader);
            left = scope == null ? List.of() : new ArrayList<>(scope.values());
        }
        RuntimeException failure = null;
        for (Entry e : left) {
            try {
                e.close.run();
            } catch (RuntimeException x) {
                if (failure == null) {
                    failure = x;
                } else {
                    failure.addSuppressed(x);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** How many pools and blobs this JVM holds now, for every job. */
    static int size() {
        synchronized (ENTRIES) {
            return ENTRIES.values().stream().mapToInt(Map::size).sum();
        }
    }
}
