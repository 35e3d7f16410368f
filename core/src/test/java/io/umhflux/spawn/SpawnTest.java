package io.umhflux.spawn;

import static io.umhflux.TestHelpers.awaitExit;
import static io.umhflux.TestHelpers.readAllStdout;
import static io.umhflux.TestHelpers.spawn;
import static org.assertj.core.api.Assertions.assertThat;

import io.umhflux.Blob;
import io.umhflux.ExitStatus;
import io.umhflux.TestHelpers;
import io.umhflux.UmhFlux;
import io.umhflux.internal.process.HelperProcess;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpawnTest {

    @Test
    void catLoadedFromItsBytesEchoesData() throws Exception {
        try (Blob cat = TestHelpers.cat()) {
            assertThat(cat.placement()).isEqualTo(Blob.Placement.MEMFD);
            HelperProcess p = spawn(cat);
            byte[] data = new byte[300_000];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 31);
            }
            Thread writer = new Thread(() -> {
                try (OutputStream out = TestHelpers.out(p.stdin())) {
                    p.stdin().close();
                    out.write(data);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            writer.start();
            byte[] echoed;
            try (var in = TestHelpers.in(p.stdout())) {
                p.stdout().close();
                echoed = in.readAllBytes();
            }
            writer.join();
            assertThat(echoed).isEqualTo(data);
            assertThat(awaitExit(p)).isEqualTo(ExitStatus.exited(0));
            p.closePipes();
        }
    }

    @Test
    void helperExecutesTheSealedMemfd() throws Exception {
        try (Blob cat = TestHelpers.cat()) {
            HelperProcess p = spawn(cat);
            String exe = Files.readSymbolicLink(Path.of("/proc/" + p.pid() + "/exe")).toString();
            assertThat(exe).startsWith("/memfd:umh:cat");
            p.stop(java.time.Duration.ofSeconds(5));
            assertThat(awaitExit(p).isSuccess()).isTrue();
            p.closePipes();
        }
    }

    @Test
    void shebangScriptBlobRuns() throws Exception {
        try (Blob script = TestHelpers.script("greet", "echo \"hello $1 from $0\"; exit 7")) {
            HelperProcess p = spawn(script, "world");
            assertThat(readAllStdout(p)).startsWith("hello world from /proc/" + TestHelpers.JVM_PID + "/fd/");
            assertThat(awaitExit(p)).isEqualTo(ExitStatus.exited(7));
            p.closePipes();
        }
    }

    @Test
    void oneBlobSpawnsAHundredHelpersFromTheSameMemfd() throws Exception {
        try (Blob cat = TestHelpers.cat()) {
            List<HelperProcess> helpers = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                helpers.add(spawn(cat));
            }
            String expectedExe = null;
            for (HelperProcess p : helpers) {
                String exe = Files.readSymbolicLink(Path.of("/proc/" + p.pid() + "/exe")).toString();
                if (expectedExe == null) {
                    expectedExe = exe;
                }
                assertThat(exe).isEqualTo(expectedExe);
                // the same inode: one sealed memfd serves every spawn
                assertThat(Files.getAttribute(Path.of("/proc/" + p.pid() + "/exe"), "unix:ino"))
                        .isEqualTo(Files.getAttribute(Path.of("/proc/" + helpers.get(0).pid() + "/exe"),
                                "unix:ino"));
            }
            for (int i = 0; i < helpers.size(); i++) {
                HelperProcess p = helpers.get(i);
                try (OutputStream out = TestHelpers.out(p.stdin())) {
                    out.write(("line " + i + "\n").getBytes(StandardCharsets.UTF_8));
                }
                assertThat(readAllStdout(p)).isEqualTo("line " + i + "\n");
            }
            for (HelperProcess p : helpers) {
                assertThat(awaitExit(p).isSuccess()).isTrue();
                p.closePipes();
            }
            TestHelpers.assertNoZombies();
        }
    }

    @Test
    void compiledCHelperRunsFromItsBytes(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path exe = TestHelpers.compileC(dir, "args", "#include <stdio.h>\n"
                + "int main(int argc, char **argv) { for (int i = 1; i < argc; i++) printf(\"%s;\", argv[i]);"
                + " return argc; }\n");
        org.junit.jupiter.api.Assumptions.assumeTrue(exe != null, "gcc is not installed");
        try (Blob blob = Blob.of(exe)) {
            Files.delete(exe); // nothing on disk is needed any more
            HelperProcess p = spawn(blob, "a", "b c");
            assertThat(readAllStdout(p)).isEqualTo("a;b c;");
            assertThat(awaitExit(p)).isEqualTo(ExitStatus.exited(3));
            p.closePipes();
        }
    }

    /** argv[0] with a NUL would be cut there by exec: refused as the arguments and the environment are. */
    @Test
    void anArgv0WithANulIsRefused() {
        try (Blob sh = TestHelpers.sh()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> UmhFlux.spec(sh).argv0("name\0evil"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("argv0 contains NUL");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> UmhFlux.spec(sh).args("a\0b"))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
