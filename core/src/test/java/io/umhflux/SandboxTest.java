package io.umhflux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
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
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(python), "no /usr/bin/python3");
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
