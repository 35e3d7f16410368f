package io.umhflux.pipe;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;
import io.umhflux.Blob;
import io.umhflux.ExitStatus;
import io.umhflux.HelperFailedException;
import io.umhflux.TestHelpers;
import io.umhflux.Umh;
import io.umhflux.UmhClient;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import io.umhflux.codec.ArrayCodec;
import io.umhflux.codec.Codec;
import io.umhflux.codec.CodecException;
import io.umhflux.codec.Codecs;
import io.umhflux.codec.Framing;
import io.umhflux.test.CHelpers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** Typed messages through real helpers in other languages, and bad frames from them. */
class TypedMessagesTest {

    @Test
    void cHelperEchoesReversedAsciiFrames() {
        try (Blob echo = CHelpers.blob("frame_echo")) {
            Umh<String, String> umh = UmhFlux.spec(echo)
                    .codec(Framing.lengthPrefixed(1 << 20), Codecs.utf8(), Codecs.utf8())
                    .spawn();
            List<String> sent = IntStream.range(0, 5000).mapToObj(i -> "message-" + i).toList();
            umh.outbound().send(Flux.fromIterable(sent)).subscribe();
            List<String> expected = sent.stream().map(s -> new StringBuilder(s).reverse().toString()).toList();
            StepVerifier.create(umh.inbound()).expectNextSequence(expected).verifyComplete();
        }
    }

    @Test
    void framesFromOneByteToSeveralReadsLongArriveIntact() {
        // frames straddle reads, the reader gathers them behind a frame's head in one buffer, moving the head to
        // the front and growing the buffer for frames longer than a read (4 KiB here) or the pipe (64 KiB)
        java.util.Random random = new java.util.Random(42);
        List<byte[]> sent = IntStream.range(0, 400).mapToObj(i -> {
            byte[] b = new byte[i % 50 == 0 ? 70_000 + random.nextInt(230_000) : 1 + random.nextInt(300)];
            random.nextBytes(b);
            return b;
        }).toList();
        echoedIntactWithSmallReads(TestHelpers.plainBytes(), sent);
    }

    /** Sends {@code sent} through {@code cat} as length-prefixed frames read 4 KiB at a time; all come back. */
    private static void echoedIntactWithSmallReads(Codec<byte[]> codec, List<byte[]> sent) {
        try (Blob cat = TestHelpers.cat()) {
            Umh<byte[], byte[]> umh = UmhFlux.spec(cat)
                    .codec(Framing.lengthPrefixed(1 << 20), codec, codec)
                    .readSize(4096)
                    .spawn();
            umh.outbound().send(Flux.fromIterable(sent)).subscribe();
            List<byte[]> got = umh.inbound().collectList().block(TestHelpers.TIMEOUT);
            assertThat(got).hasSameSizeAs(sent);
            for (int i = 0; i < sent.size(); i++) {
                assertThat(got.get(i)).as("frame %d of %d bytes", i, sent.get(i).length).isEqualTo(sent.get(i));
            }
        }
    }

    /** {@code bytes} copied into {@code array} at {@code offset} if they fit below {@code limit}: the end, or -1. */
    private static int copyInto(byte[] bytes, byte[] array, int offset, int limit) {
        if (limit - offset < bytes.length) {
            return -1;
        }
        System.arraycopy(bytes, 0, array, offset, bytes.length);
        return offset + bytes.length;
    }

    /**
     * Bytes as they are, an ArrayCodec that logs its calls as "{tag} decode", "{tag} encode" and "{tag} release";
     * with {@code failRelease}, its {@code releaseArrays} throws.
     */
    private static final class Recording implements ArrayCodec<byte[]> {
        private final String tag;
        private final List<String> events;
        private final boolean failRelease;

        Recording(String tag, List<String> events) {
            this(tag, events, false);
        }

        Recording(String tag, List<String> events, boolean failRelease) {
            this.tag = tag;
            this.events = events;
            this.failRelease = failRelease;
        }

        @Override
        public void encode(byte[] value, ByteBuf out) throws Exception {
            events.add(tag + " encode");
            Codecs.bytes().encode(value, out);
        }

        @Override
        public byte[] decode(ByteBuf frame) throws Exception {
            events.add(tag + " decode");
            return Codecs.bytes().decode(frame);
        }

        @Override
        public byte[] decode(byte[] array, int offset, int length) {
            events.add(tag + " decode");
            return java.util.Arrays.copyOfRange(array, offset, offset + length);
        }

        @Override
        public int encode(byte[] value, byte[] array, int offset, int limit) {
            events.add(tag + " encode");
            return copyInto(value, array, offset, limit);
        }

        @Override
        public void releaseArrays() {
            events.add(tag + " release");
            if (failRelease) {
                throw new IllegalStateException(tag + " cannot let go");
            }
        }

        @Override
        public Recording forHelper() {
            return this;
        }
    }

    /**
     * The writer and the reader tell an ArrayCodec when the arrays it was given may be reused or freed, so that an
     * idle helper's codec pins none (KryoCodec keeps its Input and Output bound between messages until then): after
     * the batch with the last message was closed, and after the turn that read the last frame.
     */
    @Test
    void anIdleHelpersArrayCodecsAreToldToLetGoOfTheArrays() {
        List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (Blob cat = TestHelpers.cat()) {
            Umh<byte[], byte[]> umh = UmhFlux.spec(cat)
                    .codec(Framing.lengthPrefixed(1024), new Recording("in", events), new Recording("out", events))
                    .spawn();
            // stdin stays open: the writer ends no send, and the helper idles with its pipes open
            var sendEnd = new java.util.concurrent.atomic.AtomicReference<Throwable>();
            umh.outbound().send(Flux.just("a", "b", "c").map(String::getBytes).concatWith(Flux.never()))
                    .subscribe(null, sendEnd::set);
            List<String> received = new java.util.concurrent.CopyOnWriteArrayList<>();
            umh.inbound().map(String::new).subscribe(received::add, e -> { }); // the stop may end it either way
            org.awaitility.Awaitility.await().atMost(TestHelpers.TIMEOUT).untilAsserted(() -> {
                assertThat(received).containsExactly("a", "b", "c");
                List<String> in = events.stream().filter(e -> e.startsWith("in ")).toList();
                List<String> out = events.stream().filter(e -> e.startsWith("out ")).toList();
                assertThat(in).filteredOn("in decode"::equals).hasSize(3);
                assertThat(in).last().isEqualTo("in release");
                assertThat(out).filteredOn("out encode"::equals).hasSize(3);
                assertThat(out).last().isEqualTo("out release");
            });
            umh.dispose();
            org.awaitility.Awaitility.await().atMost(TestHelpers.TIMEOUT).untilAsserted(() ->
                    assertThat(sendEnd.get()).as("the endless send, ended by the stop")
                            .isInstanceOf(HelperFailedException.class).hasMessageContaining("stopped"));
        }
    }

    /**
     * A codec whose releaseArrays throws fails the send and the inbound, rather than leave either hanging; its later
     * failures, once both have ended, go to Reactor's dropped-error hook, and nothing else does.
     */
    @Test
    void anArrayCodecThatFailsToLetGoFailsItsDirection() throws Exception {
        List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<Throwable> dropped = new java.util.concurrent.CopyOnWriteArrayList<>();
        reactor.core.publisher.Hooks.onErrorDropped(dropped::add);
        try (Blob cat = TestHelpers.cat()) {
            Umh<byte[], byte[]> umh = UmhFlux.spec(cat).codec(Framing.lengthPrefixed(1024),
                    new Recording("in", events, true), new Recording("out", events, true)).spawn();
            // stdin stays open, so that the inbound cannot end well before it is told to let go
            StepVerifier.create(umh.outbound().send(Flux.just("a", "b").map(String::getBytes)
                            .concatWith(Flux.never())))
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IllegalStateException.class)
                            .hasMessageContaining("ArrayCodec.releaseArrays")
                            .hasRootCauseMessage("out cannot let go"))
                    .verify(TestHelpers.TIMEOUT);
            StepVerifier.create(umh.inbound().map(String::new))
                    .thenConsumeWhile(m -> true)
                    .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("ArrayCodec.releaseArrays")
                            .hasRootCauseMessage("in cannot let go"))
                    .verify(TestHelpers.TIMEOUT);
            umh.stop().block(TestHelpers.TIMEOUT);
            // what the loops still do for this helper (the inbound lets go after the exit) runs before the hook goes
            for (int round = 0; round < 3; round++) {
                for (io.netty.util.concurrent.EventExecutor loop : io.umhflux.internal.loop.EventLoops.shared()) {
                    loop.submit(() -> { }).get(TestHelpers.TIMEOUT.toMillis(),
                            java.util.concurrent.TimeUnit.MILLISECONDS);
                }
            }
            assertThat(dropped).isNotEmpty().allSatisfy(e -> assertThat(e)
                    .hasMessageContaining("ArrayCodec.releaseArrays")
                    .rootCause().hasMessageEndingWith("cannot let go"));
        } finally {
            reactor.core.publisher.Hooks.resetOnErrorDropped();
        }
    }

    /**
     * A publisher that breaks the rule against nulls: the codec is given the null, as any message, and the send goes
     * on (the writer's reference-counting check takes the null without hanging).
     */
    @Test
    void aNullFromARuleBreakingPublisherGoesToTheCodecAndTheSendEnds() {
        Codec<byte[]> nullAsEmpty = new Codec<>() {
            @Override
            public void encode(byte[] value, ByteBuf out) {
                if (value != null) {
                    out.writeBytes(value);
                }
            }

            @Override
            public byte[] decode(ByteBuf frame) throws Exception {
                return Codecs.bytes().decode(frame);
            }
        };
        org.reactivestreams.Publisher<byte[]> withNull = s -> s.onSubscribe(new org.reactivestreams.Subscription() {
            private boolean done;

            @Override
            public void request(long n) {
                if (!done) {
                    done = true;
                    s.onNext("a".getBytes());
                    s.onNext(null);
                    s.onNext("b".getBytes());
                    s.onComplete();
                }
            }

            @Override
            public void cancel() {
                done = true;
            }
        });
        try (Blob cat = TestHelpers.cat()) {
            Umh<byte[], byte[]> umh = UmhFlux.spec(cat).codec(Framing.lengthPrefixed(1024), nullAsEmpty, nullAsEmpty)
                    .spawn();
            StepVerifier.create(umh.outbound().send(withNull)).verifyComplete();
            assertThat(umh.inbound().map(String::new).collectList().block(TestHelpers.TIMEOUT))
                    .containsExactly("a", "", "b");
        }
    }

    /**
     * Runs of small and of big frames through an ArrayCodec: the reader goes from a heap cumulation to native
     * buffers and back while frames straddle reads (4 KiB here), every frame intact.
     */
    @Test
    void anArrayCodecsFramesArriveIntactWhileTheReaderSwitchesBetweenHeapAndNativeBuffers() {
        java.util.Random random = new java.util.Random(7);
        List<byte[]> sent = IntStream.range(0, 600).mapToObj(i -> {
            boolean bigRun = i / 50 % 2 == 1;
            byte[] b = new byte[bigRun ? 5_000 + random.nextInt(120_000) : 1 + random.nextInt(200)];
            random.nextBytes(b);
            return b;
        }).toList();
        echoedIntactWithSmallReads(Codecs.bytes(), sent);
    }

    /**
     * A publisher that fails, polled (fused) or not: every message it gave before is still written, then stdin is
     * closed and the send fails with the publisher's error.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aFailingPublisherHasEveryEarlierMessageWrittenThenFailsTheSend(boolean fused) {
        try (Blob cat = TestHelpers.cat()) {
            Umh<String, String> umh = UmhFlux.spec(cat).lines(1024).spawn();
            Flux<String> lines = Flux.range(0, 5000).map(i -> {
                if (i == 3000) {
                    throw new IllegalStateException("no line 3000");
                }
                return "line " + i;
            });
            StepVerifier.create(umh.outbound().send(fused ? lines : lines.hide()))
                    .expectErrorMessage("no line 3000")
                    .verify(TestHelpers.TIMEOUT);
            assertThat(umh.inbound().collectList().block(TestHelpers.TIMEOUT))
                    .containsExactlyElementsOf(IntStream.range(0, 3000).mapToObj(i -> "line " + i).toList());
        }
    }

    @Test
    void aMessageThatCannotBeEncodedFailsTheSendAfterTheEarlierOnesWereWritten() {
        try (Blob cat = TestHelpers.cat()) {
            Umh<String, String> umh = UmhFlux.spec(cat).lines(1024).spawn();
            StepVerifier.create(umh.outbound().send(Flux.just("one", "two", "three\nfour", "five")))
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(CodecException.class)
                            .hasMessageContaining("cannot encode outbound message three"))
                    .verify(TestHelpers.TIMEOUT);
            assertThat(umh.inbound().collectList().block(TestHelpers.TIMEOUT)).containsExactly("one", "two");
        }
    }

    /**
     * A refused reference-counted message is described in the send's error before it is released: a message whose
     * {@code toString} reads its content (which fails once it is freed) names itself; the encoded and the refused
     * message are released, and one never taken stays the caller's.
     */
    @Test
    void aRefusedReferenceCountedMessageIsNamedInTheErrorAndReleased() {
        try (Blob cat = TestHelpers.cat()) {
            Umh<String, Note> umh = UmhFlux.spec(cat).codec(Framing.lines(1024), Codecs.utf8(), new Notes()).spawn();
            List<Note> notes = List.of(new Note("one"), new Note("x marks it"), new Note("three"));
            StepVerifier.create(umh.outbound().send(Flux.fromIterable(notes).hide()))
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(CodecException.class)
                            .hasMessageContaining("cannot encode outbound message x marks it"))
                    .verify(TestHelpers.TIMEOUT);
            assertThat(umh.inbound().collectList().block(TestHelpers.TIMEOUT)).containsExactly("one");
            assertThat(notes.get(0).refCnt()).as("the encoded note released").isZero();
            assertThat(notes.get(1).refCnt()).as("the refused note released").isZero();
            assertThat(notes.get(2).refCnt()).as("the note never taken stays the caller's").isOne();
            notes.get(2).release();
        }
    }

    /** A reference-counted message whose text lives in a buffer it frees: {@code toString} fails once released. */
    private static final class Note extends AbstractReferenceCounted {
        final ByteBuf text;

        Note(String text) {
            this.text = Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
        }

        @Override
        protected void deallocate() {
            text.release();
        }

        @Override
        public ReferenceCounted touch(Object hint) {
            return this;
        }

        @Override
        public String toString() {
            return text.toString(StandardCharsets.UTF_8); // IllegalReferenceCountException once freed
        }
    }

    /** Notes as their text; refuses one that starts with 'x'. */
    private static final class Notes implements Codec<Note> {
        @Override
        public void encode(Note value, ByteBuf out) {
            if (value.text.getByte(0) == 'x') {
                throw new IllegalArgumentException("no x");
            }
            out.writeBytes(value.text, 0, value.text.writerIndex());
        }

        @Override
        public Note decode(ByteBuf frame) {
            throw new UnsupportedOperationException("outbound only");
        }
    }

    /** ByteBufs as their bytes; refuses one that starts with 'x'. Reads nothing: the helper's replies are bytes. */
    private static final class Buffers implements Codec<ByteBuf> {
        @Override
        public void encode(ByteBuf value, ByteBuf out) {
            if (value.getByte(value.readerIndex()) == 'x') {
                throw new IllegalArgumentException("no x");
            }
            out.writeBytes(value, value.readerIndex(), value.readableBytes());
        }

        @Override
        public ByteBuf decode(ByteBuf frame) {
            throw new UnsupportedOperationException("outbound only");
        }
    }

    private static List<ByteBuf> buffers(String... texts) {
        return java.util.Arrays.stream(texts)
                .map(t -> io.netty.buffer.Unpooled.copiedBuffer(t, java.nio.charset.StandardCharsets.US_ASCII))
                .toList();
    }

    /**
     * Typed messages that are reference counted are the writer's from onNext on, as raw ByteBufs are: released
     * once encoded, or refused; one taken after the refusal is dropped and released too; one never taken stays the
     * caller's (a discard hook on every send would walk, on the event loop, whatever a cancelled publisher holds).
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void referenceCountedMessagesAreReleasedOnceEncodedOrRefused(boolean fused) {
        try (Blob cat = TestHelpers.cat()) {
            UmhSpec<byte[], ByteBuf> spec = UmhFlux.spec(cat).codec(Framing.lengthPrefixed(1024), Codecs.bytes(),
                    new Buffers());
            List<ByteBuf> many = buffers(IntStream.range(0, 3000).mapToObj(i -> "m" + i).toArray(String[]::new));
            Umh<byte[], ByteBuf> umh = spec.spawn();
            Flux<ByteBuf> all = Flux.fromIterable(many);
            StepVerifier.create(umh.outbound().send(fused ? all : all.hide())).verifyComplete();
            assertThat(umh.inbound().map(String::new).collectList().block(TestHelpers.TIMEOUT))
                    .containsExactlyElementsOf(IntStream.range(0, 3000).mapToObj(i -> "m" + i).toList());
            assertThat(many).allSatisfy(b -> assertThat(b.refCnt()).as("refCnt of an encoded message").isZero());

            List<ByteBuf> some = buffers("a", "b", "xbad", "c");
            Umh<byte[], ByteBuf> refusing = spec.spawn();
            List<ByteBuf> taken = new java.util.concurrent.CopyOnWriteArrayList<>();
            Flux<ByteBuf> four = Flux.fromIterable(some);
            StepVerifier.create(refusing.outbound().send(fused ? four : four.hide().doOnNext(taken::add)))
                    .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("no x"))
                    .verify(TestHelpers.TIMEOUT);
            assertThat(refusing.inbound().map(String::new).collectList().block(TestHelpers.TIMEOUT))
                    .containsExactly("a", "b");
            assertThat(some.subList(0, 3)).allSatisfy(b -> assertThat(b.refCnt()).as("encoded or refused").isZero());
            // polled one at a time, "c" is never taken and stays the caller's; requested, it is if it came in time
            boolean cTaken = !fused && taken.stream().anyMatch(b -> b == some.get(3));
            assertThat(some.get(3).refCnt()).as("c, taken: %s", cTaken).isEqualTo(cTaken ? 0 : 1);
            if (!cTaken) {
                some.get(3).release();
            }
        }
    }

    /**
     * Plain and reference-counted messages in one send: the writer remembers a plain message's class to skip the
     * {@code instanceof} for the next of that class, and still releases every buffer that comes between.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void referenceCountedMessagesAmongPlainOnesAreAllReleased(boolean fused) {
        Codec<Object> either = new Codec<>() {
            @Override
            public void encode(Object value, ByteBuf out) {
                if (value instanceof ByteBuf) {
                    ByteBuf b = (ByteBuf) value;
                    out.writeBytes(b, b.readerIndex(), b.readableBytes());
                } else {
                    out.writeCharSequence((String) value, java.nio.charset.StandardCharsets.US_ASCII);
                }
            }

            @Override
            public Object decode(ByteBuf frame) {
                throw new UnsupportedOperationException("outbound only");
            }
        };
        try (Blob cat = TestHelpers.cat()) {
            Umh<byte[], Object> umh = UmhFlux.spec(cat).codec(Framing.lengthPrefixed(1024), Codecs.bytes(), either)
                    .spawn();
            List<ByteBuf> buffers = buffers(IntStream.range(0, 500).mapToObj(i -> "b" + i).toArray(String[]::new));
            List<Object> mixed = new java.util.ArrayList<>();
            for (int i = 0; i < 500; i++) {
                mixed.add("s" + i);
                mixed.add(buffers.get(i));
            }
            Flux<Object> all = Flux.fromIterable(mixed);
            StepVerifier.create(umh.outbound().send(fused ? all : all.hide())).verifyComplete();
            assertThat(umh.inbound().map(String::new).collectList().block(TestHelpers.TIMEOUT))
                    .containsExactlyElementsOf(IntStream.range(0, 500).boxed()
                            .flatMap(i -> java.util.stream.Stream.of("s" + i, "b" + i)).toList());
            assertThat(buffers).allSatisfy(b -> assertThat(b.refCnt()).as("refCnt of an encoded buffer").isZero());
        }
    }

    /** A codec written to the old contract, releasing what it encoded: the send fails and says why. */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aCodecThatReleasesWhatItEncodedFailsTheSendSayingSo(boolean fused) {
        Codec<ByteBuf> releasing = new Codec<>() {
            @Override
            public void encode(ByteBuf value, ByteBuf out) {
                out.writeBytes(value, value.readerIndex(), value.readableBytes());
                value.release();
            }

            @Override
            public ByteBuf decode(ByteBuf frame) {
                throw new UnsupportedOperationException("outbound only");
            }
        };
        try (Blob cat = TestHelpers.cat()) {
            Umh<byte[], ByteBuf> umh = UmhFlux.spec(cat).codec(Framing.lengthPrefixed(1024), Codecs.bytes(), releasing)
                    .spawn();
            Flux<ByteBuf> two = Flux.fromIterable(buffers("a", "b"));
            StepVerifier.create(umh.outbound().send(fused ? two : two.hide()))
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IllegalStateException.class)
                            .hasMessageContaining("the codec released the message it encoded"))
                    .verify(TestHelpers.TIMEOUT);
            assertThat(umh.inbound().map(String::new).collectList().block(TestHelpers.TIMEOUT)).containsExactly("a");
        }
    }

    /**
     * A subscriber that asks for one more from each onNext, as {@code limitRate} and {@code concatMap} do: the
     * frames in the heap array are walked on; when it stops asking, exactly what it asked for has come, and
     * asking again brings the rest, in order.
     */
    @Test
    void aSubscriberThatRequestsFromOnNextGetsExactlyWhatItAsksFor() throws Exception {
        int first = 15_000;
        List<String> sent = TWENTY_THOUSAND;
        try (Blob cat = TestHelpers.cat()) {
            Umh<String, String> umh = echoing(cat, Framing.lengthPrefixed(1024), new ArrayStrings(), sent);
            List<String> got = new java.util.concurrent.CopyOnWriteArrayList<>();
            java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
            reactor.core.publisher.BaseSubscriber<String> oneByOne = new reactor.core.publisher.BaseSubscriber<>() {
                @Override
                protected void hookOnSubscribe(org.reactivestreams.Subscription subscription) {
                    request(1);
                }

                @Override
                protected void hookOnNext(String value) {
                    got.add(value);
                    if (got.size() < first) {
                        request(1);
                    }
                }

                @Override
                protected void hookOnComplete() {
                    done.complete(null);
                }

                @Override
                protected void hookOnError(Throwable error) {
                    done.completeExceptionally(error);
                }
            };
            umh.inbound().subscribe(oneByOne);
            org.awaitility.Awaitility.await().atMost(TestHelpers.TIMEOUT).until(() -> got.size() >= first);
            Thread.sleep(300);
            assertThat(got).as("after it stopped asking").hasSize(first);
            oneByOne.request(Long.MAX_VALUE);
            done.get(TestHelpers.TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            assertThat(got).containsExactlyElementsOf(sent);
        }
    }

    /**
     * A request that the codec refuses while writing it straight into the writer's batch fails alone: the requests
     * around it are answered, by the same helper.
     */
    @Test
    void aRequestTheArrayPathRefusesFailsAlone() {
        ArrayStrings codec = new ArrayStrings();
        try (Blob cat = TestHelpers.cat()) {
            UmhClient<String, String> client = UmhFlux.spec(cat)
                    .codec(Framing.lengthPrefixed(1024), codec, codec)
                    .connect();
            try {
                assertThat(client.exchange("good").block(TestHelpers.TIMEOUT)).isEqualTo("good");
                StepVerifier.create(client.exchange("unwritable"))
                        .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("cannot write that"))
                        .verify(TestHelpers.TIMEOUT);
                assertThat(client.exchange("after").block(TestHelpers.TIMEOUT)).isEqualTo("after");
                assertThat(codec.fromArrays).as("answers decoded from an array").hasValue(2);
            } finally {
                client.dispose();
            }
        }
    }

    @Test
    void shellHelperSpeaksLines() {
        try (Blob sh = TestHelpers.script("lines", "while IFS= read -r line; do echo \"got: $line\"; done")) {
            Umh<String, String> umh = UmhFlux.spec(sh).lines(4096).spawn();
            umh.outbound().send(Flux.just("one", "zwei \u00fc", "")).subscribe();
            StepVerifier.create(umh.inbound()).expectNext("got: one", "got: zwei \u00fc", "got: ").verifyComplete();
        }
    }

    @Test
    void pythonHelperSpeaksLines() {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3"))
                || Files.isExecutable(Path.of("/usr/local/bin/python3")), "python3 is not installed");
        String program = "#!/usr/bin/env python3\nimport sys\nfor line in sys.stdin:\n"
                + "    print(line.rstrip('\\n').upper(), flush=True)\n";
        try (Blob py = Blob.of("upper.py", program.getBytes(java.nio.charset.StandardCharsets.UTF_8))) {
            Umh<String, String> umh = UmhFlux.spec(py).lines(4096).spawn();
            List<String> sent = IntStream.range(0, 100).mapToObj(i -> "line " + i).toList();
            umh.outbound().send(Flux.fromIterable(sent)).subscribe();
            StepVerifier.create(umh.inbound().collect(Collectors.toList()))
                    .assertNext(got -> assertThat(got).containsExactlyElementsOf(
                            sent.stream().map(String::toUpperCase).toList()))
                    .verifyComplete();
        }
    }

    private static final List<String> TWENTY_THOUSAND = IntStream.range(0, 20_000).mapToObj(i -> "m" + i).toList();

    /** {@code cat} echoing {@code sent} in {@code framing}, read 4 KiB at a time: the send is under way. */
    private static Umh<String, String> echoing(Blob cat, Framing framing, ArrayStrings codec, List<String> sent) {
        Umh<String, String> umh = UmhFlux.spec(cat).codec(framing, codec, codec).readSize(4096).spawn();
        umh.outbound().send(Flux.fromIterable(sent)).subscribe();
        return umh;
    }

    /** Strings decoded from array ranges when the framing has them; counts those. */
    private static final class ArrayStrings implements ArrayCodec<String> {
        final java.util.concurrent.atomic.AtomicInteger fromArrays = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public void encode(String value, ByteBuf out) throws Exception {
            Codecs.utf8().encode(value, out);
        }

        @Override
        public String decode(ByteBuf frame) throws Exception {
            return Codecs.utf8().decode(frame);
        }

        @Override
        public String decode(byte[] array, int offset, int length) {
            fromArrays.incrementAndGet();
            return new String(array, offset, length, java.nio.charset.StandardCharsets.UTF_8);
        }

        @Override
        public int encode(String value, byte[] array, int offset, int limit) {
            if (value.equals("unwritable")) {
                throw new IllegalArgumentException("cannot write that");
            }
            return copyInto(value.getBytes(java.nio.charset.StandardCharsets.UTF_8), array, offset, limit);
        }

        @Override
        public ArrayStrings forHelper() {
            return this;
        }
    }

    /** The header is checked on both read paths: slices of native memory, and the array walk of ArrayCodecs. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void hugeLengthFromTheHelperFailsAfterEarlierMessagesAndStopsIt(boolean arrays) {
        // good frames "ok" and "fine", a pause (so another read takes the rest), then a header claiming 0x7FFFFFFF
        // bytes; then the helper waits
        ArrayStrings arrayCodec = new ArrayStrings();
        Codec<String> codec = arrays ? arrayCodec : Codecs.utf8();
        try (Blob liar = TestHelpers.script("liar", "printf '\\000\\000\\000\\002ok\\000\\000\\000\\004fine'; "
                + "sleep 0.2; printf '\\177\\377\\377\\377'; exec sleep 600")) {
            Umh<String, String> umh = UmhFlux.spec(liar)
                    .codec(Framing.lengthPrefixed(1 << 20), codec, codec)
                    .stopGrace(java.time.Duration.ofMillis(100))
                    .spawn();
            StepVerifier.create(umh.inbound())
                    .expectNext("ok", "fine")
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(HelperFailedException.class)
                            .hasMessageContaining("offset 14").hasMessageContaining("2147483647 bytes"))
                    .verify(TestHelpers.TIMEOUT);
            ExitStatus status = umh.exit().block(TestHelpers.TIMEOUT);
            assertThat(status.isSuccess()).as("stopped: %s", status).isFalse();
            assertThat(arrayCodec.fromArrays).as("frames decoded from an array").hasValue(arrays ? 2 : 0);
        }
    }

    /**
     * Small frames for an ArrayCodec are walked in the heap array they were read into, for as long as there is
     * demand: with three requested, three come and the rest wait (the helper's pipe fills); more demand brings
     * them all, in order, and the inbound completes.
     */
    @Test
    void anArrayCodecsFramesWaitForDemandAndResumeWhereTheyStopped() {
        List<String> sent = TWENTY_THOUSAND;
        ArrayStrings codec = new ArrayStrings();
        try (Blob cat = TestHelpers.cat()) {
            Umh<String, String> umh = echoing(cat, Framing.varintPrefixed(1024), codec, sent);
            List<String> got = new java.util.ArrayList<>();
            StepVerifier.create(umh.inbound(), 3)
                    .recordWith(() -> got)
                    .expectNextCount(3)
                    .expectNoEvent(java.time.Duration.ofMillis(300))
                    .thenRequest(1)
                    .expectNextCount(1)
                    .thenRequest(Long.MAX_VALUE)
                    .expectNextCount(sent.size() - 4)
                    .expectComplete()
                    .verify(TestHelpers.TIMEOUT);
            assertThat(got).containsExactlyElementsOf(sent);
            assertThat(codec.fromArrays).as("frames decoded from an array").hasValue(sent.size());
        }
    }

    @Test
    void invalidUtf8LineFailsAfterTheGoodLines() {
        try (Blob bad = TestHelpers.script("bad", "printf 'fine\\n\\377\\376\\n'")) {
            Umh<String, String> umh = UmhFlux.spec(bad).lines(1024).spawn();
            StepVerifier.create(umh.inbound())
                    .expectNext("fine")
                    .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("frame at offset 5"))
                    .verify(TestHelpers.TIMEOUT);
        }
    }

    @Test
    void frameCutShortAtExitIsAnError() {
        try (Blob cut = TestHelpers.script("cut", "printf '\\000\\000\\000\\012abc'")) {
            Umh<String, String> umh = UmhFlux.spec(cut)
                    .codec(Framing.lengthPrefixed(1024), Codecs.utf8(), Codecs.utf8()).spawn();
            StepVerifier.create(umh.inbound())
                    .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("ended inside a frame")
                            .hasMessageContaining("7 bytes at offset 0"))
                    .verify(TestHelpers.TIMEOUT);
        }
    }
}
