package io.umhflux.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.umhflux.Blob;
import io.umhflux.Environment;
import io.umhflux.ExitStatus;
import io.umhflux.HelperFailedException;
import io.umhflux.Sandbox;
import io.umhflux.SpawnException;
import io.umhflux.TestHelpers;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.internal.sandbox.SandboxLauncher;
import io.umhflux.test.CHelpers;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

/** Real helpers trying to get out of their sandbox. */
class SandboxTest {
    /** What a dynamically linked helper needs: its loader and libraries. */
    private static final Sandbox LIBS = Sandbox.confined()
            .readOnly(Path.of("/lib"), Path.of("/lib64"), Path.of("/usr/lib"));

    private static List<String> attempts(@Nullable Sandbox sandbox, String... attempts) {
        try (Blob escape = CHelpers.blob("escape")) {
            // no send: the helper reads nothing, and may have ended before an empty send would have completed
            Umh<String, String> umh = UmhFlux.spec(escape).args(attempts).lines(4096)
                    .environment(Environment.empty()).sandbox(sandbox).spawn();
            umh.outbound().close().subscribe(null, e -> { });
            List<String> lines = umh.inbound().collectList().block(TestHelpers.TIMEOUT);
            assertThat(umh.exit().block(TestHelpers.TIMEOUT)).isEqualTo(ExitStatus.exited(0));
            return lines;
        }
    }

    @Test
    void aHelperReadsWhatItWasGivenAndNothingElse(@TempDir Path dir) throws IOException {
        Path allowed = Files.writeString(dir.resolve("allowed.txt"), "yes");
        Path secret = Files.writeString(dir.resolve("secret.txt"), "no");
        Path out = dir.resolve("out");
        Files.createDirectory(out);
        assertThat(attempts(LIBS.readOnly(allowed).readWrite(out), "read:" + allowed, "read:" + secret,
                "read:/etc/hostname", "write:" + out.resolve("made"), "write:" + dir.resolve("not-made"),
                "write:" + allowed))
                .containsExactly("read:" + allowed + " ok", "read:" + secret + " Permission denied",
                        "read:/etc/hostname Permission denied", "write:" + out.resolve("made") + " ok",
                        "write:" + dir.resolve("not-made") + " Permission denied",
                        "write:" + allowed + " Permission denied");
        assertThat(out.resolve("made")).hasContent("x");
        assertThat(dir.resolve("not-made")).doesNotExist();
        // without a sandbox, the same helper reads the secret
        assertThat(attempts(null, "read:" + secret)).containsExactly("read:" + secret + " ok");
    }

    @Test
    void noNetworkUnlessAllowed() throws IOException {
        try (ServerSocket listener = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            listener.setSoTimeout(300);
            String connect = "connect:" + listener.getLocalPort();
            assertThat(attempts(LIBS, connect)).containsExactly(connect + " Permission denied");
            assertThatThrownBy(listener::accept).as("the listener saw nothing")
                    .isInstanceOf(SocketTimeoutException.class);
            assertThat(attempts(LIBS.network(), connect)).containsExactly(connect + " ok");
            try (Socket accepted = listener.accept()) {
                assertThat(accepted.isConnected()).isTrue();
            }
        }
    }

    @Test
    void theDangerousSystemCallsAreRefused() {
        long jvm = ProcessHandle.current().pid();
        assertThat(attempts(LIBS, "ptrace:" + jvm, "mount", "unshare"))
                .containsExactly("ptrace:" + jvm + " Operation not permitted", "mount Operation not permitted",
                        "unshare Operation not permitted");
    }

    @Test
    void aSetUserIdBitGivesASandboxedHelperNothing(@TempDir Path dir) throws IOException {
        Assumptions.assumeTrue(isRoot(), "a set-user-ID root program needs root to make");
        Path bin = dir.resolve("bin");
        Files.createDirectory(bin);
        Path setuidRoot = Files.copy(CHelpers.executable("escape"), bin.resolve("escape"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setAttribute(setuidRoot, "unix:mode", 04755);
        // drop to nobody, then execute the set-user-ID root copy, which tries to become root again
        String[] attempt = {"drop:65534", "exec:" + setuidRoot, "setuid:0"};
        assertThat(attempts(null, attempt)).as("unsandboxed, the bit works")
                .containsExactly("drop:65534 ok", "setuid:0 ok");
        assertThat(attempts(LIBS.readOnly(bin), attempt)).as("no_new_privs: the bit is ignored")
                .containsExactly("drop:65534 ok", "setuid:0 Operation not permitted");
    }

    @Test
    void aForkBombEndsWithTheHelpersFailureAndNothingLeftRunning() throws InterruptedException {
        String mechanism = SandboxLauncher.processLimit();
        Assumptions.assumeFalse(mechanism.equals("none"), "root without a writable pids cgroup");
        // in a pids cgroup, even children that left the helper's process group are killed at its exit
        String bomb = mechanism.equals("cgroup") ? "forkbomb:setsid" : "forkbomb";
        try (Blob escape = CHelpers.blob("escape")) {
            Umh<String, String> umh = UmhFlux.spec(escape).args(bomb).lines(1024).environment(Environment.empty())
                    .sandbox(LIBS.processes(8)).spawn();
            umh.outbound().close().subscribe(null, e -> { });
            List<String> lines = new ArrayList<>();
            assertThatThrownBy(() -> umh.inbound().doOnNext(lines::add).blockLast(TestHelpers.TIMEOUT))
                    .isInstanceOf(HelperFailedException.class).hasMessageContaining("exited with code 1");
            assertThat(umh.exit().block(TestHelpers.TIMEOUT)).isEqualTo(ExitStatus.exited(1));
            assertThat(lines).last().asString().startsWith(bomb + " ").endsWith("Resource temporarily unavailable");
            List<Long> children = lines.stream().filter(l -> l.startsWith("child "))
                    .map(l -> Long.parseLong(l.substring(6))).toList();
            if (mechanism.equals("cgroup")) {
                assertThat(children).as("the helper and 7 children: 8 processes").hasSize(7);
            }
            assertThat(children).isNotEmpty();
            long deadline = System.nanoTime() + TestHelpers.TIMEOUT.toNanos();
            while (children.stream().anyMatch(SandboxTest::running) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(children).as("nothing left running").noneMatch(SandboxTest::running);
        }
    }

    @Test
    void aProcessLimitThatCannotBeEnforcedFailsTheSpawnUnlessBestEffort() {
        System.setProperty("io.umhflux.sandbox.pidsCgroup", "none");
        try (Blob escape = CHelpers.blob("escape")) {
            Assumptions.assumeTrue(SandboxLauncher.processLimit().equals("none"), "RLIMIT_NPROC is enforced here");
            assertThatThrownBy(() -> UmhFlux.spec(escape).lines(1024).sandbox(LIBS.processes(8)).spawn())
                    .isInstanceOf(SpawnException.class).hasMessageContaining("Sandbox.processes(8) cannot be enforced");
            Umh<String, String> umh = UmhFlux.spec(escape).lines(1024).environment(Environment.empty())
                    .sandbox(LIBS.processes(8).bestEffort()).spawn();
            umh.outbound().close().subscribe(null, e -> { });
            assertThat(umh.inbound().collectList().block(TestHelpers.TIMEOUT)).isEmpty();
            ExitStatus status = umh.exit().block(TestHelpers.TIMEOUT);
            assertThat(status.hasExited()).isTrue();
            assertThat(status.code()).isZero();
            assertThat(status.stderrTail()).anySatisfy(line -> assertThat(line)
                    .startsWith("umh-sandbox: best effort: the process limit is not enforced"));
        } finally {
            System.clearProperty("io.umhflux.sandbox.pidsCgroup");
        }
    }

    /** Alive and not a zombie. */
    private static boolean running(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean isRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .anyMatch(l -> l.matches("Uid:\\s+0\\s.*"));
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void theHelperKeepsExactlyItsStdioAndAnEmptySignalMask() {
        assertThat(attempts(LIBS, "fds", "sigmask")).containsExactly("fds ok", "sigmask ok");
    }

    @Test
    void anAllocationPastTheAddressSpaceFailsInTheHelper() {
        assertThat(attempts(LIBS.addressSpace(64L << 20), "alloc:8", "alloc:256"))
                .containsExactly("alloc:8 ok", "alloc:256 Cannot allocate memory");
    }

    @Test
    void aLoopPastItsCpuTimeEndsWithSigxcpu() {
        try (Blob sh = TestHelpers.sh()) {
            Umh<String, String> spinning = UmhFlux.spec(sh).args("-c", "while :; do :; done").lines(1024)
                    .environment(Environment.empty()).sandbox(LIBS.cpuTime(Duration.ofSeconds(1))).spawn();
            ExitStatus status = spinning.exit().block(TestHelpers.TIMEOUT);
            assertThat(status.hasExited()).isFalse();
            assertThat(status.signal()).as("SIGXCPU, or SIGKILL at the hard limit").isIn(24, 9);
            spinning.dispose();
        }
    }

    @Test
    void aDynamicallyLinkedPythonRunsWithTheLibrariesItNeeds() {
        Path python = Path.of("/usr/bin/python3");
        Assumptions.assumeTrue(Files.isExecutable(python), "no /usr/bin/python3");
        try (Blob blob = Blob.of(python)) {
            List<String> upper = UmhFlux.spec(blob)
                    .args("-c", "import sys\nfor line in sys.stdin: print(line.strip().upper(), flush=True)")
                    .lines(4096).environment(Environment.empty())
                    .sandbox(Sandbox.confined().readOnly(Path.of("/usr"), Path.of("/lib"), Path.of("/lib64")))
                    .exchange(Flux.just("a", "bc")).collectList().block(TestHelpers.TIMEOUT);
            assertThat(upper).containsExactly("A", "BC");
        }
    }

    @Test
    void aFailedSandboxSaysWhatFailedOnStderr() {
        try (Blob escape = CHelpers.blob("escape")) {
            Umh<String, String> umh = UmhFlux.spec(escape).lines(1024).environment(Environment.empty())
                    .sandbox(LIBS.readOnly(Path.of("/no/such/path"))).spawn();
            ExitStatus status = umh.exit().block(TestHelpers.TIMEOUT);
            assertThat(status.code()).isEqualTo(126);
            assertThat(status.stderrTail()).anySatisfy(line -> assertThat(line)
                    .contains("umh-sandbox: allowed path /no/such/path").contains("No such file"));
        }
    }

    @Test
    void aScriptRunsSandboxedThroughItsInterpreter() {
        try (Blob script = TestHelpers.script("confined", "printf '%s\\n' \"$0 $1\"\n"
                + "if cat /etc/hostname >/dev/null 2>&1; then echo read; else echo denied; fi")) {
            Umh<String, String> umh = UmhFlux.spec(script).args("hello").lines(1024).environment(Environment.empty())
                    .sandbox(LIBS.readOnly(Path.of("/bin"), Path.of("/usr/bin"))).spawn();
            umh.outbound().close().subscribe(null, e -> { });
            assertThat(umh.inbound().collectList().block(TestHelpers.TIMEOUT))
                    .containsExactly("/dev/fd/3 hello", "denied");
            assertThat(umh.exit().block(TestHelpers.TIMEOUT)).isEqualTo(ExitStatus.exited(0));
        }
    }

    @Test
    void badPoliciesAreRefusedWhenMade() {
        assertThatThrownBy(() -> Sandbox.confined().openFiles(2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Sandbox.confined().addressSpace(0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(Sandbox.confined().addressSpace(1).addressSpace(2).toString()).contains("-m, 2")
                .doesNotContain("-m, 1");
    }
}
