package io.umhflux.lifecycle;

import static io.umhflux.TestHelpers.TIMEOUT;
import static io.umhflux.TestHelpers.cat;
import static io.umhflux.TestHelpers.goneOrZombie;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.umhflux.Blob;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import io.umhflux.internal.loop.EventLoops;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/**
 * {@link UmhFlux#shutdown}: what a class loader that is let go needs: no helper, no loop thread and no JVM-exit hook
 * of the library left; and the library starts afresh when used again.
 */
class ShutdownTest {
    private static List<Thread> loopThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("umh-flux-"))
                .filter(t -> !t.getName().startsWith("umh-flux-reaper")).collect(Collectors.toList());
    }

    @Test
    void shutdownStopsEveryHelperAndEndsTheLoopsThenANewSpecStartsAfresh() throws Exception {
        try (Blob cat = cat()) {
            UmhSpec<ByteBuf, ByteBuf> before = UmhFlux.spec(cat);
            Umh<ByteBuf, ByteBuf> running = before.spawn(); // reads its stdin until it is closed: never, here
            Umh<ByteBuf, ByteBuf> other = before.spawn();
            long[] pids = {running.pid(), other.pid()};
            List<Thread> loops = loopThreads();
            assertThat(loops).as("the shared loops' threads").isNotEmpty();

            assertThat(UmhFlux.shutdown(Duration.ofSeconds(5))).as("loops ended in time").isTrue();

            for (long pid : pids) {
                assertThat(goneOrZombie(pid)).as("helper %d after the shutdown", pid).isTrue();
            }
            await().atMost(TIMEOUT).untilAsserted(() -> assertThat(loops).noneMatch(Thread::isAlive));
            assertThat(running.exit().block(TIMEOUT)).as("the helper's end is known").isNotNull();
            assertThatThrownBy(before::spawn).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("shut down");

            // a new spec starts new loops, and helpers work as before
            Umh<ByteBuf, ByteBuf> again = UmhFlux.spawn(cat);
            again.outbound().send(Flux.just(Unpooled.copiedBuffer("again\n", StandardCharsets.UTF_8)))
                    .subscribe();
            String echoed = again.inbound().map(ByteBufUtil::getBytes) // released by the library after onNext
                    .reduce(new byte[0], ShutdownTest::concat).map(b -> new String(b, StandardCharsets.UTF_8))
                    .block(TIMEOUT);
            assertThat(echoed).isEqualTo("again\n");
            assertThat(EventLoops.shared().isShuttingDown()).isFalse();
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
