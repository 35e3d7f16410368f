package io.umhflux.benchmarks;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.Map;
import java.util.TreeMap;

/**
 * One side of {@link TypedEchoBenchmark} in a JVM of its own, in a plain loop: the benchmark's own methods without
 * JMH around them, to tell an effect of the harness from one of the code by comparing with what JMH and
 * {@link Interleaved} measure.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.umhflux.benchmarks.OneSide umh 300 150
 * java -cp benchmarks/target/benchmarks.jar io.umhflux.benchmarks.OneSide processBuilder 300 150
 * java -cp benchmarks/target/benchmarks.jar io.umhflux.benchmarks.OneSide umhSink 300 150
 * </pre>
 *
 * <p>Arguments: {@code umh}, {@code umhSink} (the messages pushed through a sink) or {@code processBuilder},
 * warm-up ops, measured ops, and optionally {@code small} (the default) or {@code large}. Prints the mean time per
 * op of the measured ones, the JVM's CPU time (all its threads) per op, and each live thread's (threads of one name,
 * digits aside, summed).
 */
public final class OneSide {
    private OneSide() {
    }

    public static void main(String[] args) throws Exception {
        String side = args[0];
        if (!side.equals("umh") && !side.equals("umhSink") && !side.equals("processBuilder")) {
            throw new IllegalArgumentException("umh, umhSink or processBuilder, not " + side);
        }
        int warm = Integer.parseInt(args[1]);
        int ops = Integer.parseInt(args[2]);
        TypedEchoBenchmark bench = new TypedEchoBenchmark();
        bench.size = args.length > 3 ? args[3] : "small";
        bench.setUp();
        try {
            for (int i = 0; i < warm; i++) {
                run(bench, side);
            }
            OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            Map<String, Long> threads = threadCpu();
            long cpu = os.getProcessCpuTime();
            long start = System.nanoTime();
            for (int i = 0; i < ops; i++) {
                run(bench, side);
            }
            System.out.printf("%s %s: %.2f ms per op, %.2f ms CPU per op (%d ops after %d warm-up)%n", args[0],
                    bench.size, (System.nanoTime() - start) / 1e6 / ops, (os.getProcessCpuTime() - cpu) / 1e6 / ops,
                    ops, warm);
            Map<String, Long> after = threadCpu();
            after.forEach((name, nanos) -> {
                double ms = (nanos - threads.getOrDefault(name, 0L)) / 1e6 / ops;
                if (ms >= 0.05) {
                    System.out.printf("  %-28s %.2f ms CPU per op%n", name, ms);
                }
            });
        } finally {
            bench.tearDown();
        }
    }

    /** CPU time of the live threads, summed by name with digits taken out. */
    private static Map<String, Long> threadCpu() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<String, Long> byName = new TreeMap<>();
        for (long id : mx.getAllThreadIds()) {
            ThreadInfo info = mx.getThreadInfo(id);
            long t = mx.getThreadCpuTime(id);
            if (info != null && t > 0) {
                byName.merge(info.getThreadName().replaceAll("[0-9]+", "#"), t, Long::sum);
            }
        }
        return byName;
    }

    private static long run(TypedEchoBenchmark bench, String side) throws Exception {
        switch (side) {
            case "umh":
                return bench.umhFlux();
            case "umhSink":
                return bench.umhFluxSink();
            default:
                return bench.processBuilder();
        }
    }
}
