package io.umhflux.internal.supervise;

import io.netty.util.ReferenceCountUtil;
import io.umhflux.Restart;
import io.umhflux.RestartsExhaustedException;
import io.umhflux.UmhClient;
import io.umhflux.UmhEvent;
import io.umhflux.UmhMetrics;
import io.umhflux.internal.handle.HelperHandle;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.retry.Retry;

/**
 * One helper at a time, started again when it ends, as the kernel's user-mode driver code restarts its
 * helper. Built on the cold {@code spec.using(..)}: each subscription spawns a helper and emits its pipeline,
 * which errors when the helper ends; {@code retryWhen} with the {@link Restart} policy subscribes again after
 * the backoff, until the budget is spent.
 *
 * <p>Requests go to the newest live pipeline; while a new helper is on its way they wait for it.
 */
public final class SupervisedClient<I, O> implements UmhClient<I, O> {
    private final String name;
    private final Restart policy;
    private final Events events;
    private final Sinks.Many<RequestPipeline<I, O>> lives = Sinks.many().replay().latest();
    private final Disposable supervision;
    private final @Nullable Duration timeout;
    private volatile boolean closed;
    private volatile @Nullable RequestPipeline<I, O> current;
    /** When the restarts within the window happened; used by the retry's companion only, one at a time. */
    private final ArrayDeque<Long> restartTimes = new ArrayDeque<>();
    private final AtomicInteger active = new AtomicInteger();

    /**
     * @param name the blob name, for events and errors
     * @param lifecycle subscribing spawns one helper, runs the function on it and stops it when the function's
     *     publisher ends (the cold {@code UmhSpec.using})
     */
    public SupervisedClient(String name,
            Function<Function<HelperHandle<I, O>, Flux<RequestPipeline<I, O>>>, Flux<RequestPipeline<I, O>>> lifecycle,
            Restart policy, int maxInFlight, @Nullable Duration timeout, UmhMetrics metrics) {
        this.name = name;
        this.policy = policy;
        this.events = new Events(metrics);
        this.timeout = timeout;
        Flux<RequestPipeline<I, O>> live = lifecycle.apply(umh -> {
            // the timeout is this client's: it covers the wait for a new helper too
            RequestPipeline<I, O> p = RequestPipeline.start(umh, maxInFlight, null, events);
            return Mono.just(p).concatWith(p.ended().then(Mono.empty()));
        });
        this.supervision = live
                .retryWhen(Retry.from(failures -> failures.concatMap(this::restartOrGiveUp)))
                .subscribe(this::emitLive, this::gaveUp, this::ended);
    }

    private void emitLive(RequestPipeline<I, O> p) {
        current = p;
        synchronized (lives) {
            lives.tryEmitNext(p);
        }
    }

    private Mono<Long> restartOrGiveUp(Retry.RetrySignal signal) {
        Throwable failure = signal.failure();
        if (closed) {
            return Mono.error(failure);
        }
        long now = System.nanoTime();
        long window = policy.window().toNanos();
        while (!restartTimes.isEmpty() && now - restartTimes.peekFirst() >= window) {
            restartTimes.pollFirst();
        }
        if (restartTimes.size() >= policy.maxRestarts()) {
            return Mono.error(new RestartsExhaustedException(name, restartTimes.size(), policy, failure));
        }
        restartTimes.addLast(now);
        int restart = restartTimes.size();
        Duration delay = policy.backoffFor(restart);
        events.metrics().restarted(name);
        events.emit(new UmhEvent.Restarting(name, restart, delay, failure));
        return Mono.delay(delay);
    }

    private void gaveUp(Throwable error) {
        if (error instanceof RestartsExhaustedException) {
            events.emit(new UmhEvent.GaveUp(name, (RestartsExhaustedException) error));
        }
        synchronized (lives) {
            lives.tryEmitError(error);
        }
        events.complete();
    }

    private void ended() {
        synchronized (lives) {
            lives.tryEmitError(closedError());
        }
        events.complete();
    }

    private IllegalStateException closedError() {
        return new IllegalStateException("the client of helper '" + name + "' is closed");
    }

    @Override
    public Mono<I> exchange(O request) {
        // the helper's next pipeline, when the current one is gone or closing (waits for a restart)
        Mono<I> later = lives.asFlux()
                .filter(RequestPipeline::accepts)
                .next()
                .switchIfEmpty(Mono.error(this::closedError))
                .flatMap(p -> p.exchange(ReferenceCountUtil.retain(request)));
        return Mono.defer(() -> {
            active.incrementAndGet(); // counted from here: a request waiting for a new helper is in flight too
            RequestPipeline<I, O> p = current;
            // the live pipeline at once, without a subscription to the replay of pipelines per request; one that
            // ends just now fails the request as the replay's would have
            // the retain inside the subscription, as the replay's flatMap does: one that throws (a request
            // released already) ends in doFinally, which gives back the count
            Mono<I> call = p != null && !closed && p.accepts()
                    ? Mono.defer(() -> p.exchange(ReferenceCountUtil.retain(request))) : later;
            return RequestPipeline.withTimeout(call, timeout, name).doFinally(signal -> {
                active.decrementAndGet();
                // the caller's reference to a reference-counted request; the helper's pipeline had one of its own
                ReferenceCountUtil.release(request);
            });
        });
    }

    @Override
    public int inFlight() {
        return active.get();
    }

    @Override
    public Flux<UmhEvent> events() {
        return events.flux();
    }

    @Override
    public Mono<Void> close() {
        return Mono.defer(() -> {
            closed = true;
            RequestPipeline<I, O> p = current;
            // a restart still on its way is cancelled with the supervision, which stops its helper; the events
            // end after the last helper's Exited
            return (p == null ? Mono.<Void>empty() : p.close().then(p.ended().onErrorResume(e -> Mono.empty())))
                    .then(Mono.fromRunnable(this::dispose));
        });
    }

    @Override
    public void dispose() {
        closed = true;
        supervision.dispose(); // cancels the using(..): its helper is stopped
        RequestPipeline<I, O> p = current;
        if (p == null) {
            ended();
        } else {
            p.ended().subscribe(null, e -> ended(), this::ended);
        }
    }

    @Override
    public boolean isDisposed() {
        return supervision.isDisposed();
    }
}
