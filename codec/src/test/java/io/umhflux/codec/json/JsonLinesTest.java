package io.umhflux.codec.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.umhflux.Blob;
import io.umhflux.HelperFailedException;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.codec.Framing;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** JSON lines with a real Python 3 helper ({@code helpers/records.py}), and through {@code cat}. */
class JsonLinesTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int MAX_LINE = 64 * 1024;
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static Blob python;

    record Record(int id, String text) {
    }

    record Answer(int id, int length, String upper) {
    }

    @BeforeAll
    static void load() {
        python = Blob.fromClasspath("helpers/records.py");
    }

    @AfterAll
    static void close() {
        python.close();
    }

    private static Umh<Answer, Record> spawn(String... args) {
        return UmhFlux.spec(python).args(args).codec(Framing.lines(MAX_LINE), JsonCodec.of(JSON, Answer.class),
                JsonCodec.of(JSON, Record.class)).spawn();
    }

    private static Record record(int i) {
        return new Record(i, "record " + i + (i % 7 == 0 ? " \u00fcber \"quoted\"\nsecond line" : ""));
    }

    private static Answer expected(int i) {
        Record r = record(i);
        return new Answer(i, r.text().length(), r.text().toUpperCase(Locale.ROOT));
    }

    /** Records in, records out: 100,000 through Python's json module, each answered as Python computes it. */
    @Test
    void aHundredThousandRecordsThroughAPythonHelper() {
        Umh<Answer, Record> umh = spawn();
        umh.outbound().send(Flux.range(0, 100_000).map(JsonLinesTest::record)).subscribe();
        List<Answer> answers = umh.inbound().collectList().block(TIMEOUT);
        assertThat(answers).hasSize(100_000);
        assertThat(answers).isEqualTo(IntStream.range(0, 100_000).mapToObj(JsonLinesTest::expected)
                .collect(Collectors.toList()));
        assertThat(umh.exit().block(TIMEOUT).isSuccess()).isTrue();
    }

    /** A line that is not JSON fails the inbound, naming its offset, after every answer before it. */
    @Test
    void aMalformedLineFailsAfterEveryEarlierAnswer() {
        Umh<Answer, Record> umh = spawn("malformed", "500");
        umh.outbound().send(Flux.range(0, 1_000).map(JsonLinesTest::record)).subscribe(null, e -> { });
        List<Answer> delivered = new ArrayList<>();
        assertThatThrownBy(() -> umh.inbound().doOnNext(delivered::add).blockLast(TIMEOUT))
                .isInstanceOf(HelperFailedException.class)
                .hasMessageContaining("bad frame on stdout").hasMessageContaining("at offset");
        assertThat(delivered).isEqualTo(IntStream.range(0, 500).mapToObj(JsonLinesTest::expected)
                .collect(Collectors.toList()));
        umh.dispose();
    }

    /** A helper that dies in the middle of an answer: the answers before it, then its exit status and stderr. */
    @Test
    void aHelperThatDiesMidMessageFailsWithItsExitStatus() {
        Umh<Answer, Record> umh = spawn("die", "7");
        umh.outbound().send(Flux.range(0, 100).map(JsonLinesTest::record)).subscribe(null, e -> { });
        List<Answer> delivered = new ArrayList<>();
        assertThatThrownBy(() -> umh.inbound().doOnNext(delivered::add).blockLast(TIMEOUT))
                .isInstanceOfSatisfying(HelperFailedException.class, e -> assertThat(e.exitStatus())
                        .satisfies(s -> assertThat(s.code()).isEqualTo(3)));
        assertThat(delivered).isEqualTo(IntStream.range(0, 7).mapToObj(JsonLinesTest::expected)
                .collect(Collectors.toList()));
    }

    /** The framing's maximum is checked before Jackson reads a line: a 1 MiB line fails, naming the maximum. */
    @Test
    void aLineOverTheMaximumFailsBeforeParsing() {
        Umh<Answer, Record> umh = spawn("long", "3");
        umh.outbound().send(Flux.range(0, 10).map(JsonLinesTest::record)).subscribe(null, e -> { });
        List<Answer> delivered = new ArrayList<>();
        assertThatThrownBy(() -> umh.inbound().doOnNext(delivered::add).blockLast(TIMEOUT))
                .isInstanceOf(HelperFailedException.class).hasMessageContaining("maximum of " + MAX_LINE);
        assertThat(delivered).hasSize(3);
        umh.dispose();
    }

    /** Newlines inside strings are escapes on the wire, so any value round-trips through {@code cat}. */
    @Test
    void valuesWithNewlinesRoundTripThroughCatAsOneLineEach() {
        try (Blob cat = Blob.of(Path.of("/bin/cat"))) {
            JsonCodec<JsonNode> tree = JsonCodec.tree();
            Umh<JsonNode, JsonNode> umh = UmhFlux.spec(cat).codec(Framing.lines(MAX_LINE), tree, tree).spawn();
            List<JsonNode> sent = IntStream.range(0, 1_000).mapToObj(i -> (JsonNode) JSON.createObjectNode()
                    .put("i", i).put("text", "line one\nline two\r\n\t" + i).putNull("none"))
                    .collect(Collectors.toList());
            umh.outbound().send(Flux.fromIterable(sent)).subscribe();
            assertThat(umh.inbound().collectList().block(TIMEOUT)).isEqualTo(sent);
        }
    }

    @Test
    void anIndentingMapperIsRefused() {
        JsonMapper indenting = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
        assertThatThrownBy(() -> JsonCodec.of(indenting, Answer.class)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("several lines");
    }

    /** A value whose accessor throws, half written when it fails. */
    record Fragile(String text) {
        @Override
        public String text() {
            if (text.equals("boom")) {
                throw new IllegalStateException("boom");
            }
            return text;
        }
    }

    @Test
    void aHelpersCodecWritesEachValueAloneAndStartsCleanAfterAValueThatFailed() throws Exception {
        io.umhflux.codec.Codec<Fragile> codec = JsonCodec.of(JSON, Fragile.class).forHelper();
        assertThat(codec).isNotSameAs(codec.forHelper());
        io.netty.buffer.ByteBuf out = io.netty.buffer.Unpooled.buffer();
        try {
            codec.encode(new Fragile("a"), out);
            assertThat(out.toString(java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("{\"text\":\"a\"}");
            out.clear();
            codec.encode(new Fragile("b"), out);
            assertThat(out.toString(java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("{\"text\":\"b\"}");
            out.clear();
            assertThatThrownBy(() -> codec.encode(new Fragile("boom"), out)).hasRootCauseMessage("boom");
            out.clear(); // the frame encoder drops what a failed encode wrote
            codec.encode(new Fragile("c"), out);
            assertThat(out.toString(java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("{\"text\":\"c\"}");
            assertThat(codec.decode(out)).isEqualTo(new Fragile("c"));
        } finally {
            out.release();
        }
    }

    /**
     * Into the writer's array: the bytes of the ByteBuf way; -1 for a value that does not fit, small (written at the
     * end) or big (the generator flushes in the middle, where Jackson wraps the signal), and the next value is written
     * whole on a fresh generator; a value read from an array range.
     */
    @Test
    void aHelpersCodecWritesValuesStraightIntoAnArrayOrSaysTheyDoNotFit() throws Exception {
        JsonCodec<Fragile> codec = JsonCodec.of(JSON, Fragile.class).forHelper();
        byte[] array = new byte[64];
        java.util.Arrays.fill(array, (byte) '#');
        int end = codec.encode(new Fragile("a"), array, 2, 64);
        end = codec.encode(new Fragile("b"), array, end, 64);
        assertThat(new String(array, 0, end + 1, java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo("##{\"text\":\"a\"}{\"text\":\"b\"}#");
        Fragile c = new Fragile("c");
        assertThat(codec.encode(c, array, 2, 13)).as("one byte short").isEqualTo(-1);
        assertThat(kept(codec, c)).isEqualTo("{\"text\":\"c\"}");
        Fragile big = new Fragile("x".repeat(20_000));
        assertThat(codec.encode(big, array, 2, 64)).as("flushed midway").isEqualTo(-1);
        assertThat(kept(codec, big)).isEqualTo("{\"text\":\"" + "x".repeat(20_000) + "\"}");
        assertThatThrownBy(() -> codec.encode(new Fragile("boom"), array, 2, 64)).hasRootCauseMessage("boom");
        assertThat(codec.encode(new Fragile("d"), array, 2, 14)).as("just room").isEqualTo(14);
        assertThat(new String(array, 2, 12, java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("{\"text\":\"d\"}");
        assertThat(codec.decode(array, 2, 12)).isEqualTo(new Fragile("d"));
        assertThat(JsonCodec.of(JSON, Fragile.class).encode(new Fragile("e"), array, 2, 64))
                .as("the shared codec writes no arrays").isEqualTo(-1);
    }

    /** What {@code encode(value, ByteBuf)} writes after the array way said -1 for {@code value}. */
    private static <T> String kept(io.umhflux.codec.Codec<T> codec, T value) throws Exception {
        io.netty.buffer.ByteBuf out = io.netty.buffer.Unpooled.buffer();
        try {
            codec.encode(value, out);
            return out.toString(java.nio.charset.StandardCharsets.UTF_8);
        } finally {
            out.release();
        }
    }

    record Items(java.util.Iterator<String> items) {
    }

    record Streamed(java.util.stream.Stream<String> items) {
    }

    record ItemList(List<String> items) {
    }

    /**
     * A value that does not fit the batch is serialized once: an iterator or a stream, which can be walked only
     * once, goes whole the ByteBuf way (small, it fits Jackson's buffer; big, Jackson flushes in the middle).
     */
    @Test
    void aValueThatDoesNotFitIsSerializedOnce() throws Exception {
        JsonCodec<Items> items = JsonCodec.of(JSON, Items.class).forHelper();
        Items small = new Items(List.of("a", "b", "c").iterator());
        assertThat(items.encode(small, new byte[20], 0, 20)).isEqualTo(-1);
        assertThat(kept(items, small)).isEqualTo("{\"items\":[\"a\",\"b\",\"c\"]}");
        List<String> many = IntStream.range(0, 2000).mapToObj(i -> "item" + i).collect(Collectors.toList());
        Items big = new Items(many.iterator());
        assertThat(items.encode(big, new byte[100], 0, 100)).isEqualTo(-1);
        assertThat(JSON.readValue(kept(items, big), ItemList.class).items()).isEqualTo(many);
        JsonCodec<Streamed> streamed = JsonCodec.of(JSON, Streamed.class).forHelper();
        Streamed stream = new Streamed(many.stream());
        assertThat(streamed.encode(stream, new byte[100], 0, 100)).isEqualTo(-1);
        assertThat(JSON.readValue(kept(streamed, stream), ItemList.class).items()).isEqualTo(many);
        // the kept bytes are for that value only: another one is serialized afresh
        Items other = new Items(List.of("z").iterator());
        assertThat(items.encode(new Items(List.of("y").iterator()), new byte[5], 0, 5)).isEqualTo(-1);
        assertThat(kept(items, other)).isEqualTo("{\"items\":[\"z\"]}");
    }

    record Out(int id, java.util.Iterator<String> items) {
    }

    record In(int id, List<String> items) {
    }

    /** Values of iterators through cat, many crossing the end of a batch: each arrives whole. */
    @Test
    void iteratorsThatCrossTheBatchArriveWhole() {
        try (Blob cat = Blob.of(Path.of("/bin/cat"))) {
            Umh<In, Out> umh = UmhFlux.spec(cat).codec(Framing.lines(1 << 20), JsonCodec.of(JSON, In.class),
                    JsonCodec.of(JSON, Out.class)).spawn();
            umh.outbound().send(Flux.range(0, 200).map(i -> new Out(i, IntStream.range(0, 300)
                    .mapToObj(j -> "item number ................ " + j).iterator()))).subscribe();
            List<In> got = umh.inbound().collectList().block(TIMEOUT);
            assertThat(got).hasSize(200);
            List<String> all = IntStream.range(0, 300).mapToObj(j -> "item number ................ " + j)
                    .collect(Collectors.toList());
            assertThat(got).allSatisfy(in -> assertThat(in.items()).as("record %d", in.id()).isEqualTo(all));
        }
    }

    /** A value bigger than the writer's batch crosses from the array way to the ByteBuf way and back, through cat. */
    @Test
    void valuesThatOutgrowTheBatchRoundTripThroughCat() {
        try (Blob cat = Blob.of(Path.of("/bin/cat"))) {
            JsonCodec<Record> codec = JsonCodec.of(JSON, Record.class);
            Umh<Record, Record> umh = UmhFlux.spec(cat).codec(Framing.lines(1 << 20), codec, codec).spawn();
            List<Record> sent = IntStream.range(0, 400).mapToObj(i -> new Record(i, i % 50 == 0
                    ? "big ".repeat(30_000) : "small " + i)).collect(Collectors.toList());
            umh.outbound().send(Flux.fromIterable(sent)).subscribe();
            assertThat(umh.inbound().collectList().block(TIMEOUT)).isEqualTo(sent);
        }
    }

    /** One line holds one value: trailing content after it is malformed too. */
    @Test
    void trailingContentAfterTheValueIsRefused() {
        JsonCodec<Answer> codec = JsonCodec.of(JSON, Answer.class);
        io.netty.buffer.ByteBuf frame = io.netty.buffer.Unpooled.copiedBuffer(
                "{\"id\":1,\"length\":2,\"upper\":\"AB\"} {\"id\":2}", java.nio.charset.StandardCharsets.UTF_8);
        try {
            assertThatThrownBy(() -> codec.decode(frame)).isInstanceOf(tools.jackson.core.JacksonException.class);
        } finally {
            frame.release();
        }
    }
}
