package io.umhflux.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.umhflux.Blob;
import io.umhflux.ExitStatus;
import io.umhflux.HelperFailedException;
import io.umhflux.TestHelpers;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.internal.loop.EventLoops;
import io.umhflux.internal.os.Os;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.blockhound.BlockingOperationError;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.netty.resources.LoopResources;
import reactor.test.StepVerifier;

/** A handle's end: cancels, the JVM's exit (normal, on an event loop, SIGKILL), held-open stdout, loops shut down. */
class HandleLifecycleTest {

    @Test
    void cancellingTheInboundKillsTheHelperAndItsGrandchild() {
        try (Blob sh = TestHelpers.sh()) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spec(sh).args("-c", "sleep 600 & echo $! >&2; exec cat")
                    .stopGrace(Duration.ofMillis(200)).spawn();
            long grandchild = Long.parseLong(umh.stderr().blockFirst(TestHelpers.TIMEOUT));
            assertThat(TestHelpers.alive(grandchild)).isTrue();
            Disposable reading = umh.inbound().subscribe();
            reading.dispose();
            ExitStatus status = umh.exit().block(TestHelpers.TIMEOUT);
            assertThat(status.isSuccess()).as("cat exits on stdin EOF, the first step of the stop").isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> TestHelpers.goneOrZombie(grandchild));
            assertThat(TestHelpers.alive(umh.pid())).isFalse();
            TestHelpers.assertNoZombies();
        }
    }

    @Test
    void normalJvmExitStopsLiveHelpers() throws Exception {
        long helper = runChildJvm("exit", false);
        await().atMost(Duration.ofSeconds(10)).until(() -> TestHelpers.goneOrZombie(helper));
    }

    /**
     * {@code System.exit} called on an event loop blocks that loop in the exit: the stops the shutdown hook queues
     * there never run, so the hook kills those helpers' groups itself. Five helpers that ignore SIGTERM and SIGPIPE;
     * none outlives the JVM.
     */
    @Test
    void aJvmExitCalledOnAnEventLoopLeavesNoHelperRunning() throws Exception {
        Process jvm = new ProcessBuilder(Path.java(), "-cp", System.getProperty("java.class.path"),
                ShutdownHookMain.class.getName(), "exitOnLoop").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8));
        List<Long> helpers = new ArrayList<>();
        for (String pid : out.readLine().trim().split(" ")) {
            helpers.add(Long.parseLong(pid));
        }
        assertThat(helpers).hasSize(5).allMatch(TestHelpers::alive);
        jvm.getOutputStream().write('\n');
        jvm.getOutputStream().flush();
        assertThat(jvm.waitFor(30, TimeUnit.SECONDS)).as("the JVM exited").isTrue();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(helpers).as("helpers of the JVM that exited").allMatch(TestHelpers::goneOrZombie));
    }

    @Test
    void jvmKilledWithSigkillLeavesTheHelperAtStdinEof() throws Exception {
        long helper = runChildJvm("wait", true);
        // cat reads stdin: the JVM's death closes the pipe's write end, cat sees EOF and exits
        await().atMost(Duration.ofSeconds(5)).until(() -> TestHelpers.goneOrZombie(helper));
    }

    private static long runChildJvm(String mode, boolean sigkill) throws Exception {
        Process jvm = new ProcessBuilder(Path.java(), "-cp", System.getProperty("java.class.path"),
                ShutdownHookMain.class.getName(), mode).redirectErrorStream(false).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8));
        long helper = Long.parseLong(out.readLine().trim());
        assertThat(TestHelpers.alive(helper)).isTrue();
        jvm.getOutputStream().write('\n');
        jvm.getOutputStream().flush();
        if (sigkill) {
            assertThat(Os.libc().kill((int) jvm.pid(), Os.SIGKILL)).isZero();
        }
        assertThat(jvm.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return helper;
    }

    @Test
    void stdoutHeldOpenByAGrandchildEndsWithAnErrorThatSaysSo() {
        try (Blob sh = TestHelpers.sh()) {
            // the group kill at exit off: the grandchild outlives the helper, as one in another group would
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spec(sh).args("-c", "sleep 600 & echo $! >&2; echo done")
                    .drainTimeout(Duration.ofMillis(300)).killGroupAtExit(false).spawn();
            long grandchild = Long.parseLong(umh.stderr().blockFirst(TestHelpers.TIMEOUT));
            try {
                StepVerifier.create(umh.inbound().map(b -> b.toString(StandardCharsets.UTF_8)))
                        .expectNext("done\n")
                        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(HelperFailedException.class)
                                .hasMessageContaining("stdout stayed open"))
                        .verify(TestHelpers.TIMEOUT);
                assertThat(umh.exit().block(TestHelpers.TIMEOUT).isSuccess()).isTrue();
            } finally {
                Os.libc().kill((int) grandchild, Os.SIGKILL);
            }
        }
    }

    @Test
    void eventLoopShutdownWithHelpersInFlightStopsThem() throws Exception {
        IoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        List<Umh<ByteBuf, ByteBuf>> helpers = new ArrayList<>();
        try (Blob cat = TestHelpers.cat()) {
            for (int i = 0; i < 3; i++) {
                helpers.add(UmhFlux.spec(cat).eventLoopGroup(group).spawn());
            }
            List<StepVerifier> inbound = new ArrayList<>();
            for (Umh<ByteBuf, ByteBuf> h : helpers) {
                inbound.add(StepVerifier.create(h.inbound()).expectError().verifyLater());
            }
            assertThat(group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(20, TimeUnit.SECONDS)).isTrue();
            for (Umh<ByteBuf, ByteBuf> h : helpers) {
                // closing the loop's handles closes stdin too: cat may see that EOF before the SIGKILL
                assertThat(h.exit().block(TestHelpers.TIMEOUT)).isIn(ExitStatus.exited(0),
                        ExitStatus.killed(Os.SIGKILL, false));
                assertThat(TestHelpers.alive(h.pid())).isFalse();
            }
            for (StepVerifier v : inbound) {
                v.verify(TestHelpers.TIMEOUT);
            }
            TestHelpers.assertNoZombies();
        }
    }

    @Test
    void helpersRunOnReactorNettyLoopResources() {
        LoopResources loops = LoopResources.create("umh-test", 1, true);
        try (Blob cat = TestHelpers.cat()) {
            IoEventLoopGroup group = (IoEventLoopGroup) loops.onServer(true);
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spec(cat).eventLoopGroup(group).spawn();
            umh.outbound().send(Flux.just(io.netty.buffer.Unpooled.copiedBuffer("via reactor-netty",
                    StandardCharsets.UTF_8))).subscribe();
            StepVerifier.create(umh.inbound().map(b -> {
                assertThat(Thread.currentThread().getName()).startsWith("umh-test");
                return b.toString(StandardCharsets.UTF_8);
            })).expectNext("via reactor-netty").verifyComplete();
        } finally {
            loops.disposeLater().block(TestHelpers.TIMEOUT);
        }
    }

    @Test
    void blockHoundGuardsTheEventLoops() {
        var loop = EventLoops.shared().next();
        var blocking = loop.submit(() -> {
            Thread.sleep(1);
            return null;
        });
        try {
            blocking.get(5, TimeUnit.SECONDS);
            throw new AssertionError("BlockHound did not flag Thread.sleep on an event loop");
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(BlockingOperationError.class);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** The java launcher of this JVM. */
    private static final class Path {
        static String java() {
            return java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
        }
    }
}
