package io.umhflux.internal.sandbox;

import io.netty.channel.IoEventLoop;
import io.umhflux.Blob;
import io.umhflux.SpawnException;
import io.umhflux.internal.blob.BlobAccess;
import io.umhflux.internal.blob.LoadedBlob;
import io.umhflux.internal.os.Os;
import io.umhflux.internal.process.HelperProcess;
import io.umhflux.internal.process.Launcher;
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
        List<String> args = new ArrayList<>(options.size() + request.args().size() + 3);
        args.addAll(options);
        args.add("--");
        args.add(visiblePath(helper.image().execPath()));
        args.add(request.argv0());
        args.addAll(request.args());
        Launcher.Request launched = new Launcher.Request("umh-sandbox", args, request.envp(),
                request.workingDirectory(), request.pipeSize(), request.killGroupAtExit());
        return Launcher.standard().launch(BlobAccess.loaded(launcher(helper.name())), helper.name(), launched,
                loop);
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
