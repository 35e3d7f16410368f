package io.umhflux.pipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.umhflux.Blob;
import io.umhflux.HelperFailedException;
import io.umhflux.TestHelpers;
import io.umhflux.Umh;
import io.umhflux.UmhException;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * How a send ends when it does not simply run out: a cancel or a stop while an endless publisher feeds a helper
 * that reads as fast as it can, and a publisher error while the helper does not read. Each with a publisher that
 * fuses (polled) and one that does not (requested).
 */
class OutboundEndTest {
    private static Flux<String> endless(AtomicLong taken, boolean fused) {
        Flux<String> lines = Flux.range(0, Integer.MAX_VALUE).map(i -> {
            taken.incrementAndGet();
            return "line " + i;
        });
        return fused ? lines : lines.hide();
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void cancellingTheSendOfAnEndlessPublisherStopsTakingAndTheHelperStillStops(boolean fused) throws Exception {
        try (Blob sink = TestHelpers.script("sink", "exec cat > /dev/null")) {
            Umh<String, String> umh = UmhFlux.spec(sink).lines(1024).stopGrace(Duration.ofMillis(200)).spawn();
            AtomicLong taken = new AtomicLong();
            Disposable sending = umh.outbound().send(endless(taken, fused)).subscribe(v -> { }, e -> { });
            await().atMost(TestHelpers.TIMEOUT).until(() -> taken.get() > 100_000);
            sending.dispose();
            Thread.sleep(500);
            long after = taken.get();
            Thread.sleep(500);
            assertThat(taken.get()).as("messages taken from 0.5 s to 1 s after the cancel").isEqualTo(after);
            assertThat(umh.stop().block(TestHelpers.TIMEOUT)).isNotNull();
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void stoppingAHelperFedAnEndlessPublisherEndsItAndTheSend(boolean fused) {
        try (Blob sink = TestHelpers.script("sink", "exec cat > /dev/null")) {
            Umh<String, String> umh = UmhFlux.spec(sink).lines(1024).stopGrace(Duration.ofMillis(200)).spawn();
            AtomicLong taken = new AtomicLong();
            AtomicReference<Throwable> sendError = new AtomicReference<>();
            umh.outbound().send(endless(taken, fused)).subscribe(v -> { }, sendError::set);
            await().atMost(TestHelpers.TIMEOUT).until(() -> taken.get() > 100_000);
            assertThat(umh.stop().block(TestHelpers.TIMEOUT)).isNotNull();
            await().atMost(TestHelpers.TIMEOUT).untilAsserted(
                    () -> assertThat(sendError.get()).isInstanceOf(HelperFailedException.class));
        }
    }

    /**
     * A publisher may still signal for a while after its cancel: an error it sends once the send has ended (here
     * cancelled) goes to Reactor's dropped-error hook rather than nowhere.
     */
    @Test
    void anErrorAfterTheSendEndedGoesToTheDroppedErrorHook() throws Exception {
        List<Throwable> dropped = new CopyOnWriteArrayList<>();
        reactor.core.publisher.Hooks.onErrorDropped(dropped::add);
        try (Blob sink = TestHelpers.script("sink", "exec cat > /dev/null")) {
            Umh<String, String> umh = UmhFlux.spec(sink).lines(1024).stopGrace(Duration.ofMillis(200)).spawn();
            AtomicReference<org.reactivestreams.Subscriber<? super String>> subscriber = new AtomicReference<>();
            java.util.concurrent.CountDownLatch cancelled = new java.util.concurrent.CountDownLatch(1);
            org.reactivestreams.Publisher<String> late = s -> {
                subscriber.set(s);
                s.onSubscribe(new org.reactivestreams.Subscription() {
                    @Override
                    public void request(long n) {
                    }

                    @Override
                    public void cancel() {
                        cancelled.countDown();
                    }
                });
            };
            Disposable sending = umh.outbound().send(late).subscribe(v -> { }, e -> { });
            await().atMost(TestHelpers.TIMEOUT).until(() -> subscriber.get() != null);
            sending.dispose();
            assertThat(cancelled.await(TestHelpers.TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS))
                    .isTrue();
            RuntimeException error = new IllegalStateException("after the cancel");
            subscriber.get().onError(error);
            await().atMost(TestHelpers.TIMEOUT).untilAsserted(() -> assertThat(dropped).containsExactly(error));
            umh.dispose();
        } finally {
            reactor.core.publisher.Hooks.resetOnErrorDropped();
        }
    }

    /** 32 native buffers of 4 KiB, then {@code error}: more than a 4 KiB pipe takes. */
    private static Flux<ByteBuf> pagesThenError(List<ByteBuf> made, boolean fused, RuntimeException error) {
        Flux<ByteBuf> pages = Flux.range(0, 32).map(i -> {
            ByteBuf b = Unpooled.directBuffer(4096).writeZero(4096);
            made.add(b);
            return b;
        });
        return (fused ? pages : pages.hide()).concatWith(Flux.error(error));
    }

    private static UmhSpec<ByteBuf, ByteBuf> neverReads(Blob sleeper) {
        return UmhFlux.spec(sleeper).pipeSize(4096).stopGrace(Duration.ofMillis(100))
                .drainTimeout(Duration.ofMillis(300));
    }

    /** The error a send ends with when the publisher's could not be written out: a new one, caused by it. */
    private static void droppedAfter(Throwable e, RuntimeException publisherError) {
        assertThat(e).isInstanceOf(UmhException.class).hasCause(publisherError)
                .hasMessageContaining("still unwritten after PT0.3S").hasMessageContaining("were dropped");
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aPublisherErrorWhileTheHelperDoesNotReadEndsTheSendAfterTheDrainTimeout(boolean fused) {
        try (Blob sleeper = TestHelpers.script("sleeper", "exec sleep 600")) {
            Umh<ByteBuf, ByteBuf> umh = neverReads(sleeper).spawn();
            List<ByteBuf> made = new CopyOnWriteArrayList<>();
            IllegalStateException boom = new IllegalStateException("boom");
            try {
                StepVerifier.create(umh.outbound().send(pagesThenError(made, fused, boom)))
                        .expectErrorSatisfies(e -> droppedAfter(e, boom))
                        .verify(TestHelpers.TIMEOUT);
                assertThat(boom.getSuppressed()).as("the publisher's own error is not changed").isEmpty();
                await().atMost(TestHelpers.TIMEOUT).until(() -> made.stream().allMatch(b -> b.refCnt() == 0));
            } finally {
                umh.stop().block(TestHelpers.TIMEOUT);
            }
        }
    }

    /** One error object shared by every subscription of a cold publisher, retried: each try ends alike. */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aPublisherErrorEndsEachRetriedColdExchangeAndStaysAsItWas(boolean fused) {
        try (Blob sleeper = TestHelpers.script("sleeper", "exec sleep 600")) {
            IllegalStateException boom = new IllegalStateException("boom");
            List<Throwable> errors = new CopyOnWriteArrayList<>();
            StepVerifier.create(neverReads(sleeper)
                            .exchange(pagesThenError(new CopyOnWriteArrayList<>(), fused, boom))
                            .doOnError(errors::add)
                            .retry(2))
                    .expectErrorSatisfies(e -> droppedAfter(e, boom))
                    .verify(TestHelpers.TIMEOUT);
            assertThat(errors).hasSize(3).allSatisfy(e -> droppedAfter(e, boom));
            assertThat(boom.getSuppressed()).as("the shared error is not changed").isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aStopWhileWritingOutAfterAPublisherErrorKeepsThePublishersError(boolean fused) {
        try (Blob sleeper = TestHelpers.script("sleeper", "exec sleep 600")) {
            Umh<ByteBuf, ByteBuf> umh = neverReads(sleeper).drainTimeout(Duration.ofMinutes(1)).spawn();
            List<ByteBuf> made = new CopyOnWriteArrayList<>();
            IllegalStateException boom = new IllegalStateException("boom");
            AtomicReference<Throwable> sendError = new AtomicReference<>();
            umh.outbound().send(pagesThenError(made, fused, boom)).subscribe(v -> { }, sendError::set);
            await().atMost(TestHelpers.TIMEOUT).until(() -> made.size() == 32);
            umh.stop().block(TestHelpers.TIMEOUT);
            await().atMost(TestHelpers.TIMEOUT).untilAsserted(() -> {
                assertThat(sendError.get()).isInstanceOf(UmhException.class).hasCause(boom);
                assertThat(sendError.get().getSuppressed()).singleElement()
                        .isInstanceOf(HelperFailedException.class);
            });
            assertThat(boom.getSuppressed()).as("the publisher's own error is not changed").isEmpty();
            await().atMost(TestHelpers.TIMEOUT).until(() -> made.stream().allMatch(b -> b.refCnt() == 0));
        }
    }

    /** A drain timeout longer than a timer can wait (292 years) means no limit, not an overflow at spawn. */
    @Test
    void aDrainTimeoutOfForeverIsNoLimit() {
        try (Blob cat = TestHelpers.cat()) {
            Umh<String, String> umh = UmhFlux.spec(cat).lines(64).drainTimeout(ChronoUnit.FOREVER.getDuration())
                    .stopGrace(ChronoUnit.FOREVER.getDuration()).spawn();
            umh.outbound().send(Flux.just("one")).subscribe();
            StepVerifier.create(umh.inbound()).expectNext("one").verifyComplete();
        }
    }
}
