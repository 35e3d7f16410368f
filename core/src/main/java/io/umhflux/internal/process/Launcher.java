package io.umhflux.internal.process;

import io.netty.channel.IoEventLoop;
import io.netty.channel.unix.FileDescriptor;
import io.umhflux.SpawnException;
import io.umhflux.internal.blob.ExecImage;
import io.umhflux.internal.blob.LoadedBlob;
import io.umhflux.internal.os.Os;
import io.umhflux.internal.spawn.PosixSpawner;
import io.umhflux.internal.spawn.PosixSpawner.Spawned;
import io.umhflux.internal.spawn.PosixSpawner.SpawnFailure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Blob to running, tracked helper: spawns the blob's current placement, moves the blob to a private file
 * when the kernel refuses to execute its memfd, opens a pidfd for the child and starts watching its exit.
 */
public final class Launcher {
    private static final Launcher STANDARD = new Launcher(PosixSpawner.standard(), true);

    private final PosixSpawner spawner;
    private final boolean usePidfd;

    /**
     * @param spawner how to start children
     * @param usePidfd {@code false} to track exits without pidfd, as on kernels before 5.3
     */
    public Launcher(PosixSpawner spawner, boolean usePidfd) {
        this.spawner = spawner;
        this.usePidfd = usePidfd;
    }

    /** pidfd and {@code closefrom} where the system has them. */
    public static Launcher standard() {
        return STANDARD;
    }

    /**
     * What to run: arguments after argv[0], environment, working directory, pipe size, and whether what the child
     * leaves in its process group is killed when it exits.
     */
    public record Request(String argv0, List<String> args, List<String> envp, @Nullable Path workingDirectory,
            int pipeSize, boolean killGroupAtExit) {
        public Request {
            args = List.copyOf(args);
            envp = List.copyOf(envp);
        }

        /** A request whose child's group dies with it. */
        public Request(String argv0, List<String> args, List<String> envp, @Nullable Path workingDirectory,
                int pipeSize) {
            this(argv0, args, envp, workingDirectory, pipeSize, true);
        }
    }

    /**
     * @throws SpawnException naming the blob, the errno and every exec path tried; nothing stays open
     * @throws IllegalStateException if the blob is closed
     */
    public HelperProcess launch(LoadedBlob blob, Request request, IoEventLoop loop) {
        return launch(blob, blob.name(), request, loop);
    }

    /**
     * @param name the helper's name in its errors and events, when {@code blob} is a launcher that executes
     *     another (the sandbox's)
     * @throws SpawnException naming the helper, the errno and every exec path tried; nothing stays open
     * @throws IllegalStateException if the blob is closed
     */
    public HelperProcess launch(LoadedBlob blob, String name, Request request, IoEventLoop loop) {
        Path cwd = request.workingDirectory();
        if (cwd != null && !Files.isDirectory(cwd)) {
            int errno = Files.exists(cwd) ? Os.ENOTDIR : Os.ENOENT;
            throw new SpawnException(name, errno, Os.name(errno),
                    "working directory " + cwd + ": " + Os.describe(errno), List.of(), null);
        }
        String[] argv = new String[request.args().size() + 1];
        argv[0] = request.argv0();
        for (int i = 0; i < request.args().size(); i++) {
            argv[i + 1] = request.args().get(i);
        }
        String[] envp = request.envp().toArray(new String[0]);
        String dir = cwd == null ? null : cwd.toString();

        List<String> attempts = new ArrayList<>(2);
        // held until the helper is reaped: an interpreter opens the placement's path after the spawn returned
        ExecImage image = blob.retain();
        HelperProcess process = null;
        try {
            Spawned child;
            while (true) {
                try {
                    child = spawner.spawn(image.execPath(), argv, envp, dir, request.pipeSize());
                    break;
                } catch (SpawnFailure f) {
                    attempts.add(image + ": " + f.getMessage());
                    int errno = f.errno();
                    boolean refused = errno == Os.EACCES || errno == Os.EPERM;
                    ExecImage next = refused && image.placement() == ExecImage.Placement.MEMFD
                            ? blob.fallBack(image, attempts) : null;
                    if (next == null || next == image) {
                        throw new SpawnException(name, errno, Os.name(errno), explain(errno), attempts, f);
                    }
                    image = next;
                }
            }
            process = track(child, name, loop, request.killGroupAtExit());
        } finally {
            if (process == null) {
                blob.release();
            }
        }
        process.onExit().whenComplete((status, failure) -> blob.release());
        return process;
    }

    private static String explain(int errno) {
        switch (errno) {
            case Os.ENOENT:
                return Os.describe(errno) + " (a #! interpreter or the working directory is missing)";
            case 8: // ENOEXEC
                return Os.describe(errno) + " (not an executable for this machine, and no #! line)";
            case Os.EACCES:
                return Os.describe(errno) + " (exec refused: noexec mount, memfd policy, or permissions)";
            default:
                return Os.describe(errno);
        }
    }

    private HelperProcess track(Spawned child, String name, IoEventLoop loop, boolean killGroupAtExit) {
        FileDescriptor pidfd = null;
        if (usePidfd) {
            int fd = Os.libc().syscall(Os.SYS_PIDFD_OPEN, child.pid(), 0, 0, 0);
            if (fd >= 0) {
                pidfd = new FileDescriptor(fd);
            } else if (Os.errno() != Os.ENOSYS) {
                // cannot happen for our own unreaped child; kill it rather than leave it untracked
                int err = Os.errno();
                Os.libc().kill(child.pid(), Os.SIGKILL);
                PollingReaper.INSTANCE.adopt(new Child(child.pid(), name, null));
                closeAll(child);
                child.releasePipes();
                throw new SpawnException(name, err, Os.name(err), "pidfd_open: " + Os.describe(err), List.of(),
                        null);
            }
        }
        Child tracked = new Child(child.pid(), name, pidfd);
        if (killGroupAtExit) {
            tracked.killGroupAtExit(); // before anything may see its exit
        }
        if (pidfd != null) {
            PidfdWatcher.watch(tracked, pidfd, loop);
        } else {
            PollingReaper.INSTANCE.adopt(tracked);
        }
        return new HelperProcess(tracked, loop, new FileDescriptor(child.stdin()),
                new FileDescriptor(child.stdout()), new FileDescriptor(child.stderr()), child::releasePipes);
    }

    private static void closeAll(Spawned child) {
        Os.close(child.stdin());
        Os.close(child.stdout());
        Os.close(child.stderr());
    }
}
