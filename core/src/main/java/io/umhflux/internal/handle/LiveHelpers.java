package io.umhflux.internal.handle;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;

/**
 * Every helper that has not yet been reaped, so that a normal JVM exit stops them (the kernel module's
 * exit kills the helper it started). A helper started with the SDK also exits on stdin EOF, which covers
 * a JVM killed with SIGKILL, where no hook runs.
 */
final class LiveHelpers {
    private static final Logger LOG = LoggerFactory.getLogger(LiveHelpers.class);
    private static final Set<HelperHandle<?, ?>> LIVE = ConcurrentHashMap.newKeySet();
    /** The JVM-exit hook, once a helper was added; guarded by {@code LIVE}. */
    private static @Nullable Thread hook;
    /** How long a helper's loop may take to run a task at the JVM's exit before it is taken for blocked. */
    private static final Duration LOOP_ANSWER = Duration.ofMillis(500);

    private LiveHelpers() {
    }

    static void add(HelperHandle<?, ?> handle) {
        synchronized (LIVE) {
            if (hook == null) {
                Thread h = new Thread(LiveHelpers::stopAll, "umh-flux-shutdown");
                Runtime.getRuntime().addShutdownHook(h);
                hook = h;
            }
        }
        LIVE.add(handle);
    }

    /**
     * Stops every live helper ({@link #stopAll}) and removes the JVM-exit hook, which would otherwise keep this
     * class (and its class loader) reachable until the JVM exits. The next helper added registers it again.
     */
    static void stopAllAndUnhook() {
        stopAll();
        Thread h;
        synchronized (LIVE) {
            h = hook;
            hook = null;
        }
        if (h != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(h);
            } catch (IllegalStateException exiting) {
                // the JVM is exiting: the hook runs (or ran) anyway
            }
        }
    }

    static void remove(HelperHandle<?, ?> handle) {
        LIVE.remove(handle);
    }

    static int count() {
        return LIVE.size();
    }

    /**
     * Stops every live helper and waits for them, at most twice the longest grace plus a second. A helper whose
     * loop does not answer within {@link #LOOP_ANSWER} (one that called {@code System.exit} is blocked in it for
     * good, and so is every stop queued behind it) has its process group killed from this thread instead.
     */
    static void stopAll() {
        List<HelperHandle<?, ?>> handles = List.copyOf(LIVE);
        Set<EventExecutor> stuck = stuckLoops(handles);
        List<HelperHandle<?, ?>> stoppable = new ArrayList<>();
        for (HelperHandle<?, ?> s : handles) {
            if (s.loops().stream().anyMatch(stuck::contains)) {
                s.killFromThisThread();
            } else {
                stoppable.add(s);
            }
        }
        if (!stuck.isEmpty()) {
            LOG.warn("{} of {} live helpers were killed with their process groups from the shutdown hook: their"
                    + " event loop did not answer within {} ms (System.exit called on it?)",
                    handles.size() - stoppable.size(), handles.size(), LOOP_ANSWER.toMillis());
        }
        Duration longest = stoppable.stream().map(HelperHandle::stopGrace).max(Duration::compareTo)
                .orElse(Duration.ZERO);
        try {
            Flux.fromIterable(stoppable)
                    .flatMap(HelperHandle::stop)
                    .then()
                    .block(longest.multipliedBy(2).plusSeconds(1));
        } catch (RuntimeException e) {
            for (HelperHandle<?, ?> s : stoppable) {
                if (LIVE.contains(s)) {
                    s.killFromThisThread(); // its loop stopped answering meanwhile
                }
            }
            LOG.warn("{} helpers were still running as the JVM exits; their process groups were killed", LIVE.size(),
                    e);
        }
    }

    /** The loops of {@code handles} that do not run a task within {@link #LOOP_ANSWER}. */
    private static Set<EventExecutor> stuckLoops(List<HelperHandle<?, ?>> handles) {
        Map<EventExecutor, Future<?>> probes = new HashMap<>();
        for (HelperHandle<?, ?> s : handles) {
            for (EventExecutor loop : s.loops()) {
                probes.computeIfAbsent(loop, l -> {
                    try {
                        return l.submit(() -> { });
                    } catch (RejectedExecutionException shutDown) {
                        return l.newSucceededFuture(null); // its shutdown closed (and so stopped) its helpers
                    }
                });
            }
        }
        long deadline = System.nanoTime() + LOOP_ANSWER.toNanos();
        Set<EventExecutor> stuck = new HashSet<>();
        for (Map.Entry<EventExecutor, Future<?>> probe : probes.entrySet()) {
            long left = Math.max(0, deadline - System.nanoTime());
            if (!probe.getValue().awaitUninterruptibly(TimeUnit.NANOSECONDS.toMillis(left))) {
                stuck.add(probe.getKey());
            }
        }
        return stuck;
    }
}
