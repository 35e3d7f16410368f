package io.umhflux.spawn;

import static org.assertj.core.api.Assertions.assertThat;

import io.umhflux.Blob;
import io.umhflux.Environment;
import io.umhflux.ExitStatus;
import io.umhflux.TestHelpers;
import io.umhflux.internal.os.NativeMemory;
import io.umhflux.internal.os.Os;
import io.umhflux.internal.process.HelperProcess;
import io.umhflux.internal.process.Launcher;
import io.umhflux.test.Launchers;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** What a helper inherits (descriptors, environment), and living beside ProcessBuilder. */
class HygieneTest {

    private static List<String> fdsOf(long pid) throws Exception {
        try (var s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void assertOnlyStdioInherited(Launcher launcher) throws Exception {
        int leaky = Os.libc().open("/dev/null", Os.O_RDONLY, 0); // no O_CLOEXEC: would be inherited by exec
        assertThat(leaky).isGreaterThan(2);
        assertThat(Os.libc().fcntl(leaky, 1 /* F_GETFD */, 0) & 1).as("FD_CLOEXEC of the leaky fd").isZero();
        try (ServerSocket listening = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                Blob cat = TestHelpers.cat()) {
            HelperProcess p = TestHelpers.spawn(launcher, cat, Environment.inherit(), null);
            // one line through cat first: then it is in its read loop, past the dynamic loader (which opens
            // libc as fd 3 for a moment while cat starts)
            try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(TestHelpers.in(p.stdout()),
                    StandardCharsets.UTF_8)); var out = TestHelpers.out(p.stdin())) {
                out.write("ping\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
                assertThat(in.readLine()).isEqualTo("ping");
                assertThat(fdsOf(p.pid())).containsExactly("0", "1", "2");
            }
            assertThat(listening.isBound()).isTrue();
            p.stop(Duration.ofSeconds(5));
            assertThat(TestHelpers.awaitExit(p).isSuccess()).isTrue();
            p.closePipes();
        } finally {
            Os.close(leaky);
        }
    }

    @Test
    void helperInheritsOnlyStdioWithClosefrom() throws Exception {
        assertOnlyStdioInherited(Launchers.standard());
    }

    @Test
    void helperInheritsOnlyStdioWithoutClosefrom() throws Exception {
        assertOnlyStdioInherited(Launchers.withoutClosefrom());
    }

    private static String statusField(String status, String field) {
        return Arrays.stream(status.split("\n")).filter(l -> l.startsWith(field + ":")).findFirst()
                .orElseThrow().substring(field.length() + 1).trim();
    }

    @Test
    void helperStartsWithNoBlockedOrIgnoredSignals() throws Exception {
        AtomicReference<String> parentThread = new AtomicReference<>();
        AtomicReference<String> helper = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        NativeMemory oldPipe = Os.allocate(Os.SIGACTION_BYTES);
        NativeMemory ignore = Os.allocate(Os.SIGACTION_BYTES);
        ignore.putLong(0, 1L); // sa_handler = SIG_IGN
        Thread spawning = new Thread(() -> {
            try (Blob cat = TestHelpers.cat()) {
                NativeMemory block = Os.allocate(Os.SIGSET_BYTES);
                Os.libc().sigemptyset(block);
                for (int sig : new int[] {1, 2, 10, 12, 15}) { // HUP INT USR1 USR2 TERM
                    Os.libc().sigaddset(block, sig);
                }
                assertThat(Os.libc().pthread_sigmask(Os.SIG_BLOCK, block, null)).isZero();
                parentThread.set(Files.readString(Path.of("/proc/thread-self/status")));
                HelperProcess p = TestHelpers.spawn(cat);
                helper.set(Files.readString(Path.of("/proc/" + p.pid() + "/status")));
                p.stop(Duration.ofSeconds(5));
                TestHelpers.awaitExit(p);
                p.closePipes();
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        assertThat(Os.libc().sigaction(Os.SIGPIPE, ignore, oldPipe)).isZero();
        try {
            spawning.start();
            spawning.join();
        } finally {
            assertThat(Os.libc().sigaction(Os.SIGPIPE, oldPipe, null)).isZero();
        }
        assertThat(failure.get()).isNull();
        // the preconditions hold: the spawning thread blocked signals and the JVM ignored SIGPIPE
        assertThat(Long.parseLong(statusField(parentThread.get(), "SigBlk"), 16) & (1L << (15 - 1))).isNotZero();
        assertThat(Long.parseLong(statusField(parentThread.get(), "SigIgn"), 16) & (1L << (Os.SIGPIPE - 1)))
                .isNotZero();
        assertThat(statusField(helper.get(), "SigBlk")).isEqualTo("0000000000000000");
        assertThat(statusField(helper.get(), "SigIgn")).isEqualTo("0000000000000000");
    }

    private static Map<String, String> environOf(HelperProcess p) throws Exception {
        // posix_spawn returns once the child's execve has replaced its memory, which is before the kernel has
        // laid out the new environment: until then /proc/<pid>/environ reads empty (seen under load)
        Path file = Path.of("/proc/" + p.pid() + "/environ");
        org.awaitility.Awaitility.await().atMost(TestHelpers.TIMEOUT).until(() -> !Files.readString(file).isEmpty());
        String environ = Files.readString(file);
        Map<String, String> env = new java.util.TreeMap<>();
        for (String kv : environ.split("\0")) {
            if (!kv.isEmpty()) {
                int eq = kv.indexOf('=');
                env.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
        }
        return env;
    }

    @Test
    void allowlistKeepsOtherVariablesOut() throws Exception {
        assertThat(System.getenv("UMH_TEST_SECRET")).as("set by the surefire configuration").isNotNull();
        assertThat(System.getenv("PATH")).isNotNull();
        List<HelperProcess> started = new ArrayList<>();
        try (Blob cat = TestHelpers.cat()) {
            HelperProcess inheriting = TestHelpers.spawn(Launchers.standard(), cat, Environment.inherit(), null);
            started.add(inheriting);
            HelperProcess allowed = TestHelpers.spawn(Launchers.standard(), cat,
                    Environment.allow("PATH", "NOT_SET_ANYWHERE").with("EXTRA", "1"), null);
            started.add(allowed);
            HelperProcess replaced = TestHelpers.spawn(Launchers.standard(), cat,
                    Environment.of(Map.of("ONLY", "this")), null);
            started.add(replaced);
            assertThat(environOf(inheriting)).containsEntry("UMH_TEST_SECRET", "do-not-leak");
            assertThat(environOf(allowed)).containsOnlyKeys("PATH", "EXTRA")
                    .containsEntry("PATH", System.getenv("PATH"));
            assertThat(environOf(replaced)).containsExactlyEntriesOf(Map.of("ONLY", "this"));
        } finally {
            // also when an assertion failed: a helper left running would fail the next test's child checks
            for (HelperProcess p : started) {
                p.stop(Duration.ofSeconds(5));
                TestHelpers.awaitExit(p);
                p.closePipes();
            }
        }
    }

    @Test
    void processBuilderInTheSameJvmKeepsItsOwnExitCodes() throws Exception {
        int rounds = 40;
        try (Blob exit5 = TestHelpers.script("exit5", "exit 5")) {
            CompletableFuture<List<Integer>> jdk = CompletableFuture.supplyAsync(() -> {
                List<Integer> codes = new ArrayList<>();
                for (int i = 0; i < rounds; i++) {
                    try {
                        codes.add(new ProcessBuilder("/bin/sh", "-c", "exit 3").start().waitFor());
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }
                return codes;
            });
            List<ExitStatus> ours = new ArrayList<>();
            for (int i = 0; i < rounds; i++) {
                HelperProcess p = TestHelpers.spawn(exit5);
                ours.add(TestHelpers.awaitExit(p));
                p.closePipes();
            }
            assertThat(jdk.get(60, TimeUnit.SECONDS)).hasSize(rounds).containsOnly(3);
            assertThat(ours).hasSize(rounds).containsOnly(ExitStatus.exited(5));
        }
    }

    @Test
    void argvZeroAndArgumentsArePassedVerbatim() throws Exception {
        try (Blob sh = TestHelpers.sh()) {
            HelperProcess p = TestHelpers.spawn(sh, "-c", "printf '%s|' \"$0\" \"$@\"", "zero", "a b", "", "ü");
            assertThat(TestHelpers.readAllStdout(p)).isEqualTo("zero|a b||ü|");
            TestHelpers.awaitExit(p);
            p.closePipes();
        }
        assertThat(StandardCharsets.UTF_8).isNotNull();
    }
}
