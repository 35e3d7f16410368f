package io.umhflux.internal.pipe;

import io.netty.channel.IoEventLoop;
import io.umhflux.UmhOutbound;
import io.umhflux.UmhSink;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * A helper's stdin as the API shows it ({@link UmhOutbound}): one send, one sink or one close, each taking the
 * {@link OutboundPipe} for itself.
 *
 * @param <O> messages written to the helper's stdin
 */
public final class StdinOutbound<O> implements UmhOutbound<O> {
    private final OutboundPipe<O> pipe;
    private final IoEventLoop loop;
    private final String helper;

    /** @param helper the helper, as errors name it */
    public StdinOutbound(OutboundPipe<O> pipe, IoEventLoop loop, String helper) {
        this.pipe = pipe;
        this.loop = loop;
        this.helper = helper;
    }

    @Override
    public Mono<Void> send(Publisher<? extends O> messages) {
        return sendEach(messages, null);
    }

    /**
     * Sends {@code messages} as {@link #send} does, except that with {@code unencodable} a message the codec cannot
     * encode is dropped and handed to it (on the loop) rather than failing the whole send.
     */
    public Mono<Void> sendEach(Publisher<? extends O> messages, @Nullable BiConsumer<Object, Exception> unencodable) {
        return Mono.create(sink -> pipe.send(messages, sink, unencodable));
    }

    @Override
    public UmhSink<O> sink() {
        if (!pipe.claim()) {
            throw OutboundPipe.alreadyClaimed();
        }
        OutboundSink<O> sink = new OutboundSink<>(loop, helper);
        sink.start((messages, done) -> pipe.start(messages, done, null));
        return sink;
    }

    @Override
    public Mono<Void> close() {
        return Mono.create(pipe::closeWithoutSending);
    }
}
