package io.umhflux.codec.kryo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.umhflux.Blob;
import io.umhflux.Sandbox;
import io.umhflux.ExitStatus;
import io.umhflux.HelperFailedException;
import io.umhflux.PoolSpec;
import io.umhflux.Umh;
import io.umhflux.UmhClient;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import io.umhflux.codec.Framing;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/** A Java class as the helper: the SDK's side of the pipes, typed with Kryo. */
class JavaHelperTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static Blob helper;
    private static UmhSpec<Point, Point> spec;

    @BeforeAll
    static void load() {
        helper = Blob.javaMain(DoublingHelperMain.class, "-Xshare:auto", "-XX:TieredStopAtLevel=1");
        KryoCodec<Point> codec = KryoCodec.of(Point.class, Messages::register);
        spec = UmhFlux.spec(helper).codec(Framing.lengthPrefixed(1 << 20), codec, codec);
    }

    @AfterAll
    static void close() {
        helper.close();
    }

    @Test
    void javaHelperEchoesTypedMessages() {
        Umh<Point, Point> umh = spec.spawn();
        List<Point> sent = IntStream.range(0, 10_000).mapToObj(i -> new Point(i, -i)).toList();
        umh.outbound().send(Flux.fromIterable(sent)).subscribe();
        StepVerifier.create(umh.inbound())
                .expectNextSequence(sent.stream().map(p -> new Point(p.x() * 2, p.y() * 2)).toList())
                .verifyComplete();
        assertThat(umh.exit().block(TIMEOUT)).isEqualTo(ExitStatus.exited(0));
    }

    /**
     * The SDK helper confined: its JVM reads only the JDK, the class path, and the loader and libraries of the
     * launcher script's {@code /bin/sh}; typed messages go through as unconfined.
     */
    @Test
    void aKryoJavaHelperRunsSandboxedWithThePathsAJvmNeeds() {
        Path home = Path.of(System.getProperty("java.home"));
        Sandbox policy = Sandbox.confined()
                .readOnly(home, Path.of("/bin"), Path.of("/lib"), Path.of("/lib64"), Path.of("/usr/lib"))
                .readOnly(Path.of(System.getProperty("user.home"), ".m2"), Path.of("").toAbsolutePath(),
                        Path.of("").toAbsolutePath().resolveSibling("core"))
                .addressSpace(4L << 30);
        // a small heap: the JVM reserves its heap and more within the address space limit
        try (Blob confined = Blob.javaMain(DoublingHelperMain.class, "-Xshare:auto", "-XX:TieredStopAtLevel=1",
                "-XX:-UsePerfData", "-Xmx64m")) {
            KryoCodec<Point> codec = KryoCodec.of(Point.class, Messages::register);
            Umh<Point, Point> umh = UmhFlux.spec(confined).codec(Framing.lengthPrefixed(1 << 20), codec, codec)
                    .sandbox(policy).spawn();
            List<Point> sent = IntStream.range(0, 1_000).mapToObj(i -> new Point(i, -i)).toList();
            umh.outbound().send(Flux.fromIterable(sent)).subscribe();
            StepVerifier.create(umh.inbound())
                    .expectNextSequence(sent.stream().map(p -> new Point(p.x() * 2, p.y() * 2)).toList())
                    .verifyComplete();
            ExitStatus status = umh.exit().block(TIMEOUT);
            // the JVM may warn on stderr of what the sandbox keeps from it (its cgroup files, say)
            assertThat(status.hasExited() && status.code() == 0).as("%s", status).isTrue();
        }
    }

    /**
     * The SDK helper behind a pool: typed requests and answers, one poison request crashes only its helper
     * (exit 1 with its stderr), the pool replaces it and every other request is answered.
     */
    @Test
    void aPoolOfJavaHelpersAnswersTypedRequestsAndSurvivesAPoisonOne() {
        UmhClient<Point, Point> pool = spec.pool(PoolSpec.of(2));
        List<Object> results = Flux.range(0, 200)
                .flatMap(i -> pool.exchange(i == 100 ? new Point(-1, -1) : new Point(i, i)).<Object>map(p -> p)
                        .onErrorResume(e -> Mono.just(e)), 4)
                .collectList().block(TIMEOUT);
        assertThat(results).hasSize(200);
        List<Object> failures = results.stream().filter(r -> r instanceof Throwable).toList();
        assertThat(failures).singleElement().isInstanceOfSatisfying(HelperFailedException.class,
                e -> assertThat(String.join("\n", e.exitStatus().stderrTail())).contains("poison point"));
        assertThat(results.stream().filter(r -> r instanceof Point).map(Point.class::cast).map(Point::x)
                .sorted().toList())
                .containsExactlyElementsOf(IntStream.range(0, 200).filter(i -> i != 100).map(i -> 2 * i).boxed()
                        .toList());
        pool.close().block(TIMEOUT);
    }

    /**
     * A class path longer than the kernel takes in one argument (128 KiB, {@code MAX_ARG_STRLEN}), as an IDE's or a
     * build's can be: the helper still starts (its class path reaches the JVM through an argument file). The real
     * entries come last, after 200 KB of entries with spaces and quotes: its JVM found its classes, so it read the
     * whole class path and split it where the launcher meant. The running helper holds no pipe but its stdio (the
     * argument file is opened by path and closed by the JVM's launcher), and closing the blob frees both memfds.
     */
    @Test
    void aJavaHelperWhoseClassPathIsLongerThanOneArgumentStarts() throws Exception {
        StringBuilder padding = new StringBuilder();
        for (int i = 0; padding.length() < 200_000; i++) {
            // entries that do not exist are skipped by the JVM; a space and a quote test the quoting
            padding.append("/nonexistent/umh flux's padding/entry-").append(i).append(".jar:");
        }
        String classPath = padding + System.getProperty("java.class.path");
        Set<String> memfdsBefore = memfds();
        Blob longPath = Blob.javaMainOnClassPath(classPath, DoublingHelperMain.class, "-Xshare:auto",
                "-XX:TieredStopAtLevel=1");
        assertThat(memfds()).hasSize(memfdsBefore.size() + 2); // the launcher and its argument file
        try (longPath) {
            KryoCodec<Point> codec = KryoCodec.of(Point.class, Messages::register);
            Umh<Point, Point> umh = UmhFlux.spec(longPath).codec(Framing.lengthPrefixed(1 << 20), codec, codec)
                    .spawn();
            Sinks.Many<Point> points = Sinks.many().unicast().onBackpressureBuffer();
            umh.outbound().send(points.asFlux()).subscribe();
            StepVerifier.create(umh.inbound())
                    .then(() -> points.tryEmitNext(new Point(1, 2)))
                    .expectNext(new Point(2, 4)) // its JVM is up and has read the argument file
                    .then(() -> assertThat(pipesBeyondStdio(umh.pid())).isEmpty())
                    .then(() -> {
                        points.tryEmitNext(new Point(3, 4));
                        points.tryEmitComplete();
                    })
                    .expectNext(new Point(6, 8))
                    .verifyComplete();
            assertThat(umh.exit().block(TIMEOUT)).isEqualTo(ExitStatus.exited(0));
        }
        assertThat(memfds()).isEqualTo(memfdsBefore);
    }

    /** This JVM's memfds, as "fd -> target". */
    private static Set<String> memfds() throws java.io.IOException {
        return descriptors(ProcessHandle.current().pid(), "/memfd:");
    }

    /** The pipes process {@code pid} holds on descriptors other than 0, 1 and 2. */
    private static Set<String> pipesBeyondStdio(long pid) {
        try {
            Set<String> pipes = descriptors(pid, "pipe:");
            pipes.removeIf(d -> d.startsWith("0 ") || d.startsWith("1 ") || d.startsWith("2 "));
            return pipes;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Set<String> descriptors(long pid, String targetPrefix) throws java.io.IOException {
        Set<String> found = new java.util.TreeSet<>();
        try (java.util.stream.Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith(targetPrefix)) {
                        found.add(fd.getFileName() + " -> " + target);
                    }
                } catch (java.nio.file.NoSuchFileException closedMeanwhile) {
                    // a descriptor closed while listing
                }
            }
        }
        return found;
    }

    @Test
    void helperFailureArrivesWithItsStderrAfterEarlierReplies() {
        Umh<Point, Point> umh = spec.spawn();
        umh.outbound().send(Flux.just(new Point(1, 1), new Point(-1, -1), new Point(2, 2))).subscribe(v -> { },
                e -> { });
        StepVerifier.create(umh.inbound())
                .expectNext(new Point(2, 2))
                .expectErrorSatisfies(e -> {
                    assertThat(e).isInstanceOf(HelperFailedException.class).hasMessageContaining("exited with code 1");
                    ExitStatus s = ((HelperFailedException) e).exitStatus();
                    assertThat(s).isNotNull();
                    assertThat(String.join("\n", s.stderrTail())).contains("poison point");
                })
                .verify(TIMEOUT);
    }

    @Test
    void helperExitsWithinFiveSecondsOfItsOwnerBeingKilled() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process owner = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                OwnerMain.class.getName()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        long pid;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(owner.getInputStream(),
                StandardCharsets.UTF_8))) {
            pid = Long.parseLong(out.readLine().trim());
            assertThat(Files.exists(Path.of("/proc/" + pid))).isTrue();
            owner.destroyForcibly(); // SIGKILL: no shutdown hook runs
            assertThat(owner.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> goneOrZombie(pid));
    }

    /** A helper whose stdout has no reader any more fails (exit 1, the broken pipe on stderr), not answers on. */
    @Test
    void aHelperWhoseStdoutIsGoneFails() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process helper = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                DoublingHelperMain.class.getName()).start();
        helper.getInputStream().close(); // no one reads its answers
        com.esotericsoftware.kryo.Kryo kryo = new com.esotericsoftware.kryo.Kryo();
        Messages.register(kryo);
        try (java.io.DataOutputStream in = new java.io.DataOutputStream(
                new java.io.BufferedOutputStream(helper.getOutputStream()))) {
            for (int i = 0; i < 1000; i++) {
                com.esotericsoftware.kryo.io.Output o = new com.esotericsoftware.kryo.io.Output(64, -1);
                kryo.writeClassAndObject(o, new Point(i, i));
                in.writeInt(o.position());
                in.write(o.getBuffer(), 0, o.position());
            }
        } catch (java.io.IOException helperEndedFirst) {
            // it may fail before it has read everything
        }
        assertThat(helper.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String stderr = new String(helper.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(helper.exitValue()).as(stderr).isEqualTo(1);
        assertThat(stderr).contains("Broken pipe");
    }

    private static boolean goneOrZombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (java.io.IOException gone) {
            return true;
        }
    }
}
