package io.umhflux.spawn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.umhflux.Blob;
import io.umhflux.Environment;
import io.umhflux.SpawnException;
import io.umhflux.TestHelpers;
import io.umhflux.internal.os.Os;
import io.umhflux.internal.process.HelperProcess;
import io.umhflux.test.Launchers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Blobs the kernel cannot execute, a missing interpreter, and a missing working directory. */
class SpawnFailureTest {

    private static void assertSpawnFails(ThrowingCallable spawn, String errnoName, String... messageParts) {
        var fds = TestHelpers.openFds();
        assertThatThrownBy(spawn)
                .isInstanceOfSatisfying(SpawnException.class, e -> {
                    assertThat(e.errnoName()).isEqualTo(errnoName);
                    assertThat(e.getMessage()).contains(messageParts);
                });
        TestHelpers.assertNoZombies();
        assertThat(TestHelpers.newFds(fds)).as("descriptors left open by the failed spawn").isEmpty();
    }

    @Test
    void randomBytesFailWithEnoexec() {
        byte[] junk = new byte[4096];
        new Random(42).nextBytes(junk);
        junk[0] = 0x7f; // not "#!" and not a valid ELF header either
        try (Blob blob = Blob.of("junk", junk)) {
            assertSpawnFails(() -> TestHelpers.spawn(blob), "ENOEXEC", "blob 'junk'", "ENOEXEC",
                    "sealed memfd /proc/" + TestHelpers.JVM_PID + "/fd/");
        }
    }

    @Test
    void emptyBlobFailsWithEnoexec() {
        try (Blob blob = Blob.of("empty", new byte[0])) {
            assertSpawnFails(() -> TestHelpers.spawn(blob), "ENOEXEC", "blob 'empty'");
        }
    }

    @Test
    void shebangToMissingInterpreterFailsWithEnoent() {
        try (Blob blob = Blob.of("orphan", "#!/no/such/interpreter\n".getBytes(StandardCharsets.UTF_8))) {
            assertSpawnFails(() -> TestHelpers.spawn(blob), "ENOENT", "blob 'orphan'", "interpreter");
        }
    }

    @Test
    void missingWorkingDirectoryFailsBeforeExec(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("gone");
        Path file = Files.writeString(dir.resolve("file"), "x");
        try (Blob cat = TestHelpers.cat()) {
            assertSpawnFails(() -> TestHelpers.spawn(Launchers.standard(), cat, Environment.inherit(), missing),
                    "ENOENT", "working directory " + missing);
            assertSpawnFails(() -> TestHelpers.spawn(Launchers.standard(), cat, Environment.inherit(), file),
                    "ENOTDIR", "working directory " + file);
        }
    }

    @Test
    void workingDirectoryIsApplied(@TempDir Path dir) throws Exception {
        try (Blob sh = TestHelpers.sh()) {
            HelperProcess p = TestHelpers.spawn(Launchers.standard(), sh, Environment.inherit(), dir, "-c", "pwd");
            assertThat(TestHelpers.readAllStdout(p)).isEqualTo(dir.toRealPath() + "\n");
            assertThat(TestHelpers.awaitExit(p).isSuccess()).isTrue();
            p.closePipes();
        }
    }

    @Test
    void aThousandFailingSpawnsLeakNoDescriptor() {
        try (Blob blob = Blob.of("empty", new byte[0])) {
            var fds = TestHelpers.openFds();
            int failures = 0;
            for (int i = 0; i < 1000; i++) {
                try {
                    TestHelpers.spawn(blob);
                } catch (SpawnException e) {
                    assertThat(e.errno()).isEqualTo(8); // ENOEXEC
                    failures++;
                }
            }
            assertThat(failures).isEqualTo(1000);
            assertThat(TestHelpers.newFds(fds)).as("descriptors left open by 1,000 failed spawns").isEmpty();
            TestHelpers.assertNoZombies();
        }
    }

    @Test
    void errnoNamesComeFromTheErrnoTable() {
        assertThat(Os.name(Os.ENOENT)).isEqualTo("ENOENT");
        assertThat(Os.describe(Os.EACCES)).isEqualTo("EACCES (Permission denied)");
    }
}
