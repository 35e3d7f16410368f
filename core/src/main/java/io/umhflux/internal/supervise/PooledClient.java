package io.umhflux.internal.supervise;

import io.netty.util.ReferenceCountUtil;
import io.umhflux.HelperFailedException;
import io.umhflux.PoolSpec;
import io.umhflux.UmhClient;
import io.umhflux.UmhEvent;
import io.umhflux.UmhMetrics;
import io.umhflux.internal.handle.HelperHandle;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.pool.InstrumentedPool;
import reactor.pool.PoolBuilder;
import reactor.pool.PooledRef;
import reactor.util.retry.Retry;

/**
 * Helpers on reactor-pool: each request borrows one helper for its round trip. reactor-pool starts helpers
 * lazily up to the size, queues requests while all are busy, evicts a helper that ended (checked when it is
 * handed out, and in the background) or idled too long, and stops the helpers it evicts.
 */
public final class PooledClient<I, O> implements UmhClient<I, O> {
    private final String name;
    private final InstrumentedPool<RequestPipeline<I, O>> pool;
    private final Events events;
    private final int retries;
    private final @Nullable Duration timeout;
    private final AtomicInteger active = new AtomicInteger();
    private final Sinks.Empty<Void> drained = Sinks.empty();
    private volatile boolean closed;
    /** Every helper the pool holds, busy or idle: {@link #dispose()} stops them all at once. */
    private final Set<RequestPipeline<I, O>> live = ConcurrentHashMap.newKeySet();
    /** Stops of helpers thrown away after a timeout, an end or a cancel, still under way. */
    private final Set<Mono<Void>> discarded = ConcurrentHashMap.newKeySet();

    /**
     * @param name the blob name, for events and errors
     * @param spawn starts one helper (on the calling thread: a spawn takes well under a millisecond)
     */
    public PooledClient(String name, Supplier<HelperHandle<I, O>> spawn, PoolSpec spec, @Nullable Duration timeout,
            UmhMetrics metrics) {
        this.name = name;
        this.events = new Events(metrics);
        this.retries = spec.retries();
        this.timeout = timeout;
        long idleMillis = spec.idleTimeout().toMillis();
        Duration sweep = Duration.ofMillis(Math.max(10, Math.min(1000, idleMillis / 2)));
        // one request per helper at a time: the pool's exclusivity is the in-flight limit
        PoolBuilder<RequestPipeline<I, O>, ?> builder = PoolBuilder
                .from(Mono.fromSupplier(() -> {
                    // no timeout per helper: this client's covers the wait for a free helper too
                    RequestPipeline<I, O> p = RequestPipeline.start(spawn.get(), 1, null, events);
                    live.add(p);
                    return p;
                }))
                .sizeBetween(0, spec.size())
                .evictionPredicate((p, meta) -> !p.accepts() || meta.idleTime() >= idleMillis)
                .evictInBackground(sweep)
                .destroyHandler(this::stop);
        builder = spec.dispatch() == PoolSpec.Dispatch.ROUND_ROBIN ? builder.idleResourceReuseLruOrder()
                : builder.idleResourceReuseMruOrder();
        this.pool = builder.buildPool();
    }

    private Mono<Void> stop(RequestPipeline<?, ?> p) {
        live.remove(p);
        p.closing(); // its end is expected from now on
        // done once its Exited event is out: a close() that waits for this never completes events() before it
        return p.umh().stop().then(p.ended().onErrorResume(e -> Mono.empty()));
    }

    @Override
    public Mono<I> exchange(O request) {
        // each attempt hands its helper's pipeline a reference of its own (released once written, or when the
        // attempt ends unsent); the caller's is released when the call ends, after any retries
        Mono<I> once = Mono.usingWhen(pool.acquire(),
                ref -> ref.poolable().exchange(ReferenceCountUtil.retain(request)),
                PooledRef::release, this::afterError, this::afterCancel);
        Mono<I> attempts = retries == 0 ? once
                : once.retryWhen(Retry.max(retries).filter(e -> e instanceof HelperFailedException)
                        .onRetryExhaustedThrow((spec, signal) -> signal.failure())); // the last helper's end
        // one deadline from the call: waiting for a free helper and retries count (a timeout cancels the
        // attempt, and afterCancel replaces a helper that still owes the answer)
        Mono<I> call = RequestPipeline.withTimeout(attempts, timeout, name);
        return Mono.defer(() -> {
            active.incrementAndGet(); // first: a close() that starts now waits for this request
            if (closed) {
                done();
                ReferenceCountUtil.release(request);
                return Mono.error(new IllegalStateException("the pool of helper '" + name + "' is closed"));
            }
            return call.doFinally(signal -> {
                done();
                ReferenceCountUtil.release(request);
            });
        });
    }

    private void done() {
        if (active.decrementAndGet() == 0 && closed) {
            drained.tryEmitEmpty();
        }
    }

    /**
     * A helper that ended is thrown away, without making the caller wait for its stop; after a request that
     * failed alone (its codec refused it) the helper goes back.
     */
    private Mono<Void> afterError(PooledRef<? extends RequestPipeline<?, ?>> ref, Throwable error) {
        return ref.poolable().accepts() ? ref.release() : discard(ref);
    }

    /**
     * A cancelled request (the caller's cancel, or this client's timeout, which may mean a stuck helper) may still
     * be on its helper, and the next one would queue behind it: replace it.
     */
    private Mono<Void> afterCancel(PooledRef<? extends RequestPipeline<?, ?>> ref) {
        return ref.poolable().inFlight() > 0 ? discard(ref) : ref.release();
    }

    /**
     * Stops the helper in the background; {@link #close()} waits for it (the pool itself no longer knows it), so
     * that its Exited event comes before {@code events()} completes.
     */
    private Mono<Void> discard(PooledRef<?> ref) {
        Mono<Void> gone = ref.invalidate().onErrorResume(e -> Mono.empty()).cache();
        discarded.add(gone);
        gone.subscribe(null, null, () -> discarded.remove(gone));
        return Mono.empty();
    }

    @Override
    public int inFlight() {
        return active.get();
    }

    @Override
    public Flux<UmhEvent> events() {
        return events.flux();
    }

    /** @return helpers running now, busy or idle */
    public int helpers() {
        return pool.metrics().allocatedSize();
    }

    @Override
    public Mono<Void> close() {
        return Mono.defer(() -> {
            closed = true;
            Mono<Void> quiet = active.get() == 0 ? Mono.empty() : drained.asMono();
            return quiet.then(pool.disposeLater())
                    .then(Mono.defer(() -> Mono.when(List.copyOf(discarded))))
                    .then(Mono.fromRunnable(events::complete));
        });
    }

    @Override
    public void dispose() {
        closed = true;
        live.forEach(RequestPipeline::dispose);
        pool.disposeLater().subscribe(null, e -> { }, events::complete);
    }

    @Override
    public boolean isDisposed() {
        return pool.isDisposed();
    }
}
