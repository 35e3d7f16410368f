package io.umhflux.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.umhflux.Blob;
import io.umhflux.Environment;
import io.umhflux.ExitStatus;
import io.umhflux.TestHelpers;
import io.umhflux.internal.os.Os;
import io.umhflux.internal.process.HelperProcess;
import io.umhflux.test.Launchers;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Stop, kill and the exit status; with and without pidfd. */
class LifecycleTest {

    private static String firstLine(HelperProcess p) throws Exception {
        BufferedReader r = new BufferedReader(new InputStreamReader(TestHelpers.in(p.stdout()),
                StandardCharsets.UTF_8));
        return r.readLine();
    }

    @Test
    void killAfterExitAndReapSendsNoSignal() throws Exception {
        for (var launcher : List.of(Launchers.standard(), Launchers.withoutPidfd())) {
            try (Blob blob = TestHelpers.script("quick", "exit 4")) {
                HelperProcess p = TestHelpers.spawn(launcher, blob, Environment.inherit(), null);
                assertThat(TestHelpers.awaitExit(p)).isEqualTo(ExitStatus.exited(4));
                assertThat(p.hasExited()).isTrue();
                assertThat(p.kill(Os.SIGKILL)).as("signal to a reaped helper").isFalse();
                assertThat(p.killGroup(Os.SIGKILL)).as("signal to a reaped helper's group").isFalse();
                assertThat(p.stop(Duration.ofSeconds(1))).isCompletedWithValue(ExitStatus.exited(4));
                p.closePipes();
            }
        }
    }

    @Test
    void helperIgnoringSigtermIsKilledAfterTheGrace() throws Exception {
        for (var launcher : List.of(Launchers.standard(), Launchers.withoutPidfd())) {
            try (Blob blob = TestHelpers.script("stubborn",
                    "trap '' TERM; echo ready; while :; do read -r x || :; done")) {
                HelperProcess p = TestHelpers.spawn(launcher, blob, Environment.inherit(), null);
                assertThat(firstLine(p)).isEqualTo("ready");
                Duration grace = Duration.ofMillis(200);
                long start = System.nanoTime();
                ExitStatus status = p.stop(grace).get(20, java.util.concurrent.TimeUnit.SECONDS);
                long elapsed = System.nanoTime() - start;
                assertThat(status).isEqualTo(ExitStatus.killed(Os.SIGKILL, false));
                assertThat(elapsed).as("SIGKILL only after stdin EOF, a grace, SIGTERM and another grace")
                        .isGreaterThanOrEqualTo(grace.multipliedBy(2).toNanos());
                p.closePipes();
            }
        }
    }

    @Test
    void helperThatExitsOnSigtermReportsIt() throws Exception {
        try (Blob blob = TestHelpers.script("sleeper", "echo ready; exec sleep 600")) {
            HelperProcess p = TestHelpers.spawn(blob);
            assertThat(firstLine(p)).isEqualTo("ready");
            assertThat(p.stop(Duration.ofMillis(50)).get(20, java.util.concurrent.TimeUnit.SECONDS))
                    .isEqualTo(ExitStatus.killed(Os.SIGTERM, false));
            p.closePipes();
        }
    }

    @Test
    void stopKillsWhatTheHelperStarted() throws Exception {
        for (var launcher : List.of(Launchers.standard(), Launchers.withoutPidfd())) {
            try (Blob sh = TestHelpers.sh()) {
                HelperProcess p = TestHelpers.spawn(launcher, sh, Environment.inherit(), null,
                        "-c", "sleep 600 & echo $!; exec cat");
                long grandchild = Long.parseLong(firstLine(p));
                assertThat(TestHelpers.alive(grandchild)).isTrue();
                // cat exits on stdin EOF within the grace; its group (the sleep) dies with it
                assertThat(p.stop(Duration.ofSeconds(5)).get(20, java.util.concurrent.TimeUnit.SECONDS)
                        .isSuccess()).isTrue();
                await().atMost(Duration.ofSeconds(10)).until(() -> !TestHelpers.alive(grandchild)
                        || TestHelpers.goneOrZombie(grandchild));
                p.closePipes();
            }
        }
    }

    @Test
    void exitStatusTellsCodeSignalAndCoreDump() throws Exception {
        try (Blob sh = TestHelpers.sh()) {
            HelperProcess segv = TestHelpers.spawn(sh, "-c", "ulimit -c 0; kill -SEGV $$");
            ExitStatus s = TestHelpers.awaitExit(segv);
            assertThat(s.signal()).isEqualTo(11);
            assertThat(s.hasExited()).isFalse();
            assertThat(s.code()).isEqualTo(-1);
            assertThat(s).hasToString("killed by SIGSEGV (11)");
            segv.closePipes();

            HelperProcess code = TestHelpers.spawn(sh, "-c", "exit 255");
            assertThat(TestHelpers.awaitExit(code)).isEqualTo(ExitStatus.exited(255)).hasToString("exit 255");
            code.closePipes();
        }
        assertThat(ExitStatus.killed(6, true)).hasToString("killed by SIGABRT (6), core dumped");
    }

    @Test
    void manyHelpersExitingTogetherAreEachReapedWithTheirOwnStatus() throws Exception {
        for (var launcher : List.of(Launchers.standard(), Launchers.withoutPidfd())) {
            try (Blob sh = TestHelpers.sh()) {
                List<HelperProcess> ps = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    ps.add(TestHelpers.spawn(launcher, sh, Environment.inherit(), null, "-c", "exit " + i));
                }
                for (int i = 0; i < ps.size(); i++) {
                    assertThat(TestHelpers.awaitExit(ps.get(i))).isEqualTo(ExitStatus.exited(i));
                    ps.get(i).closePipes();
                }
            }
            TestHelpers.assertNoZombies();
        }
    }

    @Test
    void killDeliversTheSignalToARunningHelper() throws Exception {
        for (var launcher : List.of(Launchers.standard(), Launchers.withoutPidfd())) {
            try (Blob cat = TestHelpers.cat()) {
                HelperProcess p = TestHelpers.spawn(launcher, cat, Environment.inherit(), null);
                assertThat(p.kill(Os.SIGKILL)).isTrue();
                assertThat(TestHelpers.awaitExit(p)).isEqualTo(ExitStatus.killed(Os.SIGKILL, false));
                p.closePipes();
            }
        }
    }
}
