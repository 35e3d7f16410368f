package io.umhflux.codec.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.ByteBufferInput;
import com.esotericsoftware.kryo.io.Output;
import io.netty.buffer.ByteBuf;
import io.umhflux.codec.Codec;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Messages as Kryo bytes: the class (as its registered id) then the object, as
 * {@link Kryo#writeClassAndObject} writes them. Put a framing around it, such as
 * {@link io.umhflux.codec.Framing#lengthPrefixed(int)}.
 *
 * <p>Registration is required by default: only classes registered with a stable id can appear, and a frame
 * naming any other id fails before anything is instantiated. Records are supported (Kryo's
 * {@code RecordSerializer}).
 *
 * <p>Not thread-safe, like Kryo itself: each helper gets its own instance per direction from
 * {@link #forHelper()}, used on that helper's event loop. Decoding reads straight from the frame's memory
 * (a {@code ByteBufferInput} over the {@code ByteBuf}); encoding goes through one reusable {@code Output}.
 *
 * @param <T> the message type (a class or interface all messages are instances of)
 */
public final class KryoCodec<T> implements Codec<T> {
    private final Class<T> type;
    private final Supplier<Kryo> factory;
    private final Kryo kryo;
    private final Output output = new Output(4096, -1);
    private final ByteBufferInput input = new ByteBufferInput();

    private KryoCodec(Class<T> type, Supplier<Kryo> factory) {
        this.type = type;
        this.factory = factory;
        this.kryo = Objects.requireNonNull(factory.get(), "the Kryo factory returned null");
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
        return new KryoCodec<>(Objects.requireNonNull(type, "type"), Objects.requireNonNull(factory, "factory"));
    }

    @Override
    public Codec<T> forHelper() {
        return new KryoCodec<>(type, factory);
    }

    @Override
    public void encode(T value, ByteBuf out) {
        output.reset();
        kryo.writeClassAndObject(output, value);
        out.writeBytes(output.getBuffer(), 0, output.position());
    }

    @Override
    public T decode(ByteBuf frame) {
        input.setBuffer(frame.nioBuffer());
        Object value = kryo.readClassAndObject(input);
        frame.skipBytes((int) input.total());
        if (!type.isInstance(value)) {
            throw new IllegalArgumentException("decoded a " + (value == null ? "null" : value.getClass().getName())
                    + ", not a " + type.getName());
        }
        return type.cast(value);
    }
}
