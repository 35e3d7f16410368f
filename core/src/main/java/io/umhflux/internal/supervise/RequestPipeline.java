package io.umhflux.internal.supervise;

import io.netty.util.ReferenceCountUtil;
import io.netty.util.ReferenceCounted;
import io.umhflux.ExitStatus;
import io.umhflux.HelperFailedException;
import io.umhflux.UmhClient;
import io.umhflux.UmhEvent;
import io.umhflux.UmhMetrics;
import io.umhflux.codec.CodecBrokenException;
import io.umhflux.codec.CodecException;
import io.umhflux.internal.handle.HelperHandle;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;

/**
 * Requests and responses over one helper: requests go to its stdin through one long send, responses come
 * from its stdout and are matched to requests by order. At most {@code maxInFlight} requests are written
 * ahead of their answers; the rest wait in order.
 *
 * <p>One lock guards the two queues and the end, and requests are emitted to the send while it is held, so
 * the order of {@code inFlight} is the order on the pipe. When the helper ends, every request still queued
 * fails with its end.
 */
public final class RequestPipeline<I, O> implements UmhClient<I, O> {
    private final HelperHandle<I, O> umh;
    private final int maxInFlight;
    private final @Nullable Duration timeout;
    private final UmhMetrics metrics;
    private final Events events;
    private final boolean ownsEvents;
    private final Sinks.Empty<Void> ended = Sinks.empty();
    private final Sinks.Empty<Void> idle = Sinks.empty();
    private final Object lock = new Object();
    /** Requests on their way to the send; those it never takes are released. */
    private final RequestQueue<O> requests = new RequestQueue<>(lock, this::describe);
    // guarded by lock
    private final ArrayDeque<Call<I, O>> inFlight = new ArrayDeque<>();
    private final ArrayDeque<Call<I, O>> waiting = new ArrayDeque<>();
    private @Nullable Throwable end;
    private boolean closing;
    /** The codec can encode nothing more: the send failed, the helper ends, and it takes no new request. */
    private boolean codecBroken;

    private RequestPipeline(HelperHandle<I, O> umh, int maxInFlight, @Nullable Duration timeout, Events events,
            boolean ownsEvents) {
        this.umh = umh;
        this.maxInFlight = maxInFlight;
        this.timeout = timeout;
        this.metrics = events.metrics();
        this.events = events;
        this.ownsEvents = ownsEvents;
    }

    /**
     * A client of one helper, {@code umh}, which must be fresh (its inbound and outbound unused). Its events
     * complete after the helper exited.
     */
    public static <I, O> RequestPipeline<I, O> start(HelperHandle<I, O> umh, int maxInFlight,
            @Nullable Duration timeout, UmhMetrics metrics) {
        return start(new RequestPipeline<>(umh, maxInFlight, timeout, new Events(metrics), true));
    }

    /** Starts serving requests on {@code umh}, which must be fresh; tells {@code events} how it goes. */
    static <I, O> RequestPipeline<I, O> start(HelperHandle<I, O> umh, int maxInFlight, @Nullable Duration timeout,
            Events events) {
        return start(new RequestPipeline<>(umh, maxInFlight, timeout, events, false));
    }

    private static <I, O> RequestPipeline<I, O> start(RequestPipeline<I, O> p) {
        HelperHandle<I, O> umh = p.umh;
        p.events.emit(new UmhEvent.Started(umh.name(), umh.pid()));
        umh.stopWhenStdoutEndsFirst(); // answers come only on stdout
        umh.inbound().subscribe(p.new Responses());
        // the send ends with an error only when the helper stopped reading; the inbound tells how it ended.
        // One that closed its stdin but runs on can never get another request: stop it. A request the codec
        // cannot encode fails alone (HelperHandle.sendEach), never the helper.
        umh.sendEach(p.requests, p::unencodable).subscribe(null, error -> {
            if (!(error instanceof HelperFailedException) || ((HelperFailedException) error).exitStatus() == null) {
                umh.dispose();
            }
        });
        return p;
    }

    HelperHandle<I, O> umh() {
        return umh;
    }

    /** @return whether new requests can still be answered: not closing, its codec not broken, the helper not ended */
    boolean accepts() {
        synchronized (lock) {
            return end == null && !closing && !codecBroken;
        }
    }

    @Override
    public int inFlight() {
        synchronized (lock) {
            return inFlight.size() + waiting.size();
        }
    }

    /** Completes when the helper ended after {@link #close()}, errors when it ended any other way. */
    Mono<Void> ended() {
        return ended.asMono();
    }

    @Override
    public Mono<I> exchange(O request) {
        return withTimeout(Mono.<I>create(sink -> submit(new Call<>(request, sink))), timeout, umh.name());
    }

    /**
     * {@code call} failing with a {@link TimeoutException} that names the helper after {@code timeout} (none
     * when null); a reference-counted answer that loses the race with the timeout or a cancel is released.
     */
    static <T> Mono<T> withTimeout(Mono<T> call, @Nullable Duration timeout, String helper) {
        Mono<T> timed = timeout == null ? call : call.timeout(timeout, Mono.error(() -> new TimeoutException(
                "no response from helper '" + helper + "' within " + timeout.toMillis() + " ms")));
        return timed.doOnDiscard(ReferenceCounted.class, ReferenceCountUtil::safeRelease);
    }

    private void submit(Call<I, O> call) {
        Throwable refused;
        synchronized (lock) {
            refused = end != null ? end
                    : closing ? new IllegalStateException("the client of " + describe() + " is closed") : null;
            if (refused == null) {
                metrics.requestStarted(umh.name());
                if (metrics != UmhMetrics.none()) {
                    call.started = System.nanoTime();
                }
                if (inFlight.size() < maxInFlight) {
                    send(call);
                } else {
                    waiting.add(call);
                }
            }
        }
        if (refused != null) {
            ReferenceCountUtil.release(call.request); // never sent: the pipeline owned it from exchange on
            call.sink.error(refused);
            return;
        }
        call.sink.onCancel(() -> cancel(call));
    }

    /** Under the lock: the order of {@code inFlight} is the order of the pipe. */
    private void send(Call<I, O> call) {
        inFlight.add(call);
        // fails only once the send ended, which the inbound's end follows: that end fails this call then
        requests.offer(call.request);
    }

    private void cancel(Call<I, O> call) {
        boolean removed;
        synchronized (lock) {
            call.cancelled = true; // an answer to it still comes, and is dropped
            removed = waiting.remove(call);
            closeIfIdle(); // a close waits for no answer that no one waits for
        }
        if (removed) {
            ReferenceCountUtil.release(call.request); // cancelled before it was sent
            requestEnded(call, true);
        }
    }

    /**
     * The codec refused {@code request} (on the loop, in send order): it was never written, so its call, the
     * first one in flight with that request, leaves the queue without shifting the answers of the others.
     */
    private void unencodable(Object request, Exception error) {
        Call<I, O> failed = null;
        // a codec that can encode nothing more failed the send too: this helper takes no new request (a pool
        // then drops it, a supervised client waits for the next), and those waiting fail with its end
        boolean broken = error instanceof CodecBrokenException;
        synchronized (lock) {
            if (broken) {
                codecBroken = true;
            }
            for (Call<I, O> c : inFlight) {
                if (c.request == request) {
                    failed = c;
                    break;
                }
            }
            if (failed != null) {
                inFlight.remove(failed);
                Call<I, O> next = broken ? null : waiting.poll();
                if (next != null) {
                    send(next);
                }
                closeIfIdle();
            }
        }
        if (failed != null) {
            requestEnded(failed, true);
            failed.sink.error(new CodecException("the request could not be encoded for " + describe()
                    + " (nothing was sent): " + error, error));
        }
    }

    /** No new requests from now on; the helper's end is expected. */
    void closing() {
        synchronized (lock) {
            closing = true;
            closeIfIdle();
        }
    }

    /**
     * Under the lock: once closing, the close goes on when every request sent was answered or given up (timed out or
     * cancelled: a helper stuck on one would keep the close waiting for good) and none waits to be sent.
     */
    private void closeIfIdle() {
        if (closing && waiting.isEmpty() && noneAwaited()) {
            idle.tryEmitEmpty();
        }
    }

    private boolean noneAwaited() {
        for (Call<I, O> c : inFlight) {
            if (!c.cancelled) {
                return false;
            }
        }
        return true;
    }

    @Override
    public Mono<Void> close() {
        return Mono.defer(() -> {
            closing();
            // once every request was answered: close stdin, and stop the helper if it does not exit by itself
            return idle.asMono().then(Mono.defer(umh::stop)).then();
        });
    }

    @Override
    public Flux<UmhEvent> events() {
        return events.flux();
    }

    @Override
    public void dispose() {
        umh.dispose();
    }

    @Override
    public boolean isDisposed() {
        return umh.isDisposed();
    }

    private String describe() {
        return "helper '" + umh.name() + "' (pid " + umh.pid() + ")";
    }

    private void onResponse(I response) {
        Call<I, O> call;
        synchronized (lock) {
            call = inFlight.poll();
            if (call != null) {
                Call<I, O> next = waiting.poll();
                if (next != null) {
                    send(next);
                }
                closeIfIdle();
            }
        }
        if (call == null) {
            fail(new HelperFailedException(umh.name(), umh.pid(), "it wrote a response no request was waiting for",
                    null, null));
            umh.dispose();
            return;
        }
        requestEnded(call, call.cancelled);
        if (call.cancelled) {
            return;
        }
        ReferenceCountUtil.retain(response); // the inbound releases its buffers after onNext: this one goes on
        call.sink.success(response);
    }

    private void requestEnded(Call<I, O> call, boolean failed) {
        metrics.requestEnded(umh.name(), failed, call.started == 0 ? 0 : System.nanoTime() - call.started);
    }

    /** The helper's stdout ended: with an error, or cleanly after it exited 0. */
    private void onEnd(@Nullable Throwable error) {
        // the exit is known by now (the inbound ends after it): tell it before anyone reacts to the end
        umh.exit().subscribe(status -> ended(status, error));
    }

    private void ended(ExitStatus status, @Nullable Throwable error) {
        boolean expected;
        synchronized (lock) {
            expected = error == null && closing && inFlight.isEmpty() && waiting.isEmpty();
        }
        Throwable end = error != null ? withStatus(error, status)
                : expected ? new IllegalStateException("the client of " + describe() + " is closed")
                : new HelperFailedException(umh.name(), umh.pid(),
                        "it exited while requests were open or before it was closed", status, null);
        fail(end); // first: from now on nothing is accepted, so whoever hears of the exit finds it refused
        events.emit(new UmhEvent.Exited(umh.name(), umh.pid(), status, umh.stoppedBeforeExit()));
        if (ownsEvents) {
            events.complete();
        }
        if (expected) {
            ended.tryEmitEmpty();
        } else {
            ended.tryEmitError(end);
        }
    }

    /** A failure from before the exit was known (a bad frame) carries the exit status too. */
    private Throwable withStatus(Throwable error, ExitStatus status) {
        if (error instanceof HelperFailedException && ((HelperFailedException) error).exitStatus() == null) {
            String m = String.valueOf(error.getMessage());
            int at = m.indexOf("): ");
            return new HelperFailedException(umh.name(), umh.pid(), at < 0 ? m : m.substring(at + 3), status, error);
        }
        return error;
    }

    private void fail(Throwable error) {
        List<Call<I, O>> failed;
        synchronized (lock) {
            if (end == null) {
                end = error;
            }
            failed = new ArrayList<>(inFlight.size() + waiting.size());
            failed.addAll(inFlight);
            failed.addAll(waiting);
            inFlight.clear();
            for (Call<I, O> c : waiting) {
                ReferenceCountUtil.release(c.request); // never sent (those sent are the writer's)
            }
            waiting.clear();
            requests.complete();
        }
        idle.tryEmitEmpty();
        for (Call<I, O> c : failed) {
            requestEnded(c, true);
            c.sink.error(error);
        }
    }

    private static final class Call<I, O> {
        final O request;
        final MonoSink<I> sink;
        volatile boolean cancelled;

        /** When it was accepted, for the metrics' request duration ({@code 0} when nobody records it). */
        long started;

        Call(O request, MonoSink<I> sink) {
            this.request = request;
            this.sink = sink;
        }
    }

    private final class Responses extends BaseSubscriber<I> {
        @Override
        protected void hookOnSubscribe(Subscription subscription) {
            subscription.request(Long.MAX_VALUE); // bounded by the requests in flight
        }

        @Override
        protected void hookOnNext(I value) {
            onResponse(value);
        }

        @Override
        protected void hookOnComplete() {
            onEnd(null);
        }

        @Override
        protected void hookOnError(Throwable throwable) {
            onEnd(throwable);
        }
    }
}
