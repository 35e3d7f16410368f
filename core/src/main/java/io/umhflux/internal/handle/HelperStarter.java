package io.umhflux.internal.handle;

import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.umhflux.internal.blob.BlobAccess;
import io.umhflux.internal.os.Os;
import io.umhflux.internal.os.Platform;
import io.umhflux.internal.process.HelperProcess;
import io.umhflux.internal.process.Launcher;
import io.umhflux.internal.sandbox.SandboxLauncher;
import io.umhflux.internal.spawn.PipeBudget;
import java.util.List;

/**
 * Starts the helpers of a {@link HelperConfig}: picks their loops and pipe sizes for what they are used for,
 * launches them (through the sandbox launcher when the config has a sandbox) and ties each to its handle.
 */
public final class HelperStarter {
    /** What a helper is for: the loops and pipes it gets follow from it. */
    public enum Use {
        /**
         * Streaming ({@code spawn}, {@code using}, {@code exchange}): stdout is read and decoded on the next loop of
         * the group, so that decoding overlaps encoding as a reader and a writer thread would; and the pipes are
         * enlarged while the JVM's pipe budget allows.
         */
        STREAM,
        /**
         * Request/response clients: one loop (a request and its answer never overlap, and a hop between threads
         * costs more than it saves) and the kernel's pipes unless a size was set (a request and its answer never
         * fill one, and a pool would take the budget from streams that gain from it).
         */
        REQUESTS
    }

    private HelperStarter() {
    }

    /**
     * Spawns a helper of {@code config} now, on the calling thread, for {@code use}, with the environment
     * {@code envp} (the config's environment made for the subscriber's context).
     *
     * @throws io.umhflux.SpawnException when the kernel refuses to start it (nothing is left behind)
     * @throws IllegalStateException when the blob was closed or the config's event loops were shut down
     */
    public static <I, O> HelperHandle<I, O> start(HelperConfig<I, O> config, Use use, List<String> envp) {
        Platform.requireSupported("spawn a helper");
        IoEventLoopGroup group = config.eventLoopGroup();
        if (group.isShuttingDown()) {
            throw new IllegalStateException("the event loops of this spec were shut down (UmhFlux.shutdown, or the"
                    + " application's group): make a new spec");
        }
        IoEventLoop loop = group.next();
        // raw bytes, never decoded, stay on one loop: less CPU for the same rate; except with a write size, whose
        // page-sized writes pay off only while another loop reads
        boolean oneLoop = use == Use.REQUESTS || config.raw() && config.writeSize() == 0;
        IoEventLoop readLoop = oneLoop ? loop : following(group, loop);
        int pipes = config.pipeSize() == PipeBudget.AUTO && use == Use.REQUESTS ? 0 : config.pipeSize();
        Launcher.Request request = new Launcher.Request(config.argv0(), config.args(), envp,
                config.workingDirectory(), pipes, config.killGroupAtExit());
        List<String> sandbox = config.sandboxOptions();
        HelperProcess process = sandbox == null
                ? Launcher.standard().launch(BlobAccess.loaded(config.blob()), request, loop)
                : SandboxLauncher.launch(BlobAccess.loaded(config.blob()), sandbox, config.sandboxBestEffort(),
                        request, loop);
        try {
            return HelperHandle.start(process, readLoop, config);
        } catch (RuntimeException | Error e) {
            // no handle owns it: killed here, and reaped by the watcher that tracks it
            process.killGroup(Os.SIGKILL);
            process.closePipes();
            throw e;
        }
    }

    /**
     * The loop after {@code loop} in the group (the first after the last): with the group's round robin choosing the
     * writing loop, each helper reads on the loop that writes for the next, so that the reading of several helpers
     * spreads over the loops as their writing does (a second {@code next()} would put every reader of a two-loop
     * group on one loop and every writer on the other).
     */
    private static IoEventLoop following(IoEventLoopGroup group, IoEventLoop loop) {
        IoEventLoop first = null;
        boolean found = false;
        for (EventExecutor e : group) {
            if (found) {
                return (IoEventLoop) e;
            }
            if (first == null) {
                first = (IoEventLoop) e;
            }
            found = e == loop;
        }
        return first != null ? first : loop;
    }
}
