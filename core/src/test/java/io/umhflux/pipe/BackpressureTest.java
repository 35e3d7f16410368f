package io.umhflux.pipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.umhflux.Blob;
import io.umhflux.ExitStatus;
import io.umhflux.HelperFailedException;
import io.umhflux.TestHelpers;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.test.CHelpers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** Demand drives the reads, the helper's pace drives the writes: slow subscribers, slow and stuck helpers. */
class BackpressureTest {

    /** Bytes the process has written so far, from {@code /proc/<pid>/io}. */
    private static long written(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/io"))) {
            if (line.startsWith("wchar:")) {
                return Long.parseLong(line.substring(6).trim());
            }
        }
        throw new AssertionError("no wchar in /proc/" + pid + "/io");
    }

    private static void checkPattern(ByteBuf b, AtomicLong position) {
        // one bulk copy: the PARANOID leak detector records a stack trace on every single-byte access
        byte[] bytes = new byte[b.readableBytes()];
        b.readBytes(bytes);
        long at = position.get();
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] != (byte) ((at + i) % 251)) {
                throw new AssertionError("byte " + (at + i) + " is " + bytes[i] + ", expected " + (at + i) % 251);
            }
        }
        position.addAndGet(bytes.length);
    }

    @Test
    void nothingIsReadWithoutDemandAndTheHelperBlocks() throws Exception {
        try (Blob writer = CHelpers.blob("pattern_writer")) {
            long total = 8L << 20;
            // the kernel's 64 KiB pipes, for tight bounds (by default stdout may be 1 MiB)
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spec(writer).args(Long.toString(total)).pipeSize(0).spawn();
            umh.outbound().close().block(TestHelpers.TIMEOUT);
            AtomicLong position = new AtomicLong();
            StepVerifier.create(umh.inbound(), 0)
                    .expectSubscription()
                    .expectNoEvent(Duration.ofMillis(300))
                    .then(() -> {
                        long w = uncheckedWritten(umh.pid());
                        // a 64 KiB pipe plus at most one partial 64 KiB write: far from 8 MiB
                        assertThat(w).as("bytes the helper managed to write without demand").isLessThan(256 * 1024);
                        assertThat(TestHelpers.alive(umh.pid())).isTrue();
                    })
                    .thenRequest(1)
                    .assertNext(b -> checkPattern(b, position))
                    .expectNoEvent(Duration.ofMillis(200))
                    .then(() -> assertThat(uncheckedWritten(umh.pid())).isLessThan(512 * 1024))
                    .thenRequest(Long.MAX_VALUE)
                    .thenConsumeWhile(b -> {
                        checkPattern(b, position);
                        return true;
                    })
                    .verifyComplete();
            assertThat(position.get()).isEqualTo(total);
        }
    }

    private static long uncheckedWritten(long pid) {
        try {
            return written(pid);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void everyByteWrittenBeforeExitArrives() {
        try (Blob writer = CHelpers.blob("pattern_writer")) {
            for (int round = 0; round < 20; round++) {
                Umh<ByteBuf, ByteBuf> umh = UmhFlux.spec(writer).args(Integer.toString(1 << 20)).spawn();
                umh.outbound().close().subscribe();
                AtomicLong position = new AtomicLong();
                StepVerifier.create(umh.inbound().doOnNext(b -> checkPattern(b, position)).then())
                        .verifyComplete();
                assertThat(position.get()).isEqualTo(1 << 20);
                assertThat(umh.exit().block(TestHelpers.TIMEOUT)).isEqualTo(ExitStatus.exited(0));
            }
        }
    }

    @Test
    void stderrFloodDoesNotBlockAHelperWhoseStdoutIsRead() {
        try (Blob noisy = TestHelpers.script("noisy",
                "i=0; while [ $i -lt 20000 ]; do echo \"noise line $i\" >&2; i=$((i+1)); done; echo done")) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(noisy);
            umh.outbound().close().subscribe();
            StepVerifier.create(umh.inbound().map(b -> b.toString(StandardCharsets.UTF_8)))
                    .expectNext("done\n")
                    .expectComplete()
                    .verify(Duration.ofSeconds(60));
            assertThat(umh.exit().block(TestHelpers.TIMEOUT).stderrTail()).hasSize(20)
                    .last().isEqualTo("noise line 19999");
        }
    }

    @Test
    void stalledSubscriberBlocksTheHelperAndResumingDeliversAllInOrder() throws Exception {
        try (Blob writer = CHelpers.blob("pattern_writer")) {
            long total = 100L << 20;
            // the kernel's 64 KiB pipe, for a tight bound (by default stdout may be 1 MiB)
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spec(writer).args(Long.toString(total)).pipeSize(0).spawn();
            umh.outbound().close().subscribe();
            AtomicLong position = new AtomicLong();
            ByteBufAllocatorMetric pool = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
            StepVerifier.create(umh.inbound(), 1)
                    .assertNext(b -> checkPattern(b, position))
                    .expectNoEvent(Duration.ofMillis(300))
                    .then(() -> {
                        long w1 = uncheckedWritten(umh.pid());
                        assertThat(w1).isLessThan(1 << 20);
                        assertThat(pool.usedDirectMemory()).as("pooled direct memory while stalled")
                                .isLessThan(64L << 20);
                    })
                    .expectNoEvent(Duration.ofMillis(200))
                    .thenRequest(Long.MAX_VALUE)
                    .thenConsumeWhile(b -> {
                        checkPattern(b, position);
                        return true;
                    })
                    .expectComplete()
                    .verify(Duration.ofSeconds(120));
            assertThat(position.get()).isEqualTo(total);
        }
    }

    /** Both ways of taking messages: polled from a fused publisher, and requested and pushed by a hidden one. */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void helperThatNeverReadsBoundsWhatIsBufferedAndCancelEndsIt(boolean fused) throws Exception {
        try (Blob sleeper = TestHelpers.script("sleeper", "exec sleep 600")) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spec(sleeper).stopGrace(Duration.ofMillis(100)).spawn();
            List<ByteBuf> offered = new CopyOnWriteArrayList<>();
            long oneGiB = 1L << 30;
            int chunk = 64 * 1024;
            Flux<ByteBuf> gigabyte = Flux.range(0, (int) (oneGiB / chunk)).map(i -> {
                ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(chunk);
                b.writerIndex(chunk);
                offered.add(b);
                return b;
            });
            Disposable sending = umh.outbound().send(fused ? gigabyte : gigabyte.hide()).subscribe(v -> { }, e -> { });
            await().atMost(Duration.ofSeconds(10)).until(() -> offered.size() > 2);
            long before = offered.size();
            // give the publisher every chance to run ahead; it must not
            StepVerifier.create(Flux.never()).expectSubscription().expectNoEvent(Duration.ofMillis(300)).thenCancel()
                    .verify();
            long bytesOffered = (long) offered.size() * chunk;
            assertThat(bytesOffered).as("bytes taken from a 1 GiB publisher by a helper that never reads")
                    .isLessThan(16L << 20);
            assertThat(offered.size()).isLessThanOrEqualTo((int) before + 64);
            sending.dispose();
            ExitStatus status = umh.stop().block(TestHelpers.TIMEOUT);
            assertThat(status.signal()).isEqualTo(15);
            await().atMost(Duration.ofSeconds(5)).until(() -> offered.stream().allMatch(b -> b.refCnt() == 0));
        }
    }

    @Test
    void helperExitingWhileWeWriteFailsTheSendWithItsStatus() {
        try (Blob quitter = quitter()) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(quitter);
            Flux<ByteBuf> lots = Flux.range(0, 1024).map(i -> ByteBufAllocator.DEFAULT.directBuffer(8192)
                    .writerIndex(8192));
            sendFailsWithTheQuittersStatus(umh, lots);
        }
    }

    /** The same with typed messages, whose batches are written from their heap arrays rather than by writev. */
    @Test
    void helperExitingWhileWeWriteTypedBatchesFailsTheSendWithItsStatus() {
        try (Blob quitter = quitter()) {
            Umh<String, String> umh = UmhFlux.spec(quitter).lines(1024).spawn();
            sendFailsWithTheQuittersStatus(umh, Flux.range(0, 1_000_000).map(i -> "line " + i));
        }
    }

    /** Reads 1,000 bytes, says "bye" on stderr and exits 7. */
    private static Blob quitter() {
        return TestHelpers.script("quitter", "head -c 1000 >/dev/null; echo bye >&2; exit 7");
    }

    private static <I, O> void sendFailsWithTheQuittersStatus(Umh<I, O> umh, Flux<O> lots) {
        StepVerifier.create(umh.outbound().send(lots))
                .expectErrorSatisfies(e -> {
                    // EPIPE on a write, or the helper's end noticed first: either way its status comes along
                    assertThat(e).isInstanceOf(HelperFailedException.class);
                    assertThat(e.getMessage()).containsAnyOf("EPIPE", "ended while the send was still open");
                    ExitStatus s = ((HelperFailedException) e).exitStatus();
                    assertThat(s).isEqualTo(ExitStatus.exited(7).withStderrTail(List.of("bye")));
                })
                .verify(TestHelpers.TIMEOUT);
        StepVerifier.create(umh.inbound()).expectError(HelperFailedException.class).verify(TestHelpers.TIMEOUT);
    }
}
