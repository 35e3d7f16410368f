package io.umhflux.internal.process;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * The fallback exit watch, for kernels without pidfd (before 5.3) and for children whose event loop shut
 * down: ONE shared daemon thread polls each child with a non-blocking {@code waitid} on its own pid,
 * backing off from 1 ms to 50 ms while nothing changes. Slower to notice an exit than the pidfd watch, but
 * never a thread per child and never {@code waitpid(-1)}. The thread ends when it has no child left.
 */
final class PollingReaper implements Runnable {
    static final PollingReaper INSTANCE = new PollingReaper();

    private static final long MIN_SLEEP = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long MAX_SLEEP = TimeUnit.MILLISECONDS.toNanos(50);

    private final Queue<Child> incoming = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean running = new AtomicBoolean();
    private volatile @Nullable Thread thread;

    private PollingReaper() {
    }

    /** Watches {@code child} until it is reaped. Thread-safe. */
    void adopt(Child child) {
        incoming.add(child);
        if (running.compareAndSet(false, true)) {
            Thread t = new Thread(this, "umh-flux-reaper");
            t.setDaemon(true);
            thread = t;
            t.start();
        } else {
            Thread t = thread;
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
    }

    @Override
    public void run() {
        List<Child> watched = new ArrayList<>();
        long sleep = MIN_SLEEP;
        while (true) {
            for (Child c; (c = incoming.poll()) != null;) {
                watched.add(c);
                sleep = MIN_SLEEP;
            }
            if (watched.removeIf(Child::pollExit)) {
                sleep = MIN_SLEEP;
            }
            if (watched.isEmpty()) {
                running.set(false);
                // a child adopted after the poll above but before the flag was cleared is ours to watch
                if (incoming.isEmpty() || !running.compareAndSet(false, true)) {
                    return;
                }
                continue;
            }
            LockSupport.parkNanos(this, sleep);
            sleep = Math.min(sleep * 2, MAX_SLEEP);
        }
    }
}
