package io.umhflux.codec.json;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.umhflux.codec.ArrayCodec;
import java.io.OutputStream;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JsonGenerator;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * One JSON value per message, with Jackson 3: use it with {@code Framing.lines(max)} for JSON lines, the way
 * helpers in Python, Node, Go or Rust talk on stdio.
 *
 * <pre>{@code
 * record Query(String text, int limit) {}
 * record Hit(String id, double score) {}
 * JsonMapper json = JsonMapper.builder().build();
 * Umh<Hit, Query> search = UmhFlux.spec(Blob.fromClasspath("helpers/search.py"))
 *         .codec(Framing.lines(64 * 1024), JsonCodec.of(json, Hit.class), JsonCodec.of(json, Query.class))
 *         .spawn();
 * }</pre>
 *
 * <p>Reading: the framing checks a line's length against its maximum before Jackson sees it, and one line must
 * hold exactly one JSON value: a malformed line, or one with more after its value, fails the inbound with a
 * {@link io.umhflux.HelperFailedException} ("bad frame on stdout") naming the line's offset, after every earlier
 * message was delivered. Writing: the value is written compact, so that a newline inside a string is the escape
 * {@code \n}, never a line break; a mapper set to indent its output is refused here, as the lines framing would
 * refuse its newlines.
 *
 * <p>Thread-safe: Jackson's readers and writers are immutable, so one codec serves any number of helpers. Each
 * helper's copy ({@link #forHelper()}) writes through one Jackson generator of its own, kept from message to
 * message (a new one after a value that failed to write), as a streaming writer of JSON lines does.
 *
 * <p>An {@link ArrayCodec}: under the line framing, Jackson parses each line in the array it was read into, and
 * writes each value straight into the writer's batch. Each value is serialized once, also when it does not fit the
 * batch, so that a value that can be written only once (an {@code Iterator} or a {@code Stream} field) goes whole.
 *
 * @param <T> the message type: a record, a bean, or {@link JsonNode} for any JSON
 */
public final class JsonCodec<T> implements ArrayCodec<T> {
    private final ObjectReader reader;
    private final ObjectWriter writer;
    /** The helper's own generator and the stream it writes to; {@code null} for the shared codec. */
    private final @Nullable Target target;
    private @Nullable JsonGenerator generator;

    private JsonCodec(ObjectReader reader, ObjectWriter writer, @Nullable Target target) {
        this.reader = reader;
        this.writer = writer;
        this.target = target;
    }

    /**
     * @param mapper the application's mapper (its modules, naming and features apply)
     * @param type what each line holds
     * @throws IllegalArgumentException when the mapper indents its output (a value would span several lines)
     */
    public static <T> JsonCodec<T> of(ObjectMapper mapper, Class<T> type) {
        Objects.requireNonNull(mapper, "mapper");
        Objects.requireNonNull(type, "type");
        if (mapper.isEnabled(SerializationFeature.INDENT_OUTPUT)) {
            throw new IllegalArgumentException("the mapper indents its output: a JSON value would span several lines");
        }
        return new JsonCodec<>(mapper.readerFor(type).with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS),
                mapper.writerFor(type).withRootValueSeparator(""), null);
    }

    /** Any JSON, as Jackson's tree, with a default mapper. */
    public static JsonCodec<JsonNode> tree() {
        return of(JsonMapper.builder().build(), JsonNode.class);
    }

    /** @return a codec for one helper's event loop, with a generator of its own */
    @Override
    public JsonCodec<T> forHelper() {
        return new JsonCodec<>(reader, writer, new Target());
    }

    @Override
    public void encode(T value, ByteBuf out) {
        Target t = target;
        if (t == null) {
            // written straight into the frame's buffer (closing this stream leaves the buffer alone)
            writer.writeValue((OutputStream) new ByteBufOutputStream(out), value);
            return;
        }
        if (t.keptFor == value) {
            t.writeKept(out); // the array attempt's bytes: the value is serialized once
            return;
        }
        t.dropKept();
        t.out = out;
        try {
            write(t, value);
        } finally {
            t.out = null;
        }
    }

    /**
     * Writes {@code value} into {@code array} from {@code offset} up to {@code limit}; -1 when it does not fit. The
     * value is serialized once either way: what did not fit is kept, with the bytes before it, for the
     * {@code encode(value, ByteBuf)} that follows (a value of an iterator or a stream could not be written twice).
     */
    @Override
    public int encode(T value, byte[] array, int offset, int limit) {
        Target t = target;
        if (t == null) {
            return -1; // the shared codec writes through a stream of its own: the ByteBuf way
        }
        t.dropKept();
        t.array = array;
        t.start = offset;
        t.position = offset;
        t.limit = limit;
        try {
            write(t, value);
        } finally {
            t.array = null;
        }
        if (t.spill == null) {
            return t.position;
        }
        t.keptFor = value;
        return -1;
    }

    /** Writes one value through the helper's generator into {@code t}, or drops the generator if that fails. */
    private void write(Target t, T value) {
        JsonGenerator g = generator;
        if (g == null) {
            g = writer.createGenerator(t);
            generator = g;
        }
        boolean written = false;
        try {
            writer.writeValue(g, value);
            g.flush();
            written = true;
        } finally {
            if (!written) {
                generator = null; // in the middle of a value: the next one starts on a fresh generator
                t.dropKept();
            }
        }
    }

    @Override
    public T decode(ByteBuf frame) {
        int length = frame.readableBytes();
        T value;
        if (frame.hasArray()) {
            value = reader.readValue(frame.array(), frame.arrayOffset() + frame.readerIndex(), length);
        } else {
            byte[] bytes = new byte[length];
            frame.getBytes(frame.readerIndex(), bytes);
            value = reader.readValue(bytes);
        }
        frame.skipBytes(length);
        return value;
    }

    @Override
    public T decode(byte[] array, int offset, int length) {
        return reader.readValue(array, offset, length);
    }

    /**
     * Where a helper's generator writes: the frame being encoded, or the array range of the writer's batch and,
     * once that is full, a spill array that keeps the value's bytes for the {@code ByteBuf} encode that follows.
     */
    private static final class Target extends OutputStream {
        @Nullable ByteBuf out;
        byte @Nullable [] array;
        int start;
        int position;
        int limit;
        /** The bytes of a value that did not fit the array range, from its first byte; null while none. */
        byte @Nullable [] spill;
        int spillLength;
        /** The value whose bytes {@link #spill} holds, once its array encode returned -1. */
        @Nullable Object keptFor;

        @Override
        public void write(int b) {
            byte[] a = array;
            if (a != null && spill == null && position < limit) {
                a[position++] = (byte) b;
                return;
            }
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            byte[] a = array;
            if (a == null) {
                buffer().writeBytes(b, off, len);
                return;
            }
            if (spill == null) {
                if (limit - position >= len) {
                    System.arraycopy(b, off, a, position, len);
                    position += len;
                    return;
                }
                spill = new byte[Math.max(256, 2 * (position - start + len))];
                spillLength = 0;
                append(a, start, position - start); // the value's bytes so far, then the rest
            }
            append(b, off, len);
        }

        private void append(byte[] b, int off, int len) {
            byte[] s = java.util.Objects.requireNonNull(spill);
            if (s.length - spillLength < len) {
                s = java.util.Arrays.copyOf(s, Math.max(2 * s.length, spillLength + len));
                spill = s;
            }
            System.arraycopy(b, off, s, spillLength, len);
            spillLength += len;
        }

        void writeKept(ByteBuf into) {
            byte[] s = java.util.Objects.requireNonNull(spill);
            int n = spillLength;
            dropKept(); // before the write: a buffer that cannot grow must not leave the bytes for another value
            into.writeBytes(s, 0, n);
        }

        void dropKept() {
            spill = null;
            spillLength = 0;
            keptFor = null;
        }

        private ByteBuf buffer() {
            ByteBuf b = out;
            if (b == null) {
                throw new IllegalStateException("the generator wrote outside an encode");
            }
            return b;
        }
    }
}
