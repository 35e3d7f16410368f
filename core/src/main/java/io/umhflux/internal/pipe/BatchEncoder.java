package io.umhflux.internal.pipe;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.IllegalReferenceCountException;
import io.netty.util.ReferenceCounted;
import io.umhflux.codec.CodecBrokenException;
import io.umhflux.codec.CodecException;
import io.umhflux.internal.os.Os;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Encodes the messages of one send into 64 KiB heap batches and hands each closed batch to the {@link StdinWriter};
 * raw native buffers go to the writer as they are. It decides, in one place, what becomes of every message it is
 * given: a reference-counted message is released once encoded, refused or dropped ({@link #drop}), never twice, and
 * never by anyone else once given here.
 *
 * <p>The hot path is {@link #encode} with an {@link FrameEncoder#encodesArrays array encoder}: the codec writes
 * straight into the open batch's array, with no {@code ByteBuf} call per message. Event loop only.
 *
 * @param <O> message type
 */
final class BatchEncoder<O> {
    static final int BATCH_BYTES = 64 * 1024;
    /** Room past {@link #BATCH_BYTES} for the message that crosses it, so that it rarely needs the buffer to grow. */
    private static final int BATCH_SLACK = 4 * 1024;

    private final FrameEncoder<O> encoder;
    private final boolean passThrough;
    /** The encoder writes straight into the batch's array ({@link FrameEncoder#encodesArrays}). */
    private final boolean arrays;
    private final ByteBufAllocator alloc;
    private final StdinWriter writer;
    private final OutboundDemand demand;
    /**
     * Fails the send after what was taken is written: for a message the codec refused, or a codec that broke its
     * contract. Called at most once per failure, in place, so that nothing taken later reaches a broken codec.
     */
    private final Consumer<Throwable> fail;
    /** Set before the send starts (a volatile write orders it); read on the loop. */
    private volatile @Nullable BiConsumer<Object, Exception> unencodable;

    private @Nullable ByteBuf batch;
    /** While not null: the batch's array, which the encoder writes into; its writer index is {@code batchEnd}. */
    private byte @Nullable [] batchArray;
    private int batchBase;
    private int batchEnd;
    private int batchLimit;
    /**
     * The class of the last encoded message that was not reference counted: the next of that class skips the
     * {@code instanceof}. HotSpot caches only a successful interface check, so an {@code instanceof} of an interface
     * that the class does not implement scans the class's interface list every time.
     */
    private @Nullable Class<?> plainType;

    BatchEncoder(FrameEncoder<O> encoder, ByteBufAllocator alloc, StdinWriter writer, OutboundDemand demand,
            Consumer<Throwable> fail) {
        this.encoder = encoder;
        this.passThrough = encoder.passThrough();
        this.arrays = encoder.encodesArrays();
        this.alloc = alloc;
        this.writer = writer;
        this.demand = demand;
        this.fail = fail;
    }

    /**
     * With {@code skip}, a message the encoder refuses is dropped and handed to it (on the loop) instead of failing
     * the send: for requests, each of which may fail alone. Set before the send starts.
     */
    void skipUnencodable(@Nullable BiConsumer<Object, Exception> skip) {
        this.unencodable = skip;
    }

    /** Whether messages are raw buffers written as they are (no codec). */
    boolean passThrough() {
        return passThrough;
    }

    /** Encodes {@code message} into the open batch, or queues it if it is a raw buffer; it is ours from here on. */
    void encode(O message) {
        if (arrays && batch == null) {
            newBatch(); // the array way from a batch's first message (a request often is one)
        }
        byte[] array = batchArray;
        if (array != null) {
            int end;
            try {
                end = encoder.encodeArray(message, array, batchEnd, batchLimit);
            } catch (Exception e) {
                refused(message, e); // nothing past batchEnd counts
                return;
            }
            if (end >= 0) {
                demand.taken(end - batchEnd);
                batchEnd = end;
                if (end - batchBase >= BATCH_BYTES) {
                    closeBatch();
                }
                releaseEncoded(message);
                return;
            }
            unbind(); // no room left: the buffer's own way, which grows it
        }
        encodeOther(message);
    }

    private void encodeOther(O message) {
        try {
            if (passThrough) {
                queueRaw((ByteBuf) message);
                return;
            }
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
            demand.taken(b.writerIndex() - before);
            if (b.writerIndex() >= BATCH_BYTES) {
                closeBatch();
            } else {
                bind(b); // the next messages go the array way, if the encoder has one
            }
        } catch (RuntimeException e) {
            // the allocator or a copy failed: the message is not encoded, and the send fails
            CodecException failure = cannotEncode(message, e); // described before it is released
            if (!passThrough) {
                drop(message); // a raw buffer was released or queued already
            }
            fail.accept(failure);
            return;
        }
        releaseEncoded(message);
    }

    /** A raw buffer goes to the writer as it is (a heap one copied once to native memory, which writev needs). */
    private void queueRaw(ByteBuf raw) {
        ByteBuf buf = raw;
        if (!buf.isReadable()) {
            buf.release(); // nothing to write; queued, it would look like a full pipe to writev
            return;
        }
        if (!buf.isDirect()) {
            ByteBuf direct = null;
            try {
                direct = alloc.directBuffer(buf.readableBytes());
                direct.writeBytes(buf);
            } catch (RuntimeException copyFailed) {
                if (direct != null) {
                    direct.release();
                }
                throw copyFailed;
            } finally {
                buf.release(); // copied, or not to be written: either way no longer needed
            }
            buf = direct;
        }
        closeBatch();
        writer.add(buf);
        demand.taken(buf.readableBytes());
    }

    /**
     * Releases a message once encoded, if reference counted: it is ours from {@code onNext} on, as a Netty encoder
     * owns the messages written to it. A codec that released it itself fails the send, saying so.
     */
    private void releaseEncoded(@Nullable O message) {
        if (passThrough || message == null) {
            return; // a raw buffer is the writer's now; a null from a rule-breaking publisher was encoded as any
        }
        Class<?> type = message.getClass();
        if (type == plainType) {
            return;
        }
        if (message instanceof ReferenceCounted) {
            try {
                ((ReferenceCounted) message).release();
            } catch (IllegalReferenceCountException e) {
                fail.accept(new IllegalStateException("the codec released the message it encoded, "
                        + message.getClass().getName() + "; the writer owns it and releases it (Codec.encode)", e));
            }
        } else {
            plainType = type;
        }
    }

    /**
     * The encoder refused {@code message}: skipped (true) if the owner skips such messages, else the send fails; a
     * {@link CodecBrokenException} fails the send even then. Either way the message is released.
     */
    private boolean refused(O message, Exception e) {
        BiConsumer<Object, Exception> skip = unencodable;
        boolean broken = e instanceof CodecBrokenException;
        if (broken) {
            // a codec that can encode nothing more: the send fails first, so that nothing the skip consumer
            // submits meanwhile reaches the codec; then the request fails with the codec's reason
            fail.accept(cannotEncode(message, e));
        }
        Exception failure = e;
        if (skip != null) {
            try {
                skip.accept(message, e);
                if (!broken) {
                    drop(message);
                    return true;
                }
            } catch (RuntimeException skipFailed) {
                skipFailed.addSuppressed(e);
                failure = skipFailed;
            }
        }
        @Nullable CodecException error = broken ? null : cannotEncode(message, failure); // described before release
        drop(message);
        if (error != null) {
            fail.accept(error);
        }
        return false;
    }

    /**
     * Releases a message that will not be encoded (taken after the send failed, or left in a queue), if reference
     * counted. A plain {@code instanceof} here and in {@link #releaseEncoded}, each with its own type profile (Netty's
     * {@code ReferenceCountUtil} is shared with every other caller).
     */
    static void drop(@Nullable Object message) {
        if (message instanceof ReferenceCounted) {
            ((ReferenceCounted) message).release();
        }
    }

    private static CodecException cannotEncode(Object message, Exception e) {
        return new CodecException("cannot encode outbound message " + message + ": " + e, e);
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

    /** Hands the open batch, if any, to the writer; the next message opens a new one. */
    void closeBatch() {
        ByteBuf b = batch;
        if (b == null) {
            return;
        }
        unbind();
        batch = null;
        if (b.isReadable() && !Os.PINS_ARRAYS) {
            // this JVM would copy a pinned array: a native copy per batch (64 KiB) for writev instead
            ByteBuf direct = null;
            try {
                direct = alloc.directBuffer(b.readableBytes());
                direct.writeBytes(b);
                writer.add(direct);
                direct = null;
            } finally {
                b.release();
                if (direct != null) {
                    direct.release();
                }
            }
        } else if (b.isReadable()) {
            writer.add(b); // a heap batch is written straight from its array, not copied first
        } else {
            b.release();
        }
        releaseEncoderArrays(); // the batch is written and freed from here on
    }

    /**
     * Tells the encoder that the arrays it was given may be freed. A codec that fails at it fails the send (what was
     * taken is still written), or, once the send is over, has its error dropped to Reactor's hook.
     */
    private void releaseEncoderArrays() {
        try {
            encoder.releaseArrays();
        } catch (RuntimeException e) {
            fail.accept(new IllegalStateException("the codec failed to let go of the arrays it"
                    + " was given (ArrayCodec.releaseArrays)", e));
        }
    }

    /** The send is over: frees the open batch and what the encoder holds. Once, on the loop. */
    void release() {
        encoder.release();
        releaseEncoderArrays();
        ByteBuf b = batch;
        batch = null;
        batchArray = null;
        if (b != null) {
            b.release();
        }
    }
}
