package io.umhflux.benchmarks;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.umhflux.flink.UmhHelper;
import io.umhflux.flink.UmhStages;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.util.TestStreamEnvironment;
import org.apache.flink.util.Collector;

/**
 * Records per second of a Flink job through each umh-flux stage against the same job as users write it today, side
 * by side on one MiniCluster (one task manager, two slots): {@code fromSequence → map to a ~30-byte line → stage →
 * discard}, at parallelism 1 and 2.
 *
 * <ul>
 *   <li>{@code pipe}: {@link UmhStages#pipe} through {@code cat}, against {@code pipeByHand}, a
 *       {@code RichFlatMapFunction} that starts {@code cat} with {@code ProcessBuilder} in {@code open()} and talks
 *       text lines through a writer and a reader thread (the {@code RDD.pipe} way);
 *   <li>{@code requests}: {@link UmhStages#requests} (capacity 256; the worker's pool has one helper per subtask,
 *       each taking up to 256 requests ahead of their answers), against {@code lockstepByHand}, a
 *       {@code RichMapFunction} that writes a line to its {@code cat} and reads the answer;
 *   <li>{@code noStage}: the job without a stage, the ceiling of any stage.
 * </ul>
 *
 * <p>The streaming variants take 10 M records per job, the request variants 100,000 ({@code --quick}) or 500,000.
 * Each round runs every variant once, in turn; the first round warms up and is left out. A job's rate is its
 * input records over the job's net runtime (from submission to its end, as the job manager measured it); a Flink
 * accumulator counts what reaches the end of the job, and a variant that emitted fewer records than it took is
 * flagged ({@code pipeByHand} loses the lines still inside {@code cat} when its flatMap closes). Prints a table and
 * writes one JSON object per parallelism and variant to the output file.
 *
 * <p>For profiling: {@code -Dumh.bench.variants=pipe,noStage}, {@code -Dumh.bench.parallelism=1},
 * {@code -Dumh.bench.streamed=}, {@code -Dumh.bench.requests=} (records per job) and {@code -Dumh.bench.rounds=}.
 *
 * <p>usage: {@code java <Flink's --add-opens flags> -cp benchmarks.jar:<Flink's class path>
 * io.umhflux.benchmarks.FlinkStages [--quick] <output.json>}; {@code benchmarks/run.sh} runs it.
 */
public final class FlinkStages {
    /** The request stage's capacity (elements of a subtask waiting for answers); {@code -Dumh.bench.capacity=}. */
    private static final int CAPACITY = Integer.getInteger("umh.bench.capacity", 256);

    private FlinkStages() {
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            // Flink's INFO lines (and its WARN about a slot not free yet between two jobs) would bury the table
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "error");
        }
        boolean quick = args.length > 1 && args[0].equals("--quick");
        Path output = Path.of(args[args.length - 1]);
        // 10 M in both forms: a job of a few million records lasts under a second, and its start weighs in its rate
        long streamed = Long.getLong("umh.bench.streamed", 10_000_000);
        long requests = Long.getLong("umh.bench.requests", quick ? 100_000 : 500_000);
        int rounds = Integer.getInteger("umh.bench.rounds", quick ? 3 : 5);
        byte[] cat = Files.readAllBytes(Path.of("/bin/cat"));
        String sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cat));
        UmhHelper<String, String> helper = UmhHelper.ofBytes("cat", cat, sha256).codec(spec -> spec.lines(256));

        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder().setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(2).setConfiguration(new Configuration()).build());
        cluster.start();
        JsonArray results = new JsonArray();
        try {
            int only = Integer.getInteger("umh.bench.parallelism", 0); // -D..=1 runs only parallelism 1
            int[] parallelisms = only > 0 ? new int[] {only} : new int[] {1, 2};
            for (int parallelism : parallelisms) {
                TestStreamEnvironment.setAsContext(cluster, parallelism);
                UmhHelper<String, String> pooled = helper.pool(parallelism);
                Map<String, Variant> variants = new LinkedHashMap<>();
                variants.put("noStage", new Variant(streamed, in -> in));
                variants.put("pipe", new Variant(streamed, in -> UmhStages.pipe(in, helper, Types.STRING)));
                variants.put("pipeByHand", new Variant(streamed,
                        in -> in.flatMap(new PipeByHand()).returns(Types.STRING)));
                variants.put("requests", new Variant(requests, in -> UmhStages.requests(in, pooled, Types.STRING,
                        Duration.ofSeconds(30), CAPACITY)));
                variants.put("lockstepByHand", new Variant(requests,
                        in -> in.map(new LockstepByHand()).returns(Types.STRING)));
                // -Dumh.bench.variants=pipe,noStage runs only these (to profile one)
                String some = System.getProperty("umh.bench.variants");
                if (some != null) {
                    variants.keySet().retainAll(List.of(some.split(",")));
                }
                for (int round = 0; round <= rounds; round++) {
                    for (Variant v : variants.values()) {
                        v.run(round > 0);
                    }
                }
                for (Map.Entry<String, Variant> e : variants.entrySet()) {
                    Variant v = e.getValue();
                    System.out.printf("parallelism %d %-15s %,12.0f records/s  %6.2f us JVM CPU/record  rounds %s%s%n",
                            parallelism, e.getKey(), median(v.rates), median(v.cpu), v.rates,
                            v.lost > 0 ? "  LOST up to " + v.lost + " records in a round" : "");
                    JsonObject o = new JsonObject();
                    o.addProperty("parallelism", parallelism);
                    o.addProperty("variant", e.getKey());
                    o.addProperty("records", v.records);
                    o.addProperty("recordsPerSecond", median(v.rates));
                    o.addProperty("cpuMicrosPerRecord", median(v.cpu));
                    o.addProperty("lostRecords", v.lost);
                    JsonArray each = new JsonArray();
                    v.rates.forEach(each::add);
                    o.add("rounds", each);
                    results.add(o);
                }
                TestStreamEnvironment.unsetAsContext();
            }
        } finally {
            cluster.close();
        }
        Files.writeString(output, new Gson().toJson(results));
    }

    /** One job shape, and what its measured rounds gave. */
    private static final class Variant {
        final long records;
        final UnaryOperator<DataStream<String>> stage;
        final List<Double> rates = new ArrayList<>();
        final List<Double> cpu = new ArrayList<>();
        /** The most records a round lost (its job emitted fewer than it took). */
        long lost;

        Variant(long records, UnaryOperator<DataStream<String>> stage) {
            this.records = records;
            this.stage = stage;
        }

        void run(boolean measured) throws Exception {
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            DataStream<String> in = env.fromSequence(0, records - 1).map(FlinkStages::record).returns(Types.STRING);
            stage.apply(in).map(new Counted()).returns(Types.STRING).sinkTo(new DiscardingSink<>());
            long cpuBefore = processCpuNanos();
            JobExecutionResult result = env.execute();
            long cpuNanos = processCpuNanos() - cpuBefore;
            long out = result.<Long>getAccumulatorResult(Counted.NAME);
            if (out != records) {
                lost = Math.max(lost, records - out);
            }
            if (measured) {
                rates.add(records / (result.getNetRuntime(TimeUnit.MICROSECONDS) / 1e6));
                cpu.add(cpuNanos / 1e3 / records);
            }
        }
    }

    /** Counts what reaches the end of the job, in a Flink accumulator. */
    static final class Counted extends RichMapFunction<String, String> {
        private static final long serialVersionUID = 1L;
        static final String NAME = "records out";
        private final LongCounter counter = new LongCounter();

        @Override
        public void open(OpenContext context) {
            getRuntimeContext().addAccumulator(NAME, counter);
        }

        @Override
        public String map(String value) {
            counter.add(1);
            return value;
        }
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    static String record(long i) {
        return "record-" + (1_000_000_000L + i) + "-payload-xyz"; // 33 bytes with the newline
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /**
     * The {@code RDD.pipe} way in Flink: elements go to {@code cat} through a writer thread, lines come back through
     * a reader thread and are emitted at the next element. (Lines still inside at the end are lost: a flatMap cannot
     * emit in {@code close()}; counted nowhere here, as users do not see them either.)
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
