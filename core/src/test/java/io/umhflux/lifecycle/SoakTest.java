package io.umhflux.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.umhflux.Blob;
import io.umhflux.ExitStatus;
import io.umhflux.TestHelpers;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import io.umhflux.internal.os.Os;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.util.RaceTestUtils;

/**
 * Spawn/exchange/cancel cycles, cancels racing the end, and signals to the JVM, repeated: nothing leaks. CI runs
 * a short form ({@code -Dumh.soak=short}, the default); the
 * {@code umh-soak} Maven profile runs the full 10,000 rounds.
 */
class SoakTest {
    private static final boolean FULL = "full".equals(System.getProperty("umh.soak"));

    private static int rounds(int full, int quick) {
        return FULL ? full : quick;
    }

    private static long threadCount() {
        return Thread.getAllStackTraces().size();
    }

    @Test
    void spawnExchangeCancelCyclesKeepDescriptorsThreadsAndZombiesFlat() {
        try (Blob cat = TestHelpers.cat()) {
            UmhSpec<ByteBuf, ByteBuf> spec = UmhFlux.spec(cat).stopGrace(Duration.ofMillis(200));
            // warm up: the pools, loops and the reaper exist before counting
            cycle(spec, 0);
            var fds = TestHelpers.openFds();
            var children = TestHelpers.children('*');
            long threads = threadCount();
            int n = rounds(10_000, 300);
            for (int i = 0; i < n; i++) {
                cycle(spec, i);
            }
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(TestHelpers.newFds(fds)).as("new open descriptors after %d cycles", n).isEmpty();
                assertThat(TestHelpers.newChildren(children)).as("new children after %d cycles", n).isEmpty();
            });
            assertThat(threadCount()).as("threads after %d cycles", n).isLessThanOrEqualTo(threads + 2);
        }
    }

    private static void cycle(UmhSpec<ByteBuf, ByteBuf> spec, int i) {
        Umh<ByteBuf, ByteBuf> umh = spec.spawn();
        Disposable send = umh.outbound().send(Flux.just(Unpooled.copiedBuffer("ping " + i + "\n",
                StandardCharsets.UTF_8)).concatWith(Flux.never())).subscribe(v -> { }, e -> { });
        StepVerifier.create(umh.inbound().map(b -> b.toString(StandardCharsets.UTF_8)))
                .expectNext("ping " + i + "\n")
                .thenCancel()
                .verify(TestHelpers.TIMEOUT);
        assertThat(umh.exit().block(TestHelpers.TIMEOUT)).isNotNull();
        send.dispose();
    }

    @Test
    void cancelRacingDeliveryCompletionAndExitLeaksNothing() {
        try (Blob echo = TestHelpers.script("echo", "echo hello; exit 0")) {
            UmhSpec<ByteBuf, ByteBuf> spec = UmhFlux.spec(echo).stopGrace(Duration.ofMillis(100));
            race(spec); // warm up
            var fds = TestHelpers.openFds();
            var children = TestHelpers.children('*');
            int n = rounds(10_000, 500);
            for (int i = 0; i < n; i++) {
                race(spec);
            }
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(TestHelpers.newFds(fds)).as("new open descriptors after %d races", n).isEmpty();
                assertThat(TestHelpers.newChildren(children)).as("new children after %d races", n).isEmpty();
            });
        }
    }

    private static void race(UmhSpec<ByteBuf, ByteBuf> spec) {
        Umh<ByteBuf, ByteBuf> umh = spec.spawn();
        umh.outbound().close().subscribe();
        AtomicReference<Disposable> reading = new AtomicReference<>();
        AtomicLong delivered = new AtomicLong();
        AtomicBoolean terminated = new AtomicBoolean();
        reading.set(umh.inbound().subscribe(b -> delivered.addAndGet(b.readableBytes()),
                e -> terminated.set(true), () -> terminated.set(true)));
        RaceTestUtils.race(() -> reading.get().dispose(), umh::dispose);
        ExitStatus status = umh.exit().block(TestHelpers.TIMEOUT);
        assertThat(status).isNotNull();
        assertThat(umh.kill(Os.SIGKILL)).as("no signal after the reap").isFalse();
    }

    @Test
    void signalsToTheJvmDuringReadsWritesAndWaitsLoseNothing() throws Exception {
        AtomicLong handled = new AtomicLong();
        Object old = JvmSignals.handle("WINCH", handled::incrementAndGet);
        AtomicBoolean stop = new AtomicBoolean();
        Thread storm = new Thread(() -> {
            int self = Os.libc().getpid();
            while (!stop.get()) {
                Os.libc().kill(self, 28); // SIGWINCH: handled, so blocking calls see EINTR
                java.util.concurrent.locks.LockSupport.parkNanos(200_000);
            }
        }, "signal-storm");
        storm.start();
        try (Blob cat = TestHelpers.cat()) {
            for (int round = 0; round < rounds(50, 5); round++) {
                int chunks = 512;
                Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(cat);
                umh.outbound().send(Flux.range(0, chunks).map(i -> {
                    java.nio.ByteBuffer ints16k = java.nio.ByteBuffer.allocate(16384);
                    while (ints16k.hasRemaining()) {
                        ints16k.putInt(i);
                    }
                    return Unpooled.wrappedBuffer(ints16k.array()); // heap: the writer copies it once
                })).subscribe();
                AtomicLong ints = new AtomicLong();
                StepVerifier.create(umh.inbound().doOnNext(b -> {
                    byte[] bytes = new byte[b.readableBytes()];
                    b.readBytes(bytes);
                    java.nio.ByteBuffer view = java.nio.ByteBuffer.wrap(bytes);
                    while (view.hasRemaining()) {
                        long index = ints.getAndIncrement();
                        int value = view.getInt();
                        if (value != (int) (index / 4096)) {
                            throw new AssertionError("int " + index + " is " + value);
                        }
                    }
                }).then()).verifyComplete();
                assertThat(ints.get()).isEqualTo(chunks * 4096L);
            }
        } finally {
            stop.set(true);
            storm.join();
            JvmSignals.restore("WINCH", old);
        }
        assertThat(handled.get()).as("signals the JVM handled during the test").isGreaterThan(10);
    }

    /**
     * A Java handler for a signal, through {@code sun.misc.Signal} (module jdk.unsupported) by reflection: a
     * handled signal interrupts blocking system calls with EINTR, which is what the test needs.
     */
    private static final class JvmSignals {
        static Object handle(String name, Runnable action) throws Exception {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handler = Class.forName("sun.misc.SignalHandler");
            Object proxy = java.lang.reflect.Proxy.newProxyInstance(handler.getClassLoader(), new Class<?>[] {handler},
                    (p, m, args) -> {
                        if (m.getName().equals("handle")) {
                            action.run();
                        }
                        return null;
                    });
            return signal.getMethod("handle", signal, handler).invoke(null,
                    signal.getConstructor(String.class).newInstance(name), proxy);
        }

        static void restore(String name, Object old) throws Exception {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handler = Class.forName("sun.misc.SignalHandler");
            signal.getMethod("handle", signal, handler).invoke(null, signal.getConstructor(String.class)
                    .newInstance(name), old);
        }
    }
}
