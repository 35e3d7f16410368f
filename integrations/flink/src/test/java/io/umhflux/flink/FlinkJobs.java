package io.umhflux.flink;

import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import reactor.core.publisher.Hooks;

/**
 * What the Flink tests share: MiniClusters (one task manager with two slots; two of them for jobs that restart), jobs
 * at parallelism 2, and a chaos thread that kills helpers.
 */
final class FlinkJobs {
    /** How long the killer of a restarting job waits after a kill before the next (see {@link #whileResultsCome}). */
    private static final long SETTLE_NANOS = Duration.ofSeconds(1).toNanos();

    private FlinkJobs() {
    }

    static MiniClusterExtension cluster() {
        return new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
                .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());
    }

    /**
     * For jobs that restart: two task managers with two slots each. Flink 2.3's collect sink
     * ({@code executeAndCollect}) fails its task manager when a restart closes it before it was opened
     * (FLINK-39330, a {@code NullPointerException} in {@code CollectSinkFunction.accumulateFinalResults}); with a
     * single task manager the restarted job then waits for slots until Flink's 5-minute slot timeout fails it.
     */
    static MiniClusterExtension restartingCluster() {
        return new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
                .setNumberTaskManagers(2).setNumberSlotsPerTaskManager(2).build());
    }

    /**
     * For a killer in a job that restarts: yes when results came in since the last look and the last yes was at
     * least a second ago. The collect sink hands results over only as checkpoints complete, and a checkpoint
     * completes only while every task of the job runs; the second lets the results fetched before a restart run
     * out. A kill thus falls on a job that started whole, not on tasks still starting after a restart: there Flink
     * would fail the task manager (FLINK-39330, see {@link #restartingCluster}), which tests Flink, not the stage.
     */
    static BooleanSupplier whileResultsCome(AtomicLong received) {
        long[] last = {0, System.nanoTime() - SETTLE_NANOS}; // results seen, time of the last yes
        return () -> {
            long now = received.get();
            boolean came = now > last[0];
            last[0] = now;
            if (came && System.nanoTime() - last[1] >= SETTLE_NANOS) {
                last[1] = System.nanoTime();
                return true;
            }
            return false;
        };
    }

    static StreamExecutionEnvironment env() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        return env;
    }

    /** Runs the job and collects what {@code stream} carries. */
    static <T> List<T> collect(DataStream<T> stream) throws Exception {
        return collect(stream, new AtomicLong());
    }

    /** Runs the job and collects what {@code stream} carries, counting it in {@code received} as it comes. */
    static <T> List<T> collect(DataStream<T> stream, AtomicLong received) throws Exception {
        List<T> out = new ArrayList<>();
        CloseableIterator<T> it = stream.executeAndCollect();
        try {
            it.forEachRemaining(t -> {
                out.add(t);
                received.incrementAndGet();
            });
        } finally {
            it.close();
        }
        return out;
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /**
     * Starts recording what Reactor drops ({@code Hooks.onErrorDropped}): errors that reached no one. Stop with
     * {@link Hooks#resetOnErrorDropped()}.
     */
    static List<Throwable> recordDroppedErrors() {
        List<Throwable> dropped = new CopyOnWriteArrayList<>();
        Hooks.onErrorDropped(dropped::add);
        return dropped;
    }

    /**
     * Whether {@code p} has run for at least {@code age}. A streaming helper starts with its subtask (one per
     * subtask, none shared across restarts): one that has run a while is not in a job whose tasks are still
     * starting (see {@link #whileResultsCome}).
     */
    static boolean runFor(ProcessHandle p, Duration age) {
        return p.info().startInstant().map(started -> started.isBefore(Instant.now().minus(age))).orElse(false);
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
                Duration.ofMillis(50));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(200);
        return env;
    }

    /**
     * Starts a thread that, every {@code everyMillis} until {@code running} is false or {@code most} were killed,
     * SIGKILLs one child of this JVM that {@code which} picks, counting the kills in {@code kills}.
     */
    static Thread killer(Predicate<ProcessHandle> which, int most, long everyMillis, AtomicInteger kills,
            AtomicBoolean running) {
        return killer(which, () -> true, most, everyMillis, kills, running);
    }

    /**
     * As {@link #killer(Predicate, int, long, AtomicInteger, AtomicBoolean)}, killing only when {@code mayKill} says
     * so (asked once per period).
     */
    static Thread killer(Predicate<ProcessHandle> which, BooleanSupplier mayKill, int most, long everyMillis,
            AtomicInteger kills, AtomicBoolean running) {
        Thread killer = new Thread(() -> {
            while (running.get() && kills.get() < most) {
                try {
                    Thread.sleep(everyMillis);
                } catch (InterruptedException e) {
                    return;
                }
                if (!mayKill.getAsBoolean()) {
                    continue;
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
