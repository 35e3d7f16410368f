package io.umhflux.benchmarks;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Field;
import io.umhflux.Blob;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import io.umhflux.codec.Codec;
import io.umhflux.codec.Framing;
import io.umhflux.codec.json.JsonCodec;
import io.umhflux.codec.protobuf.ProtobufCodec;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import tools.jackson.databind.MappingIterator;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.SequenceWriter;
import tools.jackson.databind.json.JsonMapper;

/**
 * The formats of helpers in other languages, echoed through {@code cat}: {@value #COUNT} small messages per
 * operation, one fresh {@code cat} per operation. umh-flux with the codec module's {@link JsonCodec} (JSON lines,
 * a record of about 50 bytes) and {@link ProtobufCodec} (varint-delimited, a {@code google.protobuf.Field} of about
 * 30 bytes), against the loop a user writes with the same library and {@code ProcessBuilder}: a writer thread and
 * the reading thread on 64 KiB buffered streams, Jackson's {@code SequenceWriter} and {@code MappingIterator}
 * (its streaming reader and writer of root values separated by newlines), protobuf's {@code writeDelimitedTo}
 * and {@code parseDelimitedFrom} (the documented way, which makes a {@code CodedInputStream} per message). For
 * protobuf, {@link #processBuilderCoded} is the loop a protobuf expert writes instead: one
 * {@code CodedOutputStream} and one {@code CodedInputStream} for the whole stream, a limit pushed per message.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class ForeignCodecsBenchmark {
    /** Messages per operation. */
    public static final int COUNT = 100_000;

    /** The JSON message: {@code {"id":123456789,"a":42,"b":-7,"tag":"payload-0123"}}. */
    public record Small(long id, int a, int b, String tag) {
    }

    @Param({"json", "protobuf"})
    public String format;

    private final JsonMapper json = JsonMapper.builder().build();
    private Blob cat;
    private UmhSpec<Object, Object> spec;
    private Object[] messages;

    @Setup(Level.Trial)
    @SuppressWarnings("unchecked")
    public void setUp() {
        cat = Blob.of(Path.of("/bin/cat"));
        Object message;
        Codec<Object> codec;
        Framing framing;
        if (format.equals("json")) {
            message = new Small(123456789L, 42, -7, "payload-0123");
            codec = (Codec<Object>) (Codec<?>) JsonCodec.of(json, Small.class);
            framing = Framing.lines(1 << 20);
        } else {
            message = Field.newBuilder().setKind(Field.Kind.TYPE_INT64).setNumber(42).setName("payload-0123")
                    .setJsonName("payload").setTypeUrl("t/x").build();
            codec = (Codec<Object>) (Codec<?>) ProtobufCodec.of(Field.parser());
            framing = Framing.varintPrefixed(1 << 20);
        }
        spec = UmhFlux.spec(cat).codec(framing, codec, codec);
        messages = new Object[COUNT];
        Arrays.fill(messages, message);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        cat.close();
    }

    /** As {@link TypedEchoBenchmark#umhFlux()}: sent from an array, counted by a plain subscriber. */
    @Benchmark
    public long umhFlux() throws Exception {
        return check(CountingSubscriber.echoed(spec, messages));
    }

    @Benchmark
    public long processBuilder() throws Exception {
        Process p = new ProcessBuilder("/bin/cat").start();
        Object m = messages[0];
        boolean isJson = format.equals("json");
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (OutputStream out = new BufferedOutputStream(p.getOutputStream(), 64 * 1024)) {
                if (isJson) {
                    try (SequenceWriter values = json.writer().withRootValueSeparator("\n").writeValues(out)) {
                        for (int i = 0; i < COUNT; i++) {
                            values.write(m);
                        }
                        out.write('\n');
                    }
                } else {
                    Field field = (Field) m;
                    for (int i = 0; i < COUNT; i++) {
                        field.writeDelimitedTo(out);
                    }
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        long received = 0;
        try (InputStream in = new BufferedInputStream(p.getInputStream(), 64 * 1024)) {
            if (isJson) {
                ObjectReader reader = json.readerFor(Small.class);
                try (MappingIterator<Small> values = reader.readValues(in)) {
                    while (received < COUNT && values.hasNextValue()) {
                        values.nextValue();
                        received++;
                    }
                }
            } else {
                while (received < COUNT && Field.parseDelimitedFrom(in) != null) {
                    received++;
                }
            }
        }
        writer.get();
        p.waitFor();
        return check(received);
    }

    /**
     * Protobuf only: one coded stream per direction (for JSON, the same as {@link #processBuilder}; {@code run.sh}
     * runs it with {@code -p format=protobuf}).
     */
    @Benchmark
    public long processBuilderCoded() throws Exception {
        if (format.equals("json")) {
            return processBuilder();
        }
        Process p = new ProcessBuilder("/bin/cat").start();
        Field m = (Field) messages[0];
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (OutputStream out = p.getOutputStream()) {
                CodedOutputStream coded = CodedOutputStream.newInstance(out, 64 * 1024);
                for (int i = 0; i < COUNT; i++) {
                    coded.writeUInt32NoTag(m.getSerializedSize());
                    m.writeTo(coded);
                }
                coded.flush();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        long received = 0;
        try (InputStream in = p.getInputStream()) {
            CodedInputStream coded = CodedInputStream.newInstance(in, 64 * 1024);
            com.google.protobuf.Parser<Field> parser = Field.parser();
            while (received < COUNT && !coded.isAtEnd()) {
                int limit = coded.pushLimit(coded.readRawVarint32());
                parser.parseFrom(coded);
                coded.popLimit(limit);
                coded.resetSizeCounter();
                received++;
            }
        }
        writer.get();
        p.waitFor();
        return check(received);
    }

    private static long check(long received) {
        if (received != COUNT) {
            throw new IllegalStateException("echoed " + received + " of " + COUNT);
        }
        return received;
    }
}
