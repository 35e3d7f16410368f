package io.umhflux.flink;

import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/** Makes the streaming stage's operator on the worker, with the task's mailbox (which it yields to). */
final class UmhStreamOperatorFactory<I, O> extends AbstractStreamOperatorFactory<O>
        implements OneInputStreamOperatorFactory<I, O> {
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
