package io.umhflux.internal.supervise;

import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import reactor.core.publisher.Operators;

/**
 * The one stream of requests to a helper's send, its queue guarded by the {@link RequestPipeline}'s lock (a Reactor
 * sink drops what it holds on a cancel in ways that cannot all be seen: an offer racing the cancel, an element polled
 * and then dropped, a queue wrapper of a hook). Whatever the send does not take is released here: on its cancel, on
 * an offer after it, and at the end when nothing ever subscribed.
 *
 * @param <O> requests
 */
final class RequestQueue<O> implements Publisher<O>, Subscription {
    private final Object lock;
    private final Supplier<String> helper;
    private final ArrayDeque<O> queued = new ArrayDeque<>();
    private @Nullable Subscriber<? super O> subscriber;
    private boolean subscribed;
    private long demand;
    private boolean cancelled;
    private boolean completed;
    private boolean draining;
    private boolean missed;

    /**
     * @param lock the pipeline's lock, which guards this queue too
     * @param helper describes the helper, for errors
     */
    RequestQueue(Object lock, Supplier<String> helper) {
        this.lock = lock;
        this.helper = helper;
    }

    @Override
    public void subscribe(Subscriber<? super O> s) {
        synchronized (lock) {
            if (subscribed) {
                Operators.error(s, new IllegalStateException("the requests of " + helper.get() + " have a reader"));
                return;
            }
            subscribed = true;
            subscriber = s;
        }
        s.onSubscribe(this);
        synchronized (lock) {
            drain();
        }
    }

    @Override
    public void request(long n) {
        if (n <= 0) {
            return; // the send asks for more than 0 only
        }
        synchronized (lock) {
            demand = Operators.addCap(demand, n);
            drain();
        }
    }

    @Override
    public void cancel() {
        synchronized (lock) {
            cancelled = true;
            subscriber = null;
            releaseQueued();
        }
    }

    /** Under the lock. */
    void offer(O request) {
        if (cancelled || completed) {
            ReferenceCountUtil.release(request); // the send is over: never written
            return;
        }
        queued.add(request);
        drain();
    }

    /** Under the lock: no more requests; what is queued still goes to a reader, if one ever came. */
    void complete() {
        completed = true;
        if (subscriber == null) {
            releaseQueued();
        }
        drain();
    }

    private void releaseQueued() {
        for (O r; (r = queued.poll()) != null;) {
            ReferenceCountUtil.release(r);
        }
    }

    /** Under the lock (signals to the send are made under it, as the pipe's order is the order of inFlight). */
    private void drain() {
        if (draining) {
            missed = true; // a request or an offer from within onNext: the loop below goes round again
            return;
        }
        draining = true;
        try {
            do {
                missed = false;
                Subscriber<? super O> s = subscriber;
                while (s != null && !cancelled && demand > 0 && !queued.isEmpty()) {
                    demand--;
                    s.onNext(queued.poll());
                }
                if (s != null && !cancelled && completed && queued.isEmpty()) {
                    cancelled = true;
                    subscriber = null;
                    s.onComplete();
                }
            } while (missed);
        } finally {
            draining = false;
        }
    }
}
