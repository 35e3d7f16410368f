package io.umhflux.pipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.umhflux.Blob;
import io.umhflux.ExitStatus;
import io.umhflux.TestHelpers;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;

/** How stderr becomes lines: line ends, over-long lines, UTF-8, and subscribers of different speeds. */
class StderrLinesTest {
    /** 8,191 bytes of {@code a}: with one more byte a line is at the default maximum of 8,192. */
    private static final String A8191 = "printf '%8191s' '' | tr ' ' a";

    private static ExitStatus exitOf(String name, String script) {
        try (Blob b = TestHelpers.script(name, script)) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(b);
            return umh.exit().block(TestHelpers.TIMEOUT);
        }
    }

    /** A line cut at the maximum where a two-byte character straddles it: the character goes whole to the next. */
    @Test
    void anOverLongLineIsNotCutInsideAUtf8Character() {
        ExitStatus s = exitOf("utf8cut", "{ " + A8191 + "; printf '\\303\\251tail\\n'; } >&2; exit 1");
        assertThat(s.stderrTail()).containsExactly("a".repeat(8191), "\u00e9tail");
    }

    /** A line of exactly the maximum and its newline, read in one go: one line, not also an empty one. */
    @Test
    void aLineOfExactlyTheMaximumIsOneLine() {
        ExitStatus s = exitOf("exact", "{ " + A8191 + "; printf 'b\\nlast\\n'; }"
                + " | dd bs=65536 iflag=fullblock >&2 2>/dev/null");
        assertThat(s.stderrTail()).containsExactly("a".repeat(8191) + "b", "last");
    }

    @Test
    void crlfEndsALine() {
        ExitStatus s = exitOf("crlf", "printf 'one\\r\\ntwo\\r\\n' >&2; exit 2");
        assertThat(s.stderrTail()).containsExactly("one", "two");
    }

    /** A subscriber that asks for one line and no more costs another subscriber nothing. */
    @Test
    void aSlowSubscriberDoesNotHoldBackAnother() {
        try (Blob flood = TestHelpers.script("flood",
                "read x; i=0; while [ $i -lt 1000 ]; do echo line$i >&2; i=$((i+1)); done")) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(flood);
            List<String> fast = new CopyOnWriteArrayList<>();
            AtomicBoolean fastDone = new AtomicBoolean();
            List<String> slow = new CopyOnWriteArrayList<>();
            umh.stderr().subscribe(fast::add, e -> { }, () -> fastDone.set(true));
            umh.stderr().subscribe(new BaseSubscriber<String>() {
                @Override
                protected void hookOnSubscribe(Subscription s) {
                    s.request(1);
                }

                @Override
                protected void hookOnNext(String v) {
                    slow.add(v);
                }
            });
            umh.outbound().send(Flux.just(Unpooled.copiedBuffer("go\n", StandardCharsets.UTF_8)))
                    .subscribe(null, e -> { });
            umh.exit().block(TestHelpers.TIMEOUT);
            await().atMost(TestHelpers.TIMEOUT).untilTrue(fastDone);
            assertThat(fast).hasSize(1000).startsWith("line0").endsWith("line999");
            assertThat(slow).containsExactly("line0");
        }
    }

    @Test
    void aTailTooLongIsRefusedAtTheCall() {
        try (Blob b = TestHelpers.script("x", "exit 0")) {
            assertThatThrownBy(() -> UmhFlux.spec(b).stderrTailLines(Integer.MAX_VALUE))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0 to 10000");
        }
    }
}
