package io.umhflux.pipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.umhflux.Blob;
import io.umhflux.ExitStatus;
import io.umhflux.HelperFailedException;
import io.umhflux.TestHelpers;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import io.umhflux.codec.Codecs;
import io.umhflux.codec.Framing;
import io.umhflux.internal.os.Os;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/**
 * How the inbound ends in its corners: a subscriber whose demand is used up exactly, a stdout
 * nobody subscribes to, a slow subscriber while a grandchild holds stdout, a decoded message that waits for
 * demand when the subscriber cancels.
 */
class InboundEndTest {

    /** All lines requested were delivered and the helper exited 0: the end needs no more demand. */
    @Test
    void theInboundCompletesWhenExactlyTheDemandedMessagesWereDelivered() {
        try (Blob sh = TestHelpers.script("two", "printf 'a\\nb\\n'; exit 0")) {
            Umh<String, String> umh = UmhFlux.spec(sh).lines(100).spawn();
            try {
                assertThat(umh.exit().block(TestHelpers.TIMEOUT).isSuccess()).isTrue();
                StepVerifier.create(umh.inbound(), 2)
                        .expectNext("a", "b")
                        .expectComplete()
                        .verify(Duration.ofSeconds(5));
            } finally {
                umh.stop().block(TestHelpers.TIMEOUT);
            }
        }
    }

    /**
     * Stdout that ends inside a frame, well before the helper exits: the error waits for the exit, so it carries the
     * status (and the frame error), after every whole message.
     */
    @Test
    void aFrameCutShortByTheEndOfStdoutFailsWithTheExitStatus() {
        // "whole" in a 5-byte frame, then a frame that claims 10 bytes and has 3
        try (Blob sh = TestHelpers.script("cut", "printf '\\000\\000\\000\\005whole\\000\\000\\000\\012abc';"
                + " exec 1>&-; sleep 0.3; exit 3")) {
            Umh<String, String> umh = UmhFlux.spec(sh).codec(Framing.lengthPrefixed(100), Codecs.utf8(),
                    Codecs.utf8()).spawn();
            StepVerifier.create(umh.inbound()).expectNext("whole").expectErrorSatisfies(e -> {
                assertThat(e).isInstanceOf(HelperFailedException.class).hasMessageContaining("ended inside a frame")
                        .hasCauseInstanceOf(io.umhflux.internal.pipe.FrameException.class);
                assertThat(((HelperFailedException) e).exitStatus()).isEqualTo(ExitStatus.exited(3));
            }).verify(TestHelpers.TIMEOUT);
        }
    }

    /** The same while the helper is still running when the demand runs out; it exits later. */
    @Test
    void theEndComesWithoutDemandAfterALateExit() {
        try (Blob sh = TestHelpers.script("late", "printf 'a\\nb\\n'; sleep 0.3; exit 0")) {
            Umh<String, String> umh = UmhFlux.spec(sh).lines(100).spawn();
            StepVerifier.create(umh.inbound(), 2)
                    .expectNext("a", "b")
                    .expectComplete()
                    .verify(Duration.ofSeconds(5));
        }
    }

    /** Nobody subscribes to a helper's stdout: once it exited, the pipe is closed after the drain timeout. */
    @Test
    void stdoutOfAnUnsubscribedHelperIsClosedAfterItsExit() {
        try (Blob sh = TestHelpers.script("quiet", "echo unread; exit 0")) {
            UmhSpec<ByteBuf, ByteBuf> spec = UmhFlux.spec(sh).drainTimeout(Duration.ofMillis(200));
            spec.spawn().exit().block(TestHelpers.TIMEOUT); // warm up
            var fds = TestHelpers.openFds();
            Umh<ByteBuf, ByteBuf> umh = spec.spawn();
            assertThat(umh.exit().block(TestHelpers.TIMEOUT).isSuccess()).isTrue();
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(TestHelpers.newFds(fds)).as("descriptors left open").isEmpty());
            // a subscriber that comes later is told why there is nothing
            StepVerifier.create(umh.inbound())
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(HelperFailedException.class)
                            .hasMessageContaining("nobody subscribed to its stdout"))
                    .verify(TestHelpers.TIMEOUT);
        }
    }

    /** Stopping a helper whose stdout nobody reads closes it at once. */
    @Test
    void stopClosesTheStdoutOfAnUnsubscribedHelper() {
        try (Blob cat = TestHelpers.cat()) {
            UmhSpec<ByteBuf, ByteBuf> spec = UmhFlux.spec(cat).stopGrace(Duration.ofMillis(100));
            spec.spawn().stop().block(TestHelpers.TIMEOUT); // warm up
            var fds = TestHelpers.openFds();
            Umh<ByteBuf, ByteBuf> umh = spec.spawn();
            assertThat(umh.stop().block(TestHelpers.TIMEOUT)).isNotNull();
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(TestHelpers.newFds(fds)).as("descriptors left open").isEmpty());
        }
    }

    /**
     * Runs {@code sh -c} printing {@code lines} while a grandchild it started holds stdout open (300 ms drain
     * timeout; the group kill at exit off, so that the grandchild outlives it), hands the helper to {@code test},
     * then kills the grandchild and stops the helper.
     */
    private static void withGrandchildHoldingStdout(String lines, Consumer<Umh<String, String>> test) {
        try (Blob sh = TestHelpers.sh()) {
            Umh<String, String> umh = UmhFlux.spec(sh).lines(100)
                    .args("-c", "sleep 600 & echo $! >&2; printf '" + lines + "'")
                    .drainTimeout(Duration.ofMillis(300)).killGroupAtExit(false).spawn();
            long grandchild = Long.parseLong(umh.stderr().blockFirst(TestHelpers.TIMEOUT));
            try {
                test.accept(umh);
            } finally {
                Os.libc().kill((int) grandchild, Os.SIGKILL);
                umh.stop().block(TestHelpers.TIMEOUT);
            }
        }
    }

    /**
     * A slow subscriber of a helper whose grandchild holds stdout: lines already read wait for demand and are not
     * dropped by the drain timeout; the timeout ends the inbound only once the subscriber waits for bytes.
     */
    @Test
    void theDrainTimeoutDoesNotDropLinesAlreadyReadForASlowSubscriber() {
        withGrandchildHoldingStdout("a\\nb\\nc\\n", umh -> StepVerifier.create(umh.inbound(), 1)
                .expectNext("a")
                .thenAwait(Duration.ofSeconds(2)) // slow: the helper exited meanwhile
                .thenRequest(10)
                .expectNext("b", "c")
                .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("stdout stayed open"))
                .verify(TestHelpers.TIMEOUT));
    }

    /**
     * The same with a subscriber whose demand was used up exactly: it waits for the end, which the grandchild
     * withholds, so the drain timeout ends it too (no demand is needed for an error).
     */
    @Test
    void theDrainTimeoutEndsASubscriberWhoseDemandWasUsedUpWhileAGrandchildHoldsStdout() {
        withGrandchildHoldingStdout("a\\nb\\n", umh -> StepVerifier.create(umh.inbound(), 2)
                .expectNext("a", "b")
                .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("stdout stayed open"))
                .verify(Duration.ofSeconds(10)));
    }

    /** A decoded message that waits for demand when the subscriber cancels is released. */
    @Test
    void aDecodedMessageWaitingForDemandIsReleasedOnCancel() {
        RetainingCodec codec = new RetainingCodec();
        // three 1-byte length-prefixed frames in one write, then wait for stdin's end
        try (Blob sh = TestHelpers.script("frames", "printf '\\000\\000\\000\\001a\\000\\000\\000\\001b"
                + "\\000\\000\\000\\001c'; exec cat >/dev/null")) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spec(sh).codec(Framing.lengthPrefixed(1024), codec, codec)
                    .stopGrace(Duration.ofMillis(100)).spawn();
            List<ByteBuf> delivered = new CopyOnWriteArrayList<>();
            StepVerifier.create(umh.inbound(), 1)
                    .consumeNextWith(delivered::add)
                    .then(() -> await().atMost(Duration.ofSeconds(5)).until(() -> codec.decoded.size() == 2))
                    .thenCancel()
                    .verify(TestHelpers.TIMEOUT);
            umh.exit().block(TestHelpers.TIMEOUT);
            delivered.forEach(ByteBuf::release); // the subscriber's own
            // a retained slice shares its parent's count: 0 once nobody holds any part of the buffer read into
            await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThat(codec.decoded).as("decoded messages, after the cancel")
                            .allSatisfy(b -> assertThat(b.refCnt()).isZero()));
        }
    }
}
