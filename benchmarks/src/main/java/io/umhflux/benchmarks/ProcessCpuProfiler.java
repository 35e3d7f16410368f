package io.umhflux.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * CPU time of the whole benchmark JVM per operation ({@code ·cpu}, ms/op): every thread's user and system
 * time, the event loops', a ProcessBuilder loop's reader and writer threads', the JIT's and the GC's, but not
 * the helper's (another process). On a shared 2-core machine this moves far less from run to run than the
 * time per operation does, and it says whether a slower side lost on work or on waiting.
 *
 * <p>Split by thread: {@code ·cpu.loops} is the umh-flux event loops' share, {@code ·cpu.caller} the JMH worker
 * thread's (a ProcessBuilder loop's reader, or the thread that spawns a helper), {@code ·cpu.other} the rest
 * (threads that ended during the iteration, such as a ProcessBuilder loop's writer, and the JIT and the GC).
 *
 * <pre>{@code java -jar benchmarks.jar TypedEchoBenchmark -prof io.umhflux.benchmarks.ProcessCpuProfiler}</pre>
 */
public final class ProcessCpuProfiler implements InternalProfiler {
    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private long startNanos;
    private Map<Long, Long> startThreads = Map.of();

    @Override
    public String getDescription() {
        return "CPU time of the benchmark JVM (all threads) per operation";
    }

    @Override
    public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
        startThreads = threadCpu();
        startNanos = os.getProcessCpuTime();
    }

    /** CPU time of each live Java thread, by id. */
    private Map<Long, Long> threadCpu() {
        Map<Long, Long> cpu = new HashMap<>();
        for (long id : threads.getAllThreadIds()) {
            long t = threads.getThreadCpuTime(id);
            if (t > 0) {
                cpu.put(id, t);
            }
        }
        return cpu;
    }

    @Override
    @SuppressWarnings("rawtypes") // JMH's signature
    public Collection<? extends Result> afterIteration(BenchmarkParams benchmarkParams,
            IterationParams iterationParams, IterationResult result) {
        long cpu = os.getProcessCpuTime() - startNanos;
        long ops = result.getMetadata().getAllOps();
        if (cpu < 0 || ops <= 0) {
            return List.of();
        }
        long loops = 0;
        long caller = 0;
        for (Map.Entry<Long, Long> e : threadCpu().entrySet()) {
            ThreadInfo info = threads.getThreadInfo(e.getKey());
            if (info == null) {
                continue;
            }
            long used = e.getValue() - startThreads.getOrDefault(e.getKey(), 0L);
            if (info.getThreadName().startsWith("umh-flux-")) {
                loops += used;
            } else if (info.getThreadName().contains("jmh-worker")) {
                caller += used;
            }
        }
        return List.of(new ScalarResult("cpu", cpu / 1e6 / ops, "ms/op", AggregationPolicy.AVG),
                new ScalarResult("cpu.loops", loops / 1e6 / ops, "ms/op", AggregationPolicy.AVG),
                new ScalarResult("cpu.caller", caller / 1e6 / ops, "ms/op", AggregationPolicy.AVG),
                new ScalarResult("cpu.other", (cpu - loops - caller) / 1e6 / ops, "ms/op", AggregationPolicy.AVG));
    }
}
