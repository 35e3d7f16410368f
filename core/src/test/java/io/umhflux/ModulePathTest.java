package io.umhflux;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The suite runs on the class path; this runs core as the named module {@code io.umhflux} (its compiled
 * classes with module-info, on the module path with its runtime dependencies) in a child JVM and echoes
 * through cat, so that the module descriptor (exports for jnr-ffi's generated class, requires) is tested.
 */
class ModulePathTest {

    @Test
    void coreWorksAsANamedModule() throws Exception {
        Path runtime = Path.of("target", "runtime-classpath.txt");
        assertThat(runtime).as("written by maven-dependency-plugin in generate-test-resources").exists();
        String modulePath = Path.of("target", "classes").toAbsolutePath() + File.pathSeparator
                + Files.readString(runtime).strip();
        Path source = Path.of("src", "test", "resources", "modulepath", "ModulePathMain.java");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--module-path", modulePath, "--add-modules", "ALL-MODULE-PATH",
                source.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("child JVM output:%n%s", out).isZero();
        assertThat(out).contains("module io.umhflux").contains("echo on the module path");
    }
}
