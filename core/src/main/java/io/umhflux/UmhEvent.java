package io.umhflux;

import java.time.Duration;

/**
 * What happened to the helpers behind a {@link UmhClient}, in order, as {@link UmhClient#events()} tells it.
 * Pattern-match on the records:
 *
 * <pre>{@code
 * client.events().subscribe(e -> {
 *     if (e instanceof UmhEvent.Exited x && !x.status().isSuccess()) {
 *         log.warn("helper {} ended: {}", x.pid(), x.status());
 *     }
 * });
 * }</pre>
 */
public sealed interface UmhEvent {
    /** @return the blob name of the helper the event is about */
    String helper();

    /**
     * A helper started.
     *
     * @param helper the blob name
     * @param pid its process id
     */
    record Started(String helper, long pid) implements UmhEvent {
    }

    /**
     * A helper ended (and was reaped).
     *
     * @param helper the blob name
     * @param pid its former process id
     * @param status how it ended, with its last stderr lines
     * @param stopped whether it was asked to stop first (a close, a pool's eviction of an idle helper, a
     *     dispose): then a non-zero status is the stop's doing (a SIGTERM after the stop grace, say), not a crash
     */
    record Exited(String helper, long pid, ExitStatus status, boolean stopped) implements UmhEvent {
        /**
         * A helper that ended by itself.
         *
         * @param helper the blob name
         * @param pid its former process id
         * @param status how it ended
         */
        public Exited(String helper, long pid, ExitStatus status) {
            this(helper, pid, status, false);
        }
    }

    /**
     * A supervised helper ended and will be started again after {@code delay}.
     *
     * @param helper the blob name
     * @param restart the how-many-th restart within the budget's window this is (1 for the first)
     * @param delay the backoff before the new helper starts
     * @param cause why the last helper ended
     */
    record Restarting(String helper, int restart, Duration delay, Throwable cause) implements UmhEvent {
    }

    /**
     * A supervised helper ended once more than its restart budget allows: no new helper starts, and every
     * request from now on fails with {@code cause}.
     *
     * @param helper the blob name
     * @param cause a {@link RestartsExhaustedException} whose cause is the last helper's end
     */
    record GaveUp(String helper, RestartsExhaustedException cause) implements UmhEvent {
    }
}
