package io.umhflux.flink;

import static io.umhflux.flink.FlinkJobs.argv0;
import static io.umhflux.flink.FlinkJobs.collect;
import static io.umhflux.flink.FlinkJobs.killer;
import static io.umhflux.flink.FlinkJobs.recordDroppedErrors;
import static io.umhflux.flink.FlinkJobs.restartingEnv;
import static io.umhflux.flink.FlinkJobs.sha256;
import static io.umhflux.flink.FlinkJobs.whileResultsCome;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
 * The request stage's guarantee with checkpointing: helpers SIGKILLed during the job fail their requests (no
 * retries: the definition is not idempotent), each failure fails the task, Flink restarts it from the last
 * checkpoint, and the elements that were in flight are sent again. Every record is answered exactly once in the
 * job's result, counted.
 */
class UmhCheckpointTest {
    @RegisterExtension
    static final MiniClusterExtension CLUSTER = FlinkJobs.restartingCluster();

    @Test
    void killedHelpersRestartTheJobFromACheckpointAndEveryRecordIsAnsweredOnce() throws Exception {
        byte[] sed = Files.readAllBytes(Path.of("/bin/sed"));
        UmhHelper<String, String> upper = UmhHelper.ofBytes("sed-restarted", sed, sha256(sed))
                .args("-u", "s/record/RECORD/").codec(spec -> spec.lines(1024)).pool(2);
        StreamExecutionEnvironment env = restartingEnv();
        AtomicInteger kills = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong received = new AtomicLong();
        Thread killer = killer(p -> argv0(p.pid()).equals("sed-restarted"), whileResultsCome(received), 5, 400, kills,
                running);
        List<Throwable> dropped = recordDroppedErrors();
        List<String> answers;
        try {
            // slow enough that the job is still running while helpers are killed: one element every ~20 µs
            DataStream<String> records = env.fromSequence(0, 199_999).map(i -> "record " + i)
                    .returns(Types.STRING);
            answers = collect(UmhStages.requests(records, upper, Types.STRING, Duration.ofSeconds(30), 16), received);
        } finally {
            Hooks.resetOnErrorDropped();
            running.set(false);
            killer.join();
        }
        // answers and failures of tasks that ended reach no one: none is dropped with an error on the way
        assertThat(dropped).as("errors Reactor dropped during the job").isEmpty();
        assertThat(kills.get()).as("helpers killed during the job").isPositive();
        assertThat(answers).hasSize(200_000);
        assertThat(answers.stream().sorted().collect(Collectors.toList())).isEqualTo(LongStream.range(0, 200_000)
                .mapToObj(i -> "RECORD " + i).sorted().collect(Collectors.toList()));
    }
}
