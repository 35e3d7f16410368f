package io.umhflux.pipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.umhflux.Blob;
import io.umhflux.HelperFailedException;
import io.umhflux.TestHelpers;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhMetrics;
import io.umhflux.UmhSink;
import io.umhflux.codec.CodecException;
import io.umhflux.internal.loop.EventLoops;
import io.umhflux.test.CHelpers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks.EmitResult;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * The outbound as a sink: many threads feeding a slow helper within the high-water mark, each in its own order;
 * {@code tryEmit} against a helper that does not read; a chain of reactive emits; a crash, a dispose and a codec
 * refusal with emits waiting; the event-loop guard of {@code emitBlocking}; who owns a message.
 */
class OutboundSinkTest {
    /** Each message is a line of this many bytes with its line end, so the mark's bound is exact. */
    private static final int LINE_BYTES = 10;
    private static final long MARK = 4096;

    @TempDir
    Path dir;

    /** "p nnnnnnn": producer and sequence number, {@link #LINE_BYTES} with the newline. */
    private static String line(int producer, int seq) {
        String n = Integer.toString(seq);
        return producer + " " + "0000000".substring(n.length()) + n;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A helper that reads nothing until {@code go} exists, then runs {@code then}. */
    private Blob heldUntil(Path go, String then) {
        return TestHelpers.script("held", "while [ ! -e '" + go + "' ]; do sleep 0.02; done\n" + then);
    }

    /** Checks that every producer's lines arrive in its order, and counts them. */
    private static final class OrderCheck {
        private final int[] next;
        long lines;

        OrderCheck(int producers) {
            next = new int[producers];
        }

        void accept(String l) {
            int producer = l.charAt(0) - '0';
            int seq = Integer.parseInt(l.substring(2));
            if (seq != next[producer]) {
                throw new AssertionError("producer " + producer + ": got " + seq + " after " + (next[producer] - 1));
            }
            next[producer]++;
            lines++;
        }
    }

    /**
     * Under a mark far above what is sent, a chain of emits on the loop is still written as it goes: the sink is
     * asked for more only after what it handed over was written, so producers never fill the mark while the loop
     * takes and asks without writing (which holds the loop, and every other helper on it, meanwhile).
     */
    @Test
    void aChainOfEmitsUnderAHugeMarkIsWrittenAsItGoes() {
        int count = 200_000;
        // one loop: the emits' continuations and the pipe's writes take turns on it
        IoEventLoopGroup one = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (Blob drain = TestHelpers.script("drain", "exec cat >/dev/null")) {
            UmhMetrics.Counters metrics = UmhMetrics.counting();
            Umh<String, String> umh = UmhFlux.spec(drain).eventLoopGroup(one).lines(64).pipeSize(0)
                    .highWaterMark(64L << 20).metrics(metrics).spawn();
            UmhSink<String> sink = umh.outbound().sink();
            AtomicLong writtenAtHalf = new AtomicLong(-1);
            Flux.range(0, count).concatMap(i -> sink.emit(line(0, i)).doOnSuccess(v -> {
                if (i == count / 2) {
                    writtenAtHalf.set(metrics.bytesOut());
                }
            })).then(Mono.fromRunnable(sink::complete)).then(sink.done()).block(TestHelpers.TIMEOUT);
            assertThat(writtenAtHalf.get()).as("bytes written when half of the messages were accepted")
                    .isPositive();
            assertThat(umh.exit().block(TestHelpers.TIMEOUT).isSuccess()).isTrue();
            assertThat(metrics.bytesOut()).isEqualTo((long) count * LINE_BYTES);
        } finally {
            one.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void eightThreadsOfBlockingEmitsArriveInOrderWithinTheMark() throws Exception {
        int producers = 8;
        int each = 100_000;
        try (Blob slow = CHelpers.blob("slow_echo")) {
            UmhMetrics.Counters metrics = UmhMetrics.counting();
            Umh<String, String> umh = UmhFlux.spec(slow).args("1024", "100").lines(64).pipeSize(0)
                    .highWaterMark(MARK).metrics(metrics).spawn();
            UmhSink<String> sink = umh.outbound().sink();
            OrderCheck order = new OrderCheck(producers);
            CompletableFuture<Long> received = umh.inbound().doOnNext(order::accept).count().toFuture();

            AtomicLong accepted = new AtomicLong();
            AtomicLong mostInFlight = new AtomicLong();
            List<CompletableFuture<Void>> threads = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                int producer = p;
                threads.add(CompletableFuture.runAsync(() -> {
                    try {
                        for (int i = 0; i < each; i++) {
                            sink.emitBlocking(line(producer, i), TestHelpers.TIMEOUT);
                            // accepted, as seen from outside, less what the writer reported written
                            long inFlight = accepted.addAndGet(LINE_BYTES) - metrics.bytesOut();
                            mostInFlight.accumulateAndGet(inFlight, Math::max);
                        }
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }, runnable -> new Thread(runnable, "producer-" + producer).start()));
            }
            CompletableFuture.allOf(threads.toArray(new CompletableFuture<?>[0])).get(120, TimeUnit.SECONDS);
            assertThat(sink.complete()).isEqualTo(EmitResult.OK);
            sink.done().block(TestHelpers.TIMEOUT);

            assertThat(received.get(60, TimeUnit.SECONDS)).isEqualTo((long) producers * each);
            assertThat(order.lines).isEqualTo((long) producers * each);
            assertThat(metrics.bytesOut()).isEqualTo((long) producers * each * LINE_BYTES);
            assertThat(mostInFlight.get()).as("most bytes accepted and not yet written")
                    .isLessThanOrEqualTo(MARK + LINE_BYTES)
                    .isGreaterThan(MARK / 4); // the slow helper made the producers wait at the mark
            assertThat(umh.exit().block(TestHelpers.TIMEOUT).isSuccess()).isTrue();
            assertThat(sink.tryEmit(line(0, 0))).isEqualTo(EmitResult.FAIL_TERMINATED);
        }
    }

    @Test
    void aChainOfReactiveEmitsAtFullSpeedStaysWithinTheMark() throws Exception {
        int count = 100_000;
        try (Blob slow = CHelpers.blob("slow_echo")) {
            UmhMetrics.Counters metrics = UmhMetrics.counting();
            Umh<String, String> umh = UmhFlux.spec(slow).args("1024", "100").lines(64).pipeSize(0)
                    .highWaterMark(MARK).metrics(metrics).spawn();
            UmhSink<String> sink = umh.outbound().sink();
            OrderCheck order = new OrderCheck(1);
            CompletableFuture<Long> received = umh.inbound().doOnNext(order::accept).count().toFuture();

            AtomicLong accepted = new AtomicLong();
            AtomicLong mostInFlight = new AtomicLong();
            Flux.<String, Integer>generate(() -> 0, (i, out) -> {
                if (i == count) {
                    out.complete();
                } else {
                    out.next(line(0, i));
                }
                return i + 1;
            }).concatMap(m -> sink.emit(m).doOnSuccess(v -> mostInFlight.accumulateAndGet(
                    accepted.addAndGet(LINE_BYTES) - metrics.bytesOut(), Math::max)))
                    .then(Mono.fromRunnable(sink::complete))
                    .then(sink.done())
                    .block(Duration.ofSeconds(60));

            assertThat(received.get(60, TimeUnit.SECONDS)).isEqualTo(count);
            assertThat(mostInFlight.get()).as("most bytes accepted and not yet written")
                    .isLessThanOrEqualTo(MARK + LINE_BYTES)
                    .isGreaterThan(MARK / 4);
        }
    }

    @Test
    void tryEmitOverflowsWhileTheHelperDoesNotReadAndSucceedsOnceItReads() throws Exception {
        Path go = dir.resolve("go");
        try (Blob held = heldUntil(go, "exec cat")) {
            Umh<String, String> umh = UmhFlux.spec(held).lines(64).pipeSize(0).highWaterMark(MARK).spawn();
            UmhSink<String> sink = umh.outbound().sink();
            OrderCheck order = new OrderCheck(1);
            CompletableFuture<Long> received = umh.inbound().doOnNext(order::accept).count().toFuture();

            int[] next = {0};
            // the writer asks for its first message once it subscribed
            await().atMost(TestHelpers.TIMEOUT).pollInterval(Duration.ofMillis(5))
                    .until(() -> sink.tryEmit(line(0, next[0])) == EmitResult.OK);
            next[0]++;
            // then OK until the pipe and the mark are full; FAIL_OVERFLOW for good once they are
            long overflowingSince = 0;
            long deadline = System.nanoTime() + TestHelpers.TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                EmitResult r = sink.tryEmit(line(0, next[0]));
                if (r == EmitResult.OK) {
                    next[0]++;
                    overflowingSince = 0;
                } else {
                    assertThat(r).isEqualTo(EmitResult.FAIL_OVERFLOW);
                    if (overflowingSince == 0) {
                        overflowingSince = System.nanoTime();
                    } else if (System.nanoTime() - overflowingSince > TimeUnit.MILLISECONDS.toNanos(300)) {
                        break;
                    }
                    Thread.sleep(1);
                }
            }
            assertThat(overflowingSince).as("tryEmit overflowed").isNotZero();
            // the kernel's 64 KiB pipe and the mark: nothing near the millions an unbounded buffer would take
            assertThat((long) next[0] * LINE_BYTES).isLessThan(64 * 1024 + 2 * MARK + LINE_BYTES);
            assertThat(sink.tryEmit(line(0, next[0]))).isEqualTo(EmitResult.FAIL_OVERFLOW);

            Files.createFile(go); // the helper starts reading
            await().atMost(TestHelpers.TIMEOUT).pollInterval(Duration.ofMillis(5))
                    .until(() -> sink.tryEmit(line(0, next[0])) == EmitResult.OK);
            next[0]++;
            assertThat(sink.complete()).isEqualTo(EmitResult.OK);
            assertThat(sink.complete()).isEqualTo(EmitResult.FAIL_TERMINATED);
            StepVerifier.create(sink.done()).verifyComplete();
            assertThat(received.get(20, TimeUnit.SECONDS)).isEqualTo(next[0]);
        }
    }

    @Test
    void aHelperThatCrashesFailsEveryWaitingEmitAndTheEndWithItsExitStatus() throws Exception {
        Path go = dir.resolve("go");
        try (Blob doomed = heldUntil(go, "echo 'doomed: out of luck' >&2; exit 3")) {
            Umh<String, String> umh = UmhFlux.spec(doomed).lines(64).pipeSize(0).highWaterMark(MARK).spawn();
            UmhSink<String> sink = umh.outbound().sink();
            List<Producer> producers = List.of(new Producer(sink, 1), new Producer(sink, 2));
            producers.forEach(Producer::start);
            producers.forEach(Producer::awaitBlocked);
            AtomicReference<Throwable> reactive = new AtomicReference<>();
            sink.emit(line(3, 0)).subscribe(null, reactive::set);

            Files.createFile(go);
            Throwable end = sink.done().materialize().block(TestHelpers.TIMEOUT).getThrowable();
            assertThat(end).isInstanceOf(HelperFailedException.class);
            HelperFailedException failure = (HelperFailedException) end;
            assertThat(failure.exitStatus()).isNotNull();
            assertThat(failure.exitStatus().code()).isEqualTo(3);
            assertThat(failure.exitStatus().stderrTail()).contains("doomed: out of luck");
            for (Producer p : producers) {
                assertThat(p.join()).isSameAs(failure);
            }
            await().atMost(TestHelpers.TIMEOUT).until(() -> reactive.get() != null);
            assertThat(reactive.get()).isSameAs(failure);
            assertThat(sink.tryEmit(line(0, 0))).isEqualTo(EmitResult.FAIL_TERMINATED);
            StepVerifier.create(sink.emit(line(0, 0))).expectErrorMatches(e -> e == failure).verify();
            assertThatThrownBy(() -> sink.emitBlocking(line(0, 0), Duration.ofSeconds(1))).isSameAs(failure);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void disposingTheHelperOrCancellingItsInboundReleasesBlockedProducersAndWaitingEmits(boolean dispose)
            throws Exception {
        try (Blob never = TestHelpers.script("never", "exec sleep 60")) {
            Umh<String, String> umh = UmhFlux.spec(never).lines(64).pipeSize(0).highWaterMark(MARK)
                    .stopGrace(Duration.ofMillis(100)).spawn();
            UmhSink<String> sink = umh.outbound().sink();
            Disposable reading = umh.inbound().subscribe(null, e -> { });
            List<Producer> producers = List.of(new Producer(sink, 1), new Producer(sink, 2), new Producer(sink, 3));
            producers.forEach(Producer::start);
            producers.forEach(Producer::awaitBlocked);
            AtomicReference<Throwable> reactive = new AtomicReference<>();
            sink.emit(line(4, 0)).subscribe(null, reactive::set);

            if (dispose) {
                umh.dispose();
            } else {
                reading.dispose(); // a cancelled inbound stops the helper
            }
            for (Producer p : producers) {
                assertThat(p.join()).isInstanceOf(HelperFailedException.class).hasMessageContaining("stopped");
            }
            await().atMost(TestHelpers.TIMEOUT).until(() -> reactive.get() != null);
            assertThat(reactive.get()).isInstanceOf(HelperFailedException.class);
            StepVerifier.create(sink.done()).expectError(HelperFailedException.class).verify(TestHelpers.TIMEOUT);
            assertThat(umh.exit().block(TestHelpers.TIMEOUT)).isNotNull();
        }
    }

    @Test
    void aBlockingEmitTimesOutAndACancelledEmitIsTakenBack() throws Exception {
        Path go = dir.resolve("go");
        try (Blob held = heldUntil(go, "exec cat")) {
            Umh<String, String> umh = UmhFlux.spec(held).lines(64).pipeSize(0).highWaterMark(MARK).spawn();
            UmhSink<String> sink = umh.outbound().sink();
            CompletableFuture<List<String>> received = umh.inbound().collectList().toFuture();
            Producer filler = new Producer(sink, 0);
            filler.start();
            filler.awaitBlocked();

            long started = System.nanoTime();
            assertThatThrownBy(() -> sink.emitBlocking("late", Duration.ofMillis(200)))
                    .isInstanceOf(TimeoutException.class).hasMessageContaining("not accepted");
            assertThat(System.nanoTime() - started).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
            Disposable cancelled = sink.emit("withdrawn").subscribe();
            cancelled.dispose();

            Files.createFile(go);
            filler.stopAfterNext();
            assertThat(filler.join()).isNull();
            assertThat(sink.complete()).isEqualTo(EmitResult.OK);
            sink.done().block(TestHelpers.TIMEOUT);
            List<String> lines = received.get(20, TimeUnit.SECONDS);
            assertThat(lines).hasSize(filler.sent()).doesNotContain("late", "withdrawn");
        }
    }

    @Test
    void emitBlockingRefusesToWaitOnAnEventLoop() throws Exception {
        try (Blob cat = TestHelpers.cat()) {
            Umh<String, String> umh = UmhFlux.spec(cat).lines(64).spawn();
            UmhSink<String> sink = umh.outbound().sink();
            var onLoop = EventLoops.shared().next().submit(() -> {
                sink.emitBlocking("x", Duration.ofSeconds(5));
                return null;
            });
            assertThatThrownBy(() -> onLoop.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(IllegalStateException.class).hasMessageContaining("event loop");
            Mono<Void> onParallel = Mono.fromCallable(() -> {
                sink.emitBlocking("y", Duration.ofSeconds(5));
                return null;
            }).subscribeOn(Schedulers.parallel()).then();
            StepVerifier.create(onParallel).expectError(IllegalStateException.class).verify(TestHelpers.TIMEOUT);
            // tryEmit and emit are fine there: neither waits
            StepVerifier.create(sink.emit("z").subscribeOn(Schedulers.parallel())).verifyComplete();
            sink.complete();
            StepVerifier.create(umh.inbound()).expectNext("z").verifyComplete();
        }
    }

    @Test
    void aSinkExcludesASendAndAnotherSink() {
        try (Blob cat = TestHelpers.cat()) {
            Umh<String, String> umh = UmhFlux.spec(cat).lines(64).spawn();
            UmhSink<String> sink = umh.outbound().sink();
            assertThatThrownBy(() -> umh.outbound().sink()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("one send, one sink or one close");
            StepVerifier.create(umh.outbound().send(Flux.just("a"))).expectError(IllegalStateException.class)
                    .verify(TestHelpers.TIMEOUT);
            sink.complete();
            StepVerifier.create(umh.inbound()).verifyComplete();

            Umh<String, String> sent = UmhFlux.spec(cat).lines(64).spawn();
            sent.outbound().send(Flux.just("b")).block(TestHelpers.TIMEOUT);
            assertThatThrownBy(() -> sent.outbound().sink()).isInstanceOf(IllegalStateException.class);
            StepVerifier.create(sent.inbound()).expectNext("b").verifyComplete();
        }
    }

    @Test
    void aMessageTheCodecRefusesEndsTheSinkAfterEveryEarlierMessage() {
        try (Blob cat = TestHelpers.cat()) {
            Umh<String, String> umh = UmhFlux.spec(cat).lines(16).spawn();
            UmhSink<String> sink = umh.outbound().sink();
            StepVerifier.create(sink.emit("one").then(sink.emit("two")).then(sink.emit("x".repeat(100))))
                    .verifyComplete(); // accepted: the codec refuses it on the loop
            StepVerifier.create(sink.done()).expectErrorSatisfies(e -> assertThat(e)
                    .isInstanceOf(CodecException.class).hasMessageContaining("cannot encode"))
                    .verify(TestHelpers.TIMEOUT);
            assertThat(sink.tryEmit("three")).isEqualTo(EmitResult.FAIL_TERMINATED);
            StepVerifier.create(umh.inbound()).expectNext("one", "two").verifyComplete();
        }
    }

    @Test
    void errorWritesWhatWasAcceptedThenEndsWithTheError() {
        try (Blob cat = TestHelpers.cat()) {
            Umh<String, String> umh = UmhFlux.spec(cat).lines(64).spawn();
            UmhSink<String> sink = umh.outbound().sink();
            StepVerifier.create(sink.emit("kept").then(sink.emit("too"))).verifyComplete();
            IllegalStateException cause = new IllegalStateException("the listener went away");
            assertThat(sink.error(cause)).isEqualTo(EmitResult.OK);
            assertThat(sink.error(cause)).isEqualTo(EmitResult.FAIL_TERMINATED);
            StepVerifier.create(sink.done()).expectErrorMatches(e -> e == cause).verify(TestHelpers.TIMEOUT);
            StepVerifier.create(sink.emit("after")).expectErrorMatches(e -> e == cause).verify();
            StepVerifier.create(umh.inbound()).expectNext("kept", "too").verifyComplete();
        }
    }

    @Test
    void acceptedBuffersAreReleasedOnceWrittenAndRefusedOnesStayTheCallers() {
        try (Blob cat = TestHelpers.cat()) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(cat);
            UmhSink<ByteBuf> sink = umh.outbound().sink();
            CompletableFuture<String> received = umh.inbound().map(b -> b.toString(StandardCharsets.UTF_8))
                    .collect(StringBuilder::new, StringBuilder::append).map(StringBuilder::toString).toFuture();
            ByteBuf first = ByteBufAllocator.DEFAULT.directBuffer().writeBytes(bytes("first "));
            ByteBuf second = ByteBufAllocator.DEFAULT.heapBuffer().writeBytes(bytes("second"));
            StepVerifier.create(sink.emit(first).then(sink.emit(second))).verifyComplete();
            sink.complete();
            ByteBuf refused = ByteBufAllocator.DEFAULT.heapBuffer().writeBytes(bytes("refused"));
            try {
                assertThat(sink.tryEmit(refused)).isEqualTo(EmitResult.FAIL_TERMINATED);
                assertThat(refused.refCnt()).as("a message that was not accepted stays the caller's").isEqualTo(1);
            } finally {
                refused.release();
            }
            sink.done().block(TestHelpers.TIMEOUT);
            assertThat(received.join()).isEqualTo("first second");
            assertThat(first.refCnt()).isZero();
            assertThat(second.refCnt()).isZero();
        }
    }

    @Test
    void acceptedBuffersThatWereNeverWrittenAreReleasedWhenTheHelperIsStopped() {
        try (Blob never = TestHelpers.script("never", "exec sleep 60")) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spec(never).pipeSize(0).highWaterMark(MARK)
                    .stopGrace(Duration.ofMillis(100)).spawn();
            UmhSink<ByteBuf> sink = umh.outbound().sink();
            List<ByteBuf> accepted = new ArrayList<>();
            long deadline = System.nanoTime() + TestHelpers.TIMEOUT.toNanos();
            long overflowingSince = 0;
            while (System.nanoTime() < deadline) {
                ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(512).writeZero(512);
                if (sink.tryEmit(b) == EmitResult.OK) {
                    accepted.add(b);
                    overflowingSince = 0;
                    continue;
                }
                b.release(); // not accepted: still ours
                if (overflowingSince == 0) {
                    overflowingSince = System.nanoTime();
                } else if (System.nanoTime() - overflowingSince > TimeUnit.MILLISECONDS.toNanos(300)) {
                    break;
                }
            }
            // the writer stopped asking because buffers it took wait for a full pipe: accepted, never written
            assertThat(accepted).anyMatch(b -> b.refCnt() == 1);
            umh.dispose();
            StepVerifier.create(sink.done()).expectError(HelperFailedException.class).verify(TestHelpers.TIMEOUT);
            await().atMost(TestHelpers.TIMEOUT).untilAsserted(() ->
                    assertThat(accepted).as("accepted buffers, released once written or dropped")
                            .allMatch(b -> b.refCnt() == 0));
        }
    }

    /**
     * A reactive emit's buffer is the sink's from the subscription on: one cancelled while it waits, and one failed
     * by the helper's stop while it waits, are both released by the sink.
     */
    @Test
    void reactiveEmitsCancelledOrFailedWhileWaitingAreReleasedByTheSink() {
        try (Blob never = TestHelpers.script("never", "exec sleep 60")) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spec(never).pipeSize(0).highWaterMark(MARK)
                    .stopGrace(Duration.ofMillis(100)).spawn();
            UmhSink<ByteBuf> sink = umh.outbound().sink();
            long deadline = System.nanoTime() + TestHelpers.TIMEOUT.toNanos();
            long overflowingSince = 0;
            while (System.nanoTime() < deadline) { // fill the pipe and the mark
                ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(512).writeZero(512);
                if (sink.tryEmit(b) == EmitResult.OK) {
                    overflowingSince = 0;
                    continue;
                }
                b.release();
                if (overflowingSince == 0) {
                    overflowingSince = System.nanoTime();
                } else if (System.nanoTime() - overflowingSince > TimeUnit.MILLISECONDS.toNanos(300)) {
                    break;
                }
            }
            ByteBuf cancelled = ByteBufAllocator.DEFAULT.heapBuffer().writeBytes(bytes("cancelled"));
            ByteBuf failed = ByteBufAllocator.DEFAULT.heapBuffer().writeBytes(bytes("failed"));
            Disposable waiting = sink.emit(cancelled).subscribe();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            sink.emit(failed).subscribe(null, failure::set);
            assertThat(cancelled.refCnt()).as("waiting, not accepted").isEqualTo(1);
            waiting.dispose();
            assertThat(cancelled.refCnt()).as("released by the sink on cancel").isZero();
            umh.dispose();
            await().atMost(TestHelpers.TIMEOUT).until(() -> failure.get() != null);
            assertThat(failure.get()).isInstanceOf(HelperFailedException.class);
            assertThat(failed.refCnt()).as("released by the sink when the emit failed").isZero();
        }
    }

    /** A thread that emits lines with {@code emitBlocking} until it fails, or until told to stop. */
    private static final class Producer {
        private final UmhSink<String> sink;
        private final int id;
        private final Thread thread;
        private final CompletableFuture<Throwable> ended = new CompletableFuture<>();
        private volatile boolean stop;
        private volatile int sent;

        Producer(UmhSink<String> sink, int id) {
            this.sink = sink;
            this.id = id;
            this.thread = new Thread(this::run, "producer-" + id);
        }

        private void run() {
            try {
                for (int i = 0; !stop; i++) {
                    sink.emitBlocking(line(id, i), Duration.ofSeconds(60));
                    sent = i + 1;
                }
                ended.complete(null);
            } catch (Throwable t) {
                ended.complete(t);
            }
        }

        void start() {
            thread.start();
        }

        /** Waits until the thread waits for room and sends nothing for 300 ms (the pipe and the mark are full). */
        void awaitBlocked() {
            await().atMost(TestHelpers.TIMEOUT).pollInterval(Duration.ofMillis(10)).until(() -> {
                if (thread.getState() != Thread.State.TIMED_WAITING) {
                    return false;
                }
                int before = sent;
                Thread.sleep(300);
                return thread.getState() == Thread.State.TIMED_WAITING && sent == before;
            });
        }

        void stopAfterNext() {
            stop = true;
        }

        int sent() {
            return sent;
        }

        /** @return what ended the thread, or null when it was told to stop */
        Throwable join() throws Exception {
            return ended.get(TestHelpers.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        }
    }
}
