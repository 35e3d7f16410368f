package io.umhflux;

import java.time.Duration;
import java.util.Objects;

/**
 * When a supervised helper that ended is started again: after an exponential backoff, as long as fewer than a
 * budget of restarts happened within a sliding window (Erlang's restart intensity). The backoff doubles with
 * every restart still inside the window and starts over once the helper has run quietly for a window.
 * Immutable and serializable (a distributed job's helper definition carries it).
 *
 * <pre>{@code
 * Restart policy = Restart.backoff(Duration.ofMillis(100), Duration.ofSeconds(5))
 *         .budget(5, Duration.ofMinutes(1));   // the 6th failure within a minute gives up
 * }</pre>
 */
public final class Restart implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final Duration firstBackoff;
    private final Duration maxBackoff;
    private final int maxRestarts;
    private final Duration window;

    private Restart(Duration firstBackoff, Duration maxBackoff, int maxRestarts, Duration window) {
        this.firstBackoff = firstBackoff;
        this.maxBackoff = maxBackoff;
        this.maxRestarts = maxRestarts;
        this.window = window;
    }

    /**
     * Restarts after {@code first}, then twice as long each time up to {@code max}; the budget is 5 restarts
     * per minute until {@link #budget} says otherwise.
     */
    public static Restart backoff(Duration first, Duration max) {
        requireNonNegative(first, "first");
        requireNonNegative(max, "max");
        if (max.compareTo(first) < 0) {
            throw new IllegalArgumentException("max backoff " + max + " is below the first " + first);
        }
        return new Restart(first, max, 5, Duration.ofMinutes(1));
    }

    /** @return a policy that never restarts: the first failure gives up */
    public static Restart never() {
        return new Restart(Duration.ZERO, Duration.ZERO, 0, Duration.ofMinutes(1));
    }

    /**
     * @param restarts how many restarts may happen within {@code window}; one more failure gives up
     * @param window the sliding window restarts are counted in
     */
    public Restart budget(int restarts, Duration window) {
        if (restarts < 0) {
            throw new IllegalArgumentException("restarts must be >= 0: " + restarts);
        }
        Objects.requireNonNull(window, "window");
        if (window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("window must be positive: " + window);
        }
        return new Restart(firstBackoff, maxBackoff, restarts, window);
    }

    /** @return restarts allowed within {@link #window()} */
    public int maxRestarts() {
        return maxRestarts;
    }

    /** @return the sliding window the budget counts restarts in */
    public Duration window() {
        return window;
    }

    /**
     * @param restart the how-many-th restart within the window (1 for the first)
     * @return the backoff before that restart: {@code first × 2^(restart-1)}, at most the maximum
     */
    public Duration backoffFor(int restart) {
        if (restart < 1) {
            throw new IllegalArgumentException("restart counts from 1: " + restart);
        }
        int shift = Math.min(restart - 1, 30);
        Duration d = firstBackoff.multipliedBy(1L << shift);
        return d.compareTo(maxBackoff) > 0 || d.isNegative() ? maxBackoff : d;
    }

    private static void requireNonNegative(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative: " + d);
        }
    }

    @Override
    public String toString() {
        return maxRestarts + " restart(s) per " + window + " (backoff " + firstBackoff + ".." + maxBackoff + ")";
    }
}
