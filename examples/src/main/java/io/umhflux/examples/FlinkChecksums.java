package io.umhflux.examples;

import io.umhflux.examples.Checksums.Checksum;
import io.umhflux.flink.UmhHelper;
import io.umhflux.flink.UmhStages;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;

/**
 * A Flink job whose stage is the embedded C helper: typed records ({@code byte[]} payloads in, {@link Checksum}s
 * out) through a pool of helpers in each worker JVM, spawned from the bytes the build put in this jar. The job
 * runs in a local environment here; submitted to a cluster it runs the same, the helper travelling in the job's
 * jar and never written to a worker's disk.
 */
public final class FlinkChecksums {
    private FlinkChecksums() {
    }

    /** The checksums of the payloads {@code "payload 0"} to {@code "payload <count-1>"}, in order. */
    public static List<Checksum> checksums(int count) throws Exception {
        UmhHelper<byte[], Checksum> checksum = UmhHelper.ofResource(Checksums.RESOURCE) // built by Maven, in the jar
                .codec(Checksums::typed)                        // length-prefixed payloads out, Checksums back
                .pool(2);                                       // helpers per worker JVM, shared by its subtasks
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        DataStream<byte[]> payloads = env.fromSequence(0, count - 1)
                .map(i -> ("payload " + i).getBytes(StandardCharsets.UTF_8))
                .returns(byte[].class);
        DataStream<Checksum> answers = UmhStages.requests(payloads, checksum, TypeInformation.of(Checksum.class),
                Duration.ofSeconds(10), 64);                    // in order, 64 in flight per subtask
        List<Checksum> out = new ArrayList<>();
        CloseableIterator<Checksum> it = answers.executeAndCollect();
        try {
            it.forEachRemaining(out::add);
        } finally {
            it.close();
        }
        return out;
    }
}
