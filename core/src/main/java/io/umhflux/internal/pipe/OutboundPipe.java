package io.umhflux.internal.pipe;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.Errors;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.IovArray;
import io.netty.util.IllegalReferenceCountException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ReferenceCounted;
import io.netty.util.internal.PlatformDependent;
import io.umhflux.UmhException;
import io.umhflux.codec.CodecBrokenException;
import io.umhflux.codec.CodecException;
import io.umhflux.internal.os.Os;
import io.umhflux.internal.process.Loops;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * <p>Threading: signals from the publisher may come on any thread; they are queued (MPSC) and handled on
 * the event loop, where all other state lives.
 *
 * @param <O> message type
 */
public final class OutboundPipe<O> implements EpollIoHandle, CoreSubscriber<O> {
    private static final int BATCH_BYTES = 64 * 1024;
    /** Room past {@link #BATCH_BYTES} for the message that crosses it, so that it rarely needs the buffer to grow. */
    private static final int BATCH_SLACK = 4 * 1024;
    /** The most messages asked for at once; small messages are then encoded a thousand to a write. */
    private static final int MAX_REQUEST = 1024;
    /**
     * The most messages asked of a feeding sink at once: its producer threads run beside the loop, and each request is
     * a hand-over between threads (often a parked producer woken), so fewer, larger ones cost less; the high-water mark
     * bounds them as it bounds any request.
     */
    private static final int MAX_SINK_REQUEST = 4096;
    /** The most messages polled at once from a fused publisher whose messages are encoded into the batch. */
    private static final int MAX_POLL = 16 * 1024;
    /**
     * The most writes and takes from the publisher in one turn of the loop: then the loop runs its other tasks (a
     * stop, a cancel, other helpers) before this one goes on. A helper that reads as fast as an endless publisher
     * writes would otherwise keep the loop for ever.
     */
    private static final int STEPS_PER_TURN = 64;

    private final IoEventLoop loop;
    private final FileDescriptor fd;
    private final FrameEncoder<O> encoder;
    private final boolean passThrough;
    private final ByteBufAllocator alloc;
    private final long highWaterMark;
    /** How long what was taken may take to be written after the publisher failed, before the send fails anyway. */
    private final long drainTimeoutNanos;
    /** The most one {@code write} or {@code writev} takes (no limit: {@code Long.MAX_VALUE}). */
    private final long writeSize;
    private final Owner owner;
    private final Queue<Object> signals = PlatformDependent.newMpscQueue();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final AtomicBoolean started = new AtomicBoolean();
    private final Runnable drainTask = this::drainSignals;

    // event loop only
    private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
    private @Nullable ByteBuf batch;
    /** The encoder writes straight into the batch's array ({@link FrameEncoder#encodesArrays}). */
    private final boolean arrays;
    /** While not null: the batch's array, which the encoder writes into; its writer index is {@code batchEnd}. */
    private byte @Nullable [] batchArray;
    private int batchBase;
    private int batchEnd;
    private int batchLimit;
    private @Nullable IoRegistration registration;
    private @Nullable IovArray iov;
    private @Nullable Subscription upstream;
    /** The upstream's queue when it fused synchronously (SYNC): messages are polled, not requested. */
    private Fuseable.@Nullable QueueSubscription<? extends O> polled;
    private @Nullable MonoSink<Void> sink;
    private long queuedBytes;
    private long outstanding;
    private long averageSize = 1024;
    private long lastSize;
    /** Bytes and messages accepted since the last request, for {@link #averageSize}. */
    private long bytesSinceRequest;
    private long acceptedAtRequest;
    private boolean writable = true;
    private boolean upstreamDone;
    /**
     * The publisher failed, or a message could not be encoded: what was taken before is still written, then the
     * send fails with this.
     */
    private @Nullable Throwable upstreamError;
    private @Nullable ScheduledFuture<?> drainTimer;
    private boolean finished;
    private boolean inRequest;
    private boolean flushScheduled;
    private long accepted;
    /**
     * The class of the last encoded message that was not reference counted: the next of that class skips the
     * {@code instanceof}. HotSpot (17) caches only a successful interface lookup, so {@code instanceof} an interface
     * that the class does not implement scans its interface list every time ({@code repnz scas}): with perf, that
     * one instruction took 29 % of the array loop's samples for ~30-byte messages (BENCHMARKS.md).
     */
    private @Nullable Class<?> plainType;
    /**
     * The sink this send comes from, if it does: it hands over what it accepted in batches ({@link #sinkReady}), not a
     * message at a time through {@code onNext}. Set on the loop when the sink subscribes.
     */
    private @Nullable OutboundSink<? extends O> feeder;
    /** Why the pipe ended before a send began, for a send that comes later. */
    private @Nullable Throwable endCause;

    /** Told about the outbound side's life; called on the event loop. */
    public interface Owner {
        /**
         * Writing failed ({@code EPIPE}: the helper closed its stdin or exited). The owner answers when it
         * knows the helper's end, with the error to give the sender.
         */
        void writeFailed(IOException error, java.util.function.Consumer<Throwable> then);

        /** {@code bytes} were written to stdin (for metrics). */
        void bytesWritten(long bytes);

        /** The stdin descriptor was closed (it may be closed more than once: idempotent). */
        void stdinClosed();
    }

    /** Set before the send starts (a volatile write orders it); read on the loop. */
    private volatile @Nullable BiConsumer<Object, Exception> unencodable;

    public OutboundPipe(IoEventLoop loop, FileDescriptor fd, FrameEncoder<O> encoder, ByteBufAllocator alloc,
            long highWaterMark, int writeSize, Duration drainTimeout, Owner owner) {
        this.loop = loop;
        this.fd = fd;
        this.encoder = encoder;
        this.arrays = encoder.encodesArrays();
        this.passThrough = encoder.passThrough();
        this.alloc = alloc;
        this.highWaterMark = highWaterMark;
        this.drainTimeoutNanos = drainTimeout.toNanos(); // the spec caps its durations at Long.MAX_VALUE nanoseconds
        this.writeSize = writeSize > 0 ? writeSize : Long.MAX_VALUE;
        this.owner = owner;
    }

    /** Registers the descriptor on the loop; call once. */
    public void register() {
        Loops.register(loop, this, r -> {
            registration = r;
            r.submit(EpollIoOps.EPOLLOUT.with(EpollIoOps.EPOLLET));
        });
    }

    /**
     * Subscribes to {@code messages} and reports on {@code sink} when the last was written and stdin closed.
     * Only one send per helper.
     */
    public void send(Publisher<? extends O> messages, MonoSink<Void> sink) {
        send(messages, sink, null);
    }

    /**
     * As {@link #send(Publisher, MonoSink)}; with {@code unencodable}, a message the encoder refuses is dropped
     * and handed to it (on the loop) instead of failing the send: for requests, each of which may fail alone.
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
        return started.compareAndSet(false, true);
    }

    /** The error for a second send, sink or close of one helper's stdin. */
    public static IllegalStateException alreadyClaimed() {
        return new IllegalStateException("this helper's outbound was already sent to, closed or given a sink:"
                + " a helper has one send, one sink or one close");
    }

    /** Starts the send after a successful {@link #claim()}: as {@link #send(Publisher, MonoSink, BiConsumer)}. */
    public void start(Publisher<? extends O> messages, MonoSink<Void> sink,
            @Nullable BiConsumer<Object, Exception> unencodable) {
        this.unencodable = unencodable;
        sink.onCancel(() -> {
            signals.offer(Signal.CANCEL_SEND);
            scheduleDrain();
        });
        Loops.submit(loop, () -> {
            this.sink = sink;
            if (finished) {
                Throwable why = endCause;
                sink.error(why != null ? why
                        : new IllegalStateException("the helper's stdin is closed (stopped, failed, or loop gone)"));
                this.sink = null;
                return;
            }
            messages.subscribe(this);
        });
    }

    /** Closes stdin now without sending anything (the helper sees EOF). */
    public void closeWithoutSending(MonoSink<Void> sink) {
        if (!claim()) {
            sink.error(alreadyClaimed());
            return;
        }
        Loops.submit(loop, () -> {
            this.sink = sink;
            upstreamDone = true;
            if (finished) {
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
            if (!finished) {
                failNow(cause.get());
            }
        });
    }

    @Override
    public Context currentContext() {
        MonoSink<Void> s = sink;
        return s == null ? Context.empty() : Context.of(s.contextView());
    }

    @Override
    public void onSubscribe(Subscription s) {
        if (!loop.inEventLoop()) {
            Loops.execute(loop, () -> onSubscribe(s)); // some publishers call it from their own thread
            return;
        }
        if (finished || upstream != null) {
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
            outstanding--;
            accept(message);
            if (!inRequest) {
                scheduleFlush();
            }
        } else {
            signals.offer(message);
            scheduleDrain();
        }
    }

    @Override
    public void onError(Throwable t) {
        signals.offer(new Failure(t));
        scheduleDrain();
    }

    @Override
    public void onComplete() {
        signals.offer(Signal.COMPLETE);
        scheduleDrain();
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
        signals.offer(Signal.SINK_READY);
        scheduleDrain();
    }

    /** Takes what the feeding sink accepted, each as one the publisher delivered. On the loop. */
    private void takeFromSink() {
        OutboundSink<? extends O> f = feeder;
        if (f == null) {
            return;
        }
        java.util.List<? extends O> taken = f.takeAccepted();
        for (int i = 0, n = taken.size(); i < n; i++) {
            outstanding--;
            accept(taken.get(i));
        }
    }

    private void scheduleDrain() {
        if (drainScheduled.compareAndSet(false, true)) {
            Loops.submit(loop, drainTask);
        }
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
        drainScheduled.set(false);
        for (Object s; (s = signals.poll()) != null;) {
            if (s == Signal.COMPLETE) {
                upstreamDone = true;
            } else if (s == Signal.SINK_READY) {
                takeFromSink();
            } else if (s == Signal.CANCEL_SEND) {
                failNow(new java.util.concurrent.CancellationException("the send was cancelled"));
            } else if (s instanceof Failure) {
                failAfterWriting(((Failure) s).error);
            } else {
                outstanding--;
                accept((O) s);
            }
        }
        flush();
    }

    /**
     * Encodes or queues one message taken from the publisher (requested or polled): here the hot path, the codec
     * writing into the batch's array; everything else in {@link #acceptOther}.
     */
    private void accept(O message) {
        accepted++;
        if (arrays && batch == null && !finished && upstreamError == null) {
            newBatch(); // the array way from a batch's first message (a request often is one)
        }
        byte[] array = batchArray;
        if (array != null && !finished && upstreamError == null) {
            // the codec writes straight into the batch's array
            int end;
            try {
                end = encoder.encodeArray(message, array, batchEnd, batchLimit);
            } catch (Exception e) {
                refused(message, e); // nothing past batchEnd counts
                return;
            }
            if (end >= 0) {
                noteSize(end - batchEnd);
                batchEnd = end;
                if (end - batchBase >= BATCH_BYTES) {
                    closeBatch();
                }
                releaseEncoded(message);
                return;
            }
            unbind(); // no room left: the buffer's own way, which grows it
        }
        acceptOther(message);
    }

    private void acceptOther(O message) {
        if (finished || upstreamError != null) {
            ReferenceCountUtil.release(message);
            return;
        }
        boolean encoded = false;
        try {
            if (passThrough) {
                ByteBuf buf = (ByteBuf) message;
                if (!buf.isReadable()) {
                    buf.release(); // nothing to write; queued, it would look like a full pipe to writev
                    return;
                }
                if (!buf.isDirect()) {
                    // writev takes native addresses: copy a heap buffer once
                    ByteBuf direct = alloc.directBuffer(buf.readableBytes());
                    try {
                        direct.writeBytes(buf);
                    } catch (RuntimeException copyFailed) {
                        direct.release();
                        throw copyFailed;
                    }
                    buf.release();
                    buf = direct;
                }
                closeBatch();
                queue.add(buf);
                noteSize(buf.readableBytes());
            } else {
                ByteBuf b = batch;
                if (b == null) {
                    b = newBatch();
                }
                int before = b.writerIndex();
                try {
                    encoder.encode(message, b);
                } catch (Exception e) {
                    b.writerIndex(before); // no half frame goes out
                    if (refused(message, e)) {
                        bind(b); // skipped: the next messages go the array way again
                    }
                    return;
                }
                noteSize(b.writerIndex() - before);
                if (b.writerIndex() >= BATCH_BYTES) {
                    closeBatch();
                } else {
                    bind(b); // the next messages go the array way, if the encoder has one
                }
                encoded = true;
            }
        } catch (Exception e) {
            CodecException failure = cannotEncode(message, e);
            if (!passThrough) {
                releaseIfCounted(message); // a raw buffer may be released or queued already
            }
            failAfterWriting(failure);
        }
        if (encoded) {
            releaseEncoded(message);
        }
    }

    /**
     * Releases a message once encoded, if reference counted: the writer owns it from {@code onNext} on, as a Netty
     * encoder owns the messages written to it. A codec that released it itself fails the send, saying so.
     */
    private void releaseEncoded(@Nullable O message) {
        if (message == null) {
            return; // a publisher that breaks the rule against nulls: its frame was written, as before
        }
        Class<?> type = message.getClass();
        if (type == plainType) {
            return;
        }
        if (message instanceof ReferenceCounted) {
            try {
                ((ReferenceCounted) message).release();
            } catch (IllegalReferenceCountException e) {
                failAfterWriting(new IllegalStateException("the codec released the message it encoded, "
                        + message.getClass().getName() + "; the writer owns it and releases it (Codec.encode)", e));
            }
        } else {
            plainType = type;
        }
    }

    /**
     * The encoder refused {@code message}: skipped (true) if the owner skips such messages, else the send fails; a
     * {@link CodecBrokenException} fails the send even then. Either way the message is released, if reference
     * counted.
     */
    private boolean refused(O message, Exception e) {
        BiConsumer<Object, Exception> skip = unencodable;
        Exception failure = e;
        boolean broken = e instanceof CodecBrokenException;
        if (broken) {
            // a codec that can encode nothing more: the send fails first, so that nothing the skip consumer
            // submits meanwhile reaches the codec; then the request fails with the codec's reason
            failAfterWriting(cannotEncode(message, e));
        }
        if (skip != null) {
            try {
                skip.accept(message, e);
                if (!broken) {
                    releaseIfCounted(message);
                    return true;
                }
            } catch (RuntimeException skipFailed) {
                skipFailed.addSuppressed(e);
                failure = skipFailed;
            }
        }
        CodecException error = cannotEncode(message, failure);
        releaseIfCounted(message);
        failAfterWriting(error); // a no-op when the broken codec failed the send already
        return false;
    }

    /**
     * Releases a typed message that is reference counted, refused or dropped. (A plain {@code instanceof} here and in
     * {@link #releaseEncoded}, with their own type profiles: Netty's {@code ReferenceCountUtil} is shared with every
     * other caller.)
     */
    private static void releaseIfCounted(Object message) {
        if (message instanceof ReferenceCounted) {
            ((ReferenceCounted) message).release();
        }
    }

    private static CodecException cannotEncode(Object message, Exception e) {
        return new CodecException("cannot encode outbound message " + message + ": " + e, e);
    }

    private void noteSize(int size) {
        queuedBytes += size;
        lastSize = size;
        bytesSinceRequest += size;
    }

    /**
     * A batch to encode into: heap, since a codec may write into its array directly (Kryo does); it is written from
     * that array too, pinned for the {@code write(2)}.
     */
    private ByteBuf newBatch() {
        ByteBuf b = alloc.heapBuffer(BATCH_BYTES + BATCH_SLACK);
        batch = b;
        bind(b);
        return b;
    }

    /** Lets the encoder write straight into {@code b}'s array from now on, if it can. */
    private void bind(ByteBuf b) {
        if (arrays && b.hasArray()) {
            batchArray = b.array();
            batchBase = b.arrayOffset();
            batchEnd = batchBase + b.writerIndex();
            batchLimit = batchBase + b.capacity();
        }
    }

    /** Gives the batch its writer index back from the array path. */
    private void unbind() {
        ByteBuf b = batch;
        if (batchArray != null && b != null) {
            b.writerIndex(batchEnd - batchBase);
        }
        batchArray = null;
    }

    private void closeBatch() {
        ByteBuf b = batch;
        if (b != null) {
            unbind();
            batch = null;
            if (b.isReadable() && !Os.PINS_ARRAYS) {
                // this JVM would copy a pinned array: a native copy per batch (64 KiB) for writev instead
                ByteBuf direct = null;
                try {
                    direct = alloc.directBuffer(b.readableBytes());
                    direct.writeBytes(b);
                    queue.add(direct);
                    direct = null;
                } finally {
                    b.release();
                    if (direct != null) {
                        direct.release();
                    }
                }
            } else if (b.isReadable()) {
                queue.add(b); // a heap batch is written straight from its array (writeOnce), not copied first
            } else {
                b.release();
            }
            releaseEncoderArrays(); // the batch is written and freed from here on
        }
    }

    /**
     * Tells the encoder that the arrays it was given may be freed. A codec that fails at it fails the send (what was
     * taken is still written), or, once the send is over, has its error dropped to Reactor's hook.
     */
    private void releaseEncoderArrays() {
        try {
            encoder.releaseArrays();
        } catch (RuntimeException e) {
            IllegalStateException failure = new IllegalStateException("the codec failed to let go of the arrays it"
                    + " was given (ArrayCodec.releaseArrays)", e);
            if (finished || upstreamError != null) {
                Operators.onErrorDropped(failure, currentContext());
            } else {
                failAfterWriting(failure);
            }
        }
    }

    private void requestMore() {
        Subscription s = upstream;
        int most = feeder != null ? MAX_SINK_REQUEST : MAX_REQUEST;
        // once the queue is written, a sink is asked again while up to half of what it was asked for is still owed,
        // so that its producers go on while the loop writes (a producer that finds no demand waits for the loop: a
        // hand-over between threads). Asked only here, after the writes: asking as messages are taken would let
        // producers fill the whole mark before one byte is written.
        long ahead = feeder != null ? most / 2 : 0;
        if (s == null || upstreamDone || finished || outstanding > ahead || queuedBytes >= highWaterMark) {
            return;
        }
        long n;
        long arrived = accepted - acceptedAtRequest;
        if (arrived > 0) {
            // the mean size of what the last request brought, folded into the running estimate once per request
            // rather than once per message
            long mean = bytesSinceRequest / arrived;
            averageSize = acceptedAtRequest == 0 ? mean : (averageSize + mean) / 2;
        }
        if (accepted == 0) {
            if (outstanding > 0) {
                return;
            }
            n = 1; // learn the size of a message before asking for many
        } else {
            long size = Math.max(1, Math.max(averageSize, lastSize));
            // what was asked for and has not come yet counts against the mark as if it were queued
            long room = highWaterMark - queuedBytes - outstanding * size;
            n = Math.min(most - outstanding, room / size);
            if (n <= 0) {
                if (outstanding > 0) {
                    return;
                }
                n = 1; // a message larger than the room left: one at a time, never none
            }
        }
        acceptedAtRequest = accepted;
        bytesSinceRequest = 0;
        outstanding += n;
        inRequest = true;
        try {
            s.request(n);
        } finally {
            inRequest = false;
        }
    }

    /**
     * Writes what is queued until done or {@code EAGAIN}; once all was written, asks the publisher for more
     * (as many as fit under the high-water mark, at most {@link #MAX_REQUEST}), and if it answers
     * synchronously writes that too. Small messages are thus encoded many to a 64 KiB batch and written a batch
     * to a {@code write} (raw buffers many to a {@code writev}); each write wakes the helper, so few large writes
     * beat many small ones.
     */
    private void flush() {
        for (int steps = 0; ; steps++) {
            if (finished) {
                return;
            }
            if (!signals.isEmpty()) {
                return; // a cancel, an error or messages from another thread wait: the drain task takes them first
            }
            if (steps == STEPS_PER_TURN) {
                scheduleFlush(); // let the loop's other tasks run, then go on
                return;
            }
            closeBatch();
            if (!queue.isEmpty()) {
                if (!writable || !writeOnce()) {
                    return; // wait for EPOLLOUT, or failed
                }
                continue;
            }
            if (upstreamDone) {
                finish(upstreamError);
                return;
            }
            Fuseable.QueueSubscription<? extends O> q = polled;
            if (q != null) {
                pollMore(q);
                continue;
            }
            long seen = accepted;
            requestMore();
            if (accepted == seen) {
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
        int most = passThrough ? MAX_REQUEST : MAX_POLL;
        for (int taken = 0; taken < most && !finished && !upstreamDone && queuedBytes < highWaterMark; taken++) {
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
            accept(message);
        }
    }

    private boolean writeOnce() {
        if (!fd.isOpen()) {
            // closed by a stop on this loop: never write to a descriptor number that may be reused
            failNow(new IOException("the helper's stdin was closed"));
            return false;
        }
        long written;
        ByteBuf first = queue.peekFirst();
        if (!first.isDirect() && first.hasArray()) {
            // a heap batch: one write(2) from its array in place. Measured against copying each 64 KiB batch to a
            // native buffer for writev (Cpu harness, alternating JVMs): the writer loop spends ~20 % less CPU on
            // 64 KiB Kryo messages and the two loops ~4 % less on small ones (BENCHMARKS.md)
            try {
                written = writeArray(fd, first, (int) Math.min(first.readableBytes(), writeSize));
            } catch (IOException e) {
                writeFailed(e);
                return false;
            }
        } else {
            IovArray v = iov;
            if (v == null) {
                // room for 1024 iovecs, the usual IOV_MAX; only a helper sent native buffers needs one
                v = new IovArray(1024);
                iov = v;
            }
            v.clear();
            long room = writeSize; // the most this writev takes
            for (ByteBuf b : queue) {
                int take = (int) Math.min(b.readableBytes(), room);
                if (take == 0 || !b.isDirect() || !v.add(b, b.readerIndex(), take)) {
                    break; // a heap buffer waits for its own write, after these
                }
                room -= take;
            }
            if (v.count() == 0) {
                // the head buffer cannot be described as iovecs: fail rather than spin or stall
                failNow(new IllegalArgumentException("cannot write " + queue.peekFirst() + " with writev"));
                return false;
            }
            try {
                written = fd.writevAddresses(v.memoryAddress(0), v.count());
            } catch (IOException e) {
                writeFailed(e);
                return false;
            }
        }
        if (written == 0) {
            writable = false; // EAGAIN (the queue holds no empty buffer, so 0 bytes means a full pipe)
            return false;
        }
        queuedBytes -= written;
        owner.bytesWritten(written);
        while (written > 0) {
            ByteBuf head = queue.peekFirst();
            int readable = head.readableBytes();
            if (written >= readable) {
                written -= readable;
                queue.pollFirst().release();
            } else {
                head.skipBytes((int) written);
                written = 0;
            }
        }
        return true;
    }

    /**
     * One {@code write(2)} of {@code take} bytes from a heap buffer's array, pinned for the call (no native copy);
     * 0 on {@code EAGAIN}; other errors as Netty's native writes report them ({@code EPIPE} included).
     */
    private static long writeArray(FileDescriptor fd, ByteBuf heap, int take) throws IOException {
        ByteBuffer source = heap.nioBuffer(heap.readerIndex(), take);
        while (true) {
            long n = Os.libc().write(fd.intValue(), source, take);
            if (n >= 0) {
                return n;
            }
            int err = Os.errno();
            if (err != Os.EINTR) {
                return Errors.ioResult("write", -err);
            }
        }
    }

    private void writeFailed(IOException e) {
        boolean epipe = e instanceof Errors.NativeIoException
                && ((Errors.NativeIoException) e).expectedErr() == Errors.ERRNO_EPIPE_NEGATIVE;
        Subscription s = upstream;
        upstream = null;
        if (s != null) {
            s.cancel();
        }
        releaseQueued();
        closeFd();
        finished = true;
        MonoSink<Void> target = sink;
        sink = null;
        IOException error = epipe ? new IOException("the helper closed its stdin (EPIPE)", e) : e;
        owner.writeFailed(error, t -> {
            if (target != null) {
                target.error(senderError(t));
            }
        });
    }

    /**
     * The publisher failed or a message could not be encoded: takes nothing more, writes what was taken before
     * (a flush follows), then fails the send with {@code cause}. A cancel or a stop fails it at once instead.
     */
    private void failAfterWriting(Throwable cause) {
        if (finished || upstreamError != null) {
            return;
        }
        upstreamError = cause;
        upstreamDone = true;
        polled = null;
        Subscription s = upstream;
        upstream = null;
        if (s != null) {
            s.cancel(); // a no-op after onError; stops a publisher whose message could not be encoded
        }
        if (finished) {
            return; // the cancel ended the helper (a hook of the user's may stop it on this loop)
        }
        try {
            drainTimer = loop.schedule(() -> {
                if (!finished) {
                    // a new error: the publisher's own may be shared with other subscribers, and is not changed
                    finish(new UmhException(queuedBytes + " bytes taken before the publisher failed were still"
                            + " unwritten after " + Duration.ofNanos(drainTimeoutNanos) + " (the helper"
                            + " did not read them) and were dropped; the publisher's error is the cause", cause));
                }
            }, drainTimeoutNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException loopShuttingDown) {
            // the loop's shutdown closes this pipe, which fails the send
        }
    }

    /**
     * The error for the sender: {@code other} alone, unless the publisher failed first and something else ended
     * the writing of what it gave before (a stop, EPIPE): then a new error caused by the publisher's, with
     * {@code other} attached (neither is changed: either may have reached other subscribers).
     */
    private Throwable senderError(Throwable other) {
        Throwable first = upstreamError;
        if (first == null || first == other) {
            return other;
        }
        UmhException both = new UmhException("the publisher failed, and then the writing of what it gave before"
                + " ended too: " + other, first);
        both.addSuppressed(other);
        return both;
    }

    private void failNow(Throwable cause) {
        if (finished) {
            return;
        }
        endCause = cause;
        Subscription s = upstream;
        upstream = null;
        if (s != null) {
            s.cancel();
        }
        finish(senderError(cause));
    }

    private void finish(@Nullable Throwable error) {
        finished = true;

        releaseQueued();
        closeFd();
        MonoSink<Void> target = sink;
        sink = null;
        if (target != null) {
            if (error == null) {
                target.success();
            } else {
                target.error(error);
            }
        }
    }

    private void releaseQueued() {
        ScheduledFuture<?> timer = drainTimer;
        drainTimer = null;
        if (timer != null) {
            timer.cancel(false);
        }
        encoder.release();
        releaseEncoderArrays();
        for (ByteBuf b; (b = queue.pollFirst()) != null;) {
            b.release();
        }
        ByteBuf b = batch;
        batch = null;
        batchArray = null;
        if (b != null) {
            b.release();
        }
        for (Object s; (s = signals.poll()) != null;) {
            if (!(s instanceof Signal) && !(s instanceof Failure)) {
                ReferenceCountUtil.release(s);
            }
        }
        OutboundSink<? extends O> f = feeder;
        if (f != null) {
            for (Object m : f.takeAccepted()) { // the sink was cancelled first: it takes no more
                ReferenceCountUtil.release(m);
            }
        }
        queuedBytes = 0;
        IovArray v = iov;
        iov = null;
        if (v != null) {
            v.release();
        }
    }

    private void closeFd() {
        IoRegistration r = registration;
        if (r != null) {
            Loops.cancel(r);
        }
        try {
            fd.close();
        } catch (IOException e) {
            // the descriptor was ours alone; nothing waits on a close error of a pipe's write end
            Operators.onErrorDropped(e, Context.empty());
        }
        owner.stdinClosed();
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        writable = true;
        flush();
    }

    @Override
    public void close() {
        failNow(new IllegalStateException("the event loop of this helper shut down"));
    }

    private enum Signal {
        COMPLETE, CANCEL_SEND, SINK_READY
    }

    private static final class Failure {
        final Throwable error;

        Failure(Throwable error) {
            this.error = error;
        }
    }
}
