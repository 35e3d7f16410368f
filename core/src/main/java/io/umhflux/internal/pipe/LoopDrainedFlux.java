package io.umhflux.internal.pipe;

import io.netty.channel.IoEventLoop;
import io.umhflux.internal.loop.Loops;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;

/**
 * The Reactive Streams side of a {@link Flux} whose work runs on one event loop, as reactor-netty's
 * {@code FluxReceive} has it: one subscriber; {@code request} and {@code cancel} from any thread add to the demand
 * and schedule a drain on the loop; the drain runs once at a time, and once more when a subscriber's {@code onNext}
 * re-enters it. Subclasses do the work in {@link #drain()}, on the loop.
 *
 * @param <T> element type
 */
abstract class LoopDrainedFlux<T> extends Flux<T> implements Subscription {
    @SuppressWarnings("rawtypes")
    private static final AtomicLongFieldUpdater<LoopDrainedFlux> REQUESTED =
            AtomicLongFieldUpdater.newUpdater(LoopDrainedFlux.class, "requested");

    final IoEventLoop loop;
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final AtomicBoolean subscribed = new AtomicBoolean();
    private final Runnable drainTask = this::drainOnLoop;
    volatile boolean cancelled;
    private volatile long requested;

    // event loop only
    @Nullable CoreSubscriber<? super T> actual;
    private boolean draining;
    /** Set to have the running drain go round once more (re-entered from onNext, or asked by the subclass). */
    boolean drainAgain;

    LoopDrainedFlux(IoEventLoop loop) {
        this.loop = loop;
    }

    /** The work, on the loop: deliver while there is demand, end when it is over. */
    abstract void drain();

    /** Runs after each drain, on the loop. */
    void afterDrain() {
    }

    @Override
    public void subscribe(CoreSubscriber<? super T> subscriber) {
        if (!subscribed.compareAndSet(false, true)) {
            Operators.error(subscriber, new IllegalStateException(
                    "the inbound of a helper allows one subscriber; share() or publish() it for more"));
            return;
        }
        Loops.execute(loop, () -> {
            actual = subscriber;
            subscriber.onSubscribe(this);
            drainOnLoop();
        });
    }

    /** Whether anyone subscribed. Any thread. */
    public boolean isSubscribed() {
        return subscribed.get();
    }

    @Override
    public void request(long n) {
        if (Operators.validate(n)) {
            Operators.addCap(REQUESTED, this, n);
            scheduleDrain();
        }
    }

    @Override
    public void cancel() {
        if (!cancelled) {
            cancelled = true;
            scheduleDrain();
        }
    }

    /**
     * {@code demand} plus what was requested since the last call: a plain volatile read per call, the atomic
     * exchange only when a request came in. On the loop.
     */
    final long withRequested(long demand) {
        return requested == 0 ? demand : Operators.addCap(demand, REQUESTED.getAndSet(this, 0));
    }

    private void scheduleDrain() {
        if (loop.inEventLoop()) {
            drainOnLoop();
        } else {
            drainLater();
        }
    }

    /** A drain in a later task of the loop (after the loop's other tasks); any thread. */
    final void drainLater() {
        if (drainScheduled.compareAndSet(false, true)) {
            Loops.submit(loop, drainTask);
        }
    }

    /** Drains now, on the loop; from within a drain, once more after it. */
    final void drainOnLoop() {
        drainScheduled.set(false);
        if (draining) {
            drainAgain = true; // re-entered from onNext: the outer call runs once more
            return;
        }
        draining = true;
        try {
            do {
                drainAgain = false;
                drain();
            } while (drainAgain);
        } finally {
            draining = false;
            afterDrain();
        }
    }
}
