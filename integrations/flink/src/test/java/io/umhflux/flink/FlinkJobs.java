package io.umhflux.flink;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;

/** What the Flink tests share: a MiniCluster of one task manager with two slots, and jobs at parallelism 2. */
final class FlinkJobs {
    private FlinkJobs() {
    }

    static MiniClusterExtension cluster() {
        return new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
                .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());
    }

    static StreamExecutionEnvironment env() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        return env;
    }

    /** Runs the job and collects what {@code stream} carries. */
    static <T> List<T> collect(DataStream<T> stream) throws Exception {
        List<T> out = new ArrayList<>();
        CloseableIterator<T> it = stream.executeAndCollect();
        try {
            it.forEachRemaining(out::add);
        } finally {
            it.close();
        }
        return out;
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /** A process's argv[0] (a helper's is its blob's name), or "" once it is gone. */
    static String argv0(long pid) {
        try {
            String cmdline = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/cmdline"));
            int end = cmdline.indexOf('\0');
            return end < 0 ? cmdline : cmdline.substring(0, end);
        } catch (java.io.IOException gone) {
            return "";
        }
    }

    /** Parallelism 2, a checkpoint every 200 ms, and a fixed-delay restart strategy (50 ms, 1,000 attempts). */
    static StreamExecutionEnvironment restartingEnv() {
        org.apache.flink.configuration.Configuration conf = new org.apache.flink.configuration.Configuration();
        conf.set(org.apache.flink.configuration.RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(org.apache.flink.configuration.RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 1_000);
        conf.set(org.apache.flink.configuration.RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY,
                java.time.Duration.ofMillis(50));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(200);
        return env;
    }

    /**
     * Starts a thread that, every {@code everyMillis} until {@code running} is false or {@code most} were killed,
     * SIGKILLs one child of this JVM that {@code which} picks, counting the kills in {@code kills}.
     */
    static Thread killer(java.util.function.Predicate<ProcessHandle> which, int most, long everyMillis,
            java.util.concurrent.atomic.AtomicInteger kills, java.util.concurrent.atomic.AtomicBoolean running) {
        Thread killer = new Thread(() -> {
            while (running.get() && kills.get() < most) {
                try {
                    Thread.sleep(everyMillis);
                } catch (InterruptedException e) {
                    return;
                }
                ProcessHandle.current().children().filter(which).findAny().ifPresent(p -> {
                    if (p.destroyForcibly()) {
                        kills.incrementAndGet();
                    }
                });
            }
        }, "chaos");
        killer.start();
        return killer;
    }
}
