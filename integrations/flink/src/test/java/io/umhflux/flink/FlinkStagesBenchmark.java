package io.umhflux.flink;

import static io.umhflux.flink.FlinkJobs.sha256;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Records per second of a Flink job through each umh-flux stage against the same job as users write it today: a
 * {@code RichFlatMapFunction} that starts {@code cat} with {@code ProcessBuilder} in {@code open()} and talks text
 * lines through a writer and a reader thread (the {@code RDD.pipe} way), and a {@code RichMapFunction} that writes a
 * line and reads its answer (request/response). ~30-byte records, local environments of parallelism 1 and 2, the
 * variants alternating, three rounds, medians. Not a test: run it with
 * {@code mvn -B -pl integrations/flink test -Dtest=FlinkStagesBenchmark -Dbenchmark=true}; it prints its table.
 */
@Tag("benchmark")
class FlinkStagesBenchmark {
    private static final int STREAMED = 2_000_000;
    private static final int REQUESTS = 200_000;

    private static String record(long i) {
        return "record-" + (1_000_000_000L + i) + "-payload-xyz"; // 33 bytes with the newline
    }

    private static double recordsPerSecond(int parallelism, long records, java.util.function.Function<
            DataStream<String>, DataStream<String>> stage) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism,
                new Configuration());
        DataStream<String> in = env.fromSequence(0, records - 1).map(FlinkStagesBenchmark::record)
                .returns(Types.STRING);
        stage.apply(in).sinkTo(new DiscardingSink<>());
        long start = System.nanoTime();
        env.execute();
        return records / ((System.nanoTime() - start) / 1e9);
    }

    @Test
    void stagesAgainstProcessBuilder() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Boolean.getBoolean("benchmark"), "-Dbenchmark=true runs it");
        byte[] cat = Files.readAllBytes(Path.of("/bin/cat"));
        UmhHelper<String, String> helper = UmhHelper.ofBytes("cat", cat, sha256(cat)).codec(spec -> spec.lines(256));
        for (int parallelism : new int[] {1, 2}) {
            List<Double> pipe = new ArrayList<>();
            List<Double> byHand = new ArrayList<>();
            List<Double> requests = new ArrayList<>();
            List<Double> lockstep = new ArrayList<>();
            for (int round = 0; round < 4; round++) { // the first round warms up and is left out
                double a = recordsPerSecond(parallelism, STREAMED, in -> UmhStages.pipe(in, helper, Types.STRING));
                double b = recordsPerSecond(parallelism, STREAMED, in -> in.flatMap(new PipeByHand())
                        .returns(Types.STRING));
                UmhHelper<String, String> requestHelper = Boolean.getBoolean("benchmark.pipelined")
                        ? helper.pipelined(64) : helper.pool(parallelism);
                double c = recordsPerSecond(parallelism, REQUESTS, in -> UmhStages.requests(in, requestHelper,
                        Types.STRING, Duration.ofSeconds(30), 64));
                double d = recordsPerSecond(parallelism, REQUESTS, in -> in.map(new LockstepByHand())
                        .returns(Types.STRING));
                if (round > 0) {
                    pipe.add(a);
                    byHand.add(b);
                    requests.add(c);
                    lockstep.add(d);
                }
            }
            System.out.printf("parallelism %d: pipe %.0f vs by hand %.0f records/s (%.2fx); requests %.0f vs"
                    + " lockstep by hand %.0f records/s (%.2fx)%n", parallelism, median(pipe), median(byHand),
                    median(pipe) / median(byHand), median(requests), median(lockstep),
                    median(requests) / median(lockstep));
            System.out.println("  rounds: pipe " + pipe + ", by hand " + byHand + ", requests " + requests
                    + ", lockstep " + lockstep);
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /**
     * The {@code RDD.pipe} way in Flink: elements go to {@code cat} through a writer thread, lines come back
     * through a reader thread and are emitted at the next element. (Lines still inside at the end are lost: a
     * flatMap cannot emit in {@code close()}; counted nowhere here, as users do not see them either.)
     */
    static final class PipeByHand extends RichFlatMapFunction<String, String> {
        private static final long serialVersionUID = 1L;
        private static final String END = new String("end");
        private transient Process process;
        private transient BlockingQueue<String> toWrite;
        private transient BlockingQueue<String> read;
        private transient Thread writer;
        private transient Thread reader;

        @Override
        public void open(OpenContext context) throws IOException {
            process = new ProcessBuilder("/bin/cat").start();
            toWrite = new ArrayBlockingQueue<>(1024);
            read = new LinkedBlockingQueue<>();
            writer = new Thread(() -> {
                try (BufferedWriter w = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(),
                        StandardCharsets.UTF_8), 64 * 1024)) {
                    for (String s; (s = toWrite.take()) != END;) {
                        w.write(s);
                        w.newLine();
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "pipe-writer");
            reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8), 64 * 1024)) {
                    for (String line; (line = r.readLine()) != null;) {
                        read.add(line);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, "pipe-reader");
            writer.start();
            reader.start();
        }

        @Override
        public void flatMap(String value, Collector<String> out) throws InterruptedException {
            toWrite.put(value);
            for (String s; (s = read.poll()) != null;) {
                out.collect(s);
            }
        }

        @Override
        public void close() throws InterruptedException {
            toWrite.put(END);
            writer.join();
            reader.join();
            process.waitFor();
        }
    }

    /** Request/response by hand: write a line, flush, read its answer. */
    static final class LockstepByHand extends RichMapFunction<String, String> {
        private static final long serialVersionUID = 1L;
        private transient Process process;
        private transient BufferedWriter w;
        private transient BufferedReader r;

        @Override
        public void open(OpenContext context) throws IOException {
            process = new ProcessBuilder("/bin/cat").start();
            w = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
            r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        @Override
        public String map(String value) throws IOException {
            w.write(value);
            w.newLine();
            w.flush();
            return r.readLine();
        }

        @Override
        public void close() throws IOException, InterruptedException {
            w.close();
            process.waitFor();
        }
    }
}
