package io.umhflux.spawn;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.umhflux.Blob;
import io.umhflux.TestHelpers;
import io.umhflux.Umh;
import io.umhflux.UmhClient;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import io.umhflux.internal.os.Os;
import io.umhflux.internal.spawn.PipeBudget;
import io.umhflux.test.CHelpers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Sinks;

/**
 * The pipes a helper gets, as the helper itself sees them ({@code F_GETPIPE_SZ} on its fds 0, 1 and 2): by
 * default 1 MiB stdin and stdout while this JVM's budget lasts, then the kernel's default; the kernel's default
 * for request/response clients; exactly what {@code pipeSize(n)} asks; the kernel's default with
 * {@code pipeSize(0)}.
 */
class PipeSizeTest {
    private static final int SIZE = PipeBudget.shared().bytes();
    private static final String BIG = SIZE + " " + SIZE + " 65536";
    private static final String KERNELS = "65536 65536 65536";

    /** The helper's line, read without cancelling the inbound (which would stop the helper). */
    private static String sizes(Umh<String, String> umh) {
        Sinks.One<String> first = Sinks.one();
        umh.inbound().subscribe(first::tryEmitValue, first::tryEmitError);
        return first.asMono().block(TestHelpers.TIMEOUT);
    }

    private static void end(Umh<String, String> umh) {
        umh.outbound().close().block(TestHelpers.TIMEOUT);
        umh.exit().block(TestHelpers.TIMEOUT);
    }

    @Test
    void byDefaultStdinAndStdoutAreEnlargedWhileTheBudgetLastsAndTheBudgetComesBack() {
        PipeBudget budget = PipeBudget.shared();
        Assumptions.assumeTrue(budget.helpers() > 0, "pipe-max-size is below 256 KiB here");
        // helpers of earlier tests give their reservation back when they are reaped
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> budget.usedPages() == 0);
        try (Blob b = CHelpers.blob("pipe_sizes")) {
            UmhSpec<String, String> spec = UmhFlux.spec(b).lines(100);
            List<Umh<String, String>> alive = new ArrayList<>();
            List<String> seen = new ArrayList<>();
            try {
                for (int i = 0; i < budget.helpers() + 2; i++) {
                    Umh<String, String> umh = spec.spawn();
                    alive.add(umh);
                    seen.add(sizes(umh));
                }
            } finally {
                alive.forEach(PipeSizeTest::end);
            }
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < budget.helpers(); i++) {
                expected.add(BIG);
            }
            expected.add(KERNELS);
            expected.add(KERNELS);
            assertThat(seen).containsExactlyElementsOf(expected);

            // every helper was reaped: the next one gets large pipes again
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> budget.usedPages() == 0);
            Umh<String, String> again = spec.spawn();
            try {
                assertThat(sizes(again)).isEqualTo(BIG);
            } finally {
                end(again);
            }
        }
    }

    /** A request/response client keeps the kernel's pipes by default, and takes nothing from the budget. */
    @Test
    void requestResponseClientsKeepTheKernelsPipes() {
        try (Blob b = CHelpers.blob("pipe_sizes")) {
            int before = PipeBudget.shared().usedPages();
            UmhClient<String, String> client = UmhFlux.spec(b).args("--per-line").lines(100).connect();
            try {
                assertThat(client.exchange("sizes?").block(TestHelpers.TIMEOUT)).isEqualTo(KERNELS);
                assertThat(PipeBudget.shared().usedPages()).isEqualTo(before);
            } finally {
                client.close().block(TestHelpers.TIMEOUT);
            }
        }
    }

    @Test
    void pipeSizeZeroKeepsTheKernelsDefaultAndAnExactSizeAppliesToAllThree() {
        try (Blob b = CHelpers.blob("pipe_sizes")) {
            Umh<String, String> kernels = UmhFlux.spec(b).lines(100).pipeSize(0).spawn();
            try {
                assertThat(sizes(kernels)).isEqualTo(KERNELS);
            } finally {
                end(kernels);
            }
            Umh<String, String> exact = UmhFlux.spec(b).lines(100).pipeSize(1 << 20).spawn();
            try {
                assertThat(sizes(exact)).isEqualTo("1048576 1048576 1048576");
            } finally {
                end(exact);
            }
        }
    }
    /** Pipes this JVM has open whose capacity is at least {@code bytes} ({@code F_GETPIPE_SZ} on each fd). */
    private static long enlargedPipesHeld(int bytes) {
        return TestHelpers.openFds().stream()
                .filter(fd -> fd.contains(" -> pipe:"))
                .mapToInt(fd -> Integer.parseInt(fd.substring(0, fd.indexOf(' '))))
                .filter(fd -> Os.libc().fcntl(fd, Os.F_GETPIPE_SZ, 0) >= bytes)
                .count();
    }

    /** Subscribed, but slow: requests nothing yet. */
    private static final class Slow extends BaseSubscriber<ByteBuf> {
        @Override
        protected void hookOnSubscribe(Subscription s) {
            // no demand yet
        }
    }

    /**
     * The reservation lasts while this JVM holds the pipes, not only while the helper runs: helpers that exited
     * with bytes waiting for slow subscribers keep theirs, and later ones get the kernel's pipes.
     */
    @Test
    void theJvmHoldsNoMoreEnlargedPipesThanTheBudgetAllows() throws Exception {
        PipeBudget budget = PipeBudget.shared();
        Assumptions.assumeTrue(budget.helpers() > 0, "pipe-max-size is below 256 KiB here");
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> budget.usedPages() == 0);
        long before = enlargedPipesHeld(budget.bytes());
        List<Umh<ByteBuf, ByteBuf>> helpers = new ArrayList<>();
        List<Slow> readers = new ArrayList<>();
        try (Blob sh = TestHelpers.script("writes-and-exits", "head -c 60000 /dev/zero; exit 0")) {
            for (int i = 0; i < 3 * budget.helpers(); i++) {
                Umh<ByteBuf, ByteBuf> umh = UmhFlux.spec(sh).spawn();
                helpers.add(umh);
                Slow slow = new Slow();
                readers.add(slow);
                umh.inbound().subscribe(slow);
                assertThat(umh.exit().block(TestHelpers.TIMEOUT).isSuccess()).isTrue();
            }
            assertThat(enlargedPipesHeld(budget.bytes()) - before)
                    .as("enlarged pipes this JVM holds (budget: %d helpers)", budget.helpers())
                    .isLessThanOrEqualTo(2 * budget.helpers());
            assertThat(budget.usedPages()).isPositive();
        } finally {
            readers.forEach(BaseSubscriber::dispose);
            helpers.forEach(h -> h.stop().block(TestHelpers.TIMEOUT));
        }
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> budget.usedPages() == 0);
    }
}
