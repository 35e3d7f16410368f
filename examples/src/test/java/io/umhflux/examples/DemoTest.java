package io.umhflux.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.umhflux.Blob;
import io.umhflux.ExitStatus;
import io.umhflux.HelperFailedException;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.examples.Checksums.Checksum;
import io.umhflux.test.NoLeaksExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

class DemoTest {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    private String output() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aKilledHelperIsReplacedAndNoMessageIsLostOrWrong() {
        List<Long> before = NoLeaksExtension.children();
        Demo.Summary s = Demo.run(new Demo.Options(20_000, 3, true), out, false);

        assertThat(s.messages()).isEqualTo(20_000);
        assertThat(s.answered()).as("answered").isEqualTo(20_000);
        assertThat(s.lost()).as("lost").isZero();
        assertThat(s.mismatches()).as("checksum mismatches").isZero();
        assertThat(s.killedPid()).as("pid killed halfway").isPositive();
        assertThat(s.replacements()).as("helpers started after the kill").isPositive();
        long spawns = s.counters().spawns();
        assertThat(spawns).isGreaterThanOrEqualTo(4);
        assertThat(s.counters().exits()).containsOnly(Map.entry("SIGKILL", 1L), Map.entry("exit 0", spawns - 1));
        // the request the killed helper had (if it had one) failed there and was answered by another helper
        assertThat(s.counters().requests()).isEqualTo(20_000 + s.counters().failedRequests());
        assertThat(s.counters().failedRequests()).isLessThanOrEqualTo(1);
        assertThat(output())
                .contains("killing helper pid " + s.killedPid() + " with SIGKILL")
                .contains("helper pid " + s.killedPid() + " ended: killed by SIGKILL (9)")
                .contains("started in its place")
                .contains("100%  20,000/20,000 messages")
                .contains("answered 20,000, lost 0, checksum mismatches 0")
                .doesNotContain("\r");
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(NoLeaksExtension.children()).isSubsetOf(before));
    }

    @Test
    void withoutAKillEveryHelperExitsZeroAndATerminalGetsOneRedrawnLine() {
        Demo.Summary s = Demo.run(new Demo.Options(3_000, 2, false), out, true);

        assertThat(s.answered()).isEqualTo(3_000);
        assertThat(s.lost()).isZero();
        assertThat(s.mismatches()).isZero();
        assertThat(s.killedPid()).isZero();
        assertThat(s.counters().exits()).containsOnlyKeys("exit 0");
        assertThat(s.counters().failedRequests()).isZero();
        assertThat(output()).contains("\r[##############################] 100%  3,000/3,000 messages");
    }

    @Test
    void helpListsTheOptions() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertThat(Demo.execute(new String[] {"--help"}, out, new PrintStream(err, true, StandardCharsets.UTF_8),
                false)).isZero();
        assertThat(output()).startsWith("usage: Demo").contains("--messages N", "--helpers N", "--no-kill",
                "--serve", "--port N");
        assertThat(err.size()).isZero();
    }

    @Test
    void anUnknownOptionExits2WithTheUsage() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertThat(Demo.execute(new String[] {"--fast"}, out, new PrintStream(err, true, StandardCharsets.UTF_8),
                false)).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("unknown option --fast\nusage: Demo");
        assertThat(Demo.execute(new String[] {"--messages"}, out, new PrintStream(err, true, StandardCharsets.UTF_8),
                false)).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--messages needs a value");
        assertThat(Demo.execute(new String[] {"--helpers", "many"}, out,
                new PrintStream(err, true, StandardCharsets.UTF_8), false)).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--helpers needs a number, not many");
        assertThat(output()).isEmpty();
    }

    @Test
    void theJavaStandInAnswersLikeTheCHelper() {
        List<byte[]> payloads = IntStream.range(0, 500).mapToObj(Demo::payload).toList();
        try (Blob helper = Demo.javaHelper()) {
            List<Checksum> answers = Checksums.spec(helper).exchange(Flux.fromIterable(payloads))
                    .collectList().block(Duration.ofSeconds(60));
            assertThat(answers).containsExactlyElementsOf(payloads.stream().map(Checksum::of).toList());
        }
    }

    /** Like the C helper: input ending inside a frame still gets every earlier answer out, then exit 2. */
    @Test
    void theJavaStandInAnswersEarlierFramesBeforeFailingOnACutFrame() {
        ByteBuf input = Unpooled.buffer();
        for (int i = 0; i < 3; i++) {
            input.writeInt(1).writeByte('a' + i);
        }
        input.writeInt(10).writeBytes(new byte[] {1, 2, 3});
        try (Blob helper = Demo.javaHelper()) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(helper);
            umh.outbound().send(Flux.just(input)).subscribe(null, e -> { });
            AtomicInteger bytes = new AtomicInteger();
            StepVerifier.create(umh.inbound().doOnNext(b -> bytes.addAndGet(b.readableBytes())))
                    .thenConsumeWhile(b -> true)
                    .expectError(HelperFailedException.class)
                    .verify(Duration.ofSeconds(60));
            assertThat(bytes.get()).as("answer bytes before the failure").isEqualTo(3 * 12);
            ExitStatus status = umh.exit().block(Duration.ofSeconds(60));
            assertThat(status).isNotNull();
            assertThat(status.code()).isEqualTo(2);
            assertThat(status.stderrTail())
                    .containsExactly("checksum: input ended inside frame 3 (its 10-byte payload)");
        }
    }
}
