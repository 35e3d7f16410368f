package io.umhflux.flink;

import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.operators.legacy.YieldingOperatorFactory;

/**
 * Makes the streaming stage's operator on the worker, with the task's mailbox (which it yields to). A yielding
 * factory, so that Flink never chains the operator behind a legacy source, whose thread is not the mailbox's
 * (the marker is deprecated with the legacy sources, and still what Flink 2.3's chaining consults).
 */
@SuppressWarnings("deprecation")
final class UmhStreamOperatorFactory<I, O> extends AbstractStreamOperatorFactory<O>
        implements OneInputStreamOperatorFactory<I, O>, YieldingOperatorFactory<O> {
    private static final long serialVersionUID = 1L;

    private final UmhHelper<I, O> helper;

    UmhStreamOperatorFactory(UmhHelper<I, O> helper) {
        this.helper = helper;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends StreamOperator<O>> T createStreamOperator(StreamOperatorParameters<O> parameters) {
        return (T) new UmhStreamOperator<>(parameters, helper);
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
        return UmhStreamOperator.class;
    }
}
