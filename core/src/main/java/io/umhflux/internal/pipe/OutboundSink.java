package io.umhflux.internal.pipe;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.ReferenceCountUtil;
import io.umhflux.UmhException;
import io.umhflux.UmhSink;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Operators;
import reactor.core.publisher.Sinks;

/**
 * A {@link UmhSink} as the publisher of an {@link OutboundPipe}'s send: a message is accepted only against the
 * pipe's demand, which the pipe raises once it has received what it asked for before, by as many messages as fit
 * beside the bytes it holds under its high-water mark. Accepted messages go into a batch that the pipe takes on its
 * loop ({@link #takeAccepted}), told once per batch rather than once per message; until taken they are still owed
 * to the pipe, so the mark bounds them too. Emits that find no demand wait in one FIFO queue, taken from as the pipe
 * asks for more.
 *
 * <p>Threading: emits come from any thread, {@code request} and {@code cancel} from the pipe's loop. All state is
 * guarded by {@link #lock}, so that a producer's messages enter the batch in the order it emitted them, and the
 * pipe's {@code onComplete} and {@code onError} are called under it too, after every message accepted before them.
 * Reactive waiters are told after the lock is let go, since their continuation may emit again; blocked threads park
 * outside it and are unparked (a {@code wait()} would inflate the monitor that every emit takes). The lock is a
 * monitor and not a {@code ReentrantLock}: the pipe's loop takes it for a moment, and a park there would be a
 * blocking call on an event loop.
 */
public final class OutboundSink<O> implements UmhSink<O>, Publisher<O>, Subscription {
    private enum State {
        /** Emits are taken. */
        OPEN,
        /** {@code complete()} was called while emits waited: they are taken, then the pipe is told. */
        COMPLETING,
        /** The pipe was told of the end (or will be when it subscribes). */
        COMPLETED,
        /** {@code error(..)} was called. */
        ERRORED,
        /** The pipe cancelled: nothing more is taken; waiting emits fail with the send's end, which follows. */
        CANCELLED,
        /** The send ended. */
        DONE
    }

    private final Object lock = new Object();
    private final Sinks.One<Void> done = Sinks.one();
    private final String helper;

    private final NonBlockingThreads nonBlocking;

    // guarded by lock
    private @Nullable OutboundPipe<? super O> pipe;
    /** Accepted and not yet taken by the pipe ({@link #takeAccepted}); counted in the pipe's demand until then. */
    private ArrayList<O> accepted = new ArrayList<>();
    private long demand;
    private final ArrayDeque<Waiter> waiting = new ArrayDeque<>();
    private State state = State.OPEN;
    /** The error given to {@code error(..)}, or the one the send ended with. */
    private @Nullable Throwable failure;
    /** An end that came before the pipe subscribed, to tell it then. */
    private boolean endPending;

    /**
     * @param loop the helper's event loop, on which {@link #emitBlocking} refuses to wait
     * @param helper the helper's description, for errors
     */
    public OutboundSink(EventExecutor loop, String helper) {
        this.helper = helper;
        this.nonBlocking = new NonBlockingThreads(loop);
    }

    /** Starts the send: {@code start} is the pipe's, called with this sink as its publisher. */
    public void start(java.util.function.BiConsumer<Publisher<O>, MonoSink<Void>> start) {
        Mono.<Void>create(sink -> start.accept(this, sink)).subscribe(null, this::ended, () -> ended(null));
    }

    // ---- UmhSink

    @Override
    public Sinks.EmitResult tryEmit(O message) {
        Objects.requireNonNull(message, "message");
        synchronized (lock) {
            if (state != State.OPEN) {
                return Sinks.EmitResult.FAIL_TERMINATED;
            }
            if (demand == 0 || !waiting.isEmpty()) {
                return Sinks.EmitResult.FAIL_OVERFLOW;
            }
            deliver(message);
            return Sinks.EmitResult.OK;
        }
    }

    @Override
    public Mono<Void> emit(O message) {
        Objects.requireNonNull(message, "message");
        return Mono.create(sink -> {
            Waiter w = new Waiter(message, sink, null);
            sink.onCancel(() -> withdraw(w));
            Throwable refused;
            boolean accepted = false;
            synchronized (lock) {
                if (w.state != Waiter.PENDING) {
                    return; // cancelled at subscription: onCancel ran at once and withdrew (released) it
                }
                refused = refusal();
                if (refused == null) {
                    accepted = tryDeliver(w);
                }
            }
            if (refused != null) {
                ReferenceCountUtil.release(message); // the sink's since the subscription
                sink.error(refused);
            } else if (accepted) {
                sink.success();
            }
        });
    }

    @Override
    public void emitBlocking(O message, Duration timeout) throws InterruptedException, TimeoutException {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(timeout, "timeout");
        if (nonBlocking.current()) {
            throw new IllegalStateException("emitBlocking was called on an event loop thread ("
                    + Thread.currentThread().getName() + "), where waiting for " + helper + " would stall every"
                    + " helper and connection of that loop; use tryEmit or emit there");
        }
        synchronized (lock) {
            if (demand > 0 && state == State.OPEN && waiting.isEmpty()) {
                deliver(message); // room now: no waiter to make
                return;
            }
        }
        long nanos;
        try {
            nanos = Math.max(0, timeout.toNanos());
        } catch (ArithmeticException longerThan292Years) {
            nanos = Long.MAX_VALUE;
        }
        long deadline = System.nanoTime() + nanos; // compared by difference: an overflow here is harmless
        Waiter w = new Waiter(message, null, Thread.currentThread());
        synchronized (lock) {
            Throwable refused = refusal(); // the state may have changed since the lock was let go
            if (refused != null) {
                throw unchecked(refused);
            }
            if (tryDeliver(w)) {
                return;
            }
        }
        // parked outside the monitor, woken by unpark: a wait() would inflate the monitor that every emit takes
        while (w.state == Waiter.PENDING) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || Thread.interrupted()) {
                synchronized (lock) {
                    if (w.state == Waiter.PENDING) {
                        waiting.remove(w);
                        completeIfDrained();
                        if (left > 0) {
                            throw new InterruptedException("interrupted while waiting for room for a message to "
                                    + helper + "; the message was not accepted");
                        }
                        throw new TimeoutException("no room for a message to " + helper + " within " + timeout
                                + ": the helper did not read enough of what waits to be written; the message was"
                                + " not accepted");
                    }
                }
                if (left > 0) {
                    Thread.currentThread().interrupt(); // accepted or failed meanwhile: the interrupt is kept
                }
                break;
            }
            LockSupport.parkNanos(this, left);
        }
        if (w.state == Waiter.FAILED) {
            throw unchecked(Objects.requireNonNull(w.error));
        }
    }

    @Override
    public Sinks.EmitResult complete() {
        synchronized (lock) {
            if (state != State.OPEN) {
                return Sinks.EmitResult.FAIL_TERMINATED;
            }
            state = State.COMPLETING;
            completeIfDrained();
            return Sinks.EmitResult.OK;
        }
    }

    @Override
    public Sinks.EmitResult error(Throwable error) {
        Objects.requireNonNull(error, "error");
        List<Waiter> failed;
        synchronized (lock) {
            if (state != State.OPEN && state != State.COMPLETING) {
                return Sinks.EmitResult.FAIL_TERMINATED;
            }
            state = State.ERRORED;
            failure = error;
            demand = 0;
            failed = failWaiting(error);
            OutboundPipe<? super O> p = pipe;
            if (p != null) {
                p.onError(error);
            } else {
                endPending = true;
            }
        }
        tell(failed);
        return Sinks.EmitResult.OK;
    }

    @Override
    public Mono<Void> done() {
        return done.asMono();
    }

    // ---- the pipe's side

    @Override
    @SuppressWarnings("unchecked")
    public void subscribe(Subscriber<? super O> subscriber) {
        if (!(subscriber instanceof OutboundPipe)) {
            Operators.error(subscriber, new IllegalArgumentException("a sink feeds a helper's stdin only"));
            return;
        }
        OutboundPipe<O> p = (OutboundPipe<O>) subscriber;
        synchronized (lock) {
            if (pipe != null) {
                Operators.error(subscriber, new IllegalStateException("a sink feeds one send"));
                return;
            }
            pipe = p;
        }
        p.feedFrom(this);
        subscriber.onSubscribe(this);
        synchronized (lock) {
            if (endPending) {
                endPending = false;
                Throwable error = failure;
                if (error != null) {
                    subscriber.onError(error);
                } else {
                    subscriber.onComplete();
                }
            }
        }
    }

    @Override
    public void request(long n) {
        if (n <= 0) {
            cancel(); // the pipe never asks for less than one; rule 3.9 would make this an error to the pipe
            return;
        }
        List<Waiter> acceptedEmits = null;
        synchronized (lock) {
            demand = Operators.addCap(demand, n);
            while (demand > 0 && (state == State.OPEN || state == State.COMPLETING) && !waiting.isEmpty()) {
                Waiter w = waiting.poll();
                w.state = Waiter.ACCEPTED;
                deliver(w.message);
                if (w.sink != null) {
                    if (acceptedEmits == null) {
                        acceptedEmits = new ArrayList<>();
                    }
                    acceptedEmits.add(w);
                } else {
                    LockSupport.unpark(w.thread);
                }
            }
            completeIfDrained();
        }
        if (acceptedEmits != null) {
            for (Waiter w : acceptedEmits) {
                Objects.requireNonNull(w.sink).success();
            }
        }
    }

    @Override
    public void cancel() {
        synchronized (lock) {
            demand = 0;
            if (state == State.OPEN || state == State.COMPLETING) {
                state = State.CANCELLED; // the emits that wait fail with the send's end, which follows
            }
        }
    }

    /** The send ended: with {@code error}, or written and closed. */
    private void ended(@Nullable Throwable error) {
        Throwable why = error != null ? error
                : new IllegalStateException("the sink of " + helper + " was completed: it takes no more messages");
        List<Waiter> failed;
        synchronized (lock) {
            state = State.DONE;
            demand = 0;
            if (failure == null || error != null) {
                failure = why;
            }
            failed = failWaiting(why);
        }
        tell(failed);
        if (error != null) {
            done.tryEmitError(error);
        } else {
            done.tryEmitEmpty();
        }
    }

    // ---- under the lock

    /** Why an emit is refused now, or null if it may be taken or wait. */
    private @Nullable Throwable refusal() {
        switch (state) {
            case OPEN:
            case CANCELLED:
                return null; // taken, or waits for the send's end
            case COMPLETING:
            case COMPLETED:
                return new IllegalStateException("the sink of " + helper + " was completed: it takes no more messages");
            default:
                return Objects.requireNonNull(failure);
        }
    }

    /** Takes {@code w} if there is room and nothing waits before it; else queues it. */
    private boolean tryDeliver(Waiter w) {
        if (state == State.OPEN && demand > 0 && waiting.isEmpty()) {
            w.state = Waiter.ACCEPTED;
            deliver(w.message);
            return true;
        }
        waiting.add(w);
        return false;
    }

    /**
     * Hands an accepted message to the pipe: into the batch it takes on its loop, telling it when the batch was empty.
     * One cross-thread signal per batch rather than per message, so a producer thread costs the pipe little more than
     * a publisher on its own loop.
     */
    private void deliver(O message) {
        demand--;
        accepted.add(message);
        if (accepted.size() == 1) {
            Objects.requireNonNull(pipe, "demand before a subscriber").sinkReady();
        }
    }

    /** Hands what was accepted since the last take to {@code into}, in order, outside the lock; on the pipe's loop. */
    void takeAccepted(Consumer<? super O> into) {
        List<O> taken;
        synchronized (lock) {
            if (accepted.isEmpty()) {
                return;
            }
            taken = accepted;
            accepted = new ArrayList<>(Math.max(16, taken.size()));
        }
        for (int i = 0, n = taken.size(); i < n; i++) {
            into.accept(taken.get(i));
        }
    }

    private void completeIfDrained() {
        if (state == State.COMPLETING && waiting.isEmpty()) {
            state = State.COMPLETED;
            OutboundPipe<? super O> p = pipe;
            if (p != null) {
                p.onComplete();
            } else {
                endPending = true;
            }
        }
    }

    private List<Waiter> failWaiting(Throwable error) {
        List<Waiter> failed = new ArrayList<>();
        for (Waiter w; (w = waiting.poll()) != null;) {
            w.error = error;
            w.state = Waiter.FAILED; // after the error: a parked thread reads the state without the lock
            if (w.sink != null) {
                failed.add(w);
            } else {
                LockSupport.unpark(w.thread);
            }
        }
        return failed;
    }

    // ---- outside the lock

    private void tell(List<Waiter> failed) {
        for (Waiter w : failed) {
            ReferenceCountUtil.release(w.message); // a reactive emit's message is the sink's since the subscription
            Objects.requireNonNull(w.sink).error(Objects.requireNonNull(w.error));
        }
    }

    /** A cancelled reactive emit: taken back if it still waits. */
    private void withdraw(Waiter w) {
        synchronized (lock) {
            if (w.state == Waiter.PENDING) {
                waiting.remove(w);
                w.state = Waiter.FAILED;
                completeIfDrained();
            } else {
                return; // accepted meanwhile: written as any accepted message (or failed, and released there)
            }
        }
        ReferenceCountUtil.release(w.message); // the sink's since the subscription, and never accepted
    }

    private static RuntimeException unchecked(Throwable error) {
        if (error instanceof RuntimeException) {
            return (RuntimeException) error;
        }
        if (error instanceof Error) {
            throw (Error) error;
        }
        return new UmhException("the sink ended: " + error, error);
    }

    /** An emit waiting for room: a parked {@code thread} ({@code sink} null) or a subscribed {@link #emit}. */
    private final class Waiter {
        static final int PENDING = 0;
        static final int ACCEPTED = 1;
        static final int FAILED = 2;

        final O message;
        final @Nullable MonoSink<Void> sink;
        final @Nullable Thread thread;
        /** Written under the sink's lock; read by the parked thread without it. */
        volatile int state = PENDING;
        @Nullable Throwable error;

        Waiter(O message, @Nullable MonoSink<Void> sink, @Nullable Thread thread) {
            this.message = message;
            this.sink = sink;
            this.thread = thread;
        }
    }
}
