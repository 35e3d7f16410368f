package io.umhflux.flink;

import static io.umhflux.flink.FlinkJobs.collect;
import static io.umhflux.flink.FlinkJobs.env;
import static io.umhflux.flink.FlinkJobs.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.umhflux.HelperFailedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The streaming stage on a real MiniCluster (one task manager, two slots, parallelism 2). */
class UmhPipeTest {
    @RegisterExtension
    static final MiniClusterExtension CLUSTER = FlinkJobs.cluster();

    private static UmhHelper<String, String> fromPath(String path, String... args) throws Exception {
        byte[] bytes = Files.readAllBytes(Path.of(path));
        String sha = sha256(bytes);
        return UmhHelper.ofBytes(Path.of(path).getFileName().toString(), bytes, sha).args(args)
                .codec(spec -> spec.lines(1024));
    }

    /** Several outputs per input: the words of lines, split by {@code tr}, equal a plain flatMap. */
    @Test
    void theWordsOfLinesThroughTrEqualAPlainFlatMap() throws Exception {
        UmhHelper<String, String> words = fromPath("/usr/bin/tr", "-s", " ", "\\n");
        DataStream<String> lines = env().fromSequence(0, 19_999).map(i -> "w" + i + " x" + i + " y" + i)
                .returns(Types.STRING);
        List<String> out = collect(UmhStages.pipe(lines, words, Types.STRING));

        List<String> expected = LongStream.range(0, 20_000).boxed()
                .flatMap(i -> Arrays.stream(("w" + i + " x" + i + " y" + i).split(" "))).sorted()
                .collect(Collectors.toList());
        assertThat(out.stream().sorted().collect(Collectors.toList())).isEqualTo(expected);
        assertThat(HelperRegistry.size()).as("blobs left once the job ended").isZero();
    }

    /**
     * A million elements through a helper that reads slowly (4 KiB every 2 ms, the kernel's 64 KiB pipes, a 4 KiB
     * high-water mark): the task thread waits in its mailbox for room, every element arrives, and the heap used
     * after the job is within 64 MiB of the heap used before it (the operator buffered nothing without bound).
     */
    @Test
    void aMillionElementsThroughAHelperThatReadsSlowly() throws Exception {
        UmhHelper<String, String> slow = UmhHelper.ofResource("helpers/slow_cat.sh")
                .codec(spec -> spec.lines(64).pipeSize(0).highWaterMark(4096));
        long before = usedHeapAfterGc();
        DataStream<String> records = env().fromSequence(0, 999_999).map(i -> "r" + i).returns(Types.STRING);
        long[] counted = new long[1];
        CloseableIterator<String> it = UmhStages.pipe(records, slow, Types.STRING).executeAndCollect();
        boolean[] seen = new boolean[1_000_000];
        try {
            it.forEachRemaining(r -> {
                seen[Integer.parseInt(r.substring(1))] = true;
                counted[0]++;
            });
        } finally {
            it.close();
        }
        assertThat(counted[0]).isEqualTo(1_000_000);
        for (int i = 0; i < seen.length; i++) {
            assertThat(seen[i]).as("element %d arrived", i).isTrue();
        }
        assertThat(usedHeapAfterGc() - before).as("heap grown by the job").isLessThan(64L << 20);
    }

    private static long usedHeapAfterGc() {
        System.gc();
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    @Test
    void aHelperThatDiesFailsTheJobWithItsExitStatus() {
        UmhHelper<String, String> crash = UmhHelper.ofResource("helpers/crash.sh").codec(spec -> spec.lines(1024));
        // one subtask, far from the source's end when it fails: the job reports this failure, not a follower's
        DataStream<String> records = env().setParallelism(1).fromSequence(0, 999_999).map(i -> "record " + i)
                .returns(Types.STRING);
        assertThatThrownBy(() -> collect(UmhStages.pipe(records, crash, Types.STRING)))
                .hasRootCauseInstanceOf(HelperFailedException.class)
                .rootCause().hasMessageContaining("code 3").hasMessageContaining("doomed at record 500");
    }

    /**
     * An element the codec refuses after the sink took it (a line over the framing's maximum) fails the task, though
     * the helper got the others and exited 0: the element is not dropped in silence.
     */
    @Test
    void anElementTheCodecRefusesFailsTheJob() throws Exception {
        UmhHelper<String, String> cat = fromPath("/bin/cat").codec(spec -> spec.lines(16));
        DataStream<String> records = env().setParallelism(1).fromData("a", "b", "x".repeat(100));
        assertThatThrownBy(() -> collect(UmhStages.pipe(records, cat, Types.STRING)))
                .hasStackTraceContaining("did not get every element")
                .hasStackTraceContaining("cannot encode outbound message");
    }

    /**
     * With object reuse, an upstream that hands the same mutable object over and over (here one {@code byte[]}) does
     * not corrupt what the helper gets: the stage copies each element before the sink holds it.
     */
    @Test
    void aReusedMutableElementIsCopiedBeforeTheHelperGetsIt() throws Exception {
        byte[] cat = Files.readAllBytes(Path.of("/bin/cat"));
        UmhHelper<byte[], byte[]> echo = UmhHelper.ofBytes("cat", cat, sha256(cat)).codec(spec -> spec.codec(
                io.umhflux.codec.Framing.lengthPrefixed(64), io.umhflux.codec.Codecs.bytes(),
                io.umhflux.codec.Codecs.bytes()));
        StreamExecutionEnvironment env = env();
        env.getConfig().enableObjectReuse();
        DataStream<byte[]> reused = env.fromSequence(0, 99_999).map(new Reusing()).returns(byte[].class);
        List<String> out = collect(UmhStages.pipe(reused, echo, org.apache.flink.api.common.typeinfo
                .PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO)).stream()
                .map(b -> new String(b, java.nio.charset.StandardCharsets.US_ASCII)).sorted()
                .collect(Collectors.toList());
        assertThat(out).isEqualTo(LongStream.range(0, 100_000).mapToObj(i -> String.format("%08d", i)).sorted()
                .collect(Collectors.toList()));
    }

    /** Writes each number into the same array and returns it, as an object-reusing function may. */
    private static final class Reusing extends org.apache.flink.api.common.functions.RichMapFunction<Long, byte[]> {
        private static final long serialVersionUID = 1L;
        private final byte[] reused = new byte[8];

        @Override
        public byte[] map(Long value) {
            byte[] digits = String.format("%08d", value).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            System.arraycopy(digits, 0, reused, 0, 8);
            return reused;
        }
    }
}
