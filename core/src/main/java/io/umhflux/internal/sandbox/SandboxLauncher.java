package io.umhflux.internal.sandbox;

import io.netty.channel.IoEventLoop;
import io.umhflux.Blob;
import io.umhflux.SpawnException;
import io.umhflux.internal.blob.BlobAccess;
import io.umhflux.internal.blob.ExecImage;
import io.umhflux.internal.blob.LoadedBlob;
import io.umhflux.internal.os.Os;
import io.umhflux.internal.process.HelperProcess;
import io.umhflux.internal.process.Launcher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Spawns a sandboxed helper: the launcher {@code umh-sandbox} (built from {@code src/main/c/umh_sandbox.c} into
 * the jar, loaded once into a sealed memfd) with the policy's options, which opens the helper's executable through
 * this JVM's {@code /proc/<pid>/fd}, confines itself and {@code fexecve}s it.
 */
public final class SandboxLauncher {
    /** Where the build puts the launcher: not a package, so readable on the module path too. */
    static final String RESOURCE = "META-INF/umh-flux/umh-sandbox";
    private static final int SYS_LANDLOCK_CREATE_RULESET = 444;
    private static final int LANDLOCK_CREATE_RULESET_VERSION = 1;

    /**
     * Whether the kernel has seccomp: {@code /proc/self/status} has a {@code Seccomp} line with CONFIG_SECCOMP. (A
     * kernel with seccomp but without its filters is rare: the launcher reports it, failing the helper with exit
     * status 126 and a line on its stderr.)
     */
    private static final boolean SECCOMP_FILTERS = seccompFilters();

    private static @Nullable Blob launcher;

    private SandboxLauncher() {
    }

    /**
     * @param helper the helper's blob
     * @param options the launcher's options for the policy
     * @param bestEffort whether what the kernel lacks may be skipped
     * @throws SpawnException when the kernel lacks what the policy needs, the launcher is not in this build, or
     *     the spawn fails
     */
    public static HelperProcess launch(LoadedBlob helper, List<String> options, boolean bestEffort,
            Launcher.Request request, IoEventLoop loop) {
        int abi = landlockAbi();
        if (abi < 1 && !bestEffort) {
            int errno = -abi;
            throw new SpawnException(helper.name(), errno, Os.name(errno), "the sandbox needs Landlock (Linux 5.13"
                    + " or later, with Landlock among the active security modules), which this kernel "
                    + (errno == 95 ? "has disabled" : "lacks") + " (" + Os.describe(errno) + "); Sandbox."
                    + "bestEffort() runs without it", List.of(), null);
        }
        if (!bestEffort && !SECCOMP_FILTERS) {
            throw new SpawnException(helper.name(), 22, "EINVAL", "the sandbox needs seccomp filters"
                    + " (CONFIG_SECCOMP_FILTER), which this kernel lacks (no Seccomp line in /proc/self/status);"
                    + " Sandbox.bestEffort() runs without them", List.of(), null);
        }
        List<String> policy = new ArrayList<>(options);
        PidsCgroup cgroup = processLimit(helper.name(), policy, bestEffort);
        List<String> args = new ArrayList<>(policy.size() + request.args().size() + 3);
        args.addAll(policy);
        args.add("--");
        HelperProcess process;
        // the launcher opens the helper's placement by path once it runs: held until the helper is reaped
        ExecImage image;
        try {
            image = helper.retain();
        } catch (RuntimeException e) {
            if (cgroup != null) {
                cgroup.remove();
            }
            throw e;
        }
        try {
            args.add(visiblePath(image.execPath()));
            args.add(request.argv0());
            args.addAll(request.args());
            Launcher.Request launched = new Launcher.Request("umh-sandbox", args, request.envp(),
                    request.workingDirectory(), request.pipeSize(), request.killGroupAtExit());
            process = Launcher.standard().launch(BlobAccess.loaded(launcher(helper.name())), helper.name(),
                    launched, loop);
        } catch (RuntimeException | Error e) {
            helper.release();
            if (cgroup != null) {
                cgroup.remove();
            }
            throw e;
        }
        process.onExit().whenComplete((status, failure) -> helper.release());
        if (cgroup != null) {
            process.onExit().whenComplete((status, failure) -> cgroup.release(loop));
        }
        return process;
    }

    /**
     * Chooses how {@code -p N} (the process limit) is enforced: a pids cgroup made for the helper where this JVM
     * can make one (the option becomes {@code -g CGROUP_PROCS}); else {@code RLIMIT_NPROC}, where the kernel
     * enforces it; else, for root, a {@link SpawnException} unless best effort.
     *
     * @return the cgroup made, or {@code null}
     */
    private static @Nullable PidsCgroup processLimit(String helper, List<String> policy, boolean bestEffort) {
        for (int i = 0; i < policy.size(); i++) {
            String option = policy.get(i);
            if (option.equals("-n") || option.equals("-b")) {
                continue;
            }
            if (option.equals("-p")) {
                int max = Integer.parseInt(policy.get(i + 1));
                PidsCgroup cgroup = PidsCgroup.create(max).orElse(null);
                if (cgroup != null) {
                    policy.set(i, "-g");
                    policy.set(i + 1, cgroup.procs());
                    return cgroup;
                }
                if (!nprocEnforced()) {
                    String why = "the kernel does not enforce RLIMIT_NPROC for root or a process with CAP_SYS_RESOURCE"
                            + " or CAP_SYS_ADMIN, as this JVM is, and it can make no pids cgroup to use instead";
                    if (!bestEffort) {
                        throw new SpawnException(helper, 1, "EPERM", "Sandbox.processes(" + max + ") cannot be"
                                + " enforced: " + why + "; Sandbox.bestEffort() runs without it", List.of(), null);
                    }
                    policy.add(i, "-W");
                    policy.add(i + 1, "the process limit is not enforced: " + why);
                }
                return null;
            }
            i++; // the option's value
        }
        return null;
    }

    /**
     * @return how {@code Sandbox.processes(n)} is enforced here: {@code "cgroup"}, {@code "rlimit"}, or
     *     {@code "none"} (root without a pids cgroup)
     */
    public static String processLimit() {
        return PidsCgroup.parent().isPresent() ? "cgroup" : nprocEnforced() ? "rlimit" : "none";
    }

    private static boolean seccompFilters() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().anyMatch(l -> l.startsWith("Seccomp:"));
        } catch (IOException | RuntimeException e) {
            return true; // cannot tell: the launcher reports what it meets
        }
    }

    /** Whether the kernel enforces RLIMIT_NPROC on this JVM's children: not for uid 0 nor with those capabilities. */
    static boolean nprocEnforced() {
        try {
            long realUid = -1;
            long effectiveCaps = 0;
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    realUid = Long.parseLong(line.substring(4).trim().split("\\s+")[0]);
                } else if (line.startsWith("CapEff:")) {
                    effectiveCaps = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                }
            }
            long sysAdmin = 1L << 21;
            long sysResource = 1L << 24;
            return realUid > 0 && (effectiveCaps & (sysAdmin | sysResource)) == 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The helper's path as the launcher, a child without this JVM's descriptors, can open it. */
    static String visiblePath(String execPath) {
        String self = "/proc/self/";
        return execPath.startsWith(self) ? "/proc/" + ProcessHandle.current().pid() + "/" + execPath.substring(
                self.length()) : execPath;
    }

    /** @return the kernel's Landlock ABI, or minus the errno of the probe (no Landlock) */
    static int landlockAbi() {
        int abi = Os.libc().syscall(SYS_LANDLOCK_CREATE_RULESET, 0, 0, LANDLOCK_CREATE_RULESET_VERSION, 0);
        return abi >= 1 ? abi : -Os.errno();
    }

    private static synchronized Blob launcher(String helper) {
        Blob b = launcher;
        if (b == null || b.isClosed()) {
            ClassLoader loader = SandboxLauncher.class.getClassLoader();
            if (loader.getResource(RESOURCE) == null) {
                throw new SpawnException(helper, 2, "ENOENT", "the sandbox launcher " + RESOURCE + " is not in this"
                        + " build of umh-flux (it is built on x86_64 where gcc and libc6-dev are present)", List.of(),
                        null);
            }
            b = Blob.loader().name("umh-sandbox").loadResource(loader, RESOURCE);
            launcher = b;
        }
        return b;
    }
}
