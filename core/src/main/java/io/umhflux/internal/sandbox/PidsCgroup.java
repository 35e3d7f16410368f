package io.umhflux.internal.sandbox;

import io.netty.channel.IoEventLoop;
import io.umhflux.internal.os.Os;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * A pids cgroup made for one sandboxed helper: {@code pids.max} bounds the processes and threads of the helper and
 * of everything it starts, whatever their user (root included, which {@code RLIMIT_NPROC} does not bound), and at
 * the helper's exit everything still in it is killed, including what left the helper's process group, before the
 * cgroup is removed.
 *
 * <p>It is made beneath this JVM's own cgroup in the pids hierarchy: a cgroup v1 {@code pids} hierarchy, or the
 * cgroup v2 hierarchy when this JVM's cgroup delegates the {@code pids} controller to its children. Only where
 * this JVM may create cgroups there (as root, or in a delegated subtree). The system property
 * {@value #PROPERTY} names another parent directory, or with {@code none} turns pids cgroups off.
 */
final class PidsCgroup {
    static final String PROPERTY = "io.umhflux.sandbox.pidsCgroup";
    private static final System.Logger LOG = System.getLogger(PidsCgroup.class.getName());
    private static final AtomicLong SEQUENCE = new AtomicLong();
    private static final int SYS_PIDFD_OPEN = 434;
    private static final int SYS_PIDFD_SEND_SIGNAL = 424;
    private static final int SIGKILL = 9;
    /** How long its removal is retried while killed members are still being reaped: 250 times 20 ms. */
    private static final int REMOVE_TRIES = 250;
    private static final long REMOVE_DELAY_MILLIS = 20;

    private static volatile @Nullable Optional<Path> parent;

    private final Path dir;
    private final boolean v2;

    private PidsCgroup(Path dir, boolean v2) {
        this.dir = dir;
        this.v2 = v2;
    }

    /**
     * @param max the most processes and threads
     * @return a new cgroup with {@code pids.max} set, or empty where this JVM cannot make one
     */
    static Optional<PidsCgroup> create(int max) {
        Optional<Path> p = parent();
        if (p.isEmpty()) {
            return Optional.empty();
        }
        Path dir = p.get().resolve("umh-flux-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet());
        try {
            Files.createDirectory(dir);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "no pids cgroup for a sandboxed helper: {0}", e.toString());
            return Optional.empty();
        }
        PidsCgroup cgroup = new PidsCgroup(dir, Files.exists(dir.resolve("cgroup.controllers")));
        try {
            Files.writeString(dir.resolve("pids.max"), Integer.toString(max));
        } catch (IOException e) {
            cgroup.remove();
            throw new UncheckedIOException("setting " + dir.resolve("pids.max") + " to " + max, e);
        }
        return Optional.of(cgroup);
    }

    /** The file the launcher writes itself into, to join the cgroup before it executes the helper. */
    String procs() {
        return dir.resolve("cgroup.procs").toString();
    }

    /** Kills what is left in it and removes it, retrying on {@code loop} while killed members are reaped. */
    void release(IoEventLoop loop) {
        release(loop, REMOVE_TRIES);
    }

    private void release(IoEventLoop loop, int tries) {
        killAll();
        if (remove()) {
            return;
        }
        if (tries > 1) {
            try {
                loop.schedule(() -> release(loop, tries - 1), REMOVE_DELAY_MILLIS, TimeUnit.MILLISECONDS);
                return;
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // the loop is shutting down: what was killed is left to be reaped, the cgroup behind
            }
        }
        LOG.log(System.Logger.Level.WARNING, "the pids cgroup {0} of a sandboxed helper still has members {1}"
                + " and was left behind", dir, members());
    }

    /** Removes the (empty) cgroup: whether it is gone. */
    boolean remove() {
        try {
            Files.deleteIfExists(dir);
            return true;
        } catch (IOException e) {
            return false; // busy: members not yet reaped
        }
    }

    private void killAll() {
        if (v2) {
            try {
                Files.writeString(dir.resolve("cgroup.kill"), "1");
                return;
            } catch (IOException e) {
                // a kernel before 5.14 has no cgroup.kill: one by one
            }
        }
        for (int pid : members()) {
            // through a pidfd, and only while the pid is still a member: never a signal to a recycled pid
            int pidfd = Os.libc().syscall(SYS_PIDFD_OPEN, pid, 0, 0, 0);
            if (pidfd < 0) {
                continue; // gone
            }
            try {
                if (members().contains(pid)) {
                    Os.libc().syscall(SYS_PIDFD_SEND_SIGNAL, pidfd, SIGKILL, 0, 0);
                }
            } finally {
                Os.close(pidfd);
            }
        }
    }

    private List<Integer> members() {
        List<Integer> pids = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(dir.resolve("cgroup.procs"), StandardCharsets.US_ASCII)) {
                if (!line.isBlank()) {
                    pids.add(Integer.parseInt(line.trim()));
                }
            }
        } catch (NoSuchFileException e) {
            return pids;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return pids;
    }

    @Override
    public String toString() {
        return dir.toString();
    }

    /** @return where helpers' pids cgroups are made, or empty */
    static Optional<Path> parent() {
        String chosen = System.getProperty(PROPERTY, "");
        if (!chosen.isEmpty()) {
            return chosen.equals("none") ? Optional.empty() : Optional.of(Path.of(chosen));
        }
        Optional<Path> p = parent;
        if (p == null) {
            p = find(Path.of("/proc/self/cgroup"), Path.of("/proc/self/mountinfo"));
            parent = p;
        }
        return p;
    }

    /** This process's cgroup in a writable pids hierarchy, from its {@code cgroup} and {@code mountinfo} files. */
    static Optional<Path> find(Path cgroupFile, Path mountinfoFile) {
        List<String> cgroups;
        List<String> mounts;
        try {
            cgroups = Files.readAllLines(cgroupFile);
            mounts = Files.readAllLines(mountinfoFile);
        } catch (IOException e) {
            return Optional.empty();
        }
        for (String mount : mounts) {
            // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            String[] f = mount.split(" ");
            int dash = List.of(f).indexOf("-");
            if (dash < 5 || dash + 3 >= f.length) {
                continue;
            }
            String type = f[dash + 1];
            boolean v1 = type.equals("cgroup") && List.of(f[dash + 3].split(",")).contains("pids");
            if (!v1 && !type.equals("cgroup2")) {
                continue;
            }
            String path = ownPath(cgroups, v1);
            if (path == null) {
                continue;
            }
            String root = unescape(f[3]);
            if (!root.equals("/") && path.startsWith(root)) {
                path = path.substring(root.length());
            }
            Path dir = Path.of(unescape(f[4]), path.startsWith("/") ? path.substring(1) : path);
            if (!v1 && !delegatesPids(dir)) {
                continue;
            }
            if (Files.isDirectory(dir) && Files.isWritable(dir)) {
                return Optional.of(dir);
            }
        }
        return Optional.empty();
    }

    private static @Nullable String ownPath(List<String> cgroups, boolean v1) {
        for (String line : cgroups) {
            String[] f = line.split(":", 3);
            if (f.length == 3 && (v1 ? List.of(f[1].split(",")).contains("pids") : f[0].equals("0")
                    && f[1].isEmpty())) {
                return f[2];
            }
        }
        return null;
    }

    private static boolean delegatesPids(Path dir) {
        try {
            return List.of(Files.readString(dir.resolve("cgroup.subtree_control")).trim().split(" "))
                    .contains("pids");
        } catch (IOException e) {
            return false;
        }
    }

    /** mountinfo writes space, tab, newline and backslash as octal escapes. */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
