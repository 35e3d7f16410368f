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
 * taking more), and {@code timeout} is both Flink's and the helper pool's request timeout. Each worker JVM runs one
 * pool of the helper per definition, shared by its subtasks; the pool gives each helper one request at a time.
 */
public final class UmhStages {
    private UmhStages() {
    }

    /** Answers in the order of the elements; see the class. */
    public static <I, O> SingleOutputStreamOperator<O> requests(DataStream<I> input, UmhHelper<I, O> helper,
            TypeInformation<O> answers, Duration timeout, int capacity) {
        check(input, helper, answers, timeout, capacity);
        return AsyncDataStream.orderedWait(input, new UmhRequestFunction<>(helper, timeout), timeout.toMillis(),
                TimeUnit.MILLISECONDS, capacity).returns(answers);
    }

    /** Answers as they come, which keeps a slow answer from holding back the others; see the class. */
    public static <I, O> SingleOutputStreamOperator<O> unorderedRequests(DataStream<I> input, UmhHelper<I, O> helper,
            TypeInformation<O> answers, Duration timeout, int capacity) {
        check(input, helper, answers, timeout, capacity);
        return AsyncDataStream.unorderedWait(input, new UmhRequestFunction<>(helper, timeout), timeout.toMillis(),
                TimeUnit.MILLISECONDS, capacity).returns(answers);
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
