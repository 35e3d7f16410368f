package io.umhflux;

import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * A helper's stdin.
 *
 * @param <O> the message type
 */
public interface UmhOutbound<O> {
    /**
     * Writes every message of {@code messages}, then closes the helper's stdin (it sees end of file).
     * Messages are requested only while fewer than the spec's high-water mark of bytes wait to be written,
     * so a helper that reads slowly slows the publisher down. Raw {@code ByteBuf}s are owned by the writer
     * from {@code onNext} on and released once written (or dropped); so are typed messages that are reference
     * counted (a {@code ByteBuf} given to a codec, say), released once encoded, refused by the codec, or dropped.
     *
     * <p>Cold: subscribing starts the send; one send per helper. The Mono completes once the last byte was
     * written and stdin closed; it errors with {@link HelperFailedException} when the helper stops reading
     * (EPIPE: it closed stdin or exited), carrying its exit status when known. When the publisher fails, or a
     * message cannot be encoded ({@link io.umhflux.codec.CodecException}, naming the message), nothing more is
     * taken and every message taken before is still written; then stdin is closed and the Mono errors with that
     * failure. If the helper does not read them within the spec's
     * drain timeout, they are dropped, and the Mono errors with an {@link UmhException} that says so, caused by
     * the publisher's error; a stop or an EPIPE meanwhile gives an {@code UmhException} caused by the
     * publisher's error too, with the stop's or EPIPE's error suppressed. The publisher's own error object is
     * never changed (a cold publisher may hand it to other subscribers). Cancelling the Mono cancels the
     * publisher and closes stdin at once.
     *
     * <p>A publisher that can be fused synchronously ({@code Flux.fromArray}, {@code fromIterable},
     * {@code range} and the {@code map}s over them) is read with {@code poll()} on the writer's event loop,
     * without a {@code request} (so {@code doOnRequest} sees none) and an {@code onNext} per message; the same
     * high-water mark bounds what is taken.
     */
    Mono<Void> send(Publisher<? extends O> messages);

    /**
     * A sink for this helper's stdin, for code that pushes messages from threads or callbacks rather than
     * publishing them (see {@link UmhSink}): the same high-water mark, ownership and errors as {@link #send}.
     * Starts the writing at once. A helper has one send, one sink or one close: after this, {@code send} and
     * {@code close} fail with {@link IllegalStateException}.
     *
     * @throws IllegalStateException when this helper's outbound was already sent to, closed, or given a sink
     */
    UmhSink<O> sink();

    /** Closes the helper's stdin without writing anything; for helpers that need no input. */
    Mono<Void> close();
}
