package io.umhflux;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * What a sandboxed helper may reach: nothing by default. Set on a spec with {@link UmhSpec#sandbox(Sandbox)};
 * immutable, every method returns a new policy.
 *
 * <pre>{@code
 * Sandbox policy = Sandbox.confined()
 *         .readOnly(Path.of("/usr/lib"), Path.of("/lib"), Path.of("/lib64"))  // a dynamically linked helper
 *         .readWrite(workDir)
 *         .addressSpace(512L << 20).cpuTime(Duration.ofSeconds(30)).processes(16);
 * }</pre>
 *
 * <p>A small static launcher that umh-flux carries (and runs from a sealed memfd) applies the policy between
 * {@code posix_spawn} and the helper's first instruction, then executes the helper in its own place, with the
 * same pid, stdin, stdout and stderr, the helper's environment and no other descriptor (a {@code #!} script runs
 * through its interpreter, which must be under an allowed path, and keeps its own sealed script open as
 * {@code /dev/fd/3}, its {@code $0}):
 * <ul>
 * <li>{@code no_new_privs}: no set-user-ID bit or file capability gives it more rights.</li>
 * <li><b>Files</b> (Landlock): nothing but the paths given, read-only or read-write, and what is beneath them;
 *     anything else fails with {@code EACCES}. The helper's own executable needs no rule. A dynamically linked
 *     helper needs its loader and libraries ({@code /lib}, {@code /lib64}, {@code /usr/lib}), an interpreter its
 *     whole installation, a {@link Blob#javaMain} helper the JDK, its class path and {@code /bin/sh} with its
 *     libraries. {@code /dev/null} (both ways), {@code /dev/zero} and the random devices are always allowed.
 *     On Landlock ABI 6 and later, it can neither signal nor reach through an abstract unix
 *     socket any process outside its sandbox (the JVM, say).</li>
 * <li><b>Network</b>: none unless {@link #network()}: a seccomp rule refuses {@code socket()} for
 *     {@code AF_INET} and {@code AF_INET6} with {@code EACCES} (so UDP and raw sockets too), and on Landlock
 *     ABI 4 and later, TCP connects and binds are refused as well. Unix sockets under an allowed path stay
 *     possible. Not a network namespace: that needs a user namespace, which many containers and distributions
 *     refuse to unprivileged processes, and which changes the user and group ids the helper sees; the seccomp
 *     rule works wherever seccomp does, at no cost to the spawn.</li>
 * <li><b>System calls</b> (seccomp, {@code EPERM}): {@code ptrace}, {@code process_vm_readv/writev},
 *     {@code mount}, {@code umount2}, the new mount API, {@code pivot_root}, {@code chroot}, {@code unshare},
 *     {@code setns}, a {@code clone} into new namespaces, io_uring (whose requests no system call filter sees),
 *     kernel modules, {@code kexec}, {@code reboot}, {@code bpf}, {@code perf_event_open},
 *     {@code userfaultfd}, keyrings, swap, {@code acct}, {@code quotactl}, setting the clock,
 *     {@code sethostname}, {@code setdomainname}, {@code iopl}, {@code ioperm}, {@code syslog},
 *     {@code name_to_handle_at}, {@code open_by_handle_at}, {@code fanotify_init}, {@code lookup_dcookie}, and
 *     every x32 call; {@code clone3} fails with {@code ENOSYS} (its flags are out of a filter's reach; libc then
 *     uses {@code clone}); a call of another ABI (i386's {@code int 0x80}) kills the helper.</li>
 * <li><b>Limits</b> (rlimits, inherited by what it starts): address space, data size, CPU seconds (then
 *     {@code SIGXCPU}, and {@code SIGKILL} a second later), open files, file size; and processes, through a
 *     pids cgroup of its own where this JVM can make one, else its user's {@code RLIMIT_NPROC}
 *     ({@link #processes}).</li>
 * </ul>
 *
 * <p>What the kernel does not support fails the spawn with a {@link SpawnException} naming it, unless
 * {@link #bestEffort()} was asked for; never a silent downgrade. Landlock needs Linux 5.13 with Landlock
 * enabled; seccomp filters are everywhere. Not confined: the helper's own memory and CPU time beyond the limits
 * set, and reading other same-user processes' {@code /proc} entries below Landlock ABI 6.
 */
public final class Sandbox {
    private static final Sandbox CONFINED = new Sandbox(List.of(), List.of(), false, List.of(), false);

    private final List<Path> readOnly;
    private final List<Path> readWrite;
    private final boolean network;
    /** Launcher options of the limits, in the order they were set ("-m", "123", ...). */
    private final List<String> limits;
    private final boolean bestEffort;

    private Sandbox(List<Path> readOnly, List<Path> readWrite, boolean network, List<String> limits,
            boolean bestEffort) {
        this.readOnly = readOnly;
        this.readWrite = readWrite;
        this.network = network;
        this.limits = limits;
        this.bestEffort = bestEffort;
    }

    /** @return no file, no network, the system call filter and no limit: add what the helper needs */
    public static Sandbox confined() {
        return CONFINED;
    }

    /** @return this policy where the helper may also read (and execute) {@code paths} and what is beneath them */
    public Sandbox readOnly(Path... paths) {
        return new Sandbox(plus(readOnly, paths), readWrite, network, limits, bestEffort);
    }

    /** @return this policy where the helper may also read, write, create and remove under {@code paths} */
    public Sandbox readWrite(Path... paths) {
        return new Sandbox(readOnly, plus(readWrite, paths), network, limits, bestEffort);
    }

    /** @return this policy with the network allowed */
    public Sandbox network() {
        return new Sandbox(readOnly, readWrite, true, limits, bestEffort);
    }

    /** @param bytes the largest address space ({@code RLIMIT_AS}): a larger allocation fails in the helper */
    public Sandbox addressSpace(long bytes) {
        return limit("-m", positive(bytes, "address space"));
    }

    /** @param bytes the largest data segment and heap ({@code RLIMIT_DATA}) */
    public Sandbox dataSize(long bytes) {
        return limit("-d", positive(bytes, "data size"));
    }

    /** @param cpu the CPU time it may use ({@code RLIMIT_CPU}, whole seconds, at least one) */
    public Sandbox cpuTime(Duration cpu) {
        Objects.requireNonNull(cpu, "cpu");
        return limit("-c", positive(Math.max(1, cpu.toSeconds()), "CPU time"));
    }

    /**
     * @param files the most files it may have open ({@code RLIMIT_NOFILE}), set just before the helper starts; at
     *     least 3, for stdio, and one more for a dynamically linked helper, whose loader opens its libraries
     */
    public Sandbox openFiles(int files) {
        if (files < 3) {
            throw new IllegalArgumentException("a helper needs at least its 3 standard descriptors: " + files);
        }
        return limit("-f", files);
    }

    /** @param bytes the largest file it may write ({@code RLIMIT_FSIZE}) */
    public Sandbox fileSize(long bytes) {
        return limit("-s", positive(bytes, "file size"));
    }

    /**
     * Bounds a fork bomb. Where this JVM can make cgroups in a pids hierarchy (as root, or in a delegated
     * subtree), the helper gets a pids cgroup of its own: at most {@code processes} processes and threads for it
     * and everything it starts, whatever their user, and at its exit everything left in that cgroup is killed (what
     * escaped its process group too) and the cgroup removed. Elsewhere it is {@code RLIMIT_NPROC}: the processes
     * of the helper's user, counted over all of that user's processes, with the process-group kill at its exit.
     * Root without a pids cgroup has neither: the spawn fails with a {@link SpawnException} unless best effort.
     *
     * @param processes the most processes (and threads)
     */
    public Sandbox processes(int processes) {
        return limit("-p", positive(processes, "processes"));
    }

    /** @return this policy where what the kernel lacks is skipped (with a line on the helper's stderr) */
    public Sandbox bestEffort() {
        return new Sandbox(readOnly, readWrite, network, limits, true);
    }

    /** @return whether missing kernel features are skipped */
    public boolean isBestEffort() {
        return bestEffort;
    }

    /** The launcher's options for this policy. */
    List<String> options() {
        List<String> o = new ArrayList<>();
        for (Path p : readOnly) {
            o.add("-r");
            o.add(p.toString());
        }
        for (Path p : readWrite) {
            o.add("-w");
            o.add(p.toString());
        }
        if (network) {
            o.add("-n");
        }
        o.addAll(limits);
        if (bestEffort) {
            o.add("-b");
        }
        return o;
    }

    private Sandbox limit(String option, long value) {
        List<String> l = new ArrayList<>(limits);
        int at = l.indexOf(option);
        if (at >= 0) {
            l.set(at + 1, Long.toString(value));
        } else {
            l.add(option);
            l.add(Long.toString(value));
        }
        return new Sandbox(readOnly, readWrite, network, Collections.unmodifiableList(l), bestEffort);
    }

    private static long positive(long value, String what) {
        if (value < 1) {
            throw new IllegalArgumentException(what + " must be positive: " + value);
        }
        return value;
    }

    private static List<Path> plus(List<Path> paths, Path... more) {
        List<Path> all = new ArrayList<>(paths);
        for (Path p : more) {
            Path a = Objects.requireNonNull(p, "path").toAbsolutePath().normalize();
            if (a.toString().indexOf('\0') >= 0) {
                throw new IllegalArgumentException("a path with NUL: " + p);
            }
            all.add(a);
        }
        return List.copyOf(all);
    }

    @Override
    public String toString() {
        return "Sandbox" + options();
    }
}
