package io.umhflux.flink;

import static io.umhflux.flink.FlinkJobs.argv0;
import static io.umhflux.flink.FlinkJobs.collect;
import static io.umhflux.flink.FlinkJobs.killer;
import static io.umhflux.flink.FlinkJobs.env;
import static io.umhflux.flink.FlinkJobs.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.umhflux.HelperFailedException;
import io.umhflux.Restart;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The request stage on a real MiniCluster (one task manager, two slots, parallelism 2). */
class UmhStagesTest {
    @RegisterExtension
    static final MiniClusterExtension CLUSTER = FlinkJobs.cluster();

    @Test
    void aHundredThousandRecordsThroughAPooledHelperEqualAPlainMap() throws Exception {
        byte[] sed = Files.readAllBytes(Path.of("/bin/sed"));
        UmhHelper<String, String> upper = UmhHelper.ofBytes("sed", sed, sha256(sed)).args("-u", "s/record/RECORD/")
                .codec(spec -> spec.lines(1024)).pool(2);
        DataStream<String> records = env().fromSequence(0, 99_999).map(i -> "record " + i).returns(Types.STRING);
        List<String> answers = collect(UmhStages.requests(records, upper, Types.STRING, Duration.ofSeconds(30), 64));

        List<String> expected = LongStream.range(0, 100_000).mapToObj(i -> ("record " + i).replace("record", "RECORD"))
                .sorted().collect(Collectors.toList());
        assertThat(answers.stream().sorted().collect(Collectors.toList())).isEqualTo(expected);
        assertThat(HelperRegistry.size()).as("pools left once the job ended").isZero();
    }

    /** One helper per JVM, one request at a time (a round trip each): the same answers as a plain map. */
    @Test
    void aLockstepHelperAnswersEveryRecord() throws Exception {
        byte[] sed = Files.readAllBytes(Path.of("/bin/sed"));
        UmhHelper<String, String> upper = UmhHelper.ofBytes("sed", sed, sha256(sed)).args("-u", "s/record/RECORD/")
                .codec(spec -> spec.lines(1024)).maxInFlight(1);
        DataStream<String> records = env().fromSequence(0, 49_999).map(i -> "record " + i).returns(Types.STRING);
        List<String> answers = collect(UmhStages.requests(records, upper, Types.STRING, Duration.ofSeconds(30), 64));
        assertThat(answers.stream().sorted().collect(Collectors.toList())).isEqualTo(LongStream.range(0, 50_000)
                .mapToObj(i -> "RECORD " + i).sorted().collect(Collectors.toList()));
    }

    /**
     * Chaos: while 100,000 records go through a pool of {@code sed} helpers marked idempotent, a thread SIGKILLs one
     * of them every 20 ms. The pool sends the requests that were on a killed helper again to another: every answer
     * is there exactly once, and some helpers were killed (counted).
     */
    @Test
    void helpersKilledDuringAJobWithIdempotentRequestsLoseNoAnswer() throws Exception {
        byte[] sed = Files.readAllBytes(Path.of("/bin/sed"));
        UmhHelper<String, String> upper = UmhHelper.ofBytes("sed-chaos", sed, sha256(sed))
                .args("-u", "s/record/RECORD/").codec(spec -> spec.lines(1024)).pool(2).idempotent(10)
                .restart(Restart.backoff(Duration.ofMillis(1), Duration.ofMillis(20)).budget(100_000,
                        Duration.ofMinutes(1)));
        java.util.concurrent.atomic.AtomicInteger kills = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread killer = killer(p -> argv0(p.pid()).equals("sed-chaos"), Integer.MAX_VALUE, 20, kills, running);
        List<String> answers;
        try {
            DataStream<String> records = env().fromSequence(0, 99_999).map(i -> "record " + i).returns(Types.STRING);
            answers = collect(UmhStages.unorderedRequests(records, upper, Types.STRING, Duration.ofSeconds(30), 64));
        } finally {
            running.set(false);
            killer.join();
        }
        assertThat(kills.get()).as("helpers killed during the job").isPositive();
        assertThat(answers.stream().sorted().collect(Collectors.toList())).isEqualTo(LongStream.range(0, 100_000)
                .mapToObj(i -> "RECORD " + i).sorted().collect(Collectors.toList()));
    }

    /** A class-path resource of the job runs from a memfd of the worker: the helper says where it runs from. */
    @Test
    void aHelperFromTheJobsClassPathRunsFromAMemfdNotAFile() throws Exception {
        UmhHelper<String, String> where = UmhHelper.ofResource("helpers/where.sh").codec(spec -> spec.lines(1024));
        DataStream<String> records = env().fromSequence(0, 99).map(i -> "record " + i).returns(Types.STRING);
        List<String> answers = collect(UmhStages.unorderedRequests(records, where, Types.STRING,
                Duration.ofSeconds(30), 8));
        assertThat(answers).hasSize(100)
                .allSatisfy(a -> assertThat(a).matches("record \\d+ /memfd:umh:where\\.sh \\(deleted\\)"));
    }

    @Test
    void aHelperThatDiesFailsTheJobWithItsExitStatus() {
        UmhHelper<String, String> crash = UmhHelper.ofResource("helpers/crash.sh").codec(spec -> spec.lines(1024));
        // one subtask, far from the source's end when it fails: the job reports this failure, not a follower's
        DataStream<String> records = env().setParallelism(1).fromSequence(0, 999_999).map(i -> "record " + i)
                .returns(Types.STRING);
        assertThatThrownBy(() -> collect(UmhStages.requests(records, crash, Types.STRING, Duration.ofSeconds(30),
                8))).hasRootCauseInstanceOf(HelperFailedException.class)
                .rootCause().hasMessageContaining("code 3").hasMessageContaining("doomed at record 500");
    }

    @Test
    void badDefinitionsFailWithAClearMessage() throws Exception {
        byte[] sed = Files.readAllBytes(Path.of("/bin/sed"));
        assertThatThrownBy(() -> UmhHelper.ofBytes("sed", sed, "00".repeat(32)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not the pinned");
        UmhHelper<String, String> missing = UmhHelper.ofResource("helpers/missing.sh").codec(spec -> spec.lines(64));
        DataStream<String> records = env().setParallelism(1).fromSequence(0, 999_999).map(i -> "record " + i)
                .returns(Types.STRING);
        assertThatThrownBy(() -> collect(UmhStages.requests(records, missing, Types.STRING, Duration.ofSeconds(30),
                8))).rootCause().hasMessageContaining("no resource helpers/missing.sh");
    }

    /** A framing maximum below the records: each stage fails the job saying the record cannot be encoded. */
    @Test
    void aFramingMaximumBelowTheRecordsFailsTheJobClearly() throws Exception {
        byte[] cat = Files.readAllBytes(Path.of("/bin/cat"));
        UmhHelper<String, String> tight = UmhHelper.ofBytes("cat", cat, sha256(cat)).codec(spec -> spec.lines(8));
        // parallelism 1 and a source far from its end when the first record fails: otherwise Flink may report
        // another subtask's failover, or the source's lost end-of-splits event, as the job's failure
        DataStream<String> records = env().setParallelism(1).fromSequence(0, 999_999)
                .map(i -> "a record longer than eight bytes " + i).returns(Types.STRING);
        assertThatThrownBy(() -> collect(UmhStages.requests(records, tight, Types.STRING, Duration.ofSeconds(30), 8)))
                .satisfies(e -> assertThat(org.apache.flink.util.ExceptionUtils.stringifyException(e))
                        .contains("encodes to 34 bytes; the framing's maximum is 8"));
        DataStream<String> again = env().setParallelism(1).fromSequence(0, 999_999)
                .map(i -> "a record longer than eight bytes " + i).returns(Types.STRING);
        assertThatThrownBy(() -> collect(UmhStages.pipe(again, tight, Types.STRING)))
                .satisfies(e -> assertThat(org.apache.flink.util.ExceptionUtils.stringifyException(e))
                        .contains("encodes to 34 bytes; the framing's maximum is 8"));
    }
}
