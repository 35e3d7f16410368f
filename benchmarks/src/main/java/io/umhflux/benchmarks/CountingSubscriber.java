package io.umhflux.benchmarks;

import io.umhflux.Umh;
import io.umhflux.UmhSpec;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;

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

    /**
     * A helper of {@code spec} echoes {@code messages}: sent from the array, counted by a plain subscriber (the
     * same work as a hand-written loop's {@code for} over the messages and its {@code received++}).
     *
     * @return how many came back, once the helper's stdout ended
     */
    static long echoed(UmhSpec<Object, Object> spec, Object[] messages) throws Exception {
        Umh<Object, Object> umh = spec.spawn();
        umh.outbound().send(Flux.fromArray(messages)).subscribe();
        CountingSubscriber received = new CountingSubscriber();
        umh.inbound().subscribe(received);
        return received.count();
    }

    /** The number of messages, once the inbound completed; rethrows its error. */
    long count() throws Exception {
        return done.get(5, TimeUnit.MINUTES);
    }
}
