package io.umhflux.spawn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.umhflux.Blob;
import io.umhflux.BlobException;
import io.umhflux.SpawnException;
import io.umhflux.TestHelpers;
import io.umhflux.internal.process.HelperProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A memfd whose exec the kernel refuses, and the file the blob falls back to. The refusal is real: the memfd is
 * created with {@code MFD_NOEXEC_SEAL}, exactly what {@code vm.memfd_noexec=1} does to every memfd, so the exec
 * of it fails with EACCES. The noexec fallback directory is a real {@code mount -o noexec} tmpfs.
 */
class FallbackPlacementTest {
    private static final String NOEXEC = "io.umhflux.blob.memfdNoexec";

    @BeforeEach
    void refuseMemfdExec() {
        System.setProperty(NOEXEC, "true");
    }

    @AfterEach
    void restore() {
        System.clearProperty(NOEXEC);
    }

    @Test
    void refusedMemfdMovesToAPrivateFileThatCloseDeletes(@TempDir Path base) throws Exception {
        Blob blob = Blob.loader().name("cat").fallbackDirectories(base).load(Path.of("/bin/cat"));
        assertThat(blob.placement()).isEqualTo(Blob.Placement.MEMFD);
        HelperProcess p = TestHelpers.spawn(blob);
        assertThat(blob.placement()).isEqualTo(Blob.Placement.FILE);
        try (var out = TestHelpers.out(p.stdin())) {
            out.write("via file\n".getBytes(StandardCharsets.UTF_8));
        }
        assertThat(TestHelpers.readAllStdout(p)).isEqualTo("via file\n");
        assertThat(TestHelpers.awaitExit(p).isSuccess()).isTrue();
        p.closePipes();

        List<Path> dirs;
        try (var s = Files.list(base)) {
            dirs = s.toList();
        }
        assertThat(dirs).hasSize(1);
        Path dir = dirs.get(0);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
        Path file = dir.resolve("cat");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("r-x------");

        blob.close();
        assertThat(Files.exists(dir)).as("private directory removed by close").isFalse();
    }

    /**
     * A script whose interpreter cannot be executed is refused with EACCES from a memfd whose exec works: the blob
     * stays in its memfd and nothing is written to disk (the memfd exec is not refused in these two tests).
     */
    @Test
    void aScriptWhoseInterpreterCannotBeExecutedStaysInItsMemfd(@TempDir Path base) throws Exception {
        System.clearProperty(NOEXEC);
        for (String interpreter : List.of("/etc/passwd", "/tmp")) {
            try (Blob blob = Blob.loader().name("bad-interpreter").fallbackDirectories(base)
                    .load(("#!" + interpreter + "\necho never\n").getBytes(StandardCharsets.UTF_8))) {
                assertThatThrownBy(() -> TestHelpers.spawn(blob)).isInstanceOf(SpawnException.class)
                        .hasMessageContaining("EACCES").hasMessageContaining("interpreter " + interpreter);
                assertThat(blob.placement()).isEqualTo(Blob.Placement.MEMFD);
                try (var files = Files.list(base)) {
                    assertThat(files.toList()).as("what was written to the fallback directory").isEmpty();
                }
            }
        }
    }

    @Test
    void refusedMemfdAndNoexecDirectoryNameEachCause(@TempDir Path base) throws Exception {
        Path noexec = Files.createDirectory(base.resolve("noexec"));
        Assumptions.assumeTrue(mountNoexecTmpfs(noexec), "cannot mount a noexec tmpfs here (needs root)");
        try (Blob blob = Blob.loader().name("cat").fallbackDirectories(noexec, base.resolve("missing"))
                .load(Path.of("/bin/cat"))) {
            var fds = TestHelpers.openFds();
            assertThatThrownBy(() -> TestHelpers.spawn(blob))
                    .isInstanceOfSatisfying(SpawnException.class, e -> {
                        assertThat(e.errnoName()).isEqualTo("EACCES");
                        assertThat(e.attempts()).hasSize(3);
                        assertThat(e.attempts().get(0)).startsWith("sealed memfd /proc/").contains("EACCES");
                        assertThat(e.attempts().get(1)).contains(noexec + ": mounted noexec");
                        assertThat(e.attempts().get(2)).contains("missing: not a directory");
                    })
                    .hasMessageContaining("blob 'cat'");
            assertThat(TestHelpers.newFds(fds)).isEmpty();
            TestHelpers.assertNoZombies();
        } finally {
            run("umount", noexec.toString());
        }
    }

    @Test
    void noMemfdAndNoUsableDirectoryFailsAtLoadNamingEachCause(@TempDir Path base) {
        assertThatThrownBy(() -> Blob.loader().name("x").memfd(false).fallbackDirectories(base.resolve("a"))
                .load(new byte[] {1}))
                .isInstanceOfSatisfying(BlobException.class, e -> assertThat(e.attempts()).containsExactly(
                        "sealed memfd: disabled by the loader",
                        "private file in " + base.resolve("a") + ": not a directory"));
    }

    @Test
    void loaderWithoutMemfdExecutesFromAPrivateFile(@TempDir Path base) throws Exception {
        System.clearProperty(NOEXEC);
        try (Blob blob = Blob.loader().memfd(false).fallbackDirectories(base).load(Path.of("/bin/cat"))) {
            assertThat(blob.placement()).isEqualTo(Blob.Placement.FILE);
            HelperProcess p = TestHelpers.spawn(blob);
            assertThat(TestHelpers.readAllStdout(p)).isEmpty();
            assertThat(TestHelpers.awaitExit(p).isSuccess()).isTrue();
            p.closePipes();
        }
    }

    private static boolean mountNoexecTmpfs(Path dir) throws IOException, InterruptedException {
        return run("mount", "-t", "tmpfs", "-o", "noexec,size=1m", "tmpfs", dir.toString());
    }

    private static boolean run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor() == 0;
    }
}
