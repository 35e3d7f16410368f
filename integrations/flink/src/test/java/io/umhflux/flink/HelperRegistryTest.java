package io.umhflux.flink;

import static io.umhflux.flink.FlinkJobs.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import io.umhflux.Blob;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry as it is where this module sits in Flink's {@code lib/}: one copy for every job of the task manager,
 * each job with its own user-code class loader.
 */
class HelperRegistryTest {
    @TempDir
    Path jars;

    private URLClassLoader jobWith(String job, String script) throws Exception {
        Path dir = jars.resolve(job);
        Files.createDirectories(dir.resolve("bin"));
        Files.writeString(dir.resolve("bin/tool"), script);
        return new URLClassLoader(new URL[] {dir.toUri().toURL()}, null);
    }

    /**
     * Two jobs whose jars carry different executables at one resource path each get their own; the end of one job
     * closes its blob and leaves the other's running.
     */
    @Test
    void eachJobGetsItsOwnBlobAndItsEndClosesOnlyThat() throws Exception {
        String one = "#!/bin/sh\necho one\n";
        String two = "#!/bin/sh\necho two\n";
        UmhHelper<?, ?> tool = UmhHelper.ofResource("bin/tool");
        int before = HelperRegistry.size();
        try (URLClassLoader job1 = jobWith("job1", one); URLClassLoader job2 = jobWith("job2", two)) {
            HelperRegistry.Lease<Blob> first = HelperRegistry.acquireBlob(tool, job1);
            HelperRegistry.Lease<Blob> second = HelperRegistry.acquireBlob(tool, job2);
            try {
                assertThat(first.get().sha256()).isEqualTo(sha256(one.getBytes(StandardCharsets.UTF_8)));
                assertThat(second.get().sha256()).as("the blob job 2 runs")
                        .isEqualTo(sha256(two.getBytes(StandardCharsets.UTF_8)));
                assertThat(HelperRegistry.size()).isEqualTo(before + 2);

                HelperRegistry.release(job1); // job 1's class loader goes
                assertThat(first.get().isClosed()).as("job 1's blob").isTrue();
                assertThat(second.get().isClosed()).as("job 2's blob").isFalse();
                assertThat(HelperRegistry.size()).isEqualTo(before + 1);
            } finally {
                second.release();
                first.release(); // after its job's end: nothing more to close
            }
            assertThat(second.get().isClosed()).as("job 2's blob once its last holder let go").isTrue();
            assertThat(HelperRegistry.size()).isEqualTo(before);
        }
    }
}
