package io.umhflux.internal.process;

import io.netty.channel.IoEventLoop;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.concurrent.ScheduledFuture;
import io.umhflux.ExitStatus;
import io.umhflux.internal.os.Os;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A running helper as the reactive layer sees it: its pid, the parent's ends of its three pipes (each a
 * non-blocking Netty {@link FileDescriptor}), the event loop all of them belong to, and its exit.
 *
 * <p>Thread-safe. The pipe descriptors are handed over to their owners (the pipe readers and writer);
 * {@link #closePipes()} closes whatever is still open, each descriptor exactly once.
 */
public final class HelperProcess {
    private final Child child;
    private final IoEventLoop loop;
    private final FileDescriptor stdin;
    private final FileDescriptor stdout;
    private final FileDescriptor stderr;
    private final Runnable releasePipes;
    private final AtomicBoolean pipesReleased = new AtomicBoolean();

    HelperProcess(Child child, IoEventLoop loop, FileDescriptor stdin, FileDescriptor stdout,
            FileDescriptor stderr, Runnable releasePipes) {
        this.child = child;
        this.loop = loop;
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
        this.releasePipes = releasePipes;
    }

    /**
     * Gives back the reservation of enlarged stdin and stdout pipes (if any) once this JVM has closed both ends
     * (whoever closed them): the kernel counts a pipe's capacity against the user until its last end is closed,
     * and ours stay open after the exit while a subscriber is slow. Call after closing either; any thread.
     */
    public void pipeClosed() {
        if (!stdin.isOpen() && !stdout.isOpen() && pipesReleased.compareAndSet(false, true)) {
            releasePipes.run();
        }
    }

    public int pid() {
        return child.pid;
    }

    public String name() {
        return child.name;
    }

    public IoEventLoop eventLoop() {
        return loop;
    }

    /** The write end of the helper's stdin; non-blocking. */
    public FileDescriptor stdin() {
        return stdin;
    }

    /** The read end of the helper's stdout; non-blocking. */
    public FileDescriptor stdout() {
        return stdout;
    }

    /** The read end of the helper's stderr; non-blocking. */
    public FileDescriptor stderr() {
        return stderr;
    }

    /**
     * Completes once the helper was reaped, with how it ended. Dependent actions run on the thread that
     * reaped it: the event loop, or the fallback reaper thread.
     */
    public CompletableFuture<ExitStatus> onExit() {
        return child.exit();
    }

    /** @return whether the helper has been reaped */
    public boolean hasExited() {
        return child.isReaped();
    }

    /**
     * Sends {@code signal} to the helper alone.
     *
     * @return {@code false} if it already exited: then no signal went anywhere (its pid may be reused)
     */
    public boolean kill(int signal) {
        return child.signal(signal);
    }

    /**
     * Sends {@code signal} to the helper's process group: the helper and everything it started that stayed
     * in its group.
     *
     * @return {@code false} if the helper was already reaped, or the group is empty
     */
    public boolean killGroup(int signal) {
        return child.signalGroup(signal);
    }

    /**
     * Stops the helper: closes its stdin (a well-behaved helper exits on EOF), waits {@code grace}, sends
     * SIGTERM to its group, waits {@code grace} again, then SIGKILL. When the helper exits, what it started
     * in its group is SIGKILLed before the reap. Idempotent; never blocks; the timers run on the event loop.
     *
     * @return the exit, as {@link #onExit()}
     */
    public CompletableFuture<ExitStatus> stop(Duration grace) {
        CompletableFuture<ExitStatus> exit = child.exit();
        if (exit.isDone()) {
            return exit;
        }
        child.killGroupAtExit();
        closeQuietly(stdin);
        pipeClosed();
        long nanos = Math.max(0, grace.toNanos());
        if (loop.isShuttingDown()) {
            // no timers without a loop: the shutdown has already killed the group (PidfdWatcher.close)
            child.signalGroup(Os.SIGKILL);
            return exit;
        }
        ScheduledFuture<?> term = loop.schedule(() -> {
            if (!exit.isDone()) {
                child.signalGroup(Os.SIGTERM);
            }
        }, nanos, TimeUnit.NANOSECONDS);
        ScheduledFuture<?> kill = loop.schedule(() -> {
            if (!exit.isDone()) {
                child.signalGroup(Os.SIGKILL);
                child.signal(Os.SIGKILL); // in case it left its group
            }
        }, saturatedDouble(nanos), TimeUnit.NANOSECONDS);
        exit.whenComplete((s, e) -> {
            term.cancel(false);
            kill.cancel(false);
        });
        return exit;
    }

    private static long saturatedDouble(long nanos) {
        return nanos > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : nanos * 2;
    }

    /**
     * The helper's event loop terminated while the helper may still run: kill its group and let the polling
     * reaper collect it. (A loop that shuts down closes its handles first, which does the same; this covers
     * a shutdown that skips that step, as a zero quiet period can.) Idempotent; any thread.
     */
    public void loopTerminated() {
        if (!child.isReaped()) {
            child.killGroupAtExit();
            child.signalGroup(Os.SIGKILL);
            PollingReaper.INSTANCE.adopt(child);
        }
    }

    /** Closes the three pipe ends that are still open; each exactly once, whoever else closes them. */
    public void closePipes() {
        closeQuietly(stdin);
        closeQuietly(stdout);
        closeQuietly(stderr);
        pipeClosed();
    }

    private static void closeQuietly(FileDescriptor fd) {
        try {
            fd.close(); // FileDescriptor flips its closed bit with CAS: a second close does nothing
        } catch (IOException e) {
            throw new IllegalStateException("close " + fd, e);
        }
    }

    @Override
    public String toString() {
        return child.toString();
    }
}
