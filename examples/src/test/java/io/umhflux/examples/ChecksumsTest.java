package io.umhflux.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.umhflux.Blob;
import io.umhflux.ExitStatus;
import io.umhflux.HelperFailedException;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.examples.Checksums.Checksum;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

class ChecksumsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final int SIGSEGV = 11;
    private static Blob helper;

    @BeforeAll
    static void loadHelper() {
        if (Checksums.isBuilt()) {
            helper = Checksums.blob();
        }
    }

    @BeforeEach
    void skipWhereTheHelperWasNotBuilt() {
        Assumptions.assumeTrue(helper != null, "the build compiles " + Checksums.RESOURCE
                + " only where /usr/bin/gcc exists (profile c-helpers); it was missing, so this is skipped");
    }

    @AfterAll
    static void closeHelper() {
        if (helper != null) {
            helper.close();
        }
    }

    @Test
    void helperIsLoadedFromTheClassPathIntoAMemfd() {
        assertThat(helper.name()).isEqualTo("checksum");
        assertThat(helper.placement()).isEqualTo(Blob.Placement.MEMFD);
        assertThat(helper.size()).isGreaterThan(1000);
    }

    @Test
    void answersEachFrameWithTheCrc32AndLengthOfItsPayload() {
        Random random = new Random(7);
        List<byte[]> payloads = new ArrayList<>(List.of(new byte[0], "a".getBytes(StandardCharsets.US_ASCII),
                "poison!".getBytes(StandardCharsets.US_ASCII), new byte[Checksums.MAX_PAYLOAD]));
        for (int size : new int[] {3, 4095, 65_536, 65_537, 1 << 20}) {
            byte[] b = new byte[size];
            random.nextBytes(b);
            payloads.add(b);
        }
        List<Checksum> expected = payloads.stream().map(Checksum::of).toList();

        assertThat(Checksums.checksums(payloads)).containsExactlyElementsOf(expected);
        assertThat(expected.get(1)).isEqualTo(new Checksum(0xE8B7BE43L, 1)); // CRC-32 of "a": pins the variant
    }

    @Test
    void answersManySmallFramesInOrder() {
        List<byte[]> payloads = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            payloads.add(Integer.toString(i).getBytes(StandardCharsets.US_ASCII));
        }
        List<Checksum> answers = Checksums.spec(helper).exchange(Flux.fromIterable(payloads))
                .collectList().block(TIMEOUT);
        assertThat(answers).containsExactlyElementsOf(payloads.stream().map(Checksum::of).toList());
    }

    @Test
    void answersEachFrameBeforeTheNextArrives() {
        Umh<Checksum, byte[]> umh = Checksums.spec(helper).spawn();
        Sinks.Many<byte[]> requests = Sinks.many().unicast().onBackpressureBuffer();
        umh.outbound().send(requests.asFlux()).subscribe();
        byte[] first = "first".getBytes(StandardCharsets.US_ASCII);
        byte[] second = "second".getBytes(StandardCharsets.US_ASCII);
        StepVerifier.create(umh.inbound())
                .then(() -> requests.tryEmitNext(first))
                .expectNext(Checksum.of(first))                  // stdin is still open: the answer was flushed
                .then(() -> requests.tryEmitNext(second))
                .expectNext(Checksum.of(second))
                .then(requests::tryEmitComplete)
                .expectComplete()
                .verify(TIMEOUT);
        assertThat(umh.exit().block(TIMEOUT)).isEqualTo(ExitStatus.exited(0));
    }

    @Test
    void poisonCrashesTheHelperWithSigsegvAfterAnsweringEverythingBefore() {
        byte[] a = "a".getBytes(StandardCharsets.US_ASCII);
        byte[] b = "b".getBytes(StandardCharsets.US_ASCII);
        byte[] poison = Checksums.POISON.getBytes(StandardCharsets.US_ASCII);
        StepVerifier.create(Checksums.spec(helper).exchange(Flux.just(a, b, poison, a)))
                .expectNext(Checksum.of(a), Checksum.of(b))
                .expectErrorSatisfies(e -> {
                    assertThat(e).isInstanceOf(HelperFailedException.class);
                    ExitStatus status = ((HelperFailedException) e).exitStatus();
                    assertThat(status).isNotNull();
                    assertThat(status.hasExited()).isFalse();
                    assertThat(status.signal()).isEqualTo(SIGSEGV);
                    assertThat(status.coreDumped()).isFalse();
                })
                .verify(TIMEOUT);
    }

    @Test
    void aLengthAboveTheMaximumExits2WithAMessageAfterEarlierAnswers() {
        ByteBuf input = Unpooled.buffer().writeInt(1).writeByte('x').writeInt(Checksums.MAX_PAYLOAD + 1);
        ExitStatus status = runRaw(input, 1);
        assertThat(status.code()).isEqualTo(2);
        assertThat(status.stderrTail()).containsExactly("checksum: frame 1: length prefix 0x01000001 (16777217 "
                + "bytes) exceeds the maximum of 16777216 bytes");
    }

    @Test
    void inputEndingInsideAFrameExits2WithAMessage() {
        ByteBuf input = Unpooled.buffer().writeInt(10).writeBytes("abc".getBytes(StandardCharsets.US_ASCII));
        ExitStatus status = runRaw(input, 0);
        assertThat(status.code()).isEqualTo(2);
        assertThat(status.stderrTail()).containsExactly("checksum: frame 0: input ended after 3 of its 10 payload "
                + "bytes");
    }

    /** Sends {@code input} as raw bytes; expects {@code answers} 12-byte answer frames, then a failure. */
    private static ExitStatus runRaw(ByteBuf input, int answers) {
        Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(helper);
        umh.outbound().send(Flux.just(input)).subscribe();
        AtomicInteger bytes = new AtomicInteger();
        StepVerifier.create(umh.inbound().doOnNext(b -> bytes.addAndGet(b.readableBytes())))
                .thenConsumeWhile(b -> true)
                .expectError(HelperFailedException.class)
                .verify(TIMEOUT);
        assertThat(bytes.get()).as("answer bytes before the failure").isEqualTo(12 * answers);
        ExitStatus status = umh.exit().block(TIMEOUT);
        assertThat(status).isNotNull();
        return status;
    }
}
