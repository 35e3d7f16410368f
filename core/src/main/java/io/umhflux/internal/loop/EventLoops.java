package io.umhflux.internal.loop;

import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The default event loops: one shared group of daemon epoll loops, as many as cores, created on first use. Its
 * threads are daemons, so they never keep the JVM alive; {@link #shutdownShared} ends them for a class loader that
 * is let go while the JVM lives on, and the next use creates a new group.
 */
public final class EventLoops {
    private static volatile @Nullable IoEventLoopGroup group;

    private EventLoops() {
    }

    /** The shared default group. */
    public static IoEventLoopGroup shared() {
        IoEventLoopGroup g = group;
        if (g == null) {
            synchronized (EventLoops.class) {
                g = group;
                if (g == null) {
                    g = new MultiThreadIoEventLoopGroup(Runtime.getRuntime().availableProcessors(),
                            new DefaultThreadFactory("umh-flux", true), EpollIoHandler.newFactory());
                    group = g;
                }
            }
        }
        return g;
    }

    /**
     * Shuts the shared group down (no quiet period) and waits up to {@code timeout} for its loops to end.
     *
     * @return whether every loop ended in time
     */
    public static boolean shutdownShared(Duration timeout) {
        IoEventLoopGroup g;
        synchronized (EventLoops.class) {
            g = group;
            group = null;
        }
        if (g == null) {
            return true;
        }
        long millis = timeout.toMillis();
        return g.shutdownGracefully(0, millis, TimeUnit.MILLISECONDS).awaitUninterruptibly(millis + 1000);
    }
}
