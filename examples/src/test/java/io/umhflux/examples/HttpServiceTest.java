package io.umhflux.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.umhflux.ExitStatus;
import io.umhflux.Umh;
import io.umhflux.examples.RawHttpClient.Pattern;
import io.umhflux.test.NoLeaksExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.LoopResources;

class HttpServiceTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int CHUNK = 64 * 1024;
    private static HttpService service;
    private static LoopResources clientLoops;
    private static final BlockingQueue<Umh<ByteBuf, ByteBuf>> SPAWNED = new LinkedBlockingQueue<>();
    /** The threads that signalled helpers' exits: their event loops. */
    private static final Queue<String> EXIT_THREADS = new ConcurrentLinkedQueue<>();

    @BeforeAll
    static void start() {
        service = HttpService.start("127.0.0.1", 0, umh -> {
            SPAWNED.add(umh);
            umh.exit().subscribe(status -> EXIT_THREADS.add(Thread.currentThread().getName()));
        });
        clientLoops = LoopResources.create("test-client", 1, true);
    }

    @AfterAll
    static void stop() {
        if (clientLoops != null) {
            clientLoops.disposeLater(Duration.ZERO, Duration.ofSeconds(10)).block(TIMEOUT);
        }
        if (service != null) {
            service.close();
            assertThat(service.livePids()).isEmpty();
        }
    }

    @BeforeEach
    void noHelperFromAnEarlierTest() {
        await().atMost(Duration.ofSeconds(10)).until(() -> service.livePids().isEmpty());
        SPAWNED.clear();
        EXIT_THREADS.clear();
    }

    @Test
    void httpClientGetsSeveralMebibytesBackTransformedExactly() {
        byte[] body = randomBytes(8 << 20, 1);
        assertThat(post(body).block(TIMEOUT)).satisfies(got -> assertSameBytes(got, upper(body)));
    }

    @Test
    void theHelpersMetersCountWhatWentThroughThem() {
        byte[] body = randomBytes(1 << 20, 3);
        double spawned = spawns();
        assertThat(post(body).block(TIMEOUT)).hasSize(body.length);
        await().atMost(Duration.ofSeconds(10)).until(() -> service.livePids().isEmpty());
        assertThat(spawns()).isEqualTo(spawned + 1);
        String text = HttpClient.create().runOn(clientLoops).get()
                .uri("http://127.0.0.1:" + service.port() + "/metrics")
                .responseContent().aggregate().asString().block(TIMEOUT);
        assertThat(text).contains("umh.helpers.spawns{helper=tr} count=" + spawns())
                .contains("umh.helpers.active{helper=tr} value=0.0")
                .contains("umh.helpers.exits{cause=exit 0,helper=tr} count=")
                .containsPattern("umh\\.bytes\\{direction=in,helper=tr\\} count=[1-9]");
        assertThat(service.meters().get("umh.bytes").tags("direction", "in").counter().count())
                .isGreaterThanOrEqualTo(body.length);
    }

    private static double spawns() {
        io.micrometer.core.instrument.Counter c = service.meters().find("umh.helpers.spawns").counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void concurrentRequestsEachStreamThroughTheirOwnHelper() {
        List<byte[]> bodies = Flux.range(0, 4).map(i -> randomBytes(1 << 20, 10 + i)).collectList().block();
        List<byte[]> answers = Flux.fromIterable(bodies).flatMapSequential(this::post).collectList().block(TIMEOUT);
        assertThat(answers).hasSize(4);
        for (int i = 0; i < 4; i++) {
            assertSameBytes(answers.get(i), upper(bodies.get(i)));
        }
        assertThat(SPAWNED).hasSize(4).extracting(Umh::pid).doesNotHaveDuplicates();
        await().atMost(Duration.ofSeconds(10)).until(() -> EXIT_THREADS.size() == 4);
        assertThat(EXIT_THREADS).as("helpers run on the server's event loops").allMatch(t -> t.startsWith("umh-http"));
    }

    @Test
    void curlUploadsAFileAndGetsItBackTransformed(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(onPath("curl"), "curl is not installed (.ci/run installs it)");
        byte[] body = randomBytes(6 << 20, 2);
        Files.write(dir.resolve("in"), body);
        Process curl = new ProcessBuilder("curl", "--silent", "--show-error", "--fail", "--data-binary", "@in",
                "--output", "out", "http://127.0.0.1:" + service.port() + "/upper")
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        assertThat(curl.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(curl.exitValue()).as(new String(curl.getInputStream().readAllBytes())).isZero();
        assertSameBytes(Files.readAllBytes(dir.resolve("out")), upper(body));
    }

    @Test
    void aClientThatDisconnectsKillsItsHelper() throws Exception {
        try (RawHttpClient client = new RawHttpClient(service.port(), "/upper", 1L << 30, CHUNK)) {
            assertThat(client.readHead()).isEqualTo("HTTP/1.1 200 OK");
            long read = readAndCheck(client, 256 * 1024);
            assertThat(read).isEqualTo(256 * 1024);
            Umh<ByteBuf, ByteBuf> helper = onlyHelper();
            long pid = helper.pid();

            client.abort();

            ExitStatus status = helper.exit().block(Duration.ofSeconds(5));
            // usually SIGPIPE (its stdout's reader is gone); exit 0 when the stop's closing of its stdin came
            // first and it had nothing left to write: either way it is gone within the stop grace
            assertThat(status).as("the helper's end, within 5 s of the disconnect").isNotNull();
            assertThat(Path.of("/proc", Long.toString(pid))).as("helper %d reaped", pid).doesNotExist();
            await().atMost(Duration.ofSeconds(5)).until(() -> !service.livePids().contains(pid));
            assertThat(client.upload().get(10, TimeUnit.SECONDS)).isLessThan(1L << 30);
        }
    }

    @Test
    void aClientThatStopsReadingStallsItsHelperAndItsUploadWithBoundedBuffers() throws Exception {
        long bodyBytes = 128L << 20;
        long producedBefore = service.bytesFromHelpers();
        long consumedBefore = service.bytesToHelpers();
        try (RawHttpClient client = new RawHttpClient(service.port(), "/upper", bodyBytes, CHUNK)) {
            assertThat(client.readHead()).isEqualTo("HTTP/1.1 200 OK");
            long pid = onlyHelper().pid();

            long produced = awaitStall(service::bytesFromHelpers) - producedBefore;
            long consumed = service.bytesToHelpers() - consumedBefore;

            System.out.printf("stalled client: the helper wrote %d KiB and read %d KiB of %d MiB%n",
                    produced >> 10, consumed >> 10, bodyBytes >> 20);
            assertThat(produced).as("bytes read from the helper while the client reads nothing")
                    .isLessThan(16L << 20);
            assertThat(consumed).as("body bytes handed to the helper").isLessThan(produced + (8L << 20));
            assertThat(client.upload()).as("the upload is held up too").isNotDone();
            assertThat(NoLeaksExtension.describe(pid)).as("helper asleep").startsWith("state S");
            // and asleep in a pipe write (this kernel says "anon_pipe_write", older ones "pipe_write"), not a read
            assertThat(Files.readString(Path.of("/proc", Long.toString(pid), "wchan")))
                    .as("where the helper sleeps").endsWith("pipe_write");

            assertThat(readAndCheck(client, Long.MAX_VALUE)).as("everything, once the client reads")
                    .isEqualTo(bodyBytes);
            assertThat(client.upload().get(10, TimeUnit.SECONDS)).isEqualTo(bodyBytes);
        }
    }

    private Mono<byte[]> post(byte[] body) {
        Flux<ByteBuf> chunks = Flux.range(0, (body.length + CHUNK - 1) / CHUNK)
                .map(i -> Unpooled.wrappedBuffer(body, i * CHUNK, Math.min(CHUNK, body.length - i * CHUNK)));
        return HttpClient.newConnection()
                .runOn(clientLoops)
                .host("127.0.0.1")
                .port(service.port())
                .post()
                .uri("/upper")
                .send(chunks)
                .responseSingle((response, content) -> {
                    assertThat(response.status()).isEqualTo(HttpResponseStatus.OK);
                    return content.asByteArray();
                });
    }

    /** The one helper this test's request spawned, once it runs. */
    private static Umh<ByteBuf, ByteBuf> onlyHelper() throws InterruptedException {
        Umh<ByteBuf, ByteBuf> helper = SPAWNED.poll(10, TimeUnit.SECONDS);
        assertThat(helper).as("a helper was spawned").isNotNull();
        assertThat(service.livePids()).containsExactly(helper.pid());
        return helper;
    }

    /** Reads up to {@code max} body bytes, checking each against the uppercased pattern; returns the count. */
    private static long readAndCheck(RawHttpClient client, long max) throws IOException {
        byte[] buffer = new byte[CHUNK];
        byte[] expected = new byte[CHUNK];
        long total = 0;
        while (total < max) {
            int n = client.readBody(buffer, (int) Math.min(CHUNK, max - total));
            if (n < 0) {
                break;
            }
            Pattern.fill(expected, total, true);
            assertThat(Arrays.mismatch(buffer, 0, n, expected, 0, n)).as("at offset %d", total).isEqualTo(-1);
            total += n;
        }
        return total;
    }

    /** Waits until {@code counter} has not moved for a second; returns its value then. */
    private static long awaitStall(LongSupplier counter) {
        AtomicLong last = new AtomicLong(-1);
        AtomicLong changedAt = new AtomicLong(System.nanoTime());
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
            long now = counter.getAsLong();
            if (last.getAndSet(now) != now) {
                changedAt.set(System.nanoTime());
                return false;
            }
            return System.nanoTime() - changedAt.get() > TimeUnit.SECONDS.toNanos(1);
        });
        return last.get();
    }

    private static byte[] randomBytes(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** What {@code tr a-z A-Z} makes of {@code body} in the C locale. */
    private static byte[] upper(byte[] body) {
        byte[] out = body.clone();
        for (int i = 0; i < out.length; i++) {
            if (out[i] >= 'a' && out[i] <= 'z') {
                out[i] -= 32;
            }
        }
        return out;
    }

    private static void assertSameBytes(byte[] actual, byte[] expected) {
        assertThat(actual.length).as("length").isEqualTo(expected.length);
        assertThat(Arrays.mismatch(actual, expected)).as("first differing offset").isEqualTo(-1);
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }
}
