package io.umhflux.internal.pipe;

import io.netty.channel.IoEventLoop;
import io.umhflux.UmhException;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.MonoSink;
import reactor.util.context.Context;

/**
 * How the one send of a helper's stdin ends: who is told, with which error, and by when what was taken must be
 * written once the publisher failed. The send ends once ({@link #finish}); before that it may be failing (the
 * publisher failed, or a message could not be encoded), when nothing more is taken but what was taken is still
 * written, for at most the drain timeout. Event loop only, but for {@link #claim}.
 */
final class SendEnd {
    private final AtomicBoolean claimed = new AtomicBoolean();
    /** How long what was taken may take to be written after the publisher failed, before the send fails anyway. */
    private final long drainTimeoutNanos;
    private @Nullable MonoSink<Void> sink;
    /**
     * The publisher failed, or a message could not be encoded: what was taken before is still written, then the
     * send fails with this.
     */
    private @Nullable Throwable failure;
    /** Why the pipe ended before a send began, for a send that comes later. */
    private @Nullable Throwable endCause;
    private @Nullable ScheduledFuture<?> drainTimer;
    private boolean finished;

    SendEnd(long drainTimeoutNanos) {
        this.drainTimeoutNanos = drainTimeoutNanos;
    }

    /** Takes the pipe for one send, closing or sink: true once, false for every later caller. Any thread. */
    boolean claim() {
        return claimed.compareAndSet(false, true);
    }

    /** The error for a second send, sink or close of one helper's stdin. */
    static IllegalStateException alreadyClaimed() {
        return new IllegalStateException("this helper's outbound was already sent to, closed or given a sink:"
                + " a helper has one send, one sink or one close");
    }

    /** The sender to tell when the send ends. */
    void attach(MonoSink<Void> to) {
        this.sink = to;
    }

    /**
     * As {@link #attach}, unless the pipe ended before the send began: then {@code to} is told at once, with why,
     * and false is returned.
     */
    boolean attachUnlessEnded(MonoSink<Void> to) {
        if (finished) {
            Throwable why = endCause;
            to.error(why != null ? why
                    : new IllegalStateException("the helper's stdin is closed (stopped, failed, or loop gone)"));
            return false;
        }
        this.sink = to;
        return true;
    }

    Context context() {
        MonoSink<Void> s = sink;
        return s == null ? Context.empty() : Context.of(s.contextView());
    }

    boolean finished() {
        return finished;
    }

    /** Whether the send still takes messages: neither finished nor failing. */
    boolean open() {
        return !finished && failure == null;
    }

    /** The send fails with {@code cause} once what was taken is written; false if failing or finished already. */
    boolean failLater(Throwable cause) {
        if (!open()) {
            return false;
        }
        failure = cause;
        return true;
    }

    /** Starts the drain timeout of a failing send: {@code onTimeout} gets the error to finish with. */
    void startDrainTimer(IoEventLoop loop, LongSupplier unwritten, Consumer<Throwable> onTimeout) {
        Throwable cause = failure;
        if (cause == null || finished) {
            return;
        }
        try {
            drainTimer = loop.schedule(() -> {
                if (!finished) {
                    // a new error: the publisher's own may be shared with other subscribers, and is not changed
                    onTimeout.accept(new UmhException(unwritten.getAsLong() + " bytes taken before the publisher"
                            + " failed were still unwritten after " + Duration.ofNanos(drainTimeoutNanos)
                            + " (the helper did not read them) and were dropped; the publisher's error is the cause",
                            cause));
                }
            }, drainTimeoutNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException loopShuttingDown) {
            // the loop's shutdown closes the pipe, which fails the send
        }
    }

    /** The error the failing send ends with once what was taken is written, or null. */
    @Nullable Throwable failure() {
        return failure;
    }

    /**
     * The error for the sender: {@code other} alone, unless the publisher failed first and something else ended
     * the writing of what it gave before (a stop, EPIPE): then a new error caused by the publisher's, with
     * {@code other} attached (neither is changed: either may have reached other subscribers).
     */
    Throwable senderError(Throwable other) {
        Throwable first = failure;
        if (first == null || first == other) {
            return other;
        }
        UmhException both = new UmhException("the publisher failed, and then the writing of what it gave before"
                + " ended too: " + other, first);
        both.addSuppressed(other);
        return both;
    }

    /** Something ended the pipe at once ({@code cause}): remembered for a send that comes later. */
    void endedBy(Throwable cause) {
        endCause = cause;
    }

    /** The send is over: nothing more is taken or written; the drain timer, if any, is cancelled. */
    void markFinished() {
        finished = true;
        ScheduledFuture<?> timer = drainTimer;
        drainTimer = null;
        if (timer != null) {
            timer.cancel(false);
        }
    }

    /** The sender, taken (to be told once, by the caller), or null. */
    @Nullable MonoSink<Void> takeSink() {
        MonoSink<Void> target = sink;
        sink = null;
        return target;
    }

    /** Tells {@code target}, if any: success when {@code error} is null. */
    static void tell(@Nullable MonoSink<Void> target, @Nullable Throwable error) {
        if (target != null) {
            if (error == null) {
                target.success();
            } else {
                target.error(error);
            }
        }
    }
}
