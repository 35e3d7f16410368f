package io.umhflux;

import java.time.Duration;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A running helper process, as streams: what it writes to stdout ({@link #inbound()}), what we write to its
 * stdin ({@link #outbound()}), its stderr lines ({@link #stderr()}) and how it ended ({@link #exit()}).
 *
 * <p>Backpressure goes all the way to the other process: the inbound reads from the pipe only while its
 * subscriber has demand (otherwise the helper blocks writing), and the outbound asks its publisher for
 * messages only as fast as the helper reads them.
 *
 * <p>Ending: cancelling the inbound, {@link #dispose()} or {@link #stop()} stops the helper: its stdin is
 * closed, and if it is still running after the stop grace, its process group gets SIGTERM, then after
 * another grace SIGKILL. The helper is always reaped; every descriptor is closed exactly once. A helper
 * that crashes, is OOM-killed or killed by an administrator ends the inbound with a
 * {@link HelperFailedException} carrying its {@link ExitStatus} and last stderr lines, after every message
 * it wrote before was delivered.
 *
 * <p>All methods are thread-safe. Signals are delivered on the helper's event loop thread: do not block in
 * them (use {@code publishOn} to move heavy work elsewhere).
 *
 * @param <I> messages read from the helper's stdout
 * @param <O> messages written to the helper's stdin
 */
public interface Umh<I, O> extends Disposable {
    /** @return the blob's name */
    String name();

    /** @return the helper's process id; it stays valid (not reused) until {@link #exit()} completes */
    long pid();

    /**
     * The helper's stdout as messages. One subscriber (use {@code share()} for more). Reads only on demand;
     * completes after end of file when the helper exited 0; otherwise errors with
     * {@link HelperFailedException} (non-zero exit, signal, bad frame, or stdout held open after exit).
     * Cancelling it stops the helper.
     *
     * <p>For raw bytes ({@code Umh<ByteBuf, ByteBuf>}) each {@code ByteBuf} is released after
     * {@code onNext} returns, as in reactor-netty: {@code retain()} it to keep it longer.
     */
    Flux<I> inbound();

    /** @return the helper's stdin */
    UmhOutbound<O> outbound();

    /**
     * The helper's stderr, line by line ({@code \n} or {@code \r\n} ends a line; one over the maximum length is
     * cut into pieces, never inside a UTF-8 character), completing at end of file. The first subscriber also gets
     * the lines written before it came, up to 256. Any number of subscribers, each with a buffer of 256 lines of
     * its own: one that cannot keep up loses the lines that do not fit, rather than blocking the helper or the
     * other subscribers. Every line is logged by the SLF4J logger {@code io.umhflux.stderr} at debug, and the last
     * lines are kept for {@link ExitStatus}.
     */
    Flux<String> stderr();

    /**
     * How the helper ended, once it was reaped and its stderr read to the end (bounded by the drain
     * timeout). Never errors: a failed helper is a status, not an error here.
     */
    Mono<ExitStatus> exit();

    /** Stops the helper with the spec's stop grace; see {@link #stop(Duration)}. */
    Mono<ExitStatus> stop();

    /**
     * Stops the helper: closes its stdin, waits {@code grace}, sends SIGTERM to its process group, waits
     * {@code grace} again, then SIGKILL. What it started in its group is killed when it exits. Starts at
     * once (not on subscription); the Mono tells the exit. Idempotent. After the helper was reaped it signals
     * nothing (the pid and the group number may be someone else's by then) and only tells the exit: what a
     * helper spawned with {@link UmhSpec#killGroupAtExit(boolean) killGroupAtExit(false)} left running is the
     * caller's to end.
     */
    Mono<ExitStatus> stop(Duration grace);

    /**
     * Sends {@code signal} (like 15 for SIGTERM) to the helper alone.
     *
     * @return {@code false} if the helper already exited; then no process received anything
     */
    boolean kill(int signal);

    /** Stops the helper (see {@link #stop()}) without waiting. */
    @Override
    void dispose();
}
