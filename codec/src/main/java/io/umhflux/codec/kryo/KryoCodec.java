package io.umhflux.codec.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.KryoBufferOverflowException;
import com.esotericsoftware.kryo.io.ByteBufferInput;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.ObjectMap;
import io.netty.buffer.ByteBuf;
import io.netty.util.internal.PlatformDependent;
import io.umhflux.codec.ArrayCodec;
import io.umhflux.codec.CodecBrokenException;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Messages as Kryo bytes: the class (as its registered id) then the object, as
 * {@link Kryo#writeClassAndObject} writes them. Put a framing around it, such as
 * {@link io.umhflux.codec.Framing#lengthPrefixed(int)}.
 *
 * <p>Registration is required by default: only classes registered with a stable id can appear, and a frame
 * naming any other id fails before anything is instantiated. Records are supported (Kryo's
 * {@code RecordSerializer}).
 *
 * <p>A frame that declares a {@code byte[]}, a primitive array or a string longer than the bytes left in it fails
 * before Kryo allocates for it (Kryo issue #1282: a 6-byte frame would make Kryo 5.6.2 allocate 1 GiB). Kryo's
 * collection, map and object-array serializers size what they make from the declared count themselves, beyond
 * this codec's reach: from a helper you do not trust with such messages, register serializers of your own for
 * them.
 *
 * <p>Not thread-safe, like Kryo itself: each helper gets its own instance per direction from {@link #forHelper()},
 * used on that helper's event loop. Its Kryo {@code Input} and {@code Output} stay bound to the last array it was
 * given, until {@link #releaseArrays()}: the pipes call it after each batch and each turn of reading; a caller using
 * the codec directly calls it before an idle spell if the arrays are big. Framings that keep stdout in a heap array
 * hand each frame over as an array range ({@link ArrayCodec}), which Kryo's {@code Input} reads in place. From a
 * {@code ByteBuf}, it reads large frames straight from native memory (a {@code ByteBufferInput}) and copies small
 * ones into a reused array first, where Kryo's byte-at-a-time reads are array accesses rather than buffer calls.
 * Encoding writes straight into the writer's batch array (the array path of {@link ArrayCodec}) or into the array of
 * a heap {@code ByteBuf}, and goes through one reusable {@code Output} otherwise. A message that outgrows the room
 * it was given is written on into the codec's own array in the same pass, never twice; one that takes more than the
 * framing's maximum stops Kryo there, so that refusing it costs no memory of its size.
 *
 * <p>A Kryo that keeps state across messages ({@code setAutoReset(false)}: class names or references sent once
 * per stream) works as long as every message goes out. After a message fails midway through it (a serializer
 * throws, or the message is over the maximum), it is ahead of the helper's Kryo for good: that message and every
 * later one fail with a {@link io.umhflux.codec.CodecBrokenException}, which fails the send (a request client
 * stops the helper, and a supervised client or pool starts a new one with a new codec) rather than let frames the
 * helper would misread reach it. A message of an unregistered class, with registration required, is refused
 * before Kryo writes anything and breaks nothing. Whether the Kryo keeps state is seen once, when the codec is
 * made, on the first Kryo of its factory: an auto reset clears the graph context after a write (of a null). The
 * factory's other Kryo instances, one per helper and direction, are taken to be configured alike.
 *
 * @param <T> the message type (a class or interface all messages are instances of)
 */
public final class KryoCodec<T> implements ArrayCodec<T> {
    /**
     * Whether Netty copies memory with {@code sun.misc.Unsafe}: not on Java 24+ unless the JVM allows it
     * ({@code --sun-misc-unsafe-memory-access=allow}); a direct frame is then read through {@code getBytes}.
     */
    private static final boolean UNSAFE_COPY = PlatformDependent.hasUnsafe();

    private final Class<T> type;
    /** {@code type} is {@code Object}: any decoded value will do, no check per message. */
    private final boolean anyType;
    private final Supplier<Kryo> factory;
    private final Kryo kryo;
    private final Output output = new Output(4096, -1);
    private final ArrayWindow window = new ArrayWindow();
    /** The array path gave up the last message for lack of room; its bytes wait in the window's spill. */
    private boolean spilledLast;
    private @Nullable Object spilledValue;
    /** Frames at least this large are read in place rather than copied first. */
    private static final int IN_PLACE_BYTES = 4096;

    private static final byte[] NO_BYTES = new byte[0];
    private static final java.nio.ByteBuffer NO_BUFFER = java.nio.ByteBuffer.allocate(0);
    private final Input input = new FrameInputs.ArrayFrameInput();
    /** Where the last {@link #readFrom} stopped in its array. */
    private int readEnd;
    private final ByteBufferInput bufferInput = new FrameInputs.BufferFrameInput();
    private byte[] scratch = new byte[4096];
    /** A key put in Kryo's graph context before a write: an auto reset clears it, a Kryo that keeps state not. */
    private static final Object STATE_PROBE = new Object();
    /**
     * Whether the factory's Kryo keeps state across messages (auto reset off). Seen on the template's own Kryo, so
     * that a helper's Kryo never gets a graph context from this codec: Kryo's every reset clears one that exists,
     * which would be work on every message.
     */
    private final boolean keepsState;
    /** A message failed midway through a Kryo that keeps state: the reader's Kryo would no longer follow. */
    private boolean broken;
    private static final String BROKEN = "a message failed midway through this helper's Kryo, which keeps state"
            + " across messages (auto reset off): the helper's Kryo could no longer follow what comes after, so"
            + " nothing more is encoded for this helper (a new helper gets a new codec)";

    private KryoCodec(Class<T> type, Supplier<Kryo> factory, @Nullable Boolean keepsState) {
        this.type = type;
        this.anyType = type == Object.class;
        this.factory = factory;
        this.kryo = Objects.requireNonNull(factory.get(), "the Kryo factory returned null");
        this.keepsState = keepsState != null ? keepsState : keepsState(kryo);
    }

    /**
     * Whether {@code kryo} keeps state across messages: its auto reset (on unless turned off) clears the graph
     * context when a top-level write ends, here one of a null. A Kryo that cannot write a null (a class resolver of
     * its own that refuses one) is taken to keep state, the safe side: a message that fails midway then breaks the
     * codec, and the helper is replaced, even if its Kryo resets after each message.
     */
    @SuppressWarnings("unchecked") // Kryo hands its graph context out as a raw map of any keys
    private static boolean keepsState(Kryo kryo) {
        ObjectMap<Object, Object> context = kryo.getGraphContext();
        context.put(STATE_PROBE, STATE_PROBE);
        try {
            kryo.writeClassAndObject(new Output(16), null);
        } catch (RuntimeException cannotTell) {
            return true;
        }
        return context.remove(STATE_PROBE) != null;
    }

    /**
     * A codec whose Kryo requires registration; {@code registrations} registers the message classes with
     * stable ids, the same on both sides of the pipe.
     *
     * <pre>{@code
     * KryoCodec<Point> codec = KryoCodec.of(Point.class, kryo -> kryo.register(Point.class, 20));
     * }</pre>
     */
    public static <T> KryoCodec<T> of(Class<T> type, Consumer<Kryo> registrations) {
        Objects.requireNonNull(registrations, "registrations");
        return withFactory(type, () -> {
            Kryo k = new Kryo();
            k.setRegistrationRequired(true);
            registrations.accept(k);
            return k;
        });
    }

    /** A codec on Kryo instances from {@code factory}, configured as it pleases (called once per helper). */
    public static <T> KryoCodec<T> withFactory(Class<T> type, Supplier<Kryo> factory) {
        return new KryoCodec<>(Objects.requireNonNull(type, "type"), Objects.requireNonNull(factory, "factory"), null);
    }

    @Override
    public KryoCodec<T> forHelper() {
        return new KryoCodec<>(type, factory, keepsState);
    }

    @Override
    public void encode(T value, ByteBuf out) {
        if (spilledLast) {
            boolean same = spilledValue == value;
            dropSpilled(same);
            if (same) {
                // the array path gave this message up for lack of room; Kryo wrote it once, into the spill
                try {
                    window.appendSpill(out);
                } catch (RuntimeException e) {
                    throw failed(e);
                }
                return;
            }
        }
        beforeWrite(value);
        int most = out.maxWritableBytes();
        try {
            if (out.hasArray()) {
                int base = out.arrayOffset();
                int end = window.write(kryo, value, out.array(), base + out.writerIndex(), base + out.capacity(),
                        most);
                if (end == -2) {
                    throw tooBig(most, out); // as the buffer itself would refuse it, before it was written whole
                }
                if (end >= 0) {
                    out.writerIndex(end - base);
                } else {
                    window.appendSpill(out);
                }
            } else {
                byte[] kept = output.getBuffer();
                output.setBuffer(kept.length <= most ? kept : new byte[Math.min(most, 4096)], most);
                try {
                    kryo.writeClassAndObject(output, value);
                } catch (KryoBufferOverflowException e) {
                    throw (IndexOutOfBoundsException) tooBig(most, out).initCause(e);
                }
                out.writeBytes(output.getBuffer(), 0, output.position());
            }
        } catch (RuntimeException e) {
            throw failed(e);
        } catch (Error e) {
            throw failedBy(e);
        }
    }

    private static IndexOutOfBoundsException tooBig(int most, ByteBuf out) {
        return new IndexOutOfBoundsException("the message takes more than " + most + " bytes, the most that " + out
                + " can take");
    }

    /**
     * Refuses to go on after a message failed midway through a Kryo that keeps state; and, with such a Kryo, refuses
     * an unregistered class before Kryo writes anything of it.
     */
    private void beforeWrite(@Nullable Object value) {
        if (broken) {
            throw new CodecBrokenException(BROKEN, null);
        }
        if (keepsState && value != null && kryo.isRegistrationRequired()) {
            // an unregistered class fails here, before Kryo writes or records anything: no reason to break
            kryo.getRegistration(value.getClass());
        }
    }

    /** {@link #failed} for an {@code Error}, which is thrown as it is. */
    private Error failedBy(Error e) {
        failed(e);
        return e;
    }

    /**
     * A message failed in or after Kryo: a Kryo that keeps state is then ahead of the reader's for good, and the
     * codec broken. Returns what to throw.
     */
    private RuntimeException failed(Throwable e) {
        if (keepsState) {
            broken = true;
            return new CodecBrokenException(BROKEN + ", by " + e, e);
        }
        return e instanceof RuntimeException ? (RuntimeException) e : new IllegalStateException(e);
    }

    /**
     * Writes straight into {@code array}. A message that outgrows {@code limit} is written on into the codec's own
     * array, in the same pass, and kept there for the {@link #encode(Object, ByteBuf)} call that follows with the
     * same value: Kryo sees each message once, which matters to a Kryo that keeps state across messages.
     */
    @Override
    public int encode(T value, byte[] array, int offset, int limit) {
        int end = encode(value, array, offset, limit, ArrayWindow.MOST);
        if (end == -2) {
            throw new KryoBufferOverflowException("a message of more than 2 GiB");
        }
        return end;
    }

    /**
     * As {@link #encode(Object, byte[], int, int)}; a message over {@code maxLength} stops Kryo as soon as it
     * writes past it: -2, and nothing kept (with a Kryo that keeps state, a {@link CodecBrokenException}).
     */
    @Override
    public int encode(T value, byte[] array, int offset, int limit, int maxLength) {
        if (spilledLast) {
            dropSpilled(false);
        }
        beforeWrite(value);
        int end;
        try {
            end = window.write(kryo, value, array, offset, limit, maxLength);
        } catch (RuntimeException e) {
            throw failed(e);
        } catch (Error e) {
            throw failedBy(e);
        }
        if (end == -2 && keepsState) {
            throw failed(new IllegalArgumentException("the message takes more than " + maxLength
                    + " bytes, the framing's maximum"));
        }
        if (end == -1) {
            spilledLast = true;
            spilledValue = value;
        }
        return end;
    }

    private void dropSpilled(boolean keepBytes) {
        if (!keepBytes && keepsState) {
            broken = true; // a message Kryo wrote into the spill never went out
        }
        spilledLast = false;
        spilledValue = null;
        if (!keepBytes) {
            window.dropSpill();
        }
    }

    @Override
    public T decode(ByteBuf frame) {
        int length = frame.readableBytes();
        if (length >= IN_PLACE_BYTES && !frame.hasArray()) {
            // large: read in place, Kryo's bulk reads are ByteBuffer copies there
            java.nio.ByteBuffer nio = frame.nioBuffer();
            int from = nio.position(); // not 0 for every ByteBuf (a read-only ByteBuffer's)
            bufferInput.setBuffer(nio);
            try {
                Object value = kryo.readClassAndObject(bufferInput);
                frame.skipBytes(bufferInput.position() - from);
                return checked(value);
            } finally {
                bufferInput.setBuffer(NO_BUFFER); // keep no view of the caller's memory between messages
            }
        }
        if (frame.hasArray()) {
            int start = frame.arrayOffset() + frame.readerIndex();
            Object value = readFrom(frame.array(), start, length);
            frame.readerIndex(frame.readerIndex() + readEnd - start);
            return checked(value);
        }
        // One copy into a reused array instead of reading a direct buffer through ByteBufferInput: Kryo's
        // byte-at-a-time reads are array accesses there, not ByteBuffer calls.
        if (scratch.length < length) {
            scratch = new byte[Math.max(length, scratch.length * 2)];
        }
        if (UNSAFE_COPY && frame.hasMemoryAddress()) {
            // straight from the frame's memory, skipping getBytes()'s checks through the slice on every frame
            PlatformDependent.copyMemory(frame.memoryAddress() + frame.readerIndex(), scratch, 0, length);
        } else {
            frame.getBytes(frame.readerIndex(), scratch, 0, length);
        }
        Object value = readFrom(scratch, 0, length);
        frame.readerIndex(frame.readerIndex() + readEnd);
        return checked(value);
    }

    @Override
    public T decode(byte[] array, int offset, int length) {
        Object value = readFrom(array, offset, length);
        int unread = offset + length - readEnd;
        if (unread != 0) {
            throw new IllegalArgumentException("the message took " + (length - unread) + " of the frame's " + length
                    + " bytes; " + unread + " were left unread");
        }
        return checked(value);
    }

    /**
     * Reads one object from {@code length} bytes of {@code array} at {@code offset} with the reusable
     * {@code Input}, noting where it stopped in {@link #readEnd}. The Input stays bound to the array until
     * {@link #releaseArrays}: the next frame, usually in the same array, only moves its position and limit.
     */
    private Object readFrom(byte[] array, int offset, int length) {
        Input in = input;
        if (in.getBuffer() == array) {
            in.setPosition(offset);
            in.setLimit(offset + length);
        } else {
            in.setBuffer(array, offset, length);
        }
        Object value;
        try {
            value = kryo.readClassAndObject(in);
        } catch (RuntimeException | Error e) {
            in.setBuffer(NO_BYTES); // the next frame binds afresh: a failed read may have moved the Input's count
            throw e;
        }
        readEnd = in.position();
        return value;
    }

    /**
     * Lets go of the caller's arrays: the {@code Input} and the writer's window stay bound to the last one between
     * messages, because storing an array into them per message would pass G1's write barrier, a fence once the
     * codec is in an old region.
     */
    @Override
    public void releaseArrays() {
        input.setBuffer(NO_BYTES);
        window.release();
    }

    @SuppressWarnings("unchecked") // checked just before, unless T is Object
    private T checked(Object value) {
        if (value == null || !anyType && !type.isInstance(value)) {
            throw new IllegalArgumentException("decoded a " + (value == null ? "null" : value.getClass().getName())
                    + ", not a " + type.getName());
        }
        return (T) value;
    }
}
