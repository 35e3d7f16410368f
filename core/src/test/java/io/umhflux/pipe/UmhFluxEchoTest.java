package io.umhflux.pipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.umhflux.Blob;
import io.umhflux.ExitStatus;
import io.umhflux.HelperFailedException;
import io.umhflux.TestHelpers;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

class UmhFluxEchoTest {
    private static Blob cat;

    @BeforeAll
    static void load() {
        cat = TestHelpers.cat();
    }

    @AfterAll
    static void close() {
        cat.close();
    }

    private static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    @Test
    void catEchoesWhatIsSentAndCompletesAfterExit() {
        Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(cat);
        umh.outbound().send(Flux.just(text("hello "), text("world"))).subscribe();
        String echoed = umh.inbound().map(b -> b.toString(StandardCharsets.UTF_8))
                .reduce("", String::concat)
                .block(TestHelpers.TIMEOUT);
        assertThat(echoed).isEqualTo("hello world");
        assertThat(umh.exit().block(TestHelpers.TIMEOUT)).isEqualTo(ExitStatus.exited(0));
    }

    @Test
    void writesOfOnePageDeliverEveryByteInOrder() throws Exception {
        // writeSize(4096): a 64 KiB chunk goes out in sixteen writes, parts of one buffer across writev calls
        byte[] data = new byte[8 << 20];
        new java.util.Random(11).nextBytes(data);
        Umh<ByteBuf, ByteBuf> umh = UmhFlux.spec(cat).writeSize(4096).spawn();
        umh.outbound().send(Flux.range(0, 128).map(i -> Unpooled.wrappedBuffer(data, i << 16, 1 << 16))).subscribe();
        java.security.MessageDigest echoed = java.security.MessageDigest.getInstance("SHA-256");
        long bytes = umh.inbound().map(b -> {
            int n = b.readableBytes();
            echoed.update(b.nioBuffer());
            return (long) n;
        }).reduce(0L, Long::sum).block(TestHelpers.TIMEOUT);
        assertThat(bytes).isEqualTo(data.length);
        assertThat(echoed.digest()).isEqualTo(java.security.MessageDigest.getInstance("SHA-256").digest(data));
        assertThatThrownBy(() -> UmhFlux.spec(cat).writeSize(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("write size");
    }

    /**
     * The thread that writes stdin (it takes each message from the publisher: in onNext, or in poll() when the
     * publisher fused) and the one that delivers stdout.
     */
    private static <I, O> List<Thread> writerAndReader(UmhSpec<I, O> spec, Flux<O> messages) {
        AtomicReference<Thread> writer = new AtomicReference<>();
        Umh<I, O> umh = spec.spawn();
        umh.outbound().send(messages.doOnNext(m -> writer.compareAndSet(null, Thread.currentThread())))
                .subscribe();
        Thread reader = umh.inbound().map(x -> Thread.currentThread()).blockLast(TestHelpers.TIMEOUT);
        return List.of(writer.get(), reader);
    }

    @Test
    void rawBytesStayOnOneLoopWhileTypedMessagesAndPageWritesAreReadOnTheNext() {
        IoEventLoopGroup two = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
        try {
            UmhSpec<ByteBuf, ByteBuf> raw = UmhFlux.spec(cat).eventLoopGroup(two);
            List<Thread> typed = writerAndReader(raw.lines(1024), Flux.just("typed"));
            assertThat(typed.get(0)).as("typed: decoded on the next loop").isNotSameAs(typed.get(1));
            List<Thread> whole = writerAndReader(raw, Flux.range(0, 64).map(i -> text("chunk\n")));
            assertThat(whole.get(0)).as("raw bytes: one loop").isSameAs(whole.get(1));
            List<Thread> paged = writerAndReader(raw.writeSize(4096), Flux.range(0, 64).map(i -> text("page\n")));
            assertThat(paged.get(0)).as("raw bytes written a page at a time: read on the next loop")
                    .isNotSameAs(paged.get(1));
        } finally {
            two.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** A subscriber with little demand gets every raw chunk live, none already released. */
    @Test
    void coldExchangeHandsOutLiveBuffersToASlowSubscriber() {
        byte[] data = new byte[4 << 20];
        new java.util.Random(7).nextBytes(data);
        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        Flux<ByteBuf> chunks = Flux.range(0, 64).map(i -> Unpooled.wrappedBuffer(data, i << 16, 1 << 16));
        StepVerifier.create(UmhFlux.spec(cat).exchange(chunks).map(b -> {
            byte[] part = new byte[b.readableBytes()];
            b.readBytes(part);
            got.write(part, 0, part.length);
            return part.length;
        }), 0)
                .expectSubscription()
                .thenRequest(1)
                .expectNextCount(1)
                .thenAwait(Duration.ofMillis(200))
                .thenRequest(Long.MAX_VALUE)
                .thenConsumeWhile(n -> true)
                .verifyComplete();
        assertThat(Arrays.equals(got.toByteArray(), data)).as("4 MiB echoed intact").isTrue();
    }

    @Test
    void aPublisherErrorEndsTheColdExchangeWithThatError() {
        Flux<ByteBuf> failing = Flux.just(text("a\n")).concatWith(Flux.error(new IllegalStateException("no more")));
        // "a" may or may not come back before the helper is stopped; the error must be the publisher's
        StepVerifier.create(UmhFlux.spec(cat).exchange(failing).then())
                .expectErrorMessage("no more")
                .verify(TestHelpers.TIMEOUT);
    }

    /**
     * A short read empties the pipe and waits for the next edge; a writer that writes and closes at once must
     * still end the inbound at once (the hang-up is the last edge), not after the drain timeout.
     */
    @Test
    void lastWriteAndCloseTogetherStillEndTheInbound() {
        try (Blob twice = TestHelpers.script("twice", "printf x; sleep 0.01; printf y")) {
            UmhSpec<ByteBuf, ByteBuf> spec = UmhFlux.spec(twice).drainTimeout(Duration.ofSeconds(30));
            for (int i = 0; i < 30; i++) {
                Umh<ByteBuf, ByteBuf> umh = spec.spawn();
                umh.outbound().close().subscribe();
                long start = System.nanoTime();
                String out = umh.inbound().map(b -> b.toString(StandardCharsets.UTF_8)).reduce("", String::concat)
                        .block(TestHelpers.TIMEOUT);
                assertThat(out).isEqualTo("xy");
                assertThat(Duration.ofNanos(System.nanoTime() - start)).as("round %d", i)
                        .isLessThan(Duration.ofSeconds(10));
            }
        }
    }

    @Test
    void megabytesEchoInOrder() {
        int chunks = 256;
        int size = 16 * 1024;
        Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(cat);
        Flux<ByteBuf> data = Flux.range(0, chunks).map(i -> {
            byte[] b = new byte[size];
            Arrays.fill(b, (byte) i.intValue());
            return Unpooled.wrappedBuffer(b);
        });
        umh.outbound().send(data).subscribe();
        long[] counts = new long[chunks];
        long[] position = {0};
        StepVerifier.create(umh.inbound().doOnNext(b -> {
            byte[] bytes = new byte[b.readableBytes()]; // one bulk read: PARANOID leak detection traces each access
            b.readBytes(bytes);
            for (byte actual : bytes) {
                int expected = (int) (position[0] / size);
                if (actual != (byte) expected) {
                    throw new AssertionError("byte " + position[0] + " is " + actual + ", expected " + expected);
                }
                counts[expected]++;
                position[0]++;
            }
        }).then())
                .verifyComplete();
        assertThat(position[0]).isEqualTo((long) chunks * size);
        assertThat(counts).containsOnly(size);
    }

    @Test
    void nonZeroExitEndsTheInboundWithTheStatusAfterTheData() {
        try (Blob failing = TestHelpers.script("failing", "echo partial; echo 'something broke' >&2; exit 3")) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(failing);
            StepVerifier.create(umh.inbound().map(b -> b.toString(StandardCharsets.UTF_8)))
                    .expectNext("partial\n")
                    .expectErrorSatisfies(e -> {
                        assertThat(e).isInstanceOf(HelperFailedException.class)
                                .hasMessageContaining("exited with code 3")
                                .hasMessageContaining("something broke");
                        ExitStatus s = ((HelperFailedException) e).exitStatus();
                        assertThat(s).isNotNull();
                        assertThat(s.code()).isEqualTo(3);
                        assertThat(s.stderrTail()).containsExactly("something broke");
                    })
                    .verify(TestHelpers.TIMEOUT);
        }
    }

    @Test
    void stderrLinesAreOffered() {
        try (Blob noisy = TestHelpers.script("noisy", "echo one >&2; echo two >&2")) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(noisy);
            StepVerifier.create(umh.stderr()).expectNext("one", "two").verifyComplete();
            assertThat(umh.exit().block(TestHelpers.TIMEOUT).stderrTail()).containsExactly("one", "two");
        }
    }

    @Test
    void disposeStopsTheHelper() {
        Umh<ByteBuf, ByteBuf> umh = UmhFlux.spec(cat).stopGrace(Duration.ofMillis(100)).spawn();
        assertThat(TestHelpers.alive(umh.pid())).isTrue();
        umh.dispose();
        ExitStatus s = umh.exit().block(TestHelpers.TIMEOUT);
        assertThat(s).isEqualTo(ExitStatus.exited(0)); // cat exits on stdin EOF, the first step of a stop
        assertThat(umh.isDisposed()).isTrue();
    }

    @Test
    void coldExchangeRespawnsACrashedHelperOnRetry(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        // crashes the first two times it runs (it counts its runs in a file), then echoes
        java.nio.file.Path count = dir.resolve("runs");
        try (Blob flaky = TestHelpers.script("flaky", "n=$(cat " + count + " 2>/dev/null || echo 0); "
                + "n=$((n+1)); echo $n > " + count + "; "
                + "if [ $n -lt 3 ]; then echo \"crash $n\" >&2; kill -SEGV $$; fi; exec cat")) {
            java.util.List<Long> pids = new java.util.concurrent.CopyOnWriteArrayList<>();
            Flux<String> echoed = UmhFlux.spec(flaky)
                    .using(umh -> {
                        pids.add(umh.pid());
                        return Flux.merge(umh.outbound().send(Flux.just(text("third time lucky"))).then(
                                reactor.core.publisher.Mono.<ByteBuf>empty()), umh.inbound());
                    })
                    .map(b -> b.toString(StandardCharsets.UTF_8))
                    .retryWhen(reactor.util.retry.Retry.fixedDelay(5, Duration.ofMillis(10))
                            .filter(e -> e instanceof HelperFailedException));
            StepVerifier.create(echoed).expectNext("third time lucky").verifyComplete();
            assertThat(pids).hasSize(3).doesNotHaveDuplicates();
        }
    }

    @Test
    void emptyBuffersInASendAreSkipped() {
        Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(cat);
        StepVerifier.create(umh.outbound().send(Flux.just(Unpooled.EMPTY_BUFFER, text("x"), Unpooled.buffer(0))))
                .verifyComplete();
        StepVerifier.create(umh.inbound().map(b -> b.toString(StandardCharsets.UTF_8))).expectNext("x")
                .verifyComplete();
    }

    @Test
    void aSendStillOpenWhenTheHelperEndsFailsWithItsStatus() {
        try (Blob quick = TestHelpers.script("quick", "exit 3")) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(quick);
            StepVerifier.create(umh.outbound().send(Flux.never()))
                    .expectErrorSatisfies(e -> assertThat(((HelperFailedException) e).exitStatus())
                            .isEqualTo(ExitStatus.exited(3)))
                    .verify(TestHelpers.TIMEOUT);
        }
    }
}
