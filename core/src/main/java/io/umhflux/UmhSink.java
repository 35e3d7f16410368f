package io.umhflux;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A helper's stdin for code that pushes messages rather than publishing them: listener threads, callbacks, task
 * threads that hand over one record at a time. From {@link UmhOutbound#sink()}; the other way to feed a helper
 * than {@link UmhOutbound#send}, with the same backpressure: a message is <em>accepted</em> only when the writer
 * asks for one, which it does only while fewer than the spec's high-water mark of bytes wait to be written. A
 * helper that reads slowly therefore slows its producers down instead of filling the heap, as an unbounded
 * {@code Sinks.many().unicast().onBackpressureBuffer()} would.
 *
 * <p>Three ways to emit, one per kind of caller; all may be used from any number of threads at once, and the
 * messages of each thread are written in the order it emitted them. Messages wait for room in the order they came.
 * <ul>
 *   <li>{@link #tryEmit} never waits: {@code OK}, or {@code FAIL_OVERFLOW} when there is no room now;</li>
 *   <li>{@link #emit} is a {@code Mono} that completes once the message was accepted: chain the next emit on it
 *       (for example with {@code concatMap}) and no more than the mark is ever in flight;</li>
 *   <li>{@link #emitBlocking} waits for room on a plain thread, for at most a timeout; never on an event loop.</li>
 * </ul>
 *
 * <p>Ownership: a message belongs to the sink once it was accepted, and from then on as for {@code send}:
 * reference-counted messages (raw {@code ByteBuf}s, say) are released once written, refused by the codec, or
 * dropped because the helper ended. A message of {@code tryEmit} or {@code emitBlocking} that was not accepted
 * (any answer but {@code OK}, a timeout, an interrupt, an error) is still the caller's. A message of {@link #emit}
 * is the sink's from the subscription on, since a cancel can cross its acceptance: accepted, it is written;
 * cancelled or failed while it waited, the sink releases it.
 *
 * <p>How it ends: {@link #complete()} writes every message accepted or waiting, then closes the helper's stdin;
 * {@link #error(Throwable)} takes nothing more, writes what was accepted, and closes stdin; {@link #done()} tells
 * when either was carried out, or why not. When the writing fails (the helper exits or closes its stdin, it is
 * stopped, the codec refuses a message), every emit still waiting fails with the error {@link #done()} gives (a
 * {@link HelperFailedException} with the exit status and last stderr lines for a helper that ended), and the sink
 * takes nothing more: {@code tryEmit} answers {@code FAIL_TERMINATED}, {@code emit} and {@code emitBlocking} fail
 * with that error.
 *
 * <p>Bound: the bytes accepted but not yet written stay within the high-water mark plus one message when the
 * messages are of one size; the writer asks for as many messages as fit by their mean encoded size, so with
 * messages of different sizes the bound is the mark times the largest size over the mean.
 *
 * @param <O> the message type
 */
public interface UmhSink<O> {
    /**
     * Accepts {@code message} if the writer has room for it now, without waiting.
     *
     * @return {@link Sinks.EmitResult#OK} when accepted; {@link Sinks.EmitResult#FAIL_OVERFLOW} when the writer has
     *     no room now (the high-water mark is reached, or other emits wait for room first; right after the sink
     *     was made, until the writer asks for its first message); {@link Sinks.EmitResult#FAIL_TERMINATED} after
     *     {@link #complete()}, {@link #error(Throwable)}, or the end of the writing (see {@link #done()})
     */
    Sinks.EmitResult tryEmit(O message);

    /**
     * A Mono that, when subscribed, hands {@code message} to the sink and completes once it was accepted: at once
     * on the subscribing thread if there is room, else on the helper's event loop when the writer asks for more.
     * Cold, as Reactor's Monos are: nothing is emitted until it is subscribed, so {@code emit(a).then(emit(b))}
     * keeps the order. The message is the sink's from the subscription on: cancelling the Mono while it waits
     * withdraws the message and releases it (if reference counted); one accepted at the same moment is written.
     *
     * @return completes once accepted; errors with {@link IllegalStateException} after {@link #complete()}, with
     *     the error given to {@link #error(Throwable)}, or with the error that ended the writing
     */
    Mono<Void> emit(O message);

    /**
     * Hands {@code message} to the sink and waits until it was accepted, for at most {@code timeout}.
     *
     * @throws IllegalStateException at once, when called on an event loop (a Netty event loop thread or a thread
     *     of Reactor's non-blocking schedulers), where waiting would stall every helper and connection of that
     *     loop; also after {@link #complete()}
     * @throws TimeoutException when there was no room within {@code timeout}; the message stays the caller's
     * @throws InterruptedException when the thread was interrupted while waiting; the message stays the caller's
     * @throws RuntimeException the error given to {@link #error(Throwable)}, or the error that ended the writing
     *     (a checked one inside an {@link UmhException})
     */
    void emitBlocking(O message, Duration timeout) throws InterruptedException, TimeoutException;

    /**
     * No more messages: those accepted and those still waiting for room are written, then the helper's stdin is
     * closed (it sees end of file), and {@link #done()} completes.
     *
     * @return {@link Sinks.EmitResult#OK}, or {@link Sinks.EmitResult#FAIL_TERMINATED} when the sink had ended
     *     already
     */
    Sinks.EmitResult complete();

    /**
     * Ends the sink with {@code error}, as a failing publisher ends a {@link UmhOutbound#send}: nothing more is
     * taken, emits still waiting fail with {@code error}, what was accepted is still written (for at most the
     * spec's drain timeout), then stdin is closed and {@link #done()} errors with {@code error}.
     *
     * @return {@link Sinks.EmitResult#OK}, or {@link Sinks.EmitResult#FAIL_TERMINATED} when the sink had ended
     *     already
     */
    Sinks.EmitResult error(Throwable error);

    /**
     * The end of the writing, as the Mono of {@link UmhOutbound#send} tells it: completes once {@link #complete()}
     * was carried out (every accepted message written, stdin closed); errors with {@link HelperFailedException}
     * when the helper stopped reading (EPIPE: it closed stdin or exited, with its exit status when known) or was
     * stopped, with the codec's refusal of a message, or with the error given to {@link #error(Throwable)}. Hot:
     * any number of subscribers, each told the same end.
     */
    Mono<Void> done();
}
