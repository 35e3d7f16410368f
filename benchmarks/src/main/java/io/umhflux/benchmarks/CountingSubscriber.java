package io.umhflux.benchmarks;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;

/** Counts what a helper's inbound delivers, with unbounded demand; {@link #count()} waits for the end. */
final class CountingSubscriber extends BaseSubscriber<Object> {
    private final CompletableFuture<Long> done = new CompletableFuture<>();
    private long received;

    @Override
    protected void hookOnSubscribe(Subscription subscription) {
        subscription.request(Long.MAX_VALUE);
    }

    @Override
    protected void hookOnNext(Object value) {
        received++;
    }

    @Override
    protected void hookOnComplete() {
        done.complete(received);
    }

    @Override
    protected void hookOnError(Throwable error) {
        done.completeExceptionally(error);
    }

    /** The number of messages, once the inbound completed; rethrows its error. */
    long count() throws Exception {
        return done.get(5, TimeUnit.MINUTES);
    }
}
