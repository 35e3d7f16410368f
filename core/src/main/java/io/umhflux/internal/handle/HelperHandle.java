package io.umhflux.internal.handle;

import io.netty.channel.IoEventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import io.umhflux.ExitStatus;
import io.umhflux.HelperFailedException;
import io.umhflux.Umh;
import io.umhflux.UmhOutbound;
import io.umhflux.internal.pipe.FrameException;
import io.umhflux.internal.pipe.InboundPipe;
import io.umhflux.internal.pipe.OutboundPipe;
import io.umhflux.internal.pipe.PipeOwner;
import io.umhflux.internal.pipe.StdinOutbound;
import io.umhflux.internal.pipe.StderrPipe;
import io.umhflux.internal.os.Os;
import io.umhflux.internal.process.HelperProcess;
import io.umhflux.internal.loop.Loops;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One helper as a {@link Umh}: its process, its three pipes and the rules that tie their ends together.
 * Everything that changes state runs on the helper's event loop; the public methods hop onto it.
 *
 * <p>The helper's end is known when it was reaped AND its stderr reached end of file (or the drain timeout
 * passed): only then is the exit status, with its stderr tail, final. The inbound terminates after that, so
 * its error carries the status and comes after every message the helper wrote. Two ends come sooner and carry
 * no status: a frame error (bytes that can never be a message end the inbound at once, naming the offset,
 * after every earlier message; the helper is being stopped meanwhile) and the stdout drain timeout.
 */
public final class HelperHandle<I, O> implements Umh<I, O>, PipeOwner {
    private final HelperProcess process;
    private final IoEventLoop loop;
    /** Where stdout is read and decoded: the next loop of the group, so decoding overlaps encoding. */
    private final IoEventLoop readLoop;
    private final HelperConfig<I, O> config;
    private final InboundPipe<I> inbound;
    private final OutboundPipe<O> outboundPipe;
    private final StderrPipe stderr;
    private final StdinOutbound<O> outbound;
    private final Sinks.One<ExitStatus> exitSink = Sinks.one();
    private final AtomicBoolean stopRequested = new AtomicBoolean();
    /** Why we stopped it, when not at the owner's request; in its error instead of "it was stopped". */
    private volatile @Nullable String stopReason;
    /** For request/response: a helper that closed its stdout but runs on can never answer again. */
    private volatile boolean stopWhenStdoutEndsFirst;
    private volatile @Nullable ExitStatus status;

    private volatile @Nullable FrameException frameError; // set on the read loop

    // event loop only
    private @Nullable ExitStatus rawStatus;
    /** Whether a stop was asked for before the helper was reaped (what came after is no cause of its end). */
    private volatile boolean stoppedBeforeExit;
    /** When the helper was reaped ({@link System#nanoTime()}): the drain timeout counts from there. */
    private long reapedAt;
    private final List<Runnable> onStatus = new ArrayList<>(1);
    /** A loop may terminate without closing its handles (a zero quiet period can skip that): close them here. */
    private final GenericFutureListener<Future<Object>> loopTerminated = f -> onLoopTerminated();
    private final GenericFutureListener<Future<Object>> readLoopTerminated = f -> closeInbound();

    private HelperHandle(HelperProcess process, IoEventLoop readLoop, HelperConfig<I, O> config) {
        this.process = process;
        this.loop = process.eventLoop();
        this.readLoop = readLoop;
        this.config = config;
        this.inbound = new InboundPipe<>(readLoop, process.stdout(), config.decoder().get(), config.allocator(),
                config.readSize(), this);
        this.outboundPipe = new OutboundPipe<>(loop, process.stdin(), config.encoder().get(), config.allocator(),
                config.highWaterMark(), config.writeSize(), config.drainTimeout(), this);
        this.stderr = new StderrPipe(loop, process.stderr(), config.allocator(), toString(), config.tailLines(),
                config.maxStderrLine(), this::stderrEnded);
        this.outbound = new StdinOutbound<>(outboundPipe, loop, toString());
    }

    /** Stops every live helper of this JVM's copy of the library and removes its JVM-exit hook. */
    public static void stopEveryHelper() {
        LiveHelpers.stopAllAndUnhook();
    }

    /**
     * Wraps a freshly spawned process; its pipes start being watched at once. Everything but stdout lives on
     * the process's loop; stdout is read on {@code readLoop} (which may be the same loop).
     */
    public static <I, O> HelperHandle<I, O> start(HelperProcess process, IoEventLoop readLoop,
            HelperConfig<I, O> config) {
        HelperHandle<I, O> handle = new HelperHandle<>(process, readLoop, config);
        LiveHelpers.add(handle);
        config.metrics().spawned(process.name(), process.pid());
        handle.inbound.register();
        handle.outboundPipe.register();
        handle.stderr.register();
        process.onExit().whenComplete((s, e) -> handle.onLoop(() -> handle.reaped(s, e)));
        handle.loop.terminationFuture().addListener(handle.loopTerminated);
        if (readLoop != handle.loop) {
            readLoop.terminationFuture().addListener(handle.readLoopTerminated);
        }
        return handle;
    }

    private void onLoop(Runnable task) {
        Loops.execute(loop, task);
    }

    /** A timer on the loop; none once the loop shuts down (its handles are closed by then). */
    private void later(Runnable task, Duration delay) {
        if (loop.isShuttingDown()) {
            return;
        }
        try {
            loop.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException shuttingDown) {
            // the loop's shutdown closed every handle already
        }
    }

    @Override
    public String name() {
        return process.name();
    }

    @Override
    public long pid() {
        return process.pid();
    }

    @Override
    public Flux<I> inbound() {
        return inbound;
    }

    @Override
    public UmhOutbound<O> outbound() {
        return outbound;
    }

    @Override
    public Flux<String> stderr() {
        return stderr.lines();
    }

    @Override
    public Mono<ExitStatus> exit() {
        return exitSink.asMono();
    }

    @Override
    public Mono<ExitStatus> stop() {
        return stop(config.stopGrace());
    }

    @Override
    public Mono<ExitStatus> stop(Duration grace) {
        if (stopRequested.compareAndSet(false, true)) {
            // on the loop: the writer may be in the middle of a write to the stdin descriptor we close
            Runnable stop = () -> {
                outboundPipe.abort(() -> new HelperFailedException(name(), pid(), "the helper is being stopped", null,
                        null));
                process.stop(grace);
            };
            onLoop(stop);
        }
        return exit();
    }

    Duration stopGrace() {
        return config.stopGrace();
    }

    /**
     * @return whether a stop (or a dispose) was asked for before the helper ended (was reaped): its exit is then
     *     the stop's doing; a stop asked for once it had ended (a pool letting a crashed helper go) does not count
     */
    public boolean stoppedBeforeExit() {
        return stoppedBeforeExit;
    }

    /** The loops this helper's pipes and exit run on (one, or a writer's and a reader's). */
    java.util.Set<IoEventLoop> loops() {
        return loop == readLoop ? java.util.Set.of(loop) : java.util.Set.of(loop, readLoop);
    }

    /**
     * SIGKILL to the helper's process group and to the helper, from the calling thread, for the JVM's exit when a
     * loop of the helper does not run tasks any more (a thread blocked in {@code System.exit} on it): no stop can
     * run there, and no reap. Race-free as every signal is (the helper is not reaped while its loop is stuck).
     */
    void killFromThisThread() {
        process.killGroup(Os.SIGKILL);
        process.kill(Os.SIGKILL); // in case it left its group
    }

    @Override
    public boolean kill(int signal) {
        return process.kill(signal);
    }

    @Override
    public void dispose() {
        stop();
    }

    @Override
    public boolean isDisposed() {
        return stopRequested.get() || status != null;
    }

    private void closeInbound() {
        inbound.close();
    }

    /** Runs after the handle's loop terminated: nothing else runs on it any more. */
    private void onLoopTerminated() {
        if (readLoop == loop) {
            inbound.close();
        }
        outboundPipe.close();
        stderr.close();
        process.loopTerminated();
    }

    // ---- the helper's end, on the loop

    private void reaped(@Nullable ExitStatus s, @Nullable Throwable e) {
        reapedAt = System.nanoTime();
        stoppedBeforeExit = stopRequested.get();
        if (s == null) {
            // the reap itself failed (someone else reaped our child): still a terminal state
            rawStatus = ExitStatus.exited(255);
            inbound.fail(new HelperFailedException(name(), pid(), "its exit could not be observed", null, e));
        } else {
            rawStatus = s;
        }
        if (stderr.isEof()) {
            statusReady();
        } else {
            later(() -> {
                if (status == null) {
                    stderr.finish(); // a process it started still holds stderr: stop waiting for it
                }
            }, config.drainTimeout());
        }
    }

    private void stderrEnded() {
        if (rawStatus != null && status == null) {
            statusReady();
        }
    }

    private void statusReady() {
        ExitStatus raw = rawStatus;
        if (raw == null || status != null) {
            return;
        }
        ExitStatus s = raw.withStderrTail(stderr.tail());
        status = s;
        for (Runnable r : onStatus) {
            r.run();
        }
        onStatus.clear();
        inbound.helperEnded();
        // a send still open now can never be written: end it with the helper's end
        outboundPipe.abort(() -> new HelperFailedException(name(), pid(), "it ended while the send was still open",
                s, null));
        LiveHelpers.remove(this); // reaped: nothing left for the shutdown hook to stop
        if (!inbound.isEof()) {
            if (stopRequested.get() && !inbound.isSubscribed()) {
                inbound.fail(endOrStopped()); // stopped, and nobody reads its stdout: close it now
            } else {
                // one drain timeout from the exit, of which waiting for stderr's end may have used some
                watchStdoutDrain(config.drainTimeout().minusNanos(System.nanoTime() - reapedAt));
            }
        }
        config.metrics().exited(name(), s);
        exitSink.tryEmitValue(s);
        finishIfDone();
    }

    /**
     * After the exit, stdout may stay open only while bytes still flow or the subscriber is slow: looked at after
     * {@code delay}, then after every drain timeout while a slow subscriber still has bytes to take.
     */
    private void watchStdoutDrain(Duration delay) {
        later(() -> {
            if (inbound.isEof()) {
                return;
            }
            if (!inbound.isSubscribed()) {
                // nobody subscribed in time: the stdout pipe (and what it holds) is let go rather than kept for ever
                inbound.fail(new HelperFailedException(name(), pid(), "it exited and nobody subscribed to its "
                        + "stdout within " + config.drainTimeout().toMillis() + " ms; stdout was closed", status,
                        null));
                closeRemaining();
            } else {
                // decided on the read loop, where the pipe's state is: a stall fails, a slow reader is watched on
                inbound.failIfWaitingForBytes(() -> new HelperFailedException(name(), pid(), "it exited, but its "
                        + "stdout stayed open for " + config.drainTimeout().toMillis() + " ms afterwards (held by a "
                        + "process it started?); everything written before was delivered", status, null),
                        () -> onLoop(() -> watchStdoutDrain(config.drainTimeout())));
            }
        }, delay.isNegative() ? Duration.ZERO : delay);
    }

    private void finishIfDone() {
        if (status != null && inbound.isEof()) {
            closeRemaining();
        } else if (status == null && inbound.isEof() && stopWhenStdoutEndsFirst) {
            // an exiting helper closes stdout first: only one still running after the drain timeout is stuck
            later(() -> {
                if (rawStatus == null && !stopRequested.get()) { // not reaped (its status may wait for stderr)
                    stopReason = "it closed its stdout but kept running (no answer could come)";
                    stop();
                }
            }, config.drainTimeout());
        }
    }

    /**
     * For a request/response client: a helper that closes its stdout and is still running a drain timeout later
     * is stopped, since no answer can come from it any more. On any thread, before the helper's stdout ends.
     */
    public void stopWhenStdoutEndsFirst() {
        stopWhenStdoutEndsFirst = true;
    }

    private void closeRemaining() {
        // the pipes close their own descriptors as they finish; this covers the sides never used
        if (!inbound.isEof() && stopRequested.get()) {
            inbound.fail(endOrStopped());
        }
        LiveHelpers.remove(this);
        loop.terminationFuture().removeListener(loopTerminated);
        readLoop.terminationFuture().removeListener(readLoopTerminated);
    }

    private HelperFailedException endOrStopped() {
        return new HelperFailedException(name(), pid(), stopRequested.get() ? stopped() : "it failed", status, null);
    }

    private String stopped() {
        String reason = stopReason;
        return reason != null ? reason : "it was stopped";
    }

    // ---- PipeOwner: stdout

    @Override
    public void inboundCancelled() {
        stop();
    }

    @Override
    public void inboundFrameError(FrameException error) {
        frameError = error;
        stop();
    }

    @Override
    public void stdoutClosed() {
        process.pipeClosed();
    }

    @Override
    public void stdinClosed() {
        process.pipeClosed();
    }

    @Override
    public void inboundEof() {
        onLoop(this::finishIfDone);
    }

    @Override
    public void bytesRead(int bytes) {
        config.metrics().bytesIn(process.name(), bytes);
    }

    @Override
    public Throwable failureFor(FrameException error) {
        return new HelperFailedException(name(), pid(), "bad frame on stdout: " + error.getMessage(), status, error);
    }

    @Override
    public @Nullable Throwable endError() {
        ExitStatus s = status;
        if (s == null) {
            return new HelperFailedException(name(), pid(), "its end is unknown", null, null);
        }
        if (s.isSuccess() && frameError == null) {
            return null;
        }
        String what = stopRequested.get() ? stopped() : s.hasExited() ? "it exited with code " + s.code()
                : "it was killed by a signal";
        FrameException bad = frameError;
        if (bad != null) { // stdout ended inside a frame
            what = "bad frame on stdout: " + bad.getMessage() + "; " + what;
        }
        return new HelperFailedException(name(), pid(), what, s, bad);
    }

    // ---- PipeOwner: stdin

    @Override
    public void bytesWritten(long bytes) {
        config.metrics().bytesOut(process.name(), bytes);
    }

    @Override
    public void writeFailed(IOException error, Consumer<Throwable> then) {
        Runnable answer = () -> then.accept(new HelperFailedException(name(), pid(),
                "it stopped reading its stdin while we were writing (" + error.getMessage() + ")", status, error));
        if (status != null) {
            answer.run();
            return;
        }
        onStatus.add(answer);
        // a helper that closed stdin but keeps running: do not make the sender wait for its exit forever
        later(() -> {
            if (onStatus.remove(answer)) {
                answer.run();
            }
        }, config.drainTimeout());
    }

    /**
     * Sends {@code messages} as {@link UmhOutbound#send} does, except that a message the codec cannot encode
     * is dropped and handed to {@code unencodable} (on the loop) rather than failing the whole send.
     */
    public Mono<Void> sendEach(Publisher<? extends O> messages, BiConsumer<Object, Exception> unencodable) {
        return outbound.sendEach(messages, unencodable);
    }

    @Override
    public String toString() {
        return "helper '" + name() + "' (pid " + pid() + ")";
    }
}
