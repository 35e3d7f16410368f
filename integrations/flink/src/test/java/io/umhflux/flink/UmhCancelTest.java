package io.umhflux.flink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Cancelling a running job stops every helper of it: none is left among this JVM's children. */
class UmhCancelTest {
    @RegisterExtension
    static final MiniClusterExtension CLUSTER = FlinkJobs.cluster();

    /** The pids of this JVM's children (the MiniCluster runs in it, and so do the helpers' parents). */
    private static List<Long> children() {
        return ProcessHandle.current().children().map(ProcessHandle::pid).collect(Collectors.toList());
    }

    private static String describe(List<Long> pids) {
        StringBuilder b = new StringBuilder();
        for (long pid : pids) {
            try {
                b.append(pid).append(": ").append(Files.readString(Path.of("/proc/" + pid + "/cmdline"))
                        .replace('\0', ' ')).append(" [").append(Files.readString(Path.of("/proc/" + pid + "/stat"))
                        .split(" ")[2]).append("]; ");
            } catch (IOException gone) {
                b.append(pid).append(": gone; ");
            }
        }
        return b.toString();
    }

    @Test
    void cancellingARunningJobLeavesNoHelper() throws Exception {
        List<Long> before = children();
        UmhHelper<String, String> cat = UmhHelper.ofResource("helpers/slow_cat.sh").codec(spec -> spec.lines(64));
        UmhHelper<String, String> where = UmhHelper.ofResource("helpers/where.sh").codec(spec -> spec.lines(1024))
                .pool(2);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        DataStream<String> endless = env.fromSequence(0, Long.MAX_VALUE).map(i -> "r" + i).returns(Types.STRING);
        DataStream<String> piped = UmhStages.pipe(endless, cat, Types.STRING);
        UmhStages.requests(piped, where, Types.STRING, Duration.ofSeconds(30), 16).sinkTo(new DiscardingSink<>());
        JobClient job = env.executeAsync("endless");
        try {
            // two streaming helpers (one per subtask) and the request pool's helpers are running
            await().atMost(Duration.ofSeconds(30)).until(() -> children().size() >= before.size() + 3);
        } finally {
            job.cancel().get();
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<Long> now = children();
            now.removeAll(before);
            assertThat(now).as("children of this JVM left after the cancel: %s", describe(now)).isEmpty();
        });
        assertThat(HelperRegistry.size()).as("pools and blobs left after the cancel").isZero();
    }
}
