package io.umhflux.benchmarks;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * umh-flux against the hand-written ProcessBuilder + Kryo loop of {@link TypedEchoBenchmark}, in one JVM, one
 * operation of each in turn (which goes first alternates), so that the drift of a shared machine hits both sides
 * alike, where JMH's runs of one side after the other each see a different state of the machine.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.umhflux.benchmarks.Interleaved small 60 60
 * </pre>
 *
 * <p>Arguments: {@code small} or {@code large}, warm-up pairs, measured pairs, and optionally the messages per
 * operation (200,000 small or 1,000 large by default; {@code 1} compares starting and stopping a helper, e.g.
 * {@code small 2000 500 1}). Prints the median of the per-pair ratios (ProcessBuilder's time / umh-flux's: above
 * 1, umh-flux is faster) and the ratio of the sums. Both sides share the JIT's type profiles of Kryo here;
 * compare builds with several JVMs each.
 */
public final class Interleaved {
    private Interleaved() {
    }

    public static void main(String[] args) throws Exception {
        TypedEchoBenchmark bench = new TypedEchoBenchmark();
        bench.size = args.length > 0 ? args[0] : "small";
        int warm = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        int pairs = args.length > 2 ? Integer.parseInt(args[2]) : 60;
        bench.setUp();
        if (args.length > 3) {
            bench.messagesPerOp(Integer.parseInt(args[3]));
        }
        try {
            for (int i = 0; i < warm; i++) {
                bench.umhFlux();
                bench.processBuilder();
            }
            List<Double> ratios = new ArrayList<>();
            long umhTotal = 0;
            long pbTotal = 0;
            for (int i = 0; i < pairs; i++) {
                long umh;
                long pb;
                if (i % 2 == 0) {
                    umh = timed(bench, true);
                    pb = timed(bench, false);
                } else {
                    pb = timed(bench, false);
                    umh = timed(bench, true);
                }
                umhTotal += umh;
                pbTotal += pb;
                ratios.add((double) pb / umh);
            }
            Collections.sort(ratios);
            System.out.printf("%s: median ratio %.3f, ratio of sums %.3f; umh-flux %.1f ms, ProcessBuilder %.1f ms"
                    + " per op (%d pairs)%n", bench.size, ratios.get(pairs / 2), (double) pbTotal / umhTotal,
                    umhTotal / 1e6 / pairs, pbTotal / 1e6 / pairs, pairs);
        } finally {
            bench.tearDown();
        }
    }

    private static long timed(TypedEchoBenchmark bench, boolean umh) throws Exception {
        long start = System.nanoTime();
        if (umh) {
            bench.umhFlux();
        } else {
            bench.processBuilder();
        }
        return System.nanoTime() - start;
    }
}
