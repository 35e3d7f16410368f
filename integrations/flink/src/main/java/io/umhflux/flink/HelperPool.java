package io.umhflux.flink;

import io.umhflux.HelperFailedException;
import io.umhflux.Restart;
import io.umhflux.UmhClient;
import io.umhflux.UmhSpec;
import java.util.ArrayList;
import java.util.List;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * The helpers of one definition in one worker JVM, shared by its subtasks. Each helper is supervised (started again
 * when it ends, as the definition's {@link Restart} policy says) and pipelined: up to its in-flight limit of requests
 * are written ahead of their answers. A request goes to the helper with the fewest requests in flight.
 *
 * <p>reactor-pool lends a resource to one borrower at a time, which would give each helper one request per round
 * trip; requests written ahead are what lets a helper's pace, not the round trip, set the rate, so the spreading is
 * written here, over the core's supervised clients.
 */
final class HelperPool<I, O> {
    private final List<UmhClient<O, I>> helpers;
    private final int retries;

    /**
     * Starts {@code size} helpers of {@code spec} now. No request timeout of their own: Flink's async timeout is the
     * stage's (it fails the element, and with it the task, whose pool is then disposed), and a timer per request
     * in both would cost twice.
     *
     * @param retries how often a request whose helper died is sent again (to the helper with the fewest in flight)
     */
    HelperPool(UmhSpec<O, I> spec, int size, int maxInFlight, int retries, Restart restart) {
        this.retries = retries;
        List<UmhClient<O, I>> started = new ArrayList<>(size);
        try {
            for (int i = 0; i < size; i++) {
                started.add(spec.maxInFlight(maxInFlight).supervise(restart));
            }
        } catch (RuntimeException e) {
            started.forEach(UmhClient::dispose);
            throw e;
        }
        this.helpers = List.copyOf(started);
    }

    /** The answer to {@code request}; a {@code HelperFailedException} once the retries are spent. */
    Mono<O> exchange(I request) {
        Mono<O> once = Mono.defer(() -> leastBusy().exchange(request));
        return retries == 0 ? once : once.retryWhen(Retry.max(retries).filter(HelperFailedException.class::isInstance)
                .onRetryExhaustedThrow((spec, signal) -> signal.failure())); // the last helper's end, not Reactor's
    }

    private UmhClient<O, I> leastBusy() {
        UmhClient<O, I> best = helpers.get(0);
        int fewest = best.inFlight();
        for (int i = 1; i < helpers.size() && fewest > 0; i++) {
            UmhClient<O, I> h = helpers.get(i);
            int n = h.inFlight();
            if (n < fewest) {
                best = h;
                fewest = n;
            }
        }
        return best;
    }

    /** Stops every helper now; requests in flight fail. */
    void dispose() {
        helpers.forEach(UmhClient::dispose);
    }
}
