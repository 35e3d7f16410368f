package io.umhflux.internal.process;

import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.umhflux.internal.loop.Loops;
import io.umhflux.internal.os.Os;
import org.jspecify.annotations.Nullable;

/**
 * Watches a child's pidfd on a Netty epoll event loop: the pidfd becomes readable when the child exits,
 * and the child is reaped right there. No thread waits per child.
 *
 * <p>All methods run on the event loop thread, as Netty calls {@code IoHandle}s.
 */
final class PidfdWatcher implements EpollIoHandle {
    private final Child child;
    private final FileDescriptor pidfd;

    private PidfdWatcher(Child child, FileDescriptor pidfd) {
        this.child = child;
        this.pidfd = pidfd;
    }

    /** Registers {@code child}'s pidfd on {@code loop}; falls back to the polling reaper if that fails. */
    static void watch(Child child, FileDescriptor pidfd, IoEventLoop loop) {
        PidfdWatcher watcher = new PidfdWatcher(child, pidfd);
        // the child may exit before EPOLLIN is armed; level-triggered epoll reports it anyway. A loop that
        // refuses the registration (it is shutting down) gets close() called, as its shutdown would.
        Loops.register(loop, watcher, registration -> registration.submit(EpollIoOps.EPOLLIN));
    }

    @Override
    public FileDescriptor fd() {
        return pidfd;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        child.pollExit(() -> Loops.cancel(registration));
    }

    /**
     * The event loop is shutting down with the child alive (or refused to take the pidfd at all): kill its
     * group and let the polling reaper finish.
     */
    @Override
    public void close() {
        if (!child.pollExit()) {
            child.killGroupAtExit();
            child.signalGroup(Os.SIGKILL);
            PollingReaper.INSTANCE.adopt(child);
        }
    }

    @Override
    public String toString() {
        @Nullable FileDescriptor fd = child.pidfd();
        return "pidfd watcher of " + child + (fd == null ? " (reaped)" : "");
    }
}
