package io.umhflux.internal.handle;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
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
    private static final Set<HelperSession<?, ?>> LIVE = ConcurrentHashMap.newKeySet();
    private static final AtomicBoolean HOOK = new AtomicBoolean();

    private LiveHelpers() {
    }

    static void add(HelperSession<?, ?> session) {
        if (HOOK.compareAndSet(false, true)) {
            Runtime.getRuntime().addShutdownHook(new Thread(LiveHelpers::stopAll, "umh-flux-shutdown"));
        }
        LIVE.add(session);
    }

    static void remove(HelperSession<?, ?> session) {
        LIVE.remove(session);
    }

    static int count() {
        return LIVE.size();
    }

    /** Stops every live helper and waits for them, at most twice the longest grace plus a second. */
    static void stopAll() {
        List<HelperSession<?, ?>> sessions = List.copyOf(LIVE);
        Duration longest = sessions.stream().map(HelperSession::stopGrace).max(Duration::compareTo)
                .orElse(Duration.ZERO);
        try {
            Flux.fromIterable(sessions)
                    .flatMap(HelperSession::stop)
                    .then()
                    .block(longest.multipliedBy(2).plusSeconds(1));
        } catch (RuntimeException e) {
            LOG.warn("{} helpers still running as the JVM exits", LIVE.size(), e);
        }
    }
}
