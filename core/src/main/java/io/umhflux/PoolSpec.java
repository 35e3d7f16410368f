package io.umhflux;

import java.time.Duration;
import java.util.Objects;

/**
 * How {@link UmhSpec#pool(PoolSpec)} keeps its helpers. Immutable.
 *
 * <p>The pool (reactor-pool underneath) starts helpers lazily, up to {@link #size()}, and hands each request
 * to one helper at a time. A helper that ended is evicted and a new one takes its place on the next request;
 * only the requests that were on the dead helper fail, unless the pool is told they are
 * {@linkplain #idempotent(int) idempotent}. Helpers idle for longer than {@link #idleTimeout()} are stopped.
 *
 * <pre>{@code
 * UmhClient<Reply, Request> pool = spec.pool(PoolSpec.of(4).idleTimeout(Duration.ofMinutes(5)).idempotent(2));
 * }</pre>
 */
public final class PoolSpec {
    /** Which idle helper takes the next request. */
    public enum Dispatch {
        /** The one idle longest: requests go round the helpers in turn, spreading the load evenly. */
        ROUND_ROBIN,
        /** The one idle shortest: few helpers stay hot (warm caches), the others time out when load drops. */
        MOST_RECENTLY_USED
    }

    private final int size;
    private final Duration idleTimeout;
    private final Dispatch dispatch;
    private final int retries;

    private PoolSpec(int size, Duration idleTimeout, Dispatch dispatch, int retries) {
        this.size = size;
        this.idleTimeout = idleTimeout;
        this.dispatch = dispatch;
        this.retries = retries;
    }

    /** @param size the most helpers the pool runs at once (at least 1); idle timeout 1 minute, round robin */
    public static PoolSpec of(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("pool size must be at least 1: " + size);
        }
        return new PoolSpec(size, Duration.ofMinutes(1), Dispatch.ROUND_ROBIN, 0);
    }

    /** @param timeout how long a helper may stay idle before it is stopped (it is started again on demand) */
    public PoolSpec idleTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("idle timeout must be positive: " + timeout);
        }
        return new PoolSpec(size, timeout, dispatch, retries);
    }

    /** @param dispatch which idle helper takes the next request */
    public PoolSpec dispatch(Dispatch dispatch) {
        return new PoolSpec(size, idleTimeout, Objects.requireNonNull(dispatch, "dispatch"), retries);
    }

    /**
     * Declares requests idempotent: one whose helper ended before answering is sent again, to another helper,
     * up to {@code retries} times (then it fails with the last helper's end). A request that timed out is not
     * retried. Beware of poison: a request that crashes every helper it meets is retried too.
     */
    public PoolSpec idempotent(int retries) {
        if (retries < 0) {
            throw new IllegalArgumentException("retries must be >= 0: " + retries);
        }
        return new PoolSpec(size, idleTimeout, dispatch, retries);
    }

    /** @return the most helpers at once */
    public int size() {
        return size;
    }

    /** @return how long a helper may idle */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /** @return which idle helper takes the next request */
    public Dispatch dispatch() {
        return dispatch;
    }

    /** @return how often a request whose helper died is retried (0: not idempotent) */
    public int retries() {
        return retries;
    }

    @Override
    public String toString() {
        return "pool of " + size + " (" + dispatch + ", idle " + idleTimeout + ", retries " + retries + ")";
    }
}
