package io.umhflux.codec.protobuf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Timestamp;
import io.netty.buffer.ByteBuf;
import io.umhflux.Blob;
import io.umhflux.HelperFailedException;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.codec.Framing;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

/**
 * Varint-delimited protobuf with a C helper that encodes {@code google.protobuf.Timestamp} messages by hand
 * ({@code src/test/resources/c/timestamps.c}, compiled by gcc here), and byte for byte against protobuf-java's
 * {@code writeDelimitedTo}. The messages are a well-known type: protoc through Maven (the ascopes plugin) needs
 * Maven 3.9.6, and this build runs on 3.8.
 */
class ProtobufCodecTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int MAX = 1 << 20;
    private static final ProtobufCodec<Timestamp> CODEC = ProtobufCodec.of(Timestamp.parser());
    private static Path timestamps;

    @BeforeAll
    static void compile() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "c-helpers"));
        Path src = dir.resolve("timestamps.c");
        try (var in = ProtobufCodecTest.class.getResourceAsStream("/c/timestamps.c")) {
            Files.write(src, in.readAllBytes());
        }
        timestamps = dir.resolve("timestamps");
        Process gcc = new ProcessBuilder("gcc", "-O2", "-o", timestamps.toString(), src.toString())
                .redirectErrorStream(true).start();
        String out = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(gcc.waitFor()).as("gcc: %s", out).isZero();
    }

    private static Timestamp expected(int i) {
        return Timestamp.newBuilder().setSeconds(1_700_000_000L + i).setNanos(i * 1000).build();
    }

    private static Umh<Timestamp, Timestamp> spawn(Blob helper, String... args) {
        return UmhFlux.spec(helper).args(args).codec(Framing.varintPrefixed(MAX), CODEC, CODEC).spawn();
    }

    @Test
    void messagesACHelperEncodedByHandDecodeInJava() {
        try (Blob c = Blob.of(timestamps)) {
            Umh<Timestamp, Timestamp> umh = spawn(c, "100000");
            List<Timestamp> all = umh.inbound().collectList().block(TIMEOUT);
            assertThat(all).isEqualTo(IntStream.range(0, 100_000).mapToObj(ProtobufCodecTest::expected)
                    .collect(Collectors.toList()));
            assertThat(umh.exit().block(TIMEOUT).isSuccess()).isTrue();
        }
    }

    /** What the codec writes is what protobuf-java's writeDelimitedTo writes, byte for byte. */
    @Test
    void theCodecWritesWhatWriteDelimitedToWrites(@TempDir Path dir) throws IOException {
        Path written = dir.resolve("written");
        List<Timestamp> sent = IntStream.range(0, 10_000).mapToObj(ProtobufCodecTest::expected)
                .collect(Collectors.toList());
        try (Blob sink = Blob.of("sink", "#!/bin/sh\nexec cat > \"$1\"\n".getBytes(StandardCharsets.UTF_8))) {
            Umh<Timestamp, Timestamp> umh = spawn(sink, written.toString());
            umh.outbound().send(Flux.fromIterable(sent)).block(TIMEOUT);
            assertThat(umh.exit().block(TIMEOUT).isSuccess()).isTrue();
        }
        ByteArrayOutputStream delimited = new ByteArrayOutputStream();
        for (Timestamp t : sent) {
            t.writeDelimitedTo(delimited);
        }
        assertThat(Files.readAllBytes(written)).isEqualTo(delimited.toByteArray());
    }

    /**
     * Through cat both ways, heap and direct buffers alike; behind a 4-byte length too, where each message is written
     * straight into the writer's array.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void messagesRoundTripThroughCat(boolean lengthPrefixed) {
        try (Blob cat = Blob.of(Path.of("/bin/cat"))) {
            Umh<Timestamp, Timestamp> umh = UmhFlux.spec(cat).codec(lengthPrefixed ? Framing.lengthPrefixed(MAX)
                    : Framing.varintPrefixed(MAX), CODEC, CODEC).spawn();
            List<Timestamp> sent = IntStream.range(0, 50_000).mapToObj(ProtobufCodecTest::expected)
                    .collect(Collectors.toList());
            umh.outbound().send(Flux.fromIterable(sent)).subscribe();
            assertThat(umh.inbound().collectList().block(TIMEOUT)).isEqualTo(sent);
        }
    }

    @Test
    void aDeclaredLengthOverTheMaximumFailsAfterEveryEarlierMessage() {
        try (Blob c = Blob.of(timestamps)) {
            Umh<Timestamp, Timestamp> umh = spawn(c, "500", "overlong");
            List<Timestamp> delivered = new ArrayList<>();
            assertThatThrownBy(() -> umh.inbound().doOnNext(delivered::add).blockLast(TIMEOUT))
                    .isInstanceOf(HelperFailedException.class).hasMessageContaining("maximum");
            assertThat(delivered).hasSize(500).last().isEqualTo(expected(499));
        }
    }

    @Test
    void aFrameCutShortFailsAfterEveryEarlierMessage() {
        try (Blob c = Blob.of(timestamps)) {
            Umh<Timestamp, Timestamp> umh = spawn(c, "500", "cut");
            List<Timestamp> delivered = new ArrayList<>();
            assertThatThrownBy(() -> umh.inbound().doOnNext(delivered::add).blockLast(TIMEOUT))
                    .isInstanceOf(HelperFailedException.class).hasMessageContaining("ended inside a frame");
            assertThat(delivered).hasSize(500).last().isEqualTo(expected(499));
        }
    }

    /** Bytes that are not a message of the parser's type: protobuf's own error, from the codec, either way. */
    @Test
    void bytesThatAreNoMessageAreRefused() {
        byte[] bad = {0x08, (byte) 0xff};
        ByteBuf frame = io.netty.buffer.Unpooled.wrappedBuffer(bad);
        assertThatThrownBy(() -> CODEC.decode(frame))
                .isInstanceOf(com.google.protobuf.InvalidProtocolBufferException.class);
        assertThatThrownBy(() -> CODEC.decode(new byte[] {9, 0x08, (byte) 0xff, 9}, 1, 2))
                .isInstanceOf(com.google.protobuf.InvalidProtocolBufferException.class);
    }

    /** Into an array: protobuf's bytes at the offset and nothing past them, or -1 with nothing written. */
    @Test
    void aMessageIsWrittenIntoAnArrayOrSaysItDoesNotFit() throws Exception {
        Timestamp t = expected(7);
        byte[] bytes = t.toByteArray();
        byte[] array = new byte[bytes.length + 4];
        java.util.Arrays.fill(array, (byte) 0x55);
        assertThat(CODEC.encode(t, array, 2, 2 + bytes.length - 1)).as("one byte short").isEqualTo(-1);
        assertThat(array).containsOnly(0x55);
        assertThat(CODEC.encode(t, array, 2, 2 + bytes.length)).isEqualTo(2 + bytes.length);
        assertThat(java.util.Arrays.copyOfRange(array, 2, 2 + bytes.length)).isEqualTo(bytes);
        assertThat(array[1]).isEqualTo((byte) 0x55);
        assertThat(array[2 + bytes.length]).isEqualTo((byte) 0x55);
        assertThat(CODEC.decode(array, 2, bytes.length)).isEqualTo(t);
    }
}
