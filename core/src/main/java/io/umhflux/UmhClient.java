package io.umhflux;

import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Request/response over helpers: each request is one message to a helper's stdin, its response the next
 * message the helper writes back. Made by {@link UmhSpec#connect()} (one helper), {@link UmhSpec#supervise}
 * (one helper, started again when it ends) or {@link UmhSpec#pool} (several on reactor-pool).
 *
 * <pre>{@code
 * UmhClient<String, String> upper = UmhFlux.spec(Blob.of(Path.of("/bin/sed"))).args("-u", "s/[a-z]/\\U&/g")
 *         .lines(1024).maxInFlight(64).requestTimeout(Duration.ofSeconds(2))
 *         .supervise(Restart.backoff(Duration.ofMillis(50), Duration.ofSeconds(5)));
 * upper.exchange("hello").subscribe(System.out::println);   // HELLO
 * }</pre>
 *
 * <p>Requests are pipelined: up to the spec's {@linkplain UmhSpec#maxInFlight(int) in-flight limit} are
 * written before the first response arrives, and responses are matched to requests by order (the helper must
 * answer every request, in order). Requests over the limit wait their turn. When a helper ends, every request
 * in flight on it fails with a {@link HelperFailedException} that carries its {@link ExitStatus} and last
 * stderr lines; none is left hanging.
 *
 * @param <I> responses, read from the helper's stdout
 * @param <O> requests, written to the helper's stdin
 */
public interface UmhClient<I, O> extends Disposable {
    /**
     * Sends {@code request} when subscribed and emits the helper's response to it.
     *
     * <p>Errors: {@link HelperFailedException} when the helper ended before answering;
     * {@link java.util.concurrent.TimeoutException} after the spec's request timeout (a pooled helper that
     * misses it is replaced; on a single helper its answer, when it comes, is dropped);
     * {@link RestartsExhaustedException} when a supervised helper was given up;
     * {@link io.umhflux.codec.CodecException} when the request cannot be encoded (nothing of it was sent, and
     * the helper goes on with the next request unless the codec is broken);
     * {@link IllegalStateException} after {@link #close()}. Cancelling drops the response when it comes.
     * Raw {@code ByteBuf} responses belong to the subscriber, which must release them. A reference-counted
     * request belongs to the client once the Mono is subscribed: it is released once written, or when the call
     * ends without writing it (a retry holds a reference of its own; the helper's event loop may let go of its
     * reference just after the call ended).
     */
    Mono<I> exchange(O request);

    /** @return requests accepted and not yet ended, waiting ones included */
    int inFlight();

    /**
     * What happens to the helpers: started, exited, restarting, gave up. Hot, and a new subscriber is first
     * told the last 16 events (a client starts its first helper before anyone can subscribe); it never slows
     * the helpers down. Completes once the client is closed and its last helper exited, or gave up.
     */
    Flux<UmhEvent> events();

    /**
     * Stops taking requests, lets the ones in flight finish, closes the helpers' stdin and waits for them to
     * exit (stopping them after the stop grace if they do not). Idempotent.
     */
    Mono<Void> close();

    /** Stops the helpers now: requests in flight fail. */
    @Override
    void dispose();
}
