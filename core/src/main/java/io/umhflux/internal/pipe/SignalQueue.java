package io.umhflux.internal.pipe;

import io.netty.channel.IoEventLoop;
import io.netty.util.internal.PlatformDependent;
import io.umhflux.internal.loop.Loops;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The hand-over of a publisher's signals from any thread to the event loop, in order: messages, completion, an
 * error, a cancel of the send, a feeding sink's "ready". Offering schedules one drain task on the loop; the task
 * polls what came (MPSC, as Reactor's and Netty's queues between threads are).
 */
final class SignalQueue {
    /** The publisher completed. */
    static final Object COMPLETE = new Marker("COMPLETE");
    /** The sender cancelled the send. */
    static final Object CANCEL_SEND = new Marker("CANCEL_SEND");
    /** The feeding sink holds accepted messages. */
    static final Object SINK_READY = new Marker("SINK_READY");

    private final Queue<Object> signals = PlatformDependent.newMpscQueue();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final IoEventLoop loop;
    private final Runnable drain;

    /** @param drain runs on the loop after signals were offered: {@link #startDrain} first, then {@link #poll} */
    SignalQueue(IoEventLoop loop, Runnable drain) {
        this.loop = loop;
        this.drain = drain;
    }

    /** Queues {@code signal} (a message, a marker above, or a {@link Failure}) and schedules the drain. Any thread. */
    void offer(Object signal) {
        signals.offer(signal);
        if (scheduled.compareAndSet(false, true)) {
            Loops.submit(loop, drain);
        }
    }

    /** The drain task begins: signals offered from now on schedule it again. */
    void startDrain() {
        scheduled.set(false);
    }

    @Nullable Object poll() {
        return signals.poll();
    }

    boolean isEmpty() {
        return signals.isEmpty();
    }

    /** Whether {@code signal} is a message rather than a marker or a failure. */
    static boolean isMessage(Object signal) {
        return !(signal instanceof Marker) && !(signal instanceof Failure);
    }

    /**
     * Takes every queued signal, handing each message to {@code message} (to be released) and each publisher error to
     * {@code failure} (no one waits for it any more).
     */
    void clear(Consumer<Object> message, Consumer<Throwable> failure) {
        for (Object s; (s = signals.poll()) != null;) {
            if (s instanceof Failure) {
                failure.accept(((Failure) s).error);
            } else if (isMessage(s)) {
                message.accept(s);
            }
        }
    }

    /** The publisher failed with {@code error}. */
    static final class Failure {
        final Throwable error;

        Failure(Throwable error) {
            this.error = error;
        }
    }

    private static final class Marker {
        private final String name;

        Marker(String name) {
            this.name = name;
        }

        @Override
        public String toString() {
            return name;
        }
    }
}
