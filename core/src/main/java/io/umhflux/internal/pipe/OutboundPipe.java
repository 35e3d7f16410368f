package io.umhflux.internal.pipe;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.unix.Errors;
import io.netty.channel.unix.FileDescriptor;
import io.umhflux.internal.loop.Loops;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.Fuseable;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * The helper's stdin as a subscriber: requests messages only while fewer than {@code highWaterMark} bytes
 * wait to be written, encodes them on the event loop into 64 KiB heap batches, and writes each from its array
 * (raw native buffers go many at once to a {@code writev}).
 *
 * <p>When the pipe is full ({@code EAGAIN}) nothing more is requested until an {@code EPOLLOUT} edge says
 * the helper read some: the publisher is slowed to the helper's pace, and memory stays bounded by the high
 * mark plus one request batch. Typed messages are encoded back to back into one pooled buffer, so a
 * thousand small messages are one or two writes. A publisher that fuses synchronously (an array, an iterable,
 * a range and the maps over them) is polled instead, under the same mark, without a request and an
 * {@code onNext} per message. One turn of the loop does a bounded number of writes and takes, so that a
 * stop, a cancel and other helpers are never starved by a helper that reads as fast as an endless publisher writes.
 *
 * <p>A publisher error, or a message the encoder refuses, ends the taking: what was taken before is still
 * written (for at most the drain timeout), then stdin is closed and the send fails with that error, or with an
 * {@code UmhException} caused by it when the writing did not end well.
 *
 * <p>The work is divided as reactor-netty's {@code MonoSendMany} and Netty's outbound buffer divide it: this
 * class is the subscriber, its flow of signals and the end of the send; {@link OutboundDemand} decides how much to
 * ask for, {@link BatchEncoder} encodes and decides what becomes of each message, and {@link StdinWriter} holds
 * what waits to be written and writes it.
 *
 * <p>Threading: signals from the publisher may come on any thread; they are queued (MPSC) and handled on
 * the event loop, where all other state lives.
 *
 * @param <O> message type
 */
public final class OutboundPipe<O> implements CoreSubscriber<O> {
    /** The most messages polled at once from a fused publisher whose messages are encoded into the batch. */
    private static final int MAX_POLL = 16 * 1024;
    /**
     * The most writes and takes from the publisher in one turn of the loop: then the loop runs its other tasks (a
     * stop, a cancel, other helpers) before this one goes on. A helper that reads as fast as an endless publisher
     * writes would otherwise keep the loop for ever.
     */
    private static final int STEPS_PER_TURN = 64;

    private final IoEventLoop loop;
    private final PipeOwner owner;
    private final SignalQueue signals;

    // event loop only
    private final SendEnd end;
    private final OutboundDemand demand;
    private final StdinWriter writer;
    private final BatchEncoder<O> batches;
    private @Nullable Subscription upstream;
    /** The upstream's queue when it fused synchronously (SYNC): messages are polled, not requested. */
    private Fuseable.@Nullable QueueSubscription<? extends O> polled;
    private boolean upstreamDone;
    private boolean flushScheduled;
    /**
     * The sink this send comes from, if it does: it hands over what it accepted in batches ({@link #sinkReady}), not a
     * message at a time through {@code onNext}. Set on the loop when the sink subscribes.
     */
    private @Nullable OutboundSink<? extends O> feeder;

    public OutboundPipe(IoEventLoop loop, FileDescriptor fd, FrameEncoder<O> encoder, ByteBufAllocator alloc,
            long highWaterMark, int writeSize, Duration drainTimeout, PipeOwner owner) {
        this.loop = loop;
        this.signals = new SignalQueue(loop, this::drainSignals);
        this.end = new SendEnd(drainTimeout.toNanos()); // the spec caps its durations at Long.MAX_VALUE nanoseconds
        this.owner = owner;
        this.demand = new OutboundDemand(highWaterMark);
        this.writer = new StdinWriter(loop, fd, writeSize, this::flush, this::close);
        this.batches = new BatchEncoder<>(encoder, alloc, writer, demand, this::encodingFailed);
    }

    /** Registers the descriptor on the loop; call once. */
    public void register() {
        writer.register();
    }

    /**
     * Subscribes to {@code messages} and reports on {@code sink} when the last was written and stdin closed.
     * Only one send per helper. With {@code unencodable}, a message the encoder refuses is dropped and handed to it
     * (on the loop) instead of failing the send: for requests, each of which may fail alone.
     */
    public void send(Publisher<? extends O> messages, MonoSink<Void> sink,
            @Nullable BiConsumer<Object, Exception> unencodable) {
        if (!claim()) {
            sink.error(alreadyClaimed());
            return;
        }
        start(messages, sink, unencodable);
    }

    /**
     * Takes this pipe for one send, closing or sink: true once, false for every later caller, who then gets
     * {@link #alreadyClaimed()}. A caller that claimed it must {@link #start} the send.
     */
    public boolean claim() {
        return end.claim();
    }

    /** The error for a second send, sink or close of one helper's stdin. */
    public static IllegalStateException alreadyClaimed() {
        return SendEnd.alreadyClaimed();
    }

    /** Starts the send after a successful {@link #claim()}: as {@link #send(Publisher, MonoSink, BiConsumer)}. */
    public void start(Publisher<? extends O> messages, MonoSink<Void> sink,
            @Nullable BiConsumer<Object, Exception> unencodable) {
        batches.skipUnencodable(unencodable);
        sink.onCancel(() -> signals.offer(SignalQueue.CANCEL_SEND));
        Loops.submit(loop, () -> {
            if (end.attachUnlessEnded(sink)) {
                messages.subscribe(this);
            }
        });
    }

    /** Closes stdin now without sending anything (the helper sees EOF). */
    public void closeWithoutSending(MonoSink<Void> sink) {
        if (!claim()) {
            sink.error(alreadyClaimed());
            return;
        }
        Loops.submit(loop, () -> {
            end.attach(sink);
            upstreamDone = true;
            if (end.finished()) {
                finish(null); // stdin is closed already, which is what was asked
                return;
            }
            flush();
        });
    }

    /**
     * The helper is being stopped or failed: stop taking messages, release what waits; on the loop. The error is
     * made only if the send is still open (a helper's end usually comes after its send's).
     */
    public void abort(Supplier<? extends Throwable> cause) {
        Loops.execute(loop, () -> {
            if (!end.finished()) {
                failNow(cause.get());
            }
        });
    }

    @Override
    public Context currentContext() {
        return end.context();
    }

    @Override
    public void onSubscribe(Subscription s) {
        if (!loop.inEventLoop()) {
            Loops.execute(loop, () -> onSubscribe(s)); // some publishers call it from their own thread
            return;
        }
        if (end.finished() || upstream != null) {
            s.cancel();
            return;
        }
        upstream = s;
        if (s instanceof Fuseable.QueueSubscription) {
            @SuppressWarnings("unchecked")
            Fuseable.QueueSubscription<? extends O> q = (Fuseable.QueueSubscription<? extends O>) s;
            if (q.requestFusion(Fuseable.SYNC) == Fuseable.SYNC) {
                polled = q;
            }
        }
        flush(); // requests the first batch and writes what it brought synchronously
    }

    @Override
    public void onNext(O message) {
        if (loop.inEventLoop() && signals.isEmpty()) {
            accept(message, true);
            if (!demand.inRequest()) {
                scheduleFlush();
            }
        } else {
            signals.offer(message);
        }
    }

    @Override
    public void onError(Throwable t) {
        signals.offer(new SignalQueue.Failure(t));
    }

    @Override
    public void onComplete() {
        signals.offer(SignalQueue.COMPLETE);
    }

    /** The sink {@code sink} is this send's publisher: its messages come through {@link #sinkReady}. On the loop. */
    void feedFrom(OutboundSink<? extends O> sink) {
        feeder = sink;
    }

    /**
     * The feeding sink holds accepted messages, and held none before: they are taken on the loop, all at once, in
     * order with the other signals. From any thread (the sink calls it under its lock).
     */
    void sinkReady() {
        signals.offer(SignalQueue.SINK_READY);
    }

    private void scheduleFlush() {
        if (!flushScheduled) {
            flushScheduled = true;
            Loops.submit(loop, () -> {
                flushScheduled = false;
                flush();
            });
        }
    }

    @SuppressWarnings("unchecked")
    private void drainSignals() {
        signals.startDrain();
        for (Object s; (s = signals.poll()) != null;) {
            if (s == SignalQueue.COMPLETE) {
                upstreamDone = true;
            } else if (s == SignalQueue.SINK_READY) {
                OutboundSink<? extends O> f = feeder;
                if (f != null) {
                    f.takeAccepted(m -> accept(m, true));
                }
            } else if (s == SignalQueue.CANCEL_SEND) {
                failNow(new CancellationException("the send was cancelled"));
            } else if (s instanceof SignalQueue.Failure) {
                failAfterWriting(((SignalQueue.Failure) s).error);
            } else {
                accept((O) s, true);
            }
        }
        flush();
    }

    /** Encodes or queues one message taken from the publisher: {@code requested}, or polled from a fused one. */
    private void accept(O message, boolean requested) {
        demand.arrived(requested);
        if (!end.open()) {
            BatchEncoder.drop(message); // the send failed or ended: nothing more is written
            return;
        }
        batches.encode(message);
    }

    /** The encoder refused a message or broke its contract: the send fails, or, once it is over, the hook has it. */
    private void encodingFailed(Throwable failure) {
        failAfterWriting(failure);
    }

    /**
     * Writes what is queued until done or {@code EAGAIN}; once all was written, asks the publisher for more
     * (as many as fit under the high-water mark, see {@link OutboundDemand}), and if it answers
     * synchronously writes that too. Small messages are thus encoded many to a 64 KiB batch and written a batch
     * to a {@code write} (raw buffers many to a {@code writev}); each write wakes the helper, so few large writes
     * beat many small ones.
     */
    private void flush() {
        for (int steps = 0; ; steps++) {
            if (end.finished()) {
                return;
            }
            if (!signals.isEmpty()) {
                return; // a cancel, an error or messages from another thread wait: the drain task takes them first
            }
            if (steps == STEPS_PER_TURN) {
                scheduleFlush(); // let the loop's other tasks run, then go on
                return;
            }
            batches.closeBatch();
            if (!writer.isEmpty()) {
                if (!writer.writable() || !writeOnce()) {
                    return; // wait for EPOLLOUT, or failed
                }
                continue;
            }
            if (upstreamDone) {
                finish(end.failure());
                return;
            }
            Fuseable.QueueSubscription<? extends O> q = polled;
            if (q != null) {
                pollMore(q);
                continue;
            }
            long seen = demand.accepted();
            Subscription s = upstream;
            if (s != null) {
                demand.request(s, feeder != null);
            }
            if (demand.accepted() == seen) {
                return; // nothing arrived synchronously: the next onNext or signal flushes
            }
        }
    }

    /**
     * A synchronously fused upstream (an array, an iterable, a range and the maps over them): takes messages
     * straight from its queue while under the high-water mark, without a request and an onNext each.
     */
    private void pollMore(Fuseable.QueueSubscription<? extends O> q) {
        // raw buffers are queued one by one (one iovec each): as many as a request would bring
        int most = batches.passThrough() ? OutboundDemand.MAX_REQUEST : MAX_POLL;
        for (int taken = 0; taken < most && !end.finished() && !upstreamDone && demand.underMark(); taken++) {
            O message;
            try {
                message = q.poll();
            } catch (Throwable t) {
                failAfterWriting(Operators.onOperatorError(q, t, currentContext())); // a map over the source threw
                return;
            }
            if (message == null) {
                upstreamDone = true;
                return;
            }
            accept(message, false);
        }
    }

    private boolean writeOnce() {
        if (!writer.isOpen()) {
            failNow(new IOException("the helper's stdin was closed"));
            return false;
        }
        long written;
        try {
            written = writer.writeOnce();
        } catch (IOException e) {
            writeFailed(e);
            return false;
        }
        if (written < 0) {
            // the head buffer cannot be described as iovecs: fail rather than spin or stall
            failNow(new IllegalArgumentException("cannot write " + writer.head() + " with writev"));
            return false;
        }
        if (written == 0) {
            return false; // EAGAIN: the writer waits for EPOLLOUT
        }
        demand.written(written);
        owner.bytesWritten(written);
        return true;
    }

    private void writeFailed(IOException e) {
        boolean epipe = e instanceof Errors.NativeIoException
                && ((Errors.NativeIoException) e).expectedErr() == Errors.ERRNO_EPIPE_NEGATIVE;
        Subscription s = upstream;
        upstream = null;
        if (s != null) {
            s.cancel();
        }
        end.markFinished();
        releaseQueued();
        closeFd();
        MonoSink<Void> target = end.takeSink();
        IOException error = epipe ? new IOException("the helper closed its stdin (EPIPE)", e) : e;
        owner.writeFailed(error, t -> SendEnd.tell(target, end.senderError(t)));
    }

    /**
     * The publisher failed or a message could not be encoded: takes nothing more, writes what was taken before
     * (a flush follows), then fails the send with {@code cause}. A cancel or a stop fails it at once instead.
     */
    private void failAfterWriting(Throwable cause) {
        if (!end.failLater(cause)) {
            Operators.onErrorDropped(cause, currentContext()); // the send ended before: no one else would see it
            return;
        }
        upstreamDone = true;
        polled = null;
        Subscription s = upstream;
        upstream = null;
        if (s != null) {
            s.cancel(); // a no-op after onError; stops a publisher whose message could not be encoded
        }
        // unless the cancel ended the helper (a hook of the user's may stop it on this loop)
        end.startDrainTimer(loop, demand::queuedBytes, this::finish);
    }

    private void failNow(Throwable cause) {
        if (end.finished()) {
            return;
        }
        end.endedBy(cause);
        Subscription s = upstream;
        upstream = null;
        if (s != null) {
            s.cancel();
        }
        finish(end.senderError(cause));
    }

    private void finish(@Nullable Throwable error) {
        end.markFinished();
        releaseQueued();
        closeFd();
        SendEnd.tell(end.takeSink(), error);
    }

    private void releaseQueued() {
        batches.release();
        writer.release();
        signals.clear(BatchEncoder::drop, e -> Operators.onErrorDropped(e, currentContext()));
        OutboundSink<? extends O> f = feeder;
        if (f != null) {
            f.takeAccepted(BatchEncoder::drop); // the sink was cancelled first: it takes no more
        }
        demand.cleared();
    }

    private void closeFd() {
        writer.closeFd();
        owner.stdinClosed();
    }

    /** The loop shut down with the send open: it fails. */
    public void close() {
        failNow(new IllegalStateException("the event loop of this helper shut down"));
    }
}
