package io.umhflux.internal.process;

import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The default event loops: one shared group of daemon epoll loops, as many as cores, created on first use
 * and never shut down (its threads are daemons, so they never keep the JVM alive).
 */
public final class EventLoops {
    private EventLoops() {
    }

    /** The shared default group. */
    public static IoEventLoopGroup shared() {
        return Holder.GROUP;
    }

    private static final class Holder {
        static final IoEventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(
                Runtime.getRuntime().availableProcessors(),
                new DefaultThreadFactory("umh-flux", true),
                EpollIoHandler.newFactory());
    }
}
