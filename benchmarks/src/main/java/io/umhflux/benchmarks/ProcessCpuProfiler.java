package io.umhflux.benchmarks;

import java.lang.management.ManagementFactory;
import java.util.Collection;
import java.util.List;
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
 * <pre>{@code java -jar benchmarks.jar TypedEchoBenchmark -prof io.umhflux.benchmarks.ProcessCpuProfiler}</pre>
 */
public final class ProcessCpuProfiler implements InternalProfiler {
    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private long startNanos;

    @Override
    public String getDescription() {
        return "CPU time of the benchmark JVM (all threads) per operation";
    }

    @Override
    public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
        startNanos = os.getProcessCpuTime();
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
        return List.of(new ScalarResult("cpu", cpu / 1e6 / ops, "ms/op", AggregationPolicy.AVG));
    }
}
