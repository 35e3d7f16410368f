package io.umhflux.flink;

import java.time.Duration;
import java.util.Collections;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.jspecify.annotations.Nullable;

/**
 * One request per element, answered by the worker JVM's pool of the helper: the body of
 * {@link UmhStages#requests}. The answer completes Flink's {@link ResultFuture} on the helper's event loop; Flink
 * emits it on the task thread. A helper that dies fails the element with its {@code HelperFailedException}
 * (after the pool's retries, for an idempotent definition), and with it the task.
 */
final class UmhRequestFunction<I, O> extends RichAsyncFunction<I, O> {
    private static final long serialVersionUID = 1L;

    private final UmhHelper<I, O> helper;
    private final Duration timeout;
    private final int capacity;
    private transient HelperRegistry.@Nullable Lease<HelperPool<I, O>> lease;

    UmhRequestFunction(UmhHelper<I, O> helper, Duration timeout, int capacity) {
        this.helper = helper;
        this.timeout = timeout;
        this.capacity = capacity;
    }

    @Override
    public void open(OpenContext context) {
        ClassLoader job = getRuntimeContext().getUserCodeClassLoader();
        getRuntimeContext().registerUserCodeClassLoaderReleaseHookIfAbsent("umh-flux helpers",
                () -> HelperRegistry.release(job));
        lease = HelperRegistry.acquirePool(helper, capacity, job);
    }

    @Override
    public void asyncInvoke(I input, ResultFuture<O> result) {
        HelperRegistry.Lease<HelperPool<I, O>> l = lease;
        if (l == null) {
            result.completeExceptionally(new IllegalStateException("helper '" + helper.name() + "': not open"));
            return;
        }
        l.get().exchange(input).subscribe(
                answer -> settle(() -> result.complete(Collections.singleton(answer))),
                error -> settle(() -> result.completeExceptionally(error)));
    }

    /**
     * Completes an element, unless its task has ended: the ended task's mailbox refuses the completion with a
     * {@code RejectedExecutionException}, and the element belongs to an attempt that is gone (a restart replays it
     * from the last checkpoint). Thrown on, the refusal would reach Reactor's dropped-error hook as an error.
     */
    private static void settle(Runnable completion) {
        try {
            completion.run();
        } catch (RejectedExecutionException taskEnded) {
            // nothing is left to complete: the task's operators are closed
        }
    }

    @Override
    public void timeout(I input, ResultFuture<O> result) {
        result.completeExceptionally(new TimeoutException("helper '" + helper.name() + "' did not answer within "
                + timeout + " for " + input));
    }

    @Override
    public void close() {
        HelperRegistry.Lease<HelperPool<I, O>> l = lease;
        lease = null;
        if (l != null) {
            l.release();
        }
    }
}
