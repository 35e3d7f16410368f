package io.umhflux.flink;

import static io.umhflux.flink.FlinkJobs.collect;
import static io.umhflux.flink.FlinkJobs.killer;
import static io.umhflux.flink.FlinkJobs.recordDroppedErrors;
import static io.umhflux.flink.FlinkJobs.restartingEnv;
import static io.umhflux.flink.FlinkJobs.runFor;
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
import reactor.core.publisher.Hooks;

/**
 * The streaming stage's guarantee with checkpointing, for a helper that answers each element: helpers SIGKILLed
 * during the job, restarts from checkpoints, and every answer exactly once in the result. A class (and so a
 * MiniCluster) of its own, apart from the request stage's test.
 */
class UmhPipeCheckpointTest {
    @RegisterExtension
    static final MiniClusterExtension CLUSTER = FlinkJobs.restartingCluster();

    /**
     * The streaming stage with a slow helper that answers each line ({@code answersEach()}): each barrier waits
     * until everything sent was answered, so three SIGKILLs and restarts from checkpoints leave every answer in the
     * result exactly once. (Without the flag the job loses the answers still inside the helper at the last
     * checkpoint before each kill.)
     */
    @Test
    void aStreamingHelperThatAnswersEachGivesEveryAnswerOnceAcrossRestarts() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")),
                "python3 is not installed");
        byte[] py = ("#!/usr/bin/python3 -u\nimport sys, time\nfor l in sys.stdin:\n    time.sleep(0.00005)\n"
                + "    sys.stdout.write(l.upper())\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        UmhHelper<String, String> slow = UmhHelper.ofBytes("slow-upper.py", py, sha256(py))
                .codec(spec -> spec.lines(64)).answersEach();
        StreamExecutionEnvironment env = restartingEnv();
        AtomicInteger kills = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        // its results come only at the end (a checkpoint waits for the helper's backlog): the helpers' age tells
        // that the job's tasks have started
        Thread killer = killer(p -> p.info().commandLine().orElse("").contains("python3")
                && runFor(p, Duration.ofSeconds(1)), 3, 300, kills, running);
        List<Throwable> dropped = recordDroppedErrors();
        List<String> answers;
        try {
            DataStream<String> records = env.fromSequence(0, 99_999).map(i -> "record " + i).returns(Types.STRING);
            answers = collect(UmhStages.pipe(records, slow, Types.STRING));
        } finally {
            Hooks.resetOnErrorDropped();
            running.set(false);
            killer.join();
        }
        // answers and failures of tasks that ended reach no one: none is dropped with an error on the way
        assertThat(dropped).as("errors Reactor dropped during the job").isEmpty();
        assertThat(kills.get()).as("helpers killed during the job").isPositive();
        assertThat(answers).hasSize(100_000);
        assertThat(answers.stream().sorted().collect(Collectors.toList())).isEqualTo(LongStream.range(0, 100_000)
                .mapToObj(i -> "RECORD " + i).sorted().collect(Collectors.toList()));
    }
}
