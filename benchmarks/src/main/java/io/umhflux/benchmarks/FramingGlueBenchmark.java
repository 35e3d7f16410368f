package io.umhflux.benchmarks;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.umhflux.codec.Codecs;
import io.umhflux.codec.Framing;
import io.umhflux.codec.kryo.KryoCodec;
import io.umhflux.internal.pipe.FrameDecoder;
import io.umhflux.internal.pipe.FrameEncoder;
import io.umhflux.internal.pipe.FramedCodec;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the framing and the codec glue cost per small Kryo message, on one thread and without pipes: the typed echo's
 * encoding and decoding alone, against the same Kryo calls on a plain {@code Output} and {@code Input} (the
 * hand-written loop's). No process, no event loop, no scheduler: these rows move little between runs, so the glue
 * is measured here rather than through {@code cat}. The {@code lines} rows do the same for the Flink benchmark's
 * 33-byte text lines ({@link Codecs#utf8()} behind {@link Framing#lines}), against what a hand-written loop does
 * with the JDK ({@code getBytes} and a copy; a search for the line end and {@code new String}).
 *
 * <pre>java -jar benchmarks/target/benchmarks.jar FramingGlueBenchmark -f 3</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(3)
@State(Scope.Thread)
public class FramingGlueBenchmark {
    private static final int MESSAGES = 2048;
    private static final int ARRAY = 64 * 1024 + 4096;

    private final Object message = new TypedEchoBenchmark.Small(123456789L, 42, -7, "payload-0123");
    private final byte[] out = new byte[ARRAY];
    private Kryo loopWriter;
    private Kryo loopReader;
    private Output loopOutput;
    private Input loopInput;
    private FrameEncoder<Object> encoder;
    private FrameDecoder<Object> decoder;
    /** {@link #MESSAGES} messages in Kryo's own stream (the loop's), and the same framed (umh-flux's). */
    private byte[] plain;
    private int plainLength;
    private byte[] framed;
    private int framedLength;

    private final String[] lines = new String[MESSAGES];
    private FrameEncoder<String> lineEncoder;
    private FrameDecoder<String> lineDecoder;
    /** {@link #lines}, each ended by '\n'. */
    private byte[] lineBytes;
    private int lineBytesLength;

    @Setup
    public void setUp() throws Exception {
        lineEncoder = FramedCodec.encoder(Framing.lines(256), Codecs.utf8());
        lineDecoder = FramedCodec.decoder(Framing.lines(256), Codecs.utf8());
        lineBytes = new byte[ARRAY];
        for (int i = 0; i < MESSAGES; i++) {
            lines[i] = "record-" + (1_000_000_000L + i) + "-payload-xyz"; // FlinkStages.record, without Flink
            lineBytesLength = lineEncoder.encodeArray(lines[i], lineBytes, lineBytesLength, ARRAY);
        }
        loopWriter = TypedEchoBenchmark.kryo();
        loopReader = TypedEchoBenchmark.kryo();
        loopOutput = new Output(out);
        loopInput = new Input();
        KryoCodec<Object> codec = KryoCodec.withFactory(Object.class, TypedEchoBenchmark::kryo);
        encoder = FramedCodec.encoder(Framing.lengthPrefixed(1 << 20), codec);
        decoder = FramedCodec.decoder(Framing.lengthPrefixed(1 << 20), codec);
        Output o = new Output(ARRAY * 2);
        for (int i = 0; i < MESSAGES; i++) {
            loopWriter.writeClassAndObject(o, message);
        }
        plain = o.toBytes();
        plainLength = plain.length;
        framed = new byte[plainLength + 4 * MESSAGES];
        int at = 0;
        for (int i = 0; i < MESSAGES; i++) {
            at = encoder.encodeArray(message, framed, at, framed.length);
        }
        framedLength = at;
    }

    /** The loop's writing: Kryo into an {@code Output} over a 68 KiB array, started afresh when 64 KiB are full. */
    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public int loopEncode() {
        Output o = loopOutput;
        Kryo k = loopWriter;
        Object m = message;
        o.setPosition(0);
        for (int i = 0; i < MESSAGES; i++) {
            k.writeClassAndObject(o, m);
            if (o.position() >= 64 * 1024) {
                o.setPosition(0);
            }
        }
        return o.position();
    }

    /** umh-flux's writing: length-prefixed frames written by the codec straight into the batch array. */
    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public int umhEncode() throws Exception {
        FrameEncoder<Object> e = encoder;
        byte[] array = out;
        Object m = message;
        int at = 0;
        for (int i = 0; i < MESSAGES; i++) {
            at = e.encodeArray(m, array, at, ARRAY);
            if (at >= 64 * 1024) {
                at = 0;
            }
        }
        return at;
    }

    /** The loop's reading: Kryo's own stream through an {@code Input} over the array. */
    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public int loopDecode() {
        Input in = loopInput;
        Kryo k = loopReader;
        in.setBuffer(plain, 0, plainLength);
        int n = 0;
        for (int i = 0; i < MESSAGES; i++) {
            n += k.readClassAndObject(in) != null ? 1 : 0;
        }
        return n;
    }

    /** umh-flux's reading: frame after frame of the heap cumulation's array, each decoded in place. */
    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public int umhDecode() throws Exception {
        return decodeAll(decoder, framed, framedLength);
    }

    /** Decodes the {@link #MESSAGES} frames in {@code array} one after the other; how many came out. */
    private static int decodeAll(FrameDecoder<?> d, byte[] array, int to) throws Exception {
        int at = 0;
        int n = 0;
        for (int i = 0; i < MESSAGES; i++) {
            n += d.decodeArray(array, at, to, at) != null ? 1 : 0;
            at = d.arrayEnd();
        }
        return n;
    }

    /** A hand-written loop's writing of text lines: {@code getBytes}, copied into the batch, then '\n'. */
    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public int jdkLinesEncode() {
        byte[] array = out;
        int at = 0;
        for (String line : lines) {
            byte[] b = line.getBytes(StandardCharsets.UTF_8);
            System.arraycopy(b, 0, array, at, b.length);
            at += b.length;
            array[at++] = '\n';
        }
        return at;
    }

    /** umh-flux's writing of lines: checked (no '\n' inside, none '\r' at the end) and written into the batch. */
    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public int umhLinesEncode() throws Exception {
        FrameEncoder<String> e = lineEncoder;
        byte[] array = out;
        int at = 0;
        for (String line : lines) {
            at = e.encodeArray(line, array, at, ARRAY);
        }
        return at;
    }

    /** A hand-written loop's reading of lines: the next '\n', and the bytes before it as UTF-8. */
    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public int jdkLinesDecode() {
        byte[] array = lineBytes;
        int at = 0;
        int n = 0;
        for (int i = 0; i < MESSAGES; i++) {
            int nl = at;
            while (array[nl] != '\n') {
                nl++;
            }
            n += new String(array, at, nl - at, StandardCharsets.UTF_8).length();
            at = nl + 1;
        }
        return n;
    }

    /** umh-flux's reading of lines: each found and decoded in the array it was read into. */
    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public int umhLinesDecode() throws Exception {
        return decodeAll(lineDecoder, lineBytes, lineBytesLength);
    }
}
