package io.umhflux.internal.spawn;

import io.umhflux.internal.os.LibC;
import io.umhflux.internal.os.NativeMemory;
import io.umhflux.internal.os.Os;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Starts one child with {@code posix_spawn}: three fresh pipes as its stdin, stdout and stderr, no other
 * descriptor, an empty signal mask, every signal at its default disposition, and a session of its own (so
 * that a signal to its process group reaches what it starts).
 *
 * <p>glibc's {@code posix_spawn} runs the exec in a {@code CLONE_VFORK} child and reports the exec's errno
 * as its return value, reaping the failed child itself: a bad executable becomes an error here, never an
 * "exit 127", and leaves no zombie.
 *
 * <p>Pipes are made with {@code O_CLOEXEC}, so a concurrent spawn (ours or {@code ProcessBuilder}'s) never
 * inherits them; the parent's ends are non-blocking, the child's blocking. Thread-safe.
 */
public final class PosixSpawner {
    private static final short FLAGS = (short) (Os.POSIX_SPAWN_SETSIGMASK | Os.POSIX_SPAWN_SETSIGDEF
            | Os.POSIX_SPAWN_SETSID);

    /** Whether glibc has {@code posix_spawn_file_actions_addclosefrom_np} (2.34 and later). */
    private static final boolean HAS_CLOSEFROM = probeClosefrom();

    /** The spawn attributes never change: one initialized copy per thread. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final boolean useClosefrom;
    private final PipeBudget pipes;

    /**
     * @param useClosefrom {@code false} to close inherited descriptors by listing {@code /proc/self/fd}
     *     even where glibc has {@code closefrom}, as on glibc older than 2.34
     * @param pipes the budget for enlarged pipes ({@link PipeBudget#AUTO})
     */
    public PosixSpawner(boolean useClosefrom, PipeBudget pipes) {
        this.useClosefrom = useClosefrom && HAS_CLOSEFROM;
        this.pipes = pipes;
    }

    /** A spawner that uses {@code closefrom} where glibc has it, and this JVM's pipe budget. */
    public static PosixSpawner standard() {
        return new PosixSpawner(true, PipeBudget.shared());
    }

    /**
     * A started child: its pid and the parent's ends of its three pipes (non-blocking, close-on-exec).
     *
     * @param pipeBudget where to give back the reservation of its enlarged pipes once this JVM closed them, or null
     */
    public record Spawned(int pid, int stdin, int stdout, int stderr, @Nullable PipeBudget pipeBudget) {
        /** Gives back the reservation of enlarged pipes, if any; call once, when this JVM closed both. */
        public void releasePipes() {
            if (pipeBudget != null) {
                pipeBudget.release();
            }
        }
    }

    /** Why {@code posix_spawn} or a step before it failed. */
    public static final class SpawnFailure extends Exception {
        private static final long serialVersionUID = 1L;
        private final int errno;

        SpawnFailure(String step, int errno) {
            super(step + ": " + Os.describe(errno));
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }
    }

    /**
     * Spawns {@code path}.
     *
     * @param argv argv[0] first
     * @param envp {@code NAME=value} strings
     * @param cwd working directory, or {@code null} for the JVM's
     * @param pipeSize {@code F_SETPIPE_SZ} for the three pipes, 0 for the kernel's default, or
     *     {@link PipeBudget#AUTO} for enlarged stdin and stdout pipes while the budget allows
     * @throws SpawnFailure with the errno; every descriptor made here is closed again
     */
    public Spawned spawn(String path, String[] argv, String[] envp, @Nullable String cwd, int pipeSize)
            throws SpawnFailure {
        LibC c = Os.libc();
        int[] fds = new int[6];
        int made = 0;
        PipeBudget reserved = null;
        int pid;
        try {
            for (; made < 6; made += 2) {
                makePipe(c, fds, made);
            }
            // parent ends: stdin's write end, stdout's and stderr's read ends
            int parentIn = fds[1];
            int parentOut = fds[2];
            int parentErr = fds[4];
            for (int fd : new int[] {parentIn, parentOut, parentErr}) {
                int err = Os.setNonBlocking(fd);
                if (err != 0) {
                    throw new SpawnFailure("fcntl(O_NONBLOCK)", err);
                }
            }
            if (pipeSize > 0) {
                for (int fd : new int[] {parentIn, parentOut, parentErr}) {
                    if (c.fcntl(fd, Os.F_SETPIPE_SZ, pipeSize) < 0) {
                        throw new SpawnFailure("fcntl(F_SETPIPE_SZ, " + pipeSize + ")", Os.errno());
                    }
                }
            } else if (pipeSize == PipeBudget.AUTO && pipes.tryReserve()) {
                reserved = pipes;
                if (!enlarge(c, parentIn, parentOut, pipes.bytes())) {
                    reserved = null;
                    pipes.release();
                }
            }
            pid = spawn0(c, path, argv, envp, cwd, fds[0], fds[3], fds[5]);
        } catch (Throwable e) { // an Error (out of memory in jnr's marshalling) must not leak the pipes either
            for (int i = 0; i < made; i++) {
                closeQuietly(fds[i]);
            }
            if (reserved != null) {
                reserved.release();
            }
            throw e;
        }
        // the child's ends are its own now: close ours once, and never again (their numbers may be reused)
        closeQuietly(fds[0]);
        closeQuietly(fds[3]);
        closeQuietly(fds[5]);
        return new Spawned(pid, fds[1], fds[2], fds[4], reserved);
    }

    /**
     * Enlarges the stdin and stdout pipes to the budget's size; when the kernel refuses either (the user
     * is past {@code pipe-user-pages-soft}, or {@code pipe-max-size} is lower), both stay at the kernel's
     * default: a default, unlike an explicit size, is no reason to fail a spawn.
     */
    private static boolean enlarge(LibC c, int stdin, int stdout, int bytes) {
        int before = c.fcntl(stdin, Os.F_GETPIPE_SZ, 0);
        if (c.fcntl(stdin, Os.F_SETPIPE_SZ, bytes) < 0) {
            return false;
        }
        if (c.fcntl(stdout, Os.F_SETPIPE_SZ, bytes) < 0) {
            if (before > 0) {
                c.fcntl(stdin, Os.F_SETPIPE_SZ, before); // shrinking an empty pipe cannot fail
            }
            return false;
        }
        return true;
    }

    private static void makePipe(LibC c, int[] fds, int at) throws SpawnFailure {
        int[] pair = new int[2];
        if (c.pipe2(pair, Os.O_CLOEXEC) != 0) {
            throw new SpawnFailure("pipe2", Os.errno());
        }
        // A JVM started with 0, 1 or 2 closed gets them back here, and the dup2 file actions would then
        // clobber each other: move such ends above 2.
        for (int i = 0; i < 2; i++) {
            if (pair[i] < 3) {
                int moved = c.fcntl(pair[i], Os.F_DUPFD_CLOEXEC, 3);
                int err = moved < 0 ? Os.errno() : 0;
                closeQuietly(pair[i]);
                if (moved < 0) {
                    closeQuietly(pair[1 - i]);
                    throw new SpawnFailure("fcntl(F_DUPFD_CLOEXEC)", err);
                }
                pair[i] = moved;
            }
        }
        fds[at] = pair[0];
        fds[at + 1] = pair[1];
    }

    private int spawn0(LibC c, String path, String[] argv, String[] envp, @Nullable String cwd, int childIn,
            int childOut, int childErr) throws SpawnFailure {
        Scratch s = SCRATCH.get();
        NativeMemory actions = s.actions;
        check("posix_spawn_file_actions_init", c.posix_spawn_file_actions_init(actions));
        try {
            check("adddup2", c.posix_spawn_file_actions_adddup2(actions, childIn, 0));
            check("adddup2", c.posix_spawn_file_actions_adddup2(actions, childOut, 1));
            check("adddup2", c.posix_spawn_file_actions_adddup2(actions, childErr, 2));
            if (useClosefrom) {
                check("addclosefrom_np", c.posix_spawn_file_actions_addclosefrom_np(actions, 3));
            } else {
                for (int fd : openDescriptors()) {
                    if (fd >= 3) {
                        check("addclose", c.posix_spawn_file_actions_addclose(actions, fd));
                    }
                }
            }
            if (cwd != null) {
                check("addchdir_np", c.posix_spawn_file_actions_addchdir_np(actions, cwd));
            }
            int[] pid = new int[1];
            int rc = c.posix_spawn(pid, path, actions, s.attr, argv, envp);
            if (rc != 0) {
                throw new SpawnFailure("posix_spawn " + path, rc);
            }
            return pid[0];
        } finally {
            c.posix_spawn_file_actions_destroy(actions);
        }
    }

    private static void check(String what, int rc) throws SpawnFailure {
        if (rc != 0) {
            throw new SpawnFailure("posix_spawn_file_actions " + what, rc);
        }
    }

    /** Every descriptor open in this process, for glibc without {@code closefrom}. */
    static List<Integer> openDescriptors() throws SpawnFailure {
        List<Integer> fds = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path p : dir) {
                fds.add(Integer.parseInt(p.getFileName().toString()));
            }
        } catch (IOException e) {
            throw new SpawnFailure("list /proc/self/fd (" + e.getMessage() + ")", Os.EACCES);
        }
        return fds;
    }

    private static void closeQuietly(int fd) {
        if (fd >= 0) {
            Os.close(fd);
        }
    }

    private static boolean probeClosefrom() {
        NativeMemory actions = Os.allocate(Os.SPAWN_STRUCT_BYTES);
        LibC c = Os.libc();
        c.posix_spawn_file_actions_init(actions);
        try {
            return c.posix_spawn_file_actions_addclosefrom_np(actions, 3) == 0;
        } catch (UnsatisfiedLinkError e) {
            return false;
        } finally {
            c.posix_spawn_file_actions_destroy(actions);
        }
    }

    /** Per-thread native memory: the file actions (re-initialized per spawn) and the fixed attributes. */
    private static final class Scratch {
        final NativeMemory actions = Os.allocate(Os.SPAWN_STRUCT_BYTES);
        final NativeMemory attr = Os.allocate(Os.SPAWN_STRUCT_BYTES);
        private final NativeMemory emptyMask = Os.allocate(Os.SIGSET_BYTES);
        private final NativeMemory allSignals = Os.allocate(Os.SIGSET_BYTES);

        Scratch() {
            LibC c = Os.libc();
            c.sigemptyset(emptyMask);
            // Every bit, not sigfillset(): glibc's sigfillset leaves out its internal signals 32 and 33, and
            // posix_spawn then sets those to SIG_IGN in the child, which survives the exec. (ProcessBuilder's
            // children start that way: SigIgn 0x180000000.) All bits set makes every signal SIG_DFL.
            for (int i = 0; i < Os.SIGSET_BYTES; i++) {
                allSignals.putByte(i, (byte) 0xff);
            }
            c.posix_spawnattr_init(attr);
            c.posix_spawnattr_setflags(attr, FLAGS);
            c.posix_spawnattr_setsigmask(attr, emptyMask);
            c.posix_spawnattr_setsigdefault(attr, allSignals);
        }
    }
}
