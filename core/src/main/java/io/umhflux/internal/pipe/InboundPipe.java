package io.umhflux.internal.pipe;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.ReferenceCountUtil;
import io.umhflux.internal.loop.Loops;
import java.io.IOException;
import java.util.Objects;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * The helper's stdout as a {@link Flux}: bytes are read only while the subscriber has demand.
 *
 * <p>Demand is the only thing that makes this read. Without it nothing is read, the pipe fills, and the
 * helper blocks in {@code write}: backpressure reaches the other process. A readiness or end-of-file edge that
 * arrives without demand is remembered by the {@link StdoutReader} (which reads and keeps the cumulation) instead
 * of waking the loop again and again; demand then reads straight away. This is reactor-netty's {@code FluxReceive}
 * idea with epoll's edge semantics; this class is the demand, the decoding and the delivery.
 *
 * <p>Threading: {@link #request}, {@link #cancel}, {@link #subscribe}, {@link #helperEnded} and
 * {@link #fail} may be called from any thread and hop onto the event loop; every other field is touched
 * only on the loop, which is why they are plain. The loop may be another one than the helper's other
 * pipes use: decoding stdout and encoding stdin then run in parallel, as a reader and a writer thread do.
 *
 * <p>Termination: after end-of-file, once every whole message was delivered and the owner reported the
 * helper's end ({@link #helperEnded}). A frame error or an owner failure ends it at once; either way every
 * message decoded before was already delivered.
 *
 * @param <I> message type
 */
public final class InboundPipe<I> extends LoopDrainedFlux<I> {
    private static final int MAX_READS_PER_TURN = 16;

    private final StdoutReader reader;
    private final FrameDecoder<I> decoder;
    private final boolean releaseAfterDelivery;
    /** The decoder walks heap arrays itself ({@link FrameDecoder#decodesArrays}). */
    private final boolean arrays;
    private final PipeOwner owner;

    // event loop only
    private @Nullable I pending;
    private long demand;
    private long offset;
    // read by the owner from its own loop, which may be another one
    private volatile boolean eof;
    private boolean ended;
    private boolean terminated;
    private @Nullable Throwable failure;

    public InboundPipe(IoEventLoop loop, FileDescriptor fd, FrameDecoder<I> decoder, ByteBufAllocator alloc,
            int readSize, PipeOwner owner) {
        super(loop);
        this.reader = new StdoutReader(loop, fd, decoder, alloc, readSize, this::drainOnLoop, this::close);
        this.decoder = decoder;
        this.releaseAfterDelivery = decoder.releaseAfterDelivery();
        this.arrays = decoder.decodesArrays();
        this.owner = owner;
    }

    /** Registers the descriptor on the loop; call once, on any thread. */
    public void register() {
        reader.register();
    }

    /** The helper's end is known (its status or a failure is ready at the owner); any thread. */
    public void helperEnded() {
        Loops.execute(loop, () -> {
            ended = true;
            drainOnLoop();
        });
    }

    /** Ends the inbound with {@code error} at once (after what was already delivered); any thread. */
    public void fail(Throwable error) {
        Loops.execute(loop, () -> failOnLoop(error));
    }

    private void failOnLoop(Throwable error) {
        if (failure == null) {
            failure = error;
        }
        if (actual == null) {
            // nobody subscribed yet: free the pipe now; a later subscriber gets the error
            releaseBuffers();
            closeFd();
        }
        drainOnLoop();
    }

    /**
     * For the owner's drain timer, which tells a stall from a slow reader: on this pipe's loop, fails the inbound
     * with {@code error} if its subscriber waits for bytes that do not come (nothing decoded waits for it, and
     * stdout is open and empty, whatever the demand: a subscriber whose demand was used up waits for the end);
     * otherwise, unless the inbound already ended, runs {@code otherwise} (bytes wait for a slow subscriber).
     * Any thread.
     */
    public void failIfWaitingForBytes(Supplier<? extends Throwable> error, Runnable otherwise) {
        Loops.execute(loop, () -> {
            if (terminated || eof) {
                return;
            }
            if (pending == null && (!reader.readReady() || reader.pipeEmpty())) {
                failOnLoop(error.get());
            } else {
                otherwise.run();
            }
        });
    }

    public boolean isEof() {
        return eof;
    }

    /**
     * The loop shuts down (or refused the registration): nothing more will be read. On the loop, or after it
     * terminated (never concurrently with a drain still queued on it).
     */
    public void close() {
        Loops.execute(loop, () -> {
            failOnLoop(new IllegalStateException("the event loop of this helper shut down"));
            closeFd();
        });
    }

    @Override
    void afterDrain() {
        releaseDecoderArrays(); // the cumulation may be freed or reused before the next turn
    }

    /**
     * Tells the decoder that the arrays it was given may be freed. A codec that fails at it fails the inbound, or,
     * once the inbound is over, has its error dropped to Reactor's hook.
     */
    private void releaseDecoderArrays() {
        try {
            decoder.releaseArrays();
        } catch (RuntimeException e) {
            IllegalStateException error = new IllegalStateException("the codec failed to let go of the arrays it was"
                    + " given (ArrayCodec.releaseArrays)", e);
            CoreSubscriber<? super I> a = actual;
            if (terminated || failure != null) {
                Operators.onErrorDropped(error, a != null ? a.currentContext() : Context.empty());
            } else {
                failure = error;
                drainLater(); // the next turn ends the inbound with it
            }
        }
    }

    @Override
    void drain() {
        int reads = 0;
        while (true) {
            if (terminated) {
                return;
            }
            if (cancelled) {
                terminated = true;
                releaseBuffers();
                closeFd();
                owner.inboundCancelled();
                return;
            }
            CoreSubscriber<? super I> a = actual;
            if (a == null) {
                return;
            }
            demand = withRequested(demand);
            if (failure != null) {
                terminate(a, failure);
                return;
            }
            deliverWhole(a);
            if (failure != null || cancelled) {
                continue; // a frame error, a failure or a cancel during delivery: the next turn ends it
            }
            // deliverWhole left either no demand or no whole message; without demand, one decoded message waits
            if (pending == null && !decodeNext()) {
                continue; // a frame error: the next turn terminates
            }
            if (pending != null) {
                return; // a whole message waits for demand; nothing more is read meanwhile
            }
            if (eof) {
                endOfStream(a);
                return;
            }
            if (demand == 0 && reader.hangup() && reader.readReady() && reader.pipeEmpty()) {
                // the writer is gone and nothing is left: that is the end, which needs no demand to be said
                eof = true;
                owner.inboundEof();
                continue;
            }
            if (demand == 0 || !reader.readReady()) {
                return; // no demand, or an empty pipe: the next request or EPOLLIN edge resumes
            }
            if (reads++ == MAX_READS_PER_TURN) {
                drainLater(); // yield the loop to the other helpers on it, then go on
                return;
            }
            readOnce();
        }
    }

    /**
     * The hot path: delivers the whole messages already read while there is demand, without the general loop's
     * checks for each message (small messages come by the million). Stops at a cancel, a failure, a frame
     * error or when no whole message is left; the general loop then decides what comes next.
     */
    private void deliverWhole(CoreSubscriber<? super I> a) {
        ByteBuf c = reader.cumulation();
        if (pending == null && c != null && arrays && c.hasArray()) {
            deliverFromArray(a, c); // stops where the loop below would
            return;
        }
        while (demand > 0 && !cancelled && failure == null) {
            if (pending == null && !decodeNext()) {
                return; // a frame error: failure is set
            }
            I message = pending;
            if (message == null) {
                return;
            }
            pending = null;
            demand--;
            deliver(a, message);
        }
    }

    /**
     * {@link #deliverWhole} for small frames in a heap cumulation: walks its array frame after frame, and sets its
     * reader index once at the end. Nothing but this loop moves or frees the cumulation meanwhile (a drain that
     * {@code onNext} re-enters only marks itself to run again).
     */
    private void deliverFromArray(CoreSubscriber<? super I> a, ByteBuf c) {
        byte[] array = c.array();
        int base = c.arrayOffset();
        int from = base + c.readerIndex();
        int to = base + c.writerIndex();
        int at = from;
        try {
            while (demand > 0 && !cancelled && failure == null) {
                I message = decoder.decodeArray(array, at, to, offset + at - from);
                if (message == null) {
                    break;
                }
                at = decoder.arrayEnd();
                demand--;
                deliver(a, message);
                if (demand == 0) {
                    demand = withRequested(0); // asked for more meanwhile, as from onNext: walk on
                }
            }
        } catch (FrameException e) {
            frameError(e);
        } finally {
            offset += at - from;
            if (reader.cumulation() == c) {
                c.readerIndex(at - base);
                if (!c.isReadable()) {
                    reader.releaseCumulation();
                }
            }
        }
    }

    private void deliver(CoreSubscriber<? super I> a, I message) {
        try {
            a.onNext(message);
        } finally {
            if (releaseAfterDelivery) {
                ReferenceCountUtil.release(message);
            }
        }
    }

    /** Decodes the next whole message into {@link #pending} if there is one; false on a frame error. */
    private boolean decodeNext() {
        ByteBuf c = reader.cumulation();
        if (c == null || !c.isReadable()) {
            return true;
        }
        int before = c.readerIndex();
        try {
            pending = decoder.decode(c, offset);
        } catch (FrameException e) {
            frameError(e);
            return false;
        }
        offset += c.readerIndex() - before;
        if (!c.isReadable()) {
            reader.releaseCumulation();
        }
        return true;
    }

    private void frameError(FrameException e) {
        releaseBuffers();
        owner.inboundFrameError(e);
        failure = owner.failureFor(e);
    }

    private void readOnce() {
        int n;
        try {
            n = reader.read();
        } catch (IOException e) {
            failure = e;
            return;
        }
        if (n > 0) {
            owner.bytesRead(n);
        } else if (n == StdoutReader.EOF) {
            eof = true;
            owner.inboundEof();
        } else if (n == StdoutReader.CLOSED) {
            eof = true; // closed by a failure or shutdown on this loop, which told the owner
        }
    }

    private void endOfStream(CoreSubscriber<? super I> a) {
        ByteBuf c = reader.cumulation();
        if (c != null && c.isReadable()) {
            I last;
            try {
                last = decoder.endOfStream(c, offset);
            } catch (FrameException e) {
                // a frame cut short by the end of stdout: the helper is ending, so its status is known soon and
                // belongs in the error; as after a clean end, wait for it (endError carries the frame error)
                owner.inboundFrameError(e);
                releaseBuffers();
                closeFd();
                if (ended) {
                    terminated = true;
                    a.onError(Objects.requireNonNull(owner.endError(), "an end after a frame error"));
                }
                return;
            }
            reader.releaseCumulation();
            if (last != null) {
                pending = last; // delivered on demand by the next turn, then the end comes here again
                drainAgain = true;
                return;
            }
        }
        reader.releaseCumulation();
        closeFd();
        if (!ended) {
            return; // wait for the helper's end: success or failure decides how we terminate
        }
        Throwable error = owner.endError();
        terminated = true;
        if (error == null) {
            a.onComplete();
        } else {
            a.onError(error);
        }
    }

    private void terminate(CoreSubscriber<? super I> a, Throwable error) {
        terminated = true;
        releaseBuffers();
        closeFd();
        a.onError(error);
    }

    private void releaseBuffers() {
        reader.releaseCumulation();
        releaseDecoderArrays();
        I p = pending;
        pending = null;
        if (p != null) {
            ReferenceCountUtil.release(p); // never delivered: ours (a codec's retained slice, a raw chunk)
        }
    }

    /** Closes stdout (each path ends here once); for the owner that is the end of stdout too. */
    private void closeFd() {
        IOException e = reader.closeFd();
        if (e != null && failure == null) {
            failure = e;
        }
        owner.stdoutClosed();
        if (!eof) {
            eof = true; // cancelled, failed or shut down: nothing more will be read
            owner.inboundEof();
        }
    }
}
