package io.umhflux.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.umhflux.Blob;
import io.umhflux.ExitStatus;
import io.umhflux.HelperFailedException;
import io.umhflux.TestHelpers;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import io.umhflux.internal.os.Os;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/**
 * What a helper leaves in its process group dies with it when it exits on its own, by default; the opt-out; a
 * grandchild that left the group; many daemonizing helpers without anything left behind in this JVM.
 */
class ProcessGroupTest {
    /** A helper that starts a daemon (a double fork) holding its stdout and stderr, prints its pid, and exits 0. */
    private static Blob daemonizing() {
        return TestHelpers.script("daemonizing", "(sleep 30 & echo $!)\necho hi\nexit 0");
    }

    private static void killIfAlive(long pid) {
        if (TestHelpers.alive(pid) && !TestHelpers.goneOrZombie(pid)) {
            Os.libc().kill((int) pid, Os.SIGKILL);
        }
    }

    @Test
    void aDaemonTheHelperLeftBehindDiesWithItsExitAndTheInboundEndsAtOnce() {
        try (Blob blob = daemonizing()) {
            Duration drain = Duration.ofSeconds(2);
            Umh<String, String> umh = UmhFlux.spec(blob).lines(64).drainTimeout(drain).spawn();
            long started = System.nanoTime();
            List<String> lines = umh.inbound().collectList().block(TestHelpers.TIMEOUT);
            long took = System.nanoTime() - started;
            long daemon = Long.parseLong(lines.get(0));
            try {
                assertThat(lines).containsExactly(Long.toString(daemon), "hi");
                // the daemon held stdout: the inbound ended when the group kill closed it, not a drain timeout later
                assertThat(Duration.ofNanos(took)).isLessThan(drain);
                await().atMost(Duration.ofSeconds(1)).until(() -> TestHelpers.goneOrZombie(daemon));
                assertThat(umh.exit().block(TestHelpers.TIMEOUT).isSuccess()).isTrue();
            } finally {
                killIfAlive(daemon);
            }
        }
    }

    @Test
    void aGrandchildHoldingOnlyStderrDiesWithTheHelperAndTheExitIsKnownAtOnce() {
        try (Blob blob = TestHelpers.script("stderr-holder", "sleep 30 >/dev/null </dev/null &\necho $!\nexit 0")) {
            Duration drain = Duration.ofSeconds(2);
            Umh<String, String> umh = UmhFlux.spec(blob).lines(64).drainTimeout(drain).spawn();
            long started = System.nanoTime();
            long grandchild = Long.parseLong(umh.inbound().blockFirst(TestHelpers.TIMEOUT));
            try {
                ExitStatus status = umh.exit().block(TestHelpers.TIMEOUT);
                assertThat(status.isSuccess()).isTrue();
                // the status waits for stderr's end, which came with the group kill
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(drain);
                await().atMost(Duration.ofSeconds(1)).until(() -> TestHelpers.goneOrZombie(grandchild));
            } finally {
                killIfAlive(grandchild);
            }
        }
    }

    /**
     * With the group kill off, the daemon outlives the helper; the inbound ends after one drain timeout from the
     * exit (not one for stderr and then one for stdout); {@code stop()} afterwards reports the exit and kills nothing.
     */
    @Test
    void withoutTheGroupKillTheDaemonLivesOnAndTheInboundEndsAfterOneDrainTimeout() {
        try (Blob blob = daemonizing()) {
            Duration drain = Duration.ofSeconds(1);
            Umh<String, String> umh = UmhFlux.spec(blob).lines(64).drainTimeout(drain).killGroupAtExit(false)
                    .spawn();
            long[] daemon = {-1};
            long started = System.nanoTime();
            try {
                StepVerifier.create(umh.inbound())
                        .consumeNextWith(pid -> daemon[0] = Long.parseLong(pid))
                        .expectNext("hi")
                        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(HelperFailedException.class)
                                .hasMessageContaining("stdout stayed open"))
                        .verify(TestHelpers.TIMEOUT);
                long took = System.nanoTime() - started;
                assertThat(Duration.ofNanos(took)).isGreaterThanOrEqualTo(drain)
                        .isLessThan(drain.multipliedBy(2).minusMillis(200));
                ExitStatus exit = umh.stop().block(TestHelpers.TIMEOUT);
                assertThat(exit.isSuccess()).isTrue();
                umh.dispose();
                assertThat(TestHelpers.alive(daemon[0]) && !TestHelpers.goneOrZombie(daemon[0]))
                        .as("the daemon after the helper's exit, a stop and a dispose").isTrue();
            } finally {
                if (daemon[0] > 0) {
                    killIfAlive(daemon[0]);
                }
            }
        }
    }

    /** A grandchild that made a session of its own left the group: it is not killed (a group is not a cgroup). */
    @Test
    void aGrandchildThatCalledSetsidIsNotReached() {
        // the helper exits only once the grandchild is in its own session (field 6 of /proc/<pid>/stat)
        try (Blob blob = TestHelpers.script("escaper", "setsid sleep 30 >/dev/null 2>&1 </dev/null &\npid=$!\n"
                + "while [ \"$(cut -d' ' -f6 /proc/$pid/stat)\" != \"$pid\" ]; do sleep 0.01; done\n"
                + "echo $pid\nexit 0")) {
            Umh<String, String> umh = UmhFlux.spec(blob).lines(64).spawn();
            long escaped = Long.parseLong(umh.inbound().blockFirst(TestHelpers.TIMEOUT));
            try {
                assertThat(umh.exit().block(TestHelpers.TIMEOUT).isSuccess()).isTrue();
                assertThat(sessionOf(escaped)).isEqualTo(escaped);
                assertThat(TestHelpers.alive(escaped) && !TestHelpers.goneOrZombie(escaped))
                        .as("a grandchild in a session of its own, after the helper's exit").isTrue();
            } finally {
                killIfAlive(escaped);
            }
        }
    }

    /** The session id of {@code pid}, from {@code /proc/<pid>/stat}, or -1 if it is gone. */
    private static long sessionOf(long pid) {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
            String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(rest[3]); // state ppid pgrp session
        } catch (java.io.IOException gone) {
            return -1;
        }
    }

    @Test
    void aThousandDaemonizingHelpersLeaveNothingBehind() {
        try (Blob blob = TestHelpers.script("daemonizing", "sleep 37 &\nexit 0")) {
            UmhSpec<String, String> spec = UmhFlux.spec(blob).lines(64);
            // one round first: the loops, the reaper and the classes are there before anything is counted
            spec.spawn().exit().block(TestHelpers.TIMEOUT);
            Set<String> fds = TestHelpers.openFds();
            List<Long> children = TestHelpers.children('*');
            int threads = Thread.getAllStackTraces().size();
            for (int i = 0; i < 1_000; i++) {
                Umh<String, String> umh = spec.spawn();
                StepVerifier.create(umh.inbound()).expectComplete().verify(TestHelpers.TIMEOUT);
                assertThat(umh.exit().block(TestHelpers.TIMEOUT).isSuccess()).isTrue();
            }
            await().atMost(TestHelpers.TIMEOUT).untilAsserted(() -> {
                assertThat(TestHelpers.newFds(fds)).isEmpty();
                assertThat(TestHelpers.newChildren(children)).isEmpty();
                TestHelpers.assertNoZombies();
                assertThat(Thread.getAllStackTraces().size()).isLessThanOrEqualTo(threads + 2);
            });
            // no sleep of these helpers is left anywhere (each was killed with its helper's group)
            assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("")
                    .equals("sleep 37")).count()).as("'sleep 37' daemons still running").isZero();
        }
    }
}
