package io.umhflux.internal.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where a helper's pids cgroup goes, from a process's cgroup and mountinfo files. */
class PidsCgroupTest {
    private static Optional<Path> find(Path dir, String cgroup, String mountinfo) throws IOException {
        return PidsCgroup.find(Files.writeString(dir.resolve("cgroup"), cgroup),
                Files.writeString(dir.resolve("mountinfo"), mountinfo));
    }

    @Test
    void aCgroupV1PidsHierarchyBeneathTheProcesssOwnCgroup(@TempDir Path dir) throws IOException {
        Path own = Files.createDirectories(dir.resolve("pids mount/service"));
        assertThat(find(dir, "4:memory:/other\n8:pids:/service\n0::/\n",
                "30 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
                        + "31 25 0:28 / " + dir + "/pids\\040mount rw,nosuid shared:9 - cgroup cgroup rw,pids\n"))
                .contains(own);
    }

    @Test
    void aMountOfACgroupsSubtreeIsResolvedFromItsRoot(@TempDir Path dir) throws IOException {
        Path own = Files.createDirectories(dir.resolve("pids/inner"));
        assertThat(find(dir, "8:pids:/container/inner\n",
                "31 25 0:28 /container " + dir + "/pids rw - cgroup cgroup rw,pids\n")).contains(own);
    }

    @Test
    void cgroupV2OnlyWhereTheProcesssCgroupDelegatesPids(@TempDir Path dir) throws IOException {
        Path own = Files.createDirectories(dir.resolve("unified/app"));
        String mountinfo = "40 25 0:29 / " + dir + "/unified rw - cgroup2 cgroup2 rw\n";
        Files.writeString(own.resolve("cgroup.subtree_control"), "cpu memory\n");
        assertThat(find(dir, "0::/app\n", mountinfo)).isEmpty();
        Files.writeString(own.resolve("cgroup.subtree_control"), "cpu memory pids\n");
        assertThat(find(dir, "0::/app\n", mountinfo)).contains(own);
    }

    @Test
    void noPidsHierarchyNoCgroup(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("memory/service"));
        assertThat(find(dir, "4:memory:/service\n", "30 25 0:27 / " + dir + "/memory rw - cgroup cgroup rw,memory\n"))
                .isEmpty();
        assertThat(PidsCgroup.find(dir.resolve("missing"), dir.resolve("missing"))).isEmpty();
    }
}
