package io.umhflux.internal.loop;

import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;
import io.netty.channel.unix.FileDescriptor;
import java.io.IOException;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Running work on a helper's event loop when that loop may be shutting down: a task that the loop no longer
 * accepts runs after the loop terminated instead (on Netty's global executor), when nothing else of the
 * helper can run concurrently. Without this, a stop or a cancel during an event loop shutdown would be lost
 * and the helper left running.
 */
public final class Loops {
    private Loops() {
    }

    /** Runs {@code task} now if on {@code loop}, else on it, else after it terminated. */
    public static void execute(IoEventLoop loop, Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
            return;
        }
        submit(loop, task);
    }

    /** Runs {@code task} later on {@code loop} (never inline), or after it terminated. */
    public static void submit(IoEventLoop loop, Runnable task) {
        if (!loop.isShuttingDown()) {
            try {
                loop.execute(task);
                return;
            } catch (RejectedExecutionException shuttingDown) {
                // fall through: the loop began shutting down meanwhile
            }
        }
        loop.terminationFuture().addListener(f -> task.run());
    }

    /**
     * Registers {@code handle} on {@code loop}; {@code registered} gets the registration on the loop. If the
     * loop is shutting down, the handle is closed, as the loop's shutdown would have done: a loop that
     * shuts down closes the handles registered at that moment, and one that arrives in its last task run
     * after that would otherwise be registered and never closed.
     */
    public static void register(IoEventLoop loop, IoHandle handle, Consumer<IoRegistration> registered) {
        loop.register(handle).addListener(f -> {
            if (f.isSuccess()) {
                IoRegistration registration = (IoRegistration) f.getNow();
                registered.accept(registration);
                if (loop.isShuttingDown()) {
                    cancel(registration);
                    handle.close();
                }
            } else {
                handle.close();
            }
        });
    }

    /** Cancels {@code registration}; on a terminated loop there is nothing left to cancel. */
    public static void cancel(IoRegistration registration) {
        try {
            registration.cancel();
        } catch (RejectedExecutionException loopTerminated) {
            // the loop's epoll descriptor is closed already, and with it every registration
        }
    }

    /**
     * Unregisters a descriptor's handle, if it was registered, and closes the descriptor; its close error, or null.
     * Idempotent: a second call finds the descriptor closed.
     */
    public static @Nullable IOException closeRegistered(@Nullable IoRegistration registration, FileDescriptor fd) {
        if (registration != null) {
            cancel(registration);
        }
        try {
            fd.close();
            return null;
        } catch (IOException e) {
            return e;
        }
    }
}
