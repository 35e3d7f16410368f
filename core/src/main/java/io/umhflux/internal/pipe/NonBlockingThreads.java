package io.umhflux.internal.pipe;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocalThread;
import org.jspecify.annotations.Nullable;
import reactor.core.scheduler.Schedulers;

/**
 * Tells whether the calling thread must not block: the helper's event loop, any Reactor non-blocking thread, or a
 * Netty event loop thread (as Netty's own BlockHound integration tells them). A thread found to be a plain one is
 * remembered, so that a producer thread is checked once: the full check costs about as much as the rest of an emit
 * (a failing {@code instanceof} of an interface scans the thread class's interfaces each time), and its answer for a
 * thread never changes.
 */
final class NonBlockingThreads {
    private final EventExecutor loop;
    /** Read and written without a lock: a stale value only costs a full check. */
    private @Nullable Thread lastPlainThread;

    NonBlockingThreads(EventExecutor loop) {
        this.loop = loop;
    }

    /** Whether the calling thread must not block. */
    boolean current() {
        Thread t = Thread.currentThread();
        if (t == lastPlainThread) {
            return false;
        }
        boolean loopThread = loop.inEventLoop() || Schedulers.isInNonBlockingThread()
                || t instanceof FastThreadLocalThread && !((FastThreadLocalThread) t).permitBlockingCalls();
        if (!loopThread) {
            lastPlainThread = t;
        }
        return loopThread;
    }
}
