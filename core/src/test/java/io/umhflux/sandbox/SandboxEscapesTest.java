package io.umhflux.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.umhflux.Blob;
import io.umhflux.Environment;
import io.umhflux.ExitStatus;
import io.umhflux.Sandbox;
import io.umhflux.TestHelpers;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.test.CHelpers;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * Ways around the sandbox's filter that its rules must close too (io_uring, clone's flags, the newest mount call), and
 * what a policy's edges must still allow.
 */
class SandboxEscapesTest {
    private static final Sandbox LIBS = Sandbox.confined()
            .readOnly(Path.of("/lib"), Path.of("/lib64"), Path.of("/usr/lib"));

    private static List<String> attempts(String helper, Sandbox sandbox, String... attempts) {
        try (Blob blob = CHelpers.blob(helper)) {
            Umh<String, String> umh = UmhFlux.spec(blob).args(attempts).lines(4096)
                    .environment(Environment.empty()).sandbox(sandbox).spawn();
            umh.outbound().close().subscribe(null, e -> { });
            List<String> lines = umh.inbound().collectList().block(TestHelpers.TIMEOUT);
            ExitStatus status = umh.exit().block(TestHelpers.TIMEOUT);
            assertThat(status).as("exit, stderr %s", status.stderrTail()).isEqualTo(ExitStatus.exited(0));
            return lines;
        }
    }

    private static @Nullable String received(DatagramSocket s) throws Exception {
        byte[] b = new byte[64];
        DatagramPacket p = new DatagramPacket(b, b.length);
        try {
            s.receive(p);
            return new String(b, 0, p.getLength(), StandardCharsets.US_ASCII);
        } catch (SocketTimeoutException e) {
            return null;
        }
    }

    /** No IPv4 or IPv6 socket without the network, not even one that io_uring makes where no filter sees it. */
    @Test
    void noIpv4SocketThroughIoUringEither() throws Exception {
        try (DatagramSocket listener = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            listener.setSoTimeout(500);
            int port = listener.getLocalPort();
            List<String> lines = attempts("breakout", LIBS, "socket-udp:" + port, "uring-udp:" + port);
            String got = received(listener);
            assertThat(got).as("the JVM's UDP listener must see nothing from the sandbox (lines %s)", lines)
                    .isNull();
            assertThat(lines).as("socket() is refused; io_uring's IORING_OP_SOCKET must be too")
                    .containsExactly("socket-udp:" + port + " Permission denied",
                            "uring-udp:" + port + " Operation not permitted");
            assertThat(got).as("the JVM's UDP listener must see nothing from the sandbox").isNull();
        }
    }

    /** No new namespace: not through unshare, nor through clone's flags, nor clone3 (refused, so libc uses clone). */
    @Test
    void noNewNamespacesThroughCloneEither() {
        assertThat(attempts("breakout", LIBS, "unshare", "clone:newuser", "clone3:newuser"))
                .containsExactly("unshare Operation not permitted", "clone:newuser Operation not permitted",
                        "clone3:newuser Function not implemented");
    }

    /** The new mount API is refused whole, open_tree_attr (Linux 6.15) included. */
    @Test
    void theWholeNewMountApiIsRefused() {
        assertThat(attempts("breakout", LIBS, "open_tree", "open_tree_attr"))
                .containsExactly("open_tree Operation not permitted", "open_tree_attr Operation not permitted");
    }

    /**
     * The smallest open-files limits reach the helper: the launcher's own files do not count against them. A
     * dynamically linked helper needs one more than stdio, for its loader to open libc.
     */
    @Test
    void aSmallOpenFilesLimitStillRunsTheHelper() {
        List<String> outcomes = new java.util.ArrayList<>();
        for (int n = 3; n <= 6; n++) {
            try (Blob blob = CHelpers.blob("escape")) {
                Umh<String, String> umh = UmhFlux.spec(blob).args("fds").lines(4096)
                        .environment(Environment.empty()).sandbox(LIBS.openFiles(n)).spawn();
                umh.outbound().close().subscribe(null, e -> { });
                umh.inbound().onErrorResume(e -> reactor.core.publisher.Flux.empty()).collectList()
                        .block(TestHelpers.TIMEOUT);
                ExitStatus status = umh.exit().block(TestHelpers.TIMEOUT);
                outcomes.add("openFiles(" + n + "): " + status + " " + status.stderrTail());
            }
        }
        assertThat(outcomes).allSatisfy(o -> assertThat(o).doesNotContain("umh-sandbox"));
        assertThat(outcomes.get(0)).contains("libc.so.6").contains("Error 24"); // EMFILE, in the helper's loader
        assertThat(outcomes.subList(1, outcomes.size())).allSatisfy(o -> assertThat(o).contains(": exit 0 "));
    }

    private static long cgroupsOfThisJvm() throws java.io.IOException {
        Path parent = Path.of("/sys/fs/cgroup/pids");
        try (var s = java.nio.file.Files.list(parent)) {
            return s.filter(d -> d.getFileName().toString().startsWith("umh-flux-" + TestHelpers.JVM_PID + "-"))
                    .count();
        }
    }

    /** A spawn that fails, or a launcher that refuses its policy, leaves no cgroup behind. */
    @Test
    void noCgroupIsLeftBehindWhenTheSpawnFails() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                io.umhflux.internal.sandbox.SandboxLauncher.processLimit().equals("cgroup"));
        long before = cgroupsOfThisJvm();
        try (Blob blob = CHelpers.blob("escape")) {
            try {
                UmhFlux.<String, String>spec(blob).lines(1024).workingDirectory(Path.of("/no/such/dir"))
                        .sandbox(LIBS.processes(8)).spawn().exit().block(TestHelpers.TIMEOUT);
            } catch (RuntimeException expected) {
                // a failed spawn
            }
            Umh<String, String> umh = UmhFlux.spec(blob).lines(1024).environment(Environment.empty())
                    .sandbox(LIBS.readOnly(Path.of("/no/such/path")).processes(8)).spawn();
            assertThat(umh.exit().block(TestHelpers.TIMEOUT).code()).isEqualTo(126);
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (cgroupsOfThisJvm() > before && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(cgroupsOfThisJvm()).isEqualTo(before);
    }

    /** Paths and arguments with spaces, quotes, tabs, {@code --} and {@code -n} reach the helper as they are. */
    @Test
    void argumentsAndPathsWithSpecialCharactersArePassedIntact(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        Path odd = java.nio.file.Files.createDirectory(dir.resolve("a b 'c' \"d\" $e\t-- -n"));
        Path file = java.nio.file.Files.writeString(odd.resolve("f g"), "x");
        assertThat(attempts("escape", LIBS.readOnly(odd), "read:" + file, "", "--", "-n", "a b\tc"))
                .containsExactly("read:" + file + " ok", " ok", "-- ok", "-n ok", "a b\tc ok");
    }
}
