package io.umhflux.codec.kryo;

import static org.assertj.core.api.Assertions.assertThat;

import io.umhflux.Blob;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSink;
import io.umhflux.UmhSpec;
import io.umhflux.codec.CodecBrokenException;
import io.umhflux.codec.CodecException;
import io.umhflux.codec.Framing;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** Kryo messages through {@code cat}, at the framing's maximum. */
class KryoThroughCatTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int MAX = 1 << 20;
    private static Blob cat;
    private static UmhSpec<Object, Object> spec;

    @BeforeAll
    static void load() {
        cat = Blob.of(Path.of("/bin/cat"));
        KryoCodec<Object> codec = KryoCodec.of(Object.class, kryo -> kryo.register(byte[].class, 30));
        spec = UmhFlux.spec(cat).codec(Framing.lengthPrefixed(MAX), codec, codec);
    }

    @AfterAll
    static void close() {
        cat.close();
    }

    /** A Kryo that keeps state across messages (auto reset off): class names and references once per stream. */
    private static com.esotericsoftware.kryo.Kryo stateful() {
        com.esotericsoftware.kryo.Kryo k = new com.esotericsoftware.kryo.Kryo();
        k.setAutoReset(false);
        k.register(byte[].class, 30);
        return k;
    }

    private static byte[] filled(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    /**
     * A message far over the maximum (32 MiB against 1 MiB) fails the send, naming the maximum, after every
     * message before it was written, including one bigger than a batch; Kryo stops at the maximum rather than
     * writing it whole (KryoCodecTest measures that).
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aMessageOverTheMaximumFailsTheSendAfterTheEarlierOnesWereWritten(boolean fused) {
        Umh<Object, Object> umh = spec.spawn();
        byte[] small = filled(1000, 1);
        byte[] big = filled(600_000, 2);
        Flux<Object> messages = Flux.just(small, big, new byte[32 << 20], filled(10, 3));
        StepVerifier.create(umh.outbound().send(fused ? messages : messages.hide()))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(CodecException.class)
                        .hasMessageContaining("message encodes to more than " + MAX
                                + " bytes; the framing's maximum is " + MAX))
                .verify(TIMEOUT);
        List<Object> echoed = umh.inbound().collectList().block(TIMEOUT);
        assertThat(echoed).hasSize(2);
        assertThat((byte[]) echoed.get(0)).isEqualTo(small);
        assertThat((byte[]) echoed.get(1)).isEqualTo(big);
    }
    /** Message {@code i} of {@code producer}: both in its first bytes, then a pattern; small, or over a batch. */
    private static byte[] numbered(int producer, int i) {
        byte[] b = filled(i % 100 == 0 ? 100_000 : 20, i);
        b[0] = (byte) producer;
        b[1] = (byte) (i >>> 8);
        b[2] = (byte) i;
        return b;
    }

    /**
     * Kryo messages pushed through a sink by two threads, small and over a batch: each arrives whole and in its
     * producer's order; one over the maximum then ends the sink after every earlier one.
     */
    @Test
    void kryoMessagesPushedThroughASinkArriveInEachProducersOrder() throws Exception {
        Umh<Object, Object> umh = spec.spawn();
        UmhSink<Object> sink = umh.outbound().sink();
        java.util.concurrent.CompletableFuture<List<Object>> echoed = umh.inbound().collectList().toFuture();
        List<Thread> threads = new java.util.ArrayList<>();
        java.util.Queue<Throwable> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
        for (int t = 0; t < 2; t++) {
            int producer = t;
            Thread thread = new Thread(() -> {
                try {
                    for (int i = 0; i < 2_000; i++) {
                        sink.emitBlocking(numbered(producer, i), TIMEOUT);
                    }
                } catch (Exception e) {
                    failures.add(e);
                }
            });
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join(TIMEOUT.toMillis());
        }
        assertThat(failures).isEmpty();
        StepVerifier.create(sink.emit(new byte[2 * MAX])).verifyComplete(); // accepted; the codec refuses it
        StepVerifier.create(sink.done()).expectError(CodecException.class).verify(TIMEOUT);
        List<Object> all = echoed.get(TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        assertThat(all).hasSize(4_000);
        int[] next = new int[2];
        for (Object o : all) {
            byte[] b = (byte[]) o;
            int producer = b[0];
            assertThat(b).as("message %d of producer %d", next[producer], producer)
                    .isEqualTo(numbered(producer, next[producer]));
            next[producer]++;
        }
        assertThat(next).containsExactly(2_000, 2_000);
    }

    /**
     * A request client on a Kryo that keeps state: a request over the maximum breaks the codec, so it fails with a
     * CodecBrokenException and the helper is stopped; a supervised client goes on with a new helper and a new
     * codec, rather than refusing every later request on a helper that stays up.
     */
    @org.junit.jupiter.api.Test
    void aCodecBrokenByARequestStopsItsHelperAndASupervisedClientGoesOn() {
        KryoCodec<Object> codec = KryoCodec.withFactory(Object.class, KryoThroughCatTest::stateful);
        io.umhflux.UmhClient<Object, Object> client = UmhFlux.spec(cat)
                .codec(Framing.lengthPrefixed(64 * 1024), codec, codec)
                .supervise(io.umhflux.Restart.backoff(Duration.ofMillis(10), Duration.ofMillis(10)));
        try {
            assertThat((byte[]) client.exchange(new byte[] {1}).block(TIMEOUT)).containsExactly(1);
            StepVerifier.create(client.exchange(new byte[128 * 1024]))
                    .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(CodecException.class)
                            .hasRootCauseInstanceOf(IllegalArgumentException.class)
                            .hasStackTraceContaining("CodecBrokenException")
                            .hasStackTraceContaining("more than 65536 bytes"))
                    .verify(TIMEOUT);
            Object later = null;
            for (int i = 0; i < 50 && !(later instanceof byte[]); i++) {
                later = client.exchange(new byte[] {2}).onErrorResume(e -> reactor.core.publisher.Mono.just(e))
                        .block(TIMEOUT);
            }
            assertThat(later).isInstanceOf(byte[].class);
            assertThat((byte[]) later).containsExactly(2);
        } finally {
            client.dispose();
        }
    }
    /**
     * A pool whose helper's codec breaks on one request: the requests queued behind it are answered by the next
     * helper, none fails with the broken codec's error.
     */
    @org.junit.jupiter.api.RepeatedTest(3)
    void aPoolDropsAHelperWhoseCodecBrokeAndAnswersTheRequestsQueuedBehind() {
        KryoCodec<Object> codec = KryoCodec.withFactory(Object.class, KryoThroughCatTest::stateful);
        io.umhflux.UmhClient<Object, Object> pool = UmhFlux.spec(cat)
                .codec(Framing.lengthPrefixed(64 * 1024), codec, codec).maxInFlight(1)
                .pool(io.umhflux.PoolSpec.of(1).idempotent(2));
        try {
            assertThat((byte[]) pool.exchange(new byte[] {0}).block(TIMEOUT)).containsExactly(0);
            List<Object> outcomes = Flux.concat(Flux.just((Object) new byte[128 * 1024]),
                    Flux.range(1, 4).map(i -> (Object) new byte[] {i.byteValue()}))
                    .flatMapSequential(r -> pool.exchange(r).onErrorResume(e -> reactor.core.publisher.Mono.just(e)))
                    .collectList().block(TIMEOUT);
            assertThat(outcomes).hasSize(5);
            assertThat(outcomes.get(0)).isInstanceOf(CodecException.class).isNotInstanceOf(CodecBrokenException.class);
            for (int i = 1; i <= 4; i++) {
                assertThat(outcomes.get(i)).as("request %d", i).isInstanceOf(byte[].class);
                assertThat((byte[]) outcomes.get(i)).containsExactly(i);
            }
        } finally {
            pool.dispose();
        }
    }
}
