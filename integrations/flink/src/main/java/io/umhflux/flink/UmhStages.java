package io.umhflux.flink;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * Helpers as stages of a Flink job.
 *
 * <pre>{@code
 * DataStream<String> upper = UmhStages.requests(lines, UmhHelper.ofResource("bin/upcase")
 *         .codec(spec -> spec.lines(1024)).pool(2), Types.STRING, Duration.ofSeconds(10), 100);
 * }</pre>
 *
 * <p>Request/response: one answer per element, through Flink's {@link AsyncDataStream}: {@code capacity} elements
 * of each subtask may wait for their answers at once (Flink's backpressure: a full capacity stops the task from
 * taking more), and {@code timeout} is the request timeout (Flink's: a late answer fails the element and with it
 * the task, which disposes of its helpers). Each worker JVM runs one pool of the helper per job and definition,
 * shared by the job's subtasks there; each helper of the pool takes up to {@code capacity} requests at once,
 * written ahead of their answers (or the definition's {@link UmhHelper#maxInFlight} limit), and a request goes to the
 * helper with the fewest in flight.
 */
public final class UmhStages {
    private UmhStages() {
    }

    /** Answers in the order of the elements; see the class. */
    public static <I, O> SingleOutputStreamOperator<O> requests(DataStream<I> input, UmhHelper<I, O> helper,
            TypeInformation<O> answers, Duration timeout, int capacity) {
        check(input, helper, answers, timeout, capacity);
        return AsyncDataStream.orderedWait(input, new UmhRequestFunction<>(helper, timeout, capacity),
                timeout.toMillis(), TimeUnit.MILLISECONDS, capacity).returns(answers);
    }

    /** Answers as they come, which keeps a slow answer from holding back the others; see the class. */
    public static <I, O> SingleOutputStreamOperator<O> unorderedRequests(DataStream<I> input, UmhHelper<I, O> helper,
            TypeInformation<O> answers, Duration timeout, int capacity) {
        check(input, helper, answers, timeout, capacity);
        return AsyncDataStream.unorderedWait(input, new UmhRequestFunction<>(helper, timeout, capacity),
                timeout.toMillis(), TimeUnit.MILLISECONDS, capacity).returns(answers);
    }

    /**
     * One streaming helper per subtask, like {@code RDD.pipe} but typed: every element is written to its stdin with
     * the library's backpressure (a helper that reads slowly slows the job; the operator buffers at most the
     * high-water mark of input, 1 MiB unless the helper's codec function sets another, and
     * {@value UmhStreamOperator#PREFETCH} messages of output), everything it writes to stdout goes downstream (any
     * number of outputs per element, emitted on the task thread), the end of the input closes its stdin, and the
     * subtask finishes once the output was drained and the helper exited 0. A helper that fails (non-zero exit,
     * signal, bad frame) fails the subtask with its {@code HelperFailedException}; a cancelled or failed task stops
     * its helper and kills its process group.
     */
    public static <I, O> SingleOutputStreamOperator<O> pipe(DataStream<I> input, UmhHelper<I, O> helper,
            TypeInformation<O> outputs) {
        check(input, helper, outputs, Duration.ofSeconds(1), 1);
        return input.transform("umh-flux " + helper.name(), outputs, new UmhStreamOperatorFactory<>(helper));
    }

    private static void check(DataStream<?> input, UmhHelper<?, ?> helper, TypeInformation<?> answers,
            Duration timeout, int capacity) {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(helper, "helper");
        Objects.requireNonNull(answers, "answers");
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1: " + capacity);
        }
        helper.key(); // fails here, on the client, if the definition cannot be serialized
    }
}
