package io.umhflux.supervise;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.umhflux.Blob;
import io.umhflux.PoolSpec;
import io.umhflux.Restart;
import io.umhflux.TestHelpers;
import io.umhflux.UmhClient;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import io.umhflux.codec.Codec;
import io.umhflux.codec.Codecs;
import io.umhflux.codec.Framing;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Reference-counted requests belong to a request client once its Mono is subscribed: each is released exactly once,
 * whether written, waiting when the helper ended, refused, or retried on another helper.
 */
class RequestOwnershipTest {
    /** ByteBuf requests as lines of their bytes; the answers are read as strings. */
    private static final class Buffers implements Codec<ByteBuf> {
        @Override
        public void encode(ByteBuf value, ByteBuf out) {
            out.writeBytes(value, value.readerIndex(), value.readableBytes());
        }

        @Override
        public ByteBuf decode(ByteBuf frame) {
            throw new UnsupportedOperationException("requests only");
        }
    }

    private static UmhSpec<String, ByteBuf> spec(Blob helper) {
        return UmhFlux.spec(helper).codec(Framing.lines(1024), Codecs.utf8(), new Buffers());
    }

    private static List<ByteBuf> requests(int n) {
        return IntStream.range(0, n).mapToObj(i -> Unpooled.copiedBuffer("r" + i, StandardCharsets.US_ASCII))
                .toList();
    }

    /** Every call, answered or failed: its outcome, or the error's class. */
    private static List<Object> outcomes(UmhClient<String, ByteBuf> client, List<ByteBuf> requests, int concurrency) {
        return Flux.fromIterable(requests)
                .flatMapSequential(r -> client.exchange(r).<Object>map(s -> s)
                        .onErrorResume(e -> Mono.just(e.getClass().getSimpleName())), concurrency)
                .collectList().block(TestHelpers.TIMEOUT);
    }

    /** The helper's side lets go of its references on its event loop, possibly just after a call ended. */
    private static void assertAllReleased(List<ByteBuf> requests) {
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(requests)
                .allSatisfy(b -> assertThat(b.refCnt()).as("refCnt of %s", b).isZero()));
    }

    @Test
    void writtenRequestsAreReleased() {
        try (Blob cat = TestHelpers.cat()) {
            UmhClient<String, ByteBuf> client = spec(cat).connect();
            List<ByteBuf> sent = requests(300);
            assertThat(outcomes(client, sent, 64))
                    .containsExactlyElementsOf(IntStream.range(0, 300).mapToObj(i -> "r" + i).toList());
            client.dispose();
            assertAllReleased(sent);
        }
    }

    /** A helper that answers one request and exits: requests written, queued to the writer or waiting all end. */
    @Test
    void requestsOfAHelperThatEndedAreReleasedWrittenOrNot() {
        try (Blob once = TestHelpers.script("once", "read l; echo \"$l\"; exit 3")) {
            UmhClient<String, ByteBuf> client = spec(once).maxInFlight(4).connect();
            List<ByteBuf> sent = requests(40);
            List<Object> got = outcomes(client, sent, 40);
            assertThat(got).hasSize(40).contains("r0");
            assertThat(got.subList(1, 40)).allSatisfy(o -> assertThat(o).isInstanceOf(String.class)
                    .isNotEqualTo("r1"));
            client.dispose();
            assertAllReleased(sent);
            // and one refused by a client already disposed
            ByteBuf late = requests(1).get(0);
            assertThat(outcomes(client, List.of(late), 1)).hasSize(1);
            assertAllReleased(List.of(late));
        }
    }

    /**
     * Requests queued to a helper that reads nothing, behind a full pipe, when the client is disposed: the send
     * never took them, and they are released all the same.
     */
    @Test
    void requestsQueuedBehindAFullPipeAreReleasedWhenTheHelperIsStopped() {
        try (Blob deaf = TestHelpers.script("deaf", "sleep 10")) {
            UmhClient<String, ByteBuf> client = UmhFlux.spec(deaf)
                    .codec(Framing.lines(1 << 20), Codecs.utf8(), new Buffers())
                    .stopGrace(Duration.ofMillis(100)).maxInFlight(16).connect();
            List<ByteBuf> sent = IntStream.range(0, 16).mapToObj(i -> Unpooled.wrappedBuffer(new byte[512 * 1024]))
                    .toList();
            sent.forEach(b -> client.exchange(b).subscribe(null, e -> { }));
            // the pipe takes about 1 MiB and the writer stops asking at its high-water mark: most wait in the queue
            await().atMost(Duration.ofSeconds(5)).until(() -> sent.stream().anyMatch(b -> b.refCnt() == 0)
                    && sent.stream().filter(b -> b.refCnt() == 1).count() >= 8);
            client.dispose();
            assertAllReleased(sent);
        }
    }

    /** Each attempt of a pool's retries holds a reference of its own: no attempt writes a released request. */
    @Test
    void aPoolRetryingOnAnotherHelperWritesEachRequestIntactAndReleasesIt() {
        try (Blob once = TestHelpers.script("once", "read l; echo \"$l\"; exit 3")) {
            UmhClient<String, ByteBuf> pool = spec(once).stopGrace(Duration.ofMillis(100))
                    .pool(PoolSpec.of(1).idempotent(3));
            List<ByteBuf> sent = requests(6);
            assertThat(outcomes(pool, sent, 1)).containsExactly("r0", "r1", "r2", "r3", "r4", "r5");
            pool.dispose();
            assertAllReleased(sent);
        }
    }

    @Test
    void aSupervisedClientReleasesEachRequestOnceAnsweredOrFailed() {
        try (Blob once = TestHelpers.script("once", "read l; echo \"$l\"; exit 3")) {
            UmhClient<String, ByteBuf> client = spec(once).stopGrace(Duration.ofMillis(100))
                    .supervise(Restart.backoff(Duration.ofMillis(10), Duration.ofMillis(10)));
            List<ByteBuf> sent = requests(8);
            assertThat(outcomes(client, sent, 1)).hasSize(8).contains("r0");
            client.dispose();
            assertAllReleased(sent);
        }
    }

    /**
     * A request that was released already (a caller's bug, or a second subscription of one exchange, whose first
     * released it) fails with Netty's reference-count error, and the client's count of requests in flight, which
     * spreads requests over helpers, does not keep it.
     */
    @Test
    void aSupervisedClientCountsAFailedRetainOutOfItsRequestsInFlight() {
        // giving back the caller's reference to a request released already fails too: Reactor drops that error
        List<Throwable> dropped = new java.util.concurrent.CopyOnWriteArrayList<>();
        reactor.core.publisher.Hooks.onErrorDropped(dropped::add);
        try (Blob cat = TestHelpers.cat()) {
            UmhClient<String, ByteBuf> client = spec(cat)
                    .supervise(Restart.backoff(Duration.ofMillis(10), Duration.ofMillis(10)));
            ByteBuf warm = requests(1).get(0);
            assertThat(client.exchange(warm).block(TestHelpers.TIMEOUT)).isEqualTo("r0");
            ByteBuf released = requests(1).get(0);
            released.release();
            assertThatThrownBy(() -> client.exchange(released).block(TestHelpers.TIMEOUT))
                    .isInstanceOf(io.netty.util.IllegalReferenceCountException.class);
            ByteBuf once = requests(1).get(0);
            Mono<String> twice = client.exchange(once);
            assertThat(twice.block(TestHelpers.TIMEOUT)).isEqualTo("r0");
            // the first subscription gives back the caller's reference in its doFinally, just after block()
            await().atMost(TestHelpers.TIMEOUT).until(() -> once.refCnt() == 0);
            assertThatThrownBy(() -> twice.block(TestHelpers.TIMEOUT))
                    .isInstanceOf(io.netty.util.IllegalReferenceCountException.class);
            // doFinally runs just after the error reached block()
            await().atMost(TestHelpers.TIMEOUT).untilAsserted(() -> assertThat(client.inFlight())
                    .as("requests in flight after both failed").isZero());
            client.dispose();
            await().atMost(TestHelpers.TIMEOUT).until(() -> !dropped.isEmpty());
            assertThat(dropped).allMatch(e -> e instanceof io.netty.util.IllegalReferenceCountException);
        } finally {
            reactor.core.publisher.Hooks.resetOnErrorDropped();
        }
    }
}
