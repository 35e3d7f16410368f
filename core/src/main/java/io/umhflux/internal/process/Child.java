package io.umhflux.internal.process;

import io.netty.channel.unix.FileDescriptor;
import io.umhflux.ExitStatus;
import io.umhflux.internal.os.LibC;
import io.umhflux.internal.os.NativeMemory;
import io.umhflux.internal.os.Os;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One spawned child, from spawn until it is reaped: the only place that signals or reaps it.
 *
 * <p>Signals and the reap are serialized by this object's monitor, because the danger is a signal to a
 * recycled pid: a pid (and the process group of the same number) cannot be reused until we reap the
 * child, so a signal sent while {@code reaped} is false under the lock always reaches our child or its
 * group. With a pidfd the kernel checks this too; without one (kernels before 5.3) the lock alone does.
 * The lock is held for one system call at a time and is not contended in practice; a lock-free scheme
 * would have to hop threads to answer {@link #signal} synchronously.
 *
 * <p>Never {@code waitpid(-1)}: only this child's pid or pidfd is waited for, so {@code ProcessBuilder} and
 * other libraries in the same JVM keep their own children.
 */
final class Child {
    private static final Logger LOG = LoggerFactory.getLogger(Child.class);
    private static final int P_PID = 1;
    private static final int WNOWAIT = 0x01000000;
    private static final int SI_PID_OFFSET = 16;
    private static final int SI_STATUS_OFFSET = 24;
    private static final int SI_CODE_OFFSET = 8;

    final int pid;
    final String name;
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    private final NativeMemory siginfo = Os.allocate(Os.SIGINFO_BYTES);
    private @Nullable FileDescriptor pidfd;
    private boolean reaped;
    private boolean killGroupAtExit;
    private boolean pidfdWaits = true;

    Child(int pid, String name, @Nullable FileDescriptor pidfd) {
        this.pid = pid;
        this.name = name;
        this.pidfd = pidfd;
    }

    /** Completes once, after the child was reaped, with its status. */
    CompletableFuture<ExitStatus> exit() {
        return exit;
    }

    synchronized @Nullable FileDescriptor pidfd() {
        return pidfd;
    }

    /** From now on, what the child started dies with it: its group is SIGKILLed just before the reap. */
    synchronized void killGroupAtExit() {
        killGroupAtExit = true;
    }

    /**
     * Sends {@code signal} to the child alone.
     *
     * @return {@code false} when it has already exited (nothing was sent to any other process)
     */
    synchronized boolean signal(int signal) {
        if (reaped) {
            return false;
        }
        LibC c = Os.libc();
        FileDescriptor fd = pidfd;
        int rc = fd != null
                ? c.syscall(Os.SYS_PIDFD_SEND_SIGNAL, fd.intValue(), signal, 0, 0)
                : c.kill(pid, signal);
        return rc == 0 || failed("signal " + signal);
    }

    /**
     * Sends {@code signal} to the child's process group (the child made its own session at spawn).
     *
     * @return {@code false} when the group has no member left or the child was reaped
     */
    synchronized boolean signalGroup(int signal) {
        if (reaped) {
            return false;
        }
        return Os.libc().kill(-pid, signal) == 0 || failed("signal " + signal + " to group");
    }

    private boolean failed(String what) {
        int err = Os.errno();
        if (err == Os.ESRCH) {
            return false; // exited and not yet reaped, or a group already empty: normal
        }
        throw new IllegalStateException(what + " of helper '" + name + "' (pid " + pid + "): " + Os.describe(err));
    }

    /**
     * Reaps the child if it has exited and completes {@link #exit()}; never blocks.
     *
     * @return whether the child is reaped now (by this call or before)
     */
    boolean pollExit() {
        return pollExit(() -> { });
    }

    /**
     * As {@link #pollExit()}, running {@code beforeClose} after the reap and before the pidfd is closed and
     * {@link #exit()} completes: what completes the exit may spawn a helper at once, whose new pidfd can take
     * the old one's number, so a registration of the old pidfd must be cancelled first.
     */
    boolean pollExit(Runnable beforeClose) {
        ExitStatus status;
        RuntimeException failure = null;
        synchronized (this) {
            if (reaped) {
                beforeClose.run(); // reaped elsewhere: the pidfd is closed, its registration must go too
                return true;
            }
            try {
                if (killGroupAtExit) {
                    if (!waitid(Os.WNOHANG | WNOWAIT)) {
                        return false;
                    }
                    Os.libc().kill(-pid, Os.SIGKILL); // the zombie still holds the group's number
                }
                if (!waitid(Os.WNOHANG)) {
                    return false;
                }
                status = decode();
            } catch (IllegalStateException e) {
                status = null;
                failure = e;
            }
            reaped = true;
            beforeClose.run();
            closePidfd();
        }
        if (failure != null) {
            exit.completeExceptionally(failure);
        } else {
            exit.complete(status);
        }
        return true;
    }

    private boolean waitid(int flags) {
        LibC c = Os.libc();
        while (true) {
            siginfo.putInt(SI_PID_OFFSET, 0);
            int rc = pidfdWaits && pidfd != null
                    ? c.waitid(Os.P_PIDFD, pidfd.intValue(), siginfo, Os.WEXITED | flags)
                    : c.waitid(P_PID, pid, siginfo, Os.WEXITED | flags);
            if (rc == 0) {
                return siginfo.getInt(SI_PID_OFFSET) != 0;
            }
            int err = Os.errno();
            if (err == Os.EINVAL && pidfdWaits && pidfd != null) {
                pidfdWaits = false; // Linux 5.3 has pidfd_open but not waitid(P_PIDFD); the pid is ours until reaped
                continue;
            }
            if (err != Os.EINTR) {
                throw new IllegalStateException("waitid for helper '" + name + "' (pid " + pid + "): "
                        + Os.describe(err) + (err == Os.ECHILD ? " - something else in this JVM reaped it" : ""));
            }
        }
    }

    private ExitStatus decode() {
        int code = siginfo.getInt(SI_CODE_OFFSET);
        int status = siginfo.getInt(SI_STATUS_OFFSET);
        switch (code) {
            case Os.CLD_EXITED:
                return ExitStatus.exited(status & 0xff);
            case Os.CLD_KILLED:
                return ExitStatus.killed(status, false);
            case Os.CLD_DUMPED:
                return ExitStatus.killed(status, true);
            default:
                throw new IllegalStateException("waitid for helper '" + name + "' (pid " + pid
                        + "): unexpected si_code " + code);
        }
    }

    private void closePidfd() {
        FileDescriptor fd = pidfd;
        pidfd = null;
        if (fd != null) {
            try {
                fd.close();
            } catch (IOException e) {
                // the child is reaped and its status known; a failed close of a descriptor only we held
                // would be a bug in this class, worth a loud log but not worth losing the status over
                LOG.error("close pidfd {} of {}", fd, this, e);
            }
        }
    }

    synchronized boolean isReaped() {
        return reaped;
    }

    @Override
    public String toString() {
        return "helper '" + name + "' (pid " + pid + ")";
    }
}
