package io.umhflux;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Hooks that count what helpers do: spawns, exits by cause, restarts, requests in flight and the bytes that
 * go through their pipes. Every method has an empty default, so an implementation overrides only what it
 * records; {@link #counting()} gives ready-made counters, and any metrics library can be bridged the same way
 * (the {@code umh-flux-micrometer} artifact turns them into Micrometer meters); none is needed at run time.
 *
 * <p>Set one on a spec with {@link UmhSpec#metrics(UmhMetrics)}. The hooks are called on event loop threads
 * and on the threads that send requests: they must be fast, thread-safe and must not throw.
 */
public interface UmhMetrics {
    /** A helper started. */
    default void spawned(String helper, long pid) {
    }

    /** A helper ended; {@link #exitCause(ExitStatus)} names the cause in a few words. */
    default void exited(String helper, ExitStatus status) {
    }

    /** A supervised helper is being started again after it ended. */
    default void restarted(String helper) {
    }

    /**
     * A request was accepted by {@link UmhClient#exchange} for a helper; it is in flight until {@link #requestEnded}.
     * Counted per helper that is asked: a pool that sends an idempotent request again after its helper died
     * ({@code PoolSpec.idempotent}) counts each attempt, the failed one as failed, so that the figures say what the
     * helpers were given and how they fared.
     */
    default void requestStarted(String helper) {
    }

    /**
     * A request ended: answered ({@code failed == false}), failed, timed out or cancelled, {@code nanos} after it
     * was accepted (a request cancelled or timed out after it was written ends when its answer arrives, or the
     * helper ends).
     */
    default void requestEnded(String helper, boolean failed, long nanos) {
        requestEnded(helper, failed);
    }

    /**
     * A request ended; called by the default {@link #requestEnded(String, boolean, long)}.
     *
     * @deprecated override {@link #requestEnded(String, boolean, long)}, which has the request's duration
     */
    @Deprecated
    default void requestEnded(String helper, boolean failed) {
    }

    /** {@code bytes} were read from the helper's stdout. */
    default void bytesIn(String helper, long bytes) {
    }

    /** {@code bytes} were written to the helper's stdin. */
    default void bytesOut(String helper, long bytes) {
    }

    /** @return hooks that record nothing */
    static UmhMetrics none() {
        return Counters.NONE;
    }

    /** @return fresh in-memory counters (lock-free adders), summed over every helper that reports to them */
    static Counters counting() {
        return new Counters();
    }

    /** @return {@code "exit 0"}, {@code "exit 3"} or a signal's name like {@code "SIGKILL"}: a low-cardinality tag */
    static String exitCause(ExitStatus status) {
        if (status.hasExited()) {
            return "exit " + status.code();
        }
        String s = status.toString(); // "killed by SIGKILL (9)..."
        int from = "killed by ".length();
        int to = s.indexOf(' ', from);
        return to < 0 ? s.substring(from) : s.substring(from, to);
    }

    /** In-memory counters; read them at any time from any thread. */
    final class Counters implements UmhMetrics {
        static final UmhMetrics NONE = new UmhMetrics() {
        };

        private final LongAdder spawns = new LongAdder();
        private final LongAdder restarts = new LongAdder();
        private final LongAdder inFlight = new LongAdder();
        private final LongAdder requests = new LongAdder();
        private final LongAdder failedRequests = new LongAdder();
        private final LongAdder bytesIn = new LongAdder();
        private final LongAdder bytesOut = new LongAdder();
        private final Map<String, LongAdder> exits = new ConcurrentHashMap<>();

        Counters() {
        }

        @Override
        public void spawned(String helper, long pid) {
            spawns.increment();
        }

        @Override
        public void exited(String helper, ExitStatus status) {
            exits.computeIfAbsent(exitCause(status), k -> new LongAdder()).increment();
        }

        @Override
        public void restarted(String helper) {
            restarts.increment();
        }

        @Override
        public void requestStarted(String helper) {
            inFlight.increment();
        }

        @Override
        public void requestEnded(String helper, boolean failed, long nanos) {
            inFlight.decrement();
            requests.increment();
            if (failed) {
                failedRequests.increment();
            }
        }

        @Override
        public void bytesIn(String helper, long bytes) {
            bytesIn.add(bytes);
        }

        @Override
        public void bytesOut(String helper, long bytes) {
            bytesOut.add(bytes);
        }

        /** @return helpers started */
        public long spawns() {
            return spawns.sum();
        }

        /** @return exits by cause ({@link UmhMetrics#exitCause}), a snapshot */
        public Map<String, Long> exits() {
            Map<String, Long> copy = new java.util.TreeMap<>();
            exits.forEach((k, v) -> copy.put(k, v.sum()));
            return copy;
        }

        /** @return restarts of supervised helpers */
        public long restarts() {
            return restarts.sum();
        }

        /** @return requests in flight now */
        public long inFlight() {
            return inFlight.sum();
        }

        /** @return requests that ended, answered or not */
        public long requests() {
            return requests.sum();
        }

        /** @return requests that ended without an answer */
        public long failedRequests() {
            return failedRequests.sum();
        }

        /** @return bytes read from helpers' stdout */
        public long bytesIn() {
            return bytesIn.sum();
        }

        /** @return bytes written to helpers' stdin */
        public long bytesOut() {
            return bytesOut.sum();
        }

        @Override
        public String toString() {
            return "spawns " + spawns() + ", exits " + exits() + ", restarts " + restarts() + ", requests "
                    + requests() + " (" + failedRequests() + " failed, " + inFlight() + " in flight), bytes in "
                    + bytesIn() + ", out " + bytesOut();
        }
    }
}
