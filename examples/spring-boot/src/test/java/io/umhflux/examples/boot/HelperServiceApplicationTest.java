package io.umhflux.examples.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.umhflux.spring.boot.UmhHelpers;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * The service started for real (a random port), driven by WebTestClient and by a raw HTTP/1.1 client that can
 * stop reading, stop writing or hang up.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HelperServiceApplicationTest {
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final long JVM = ProcessHandle.current().pid();

    private static List<Long> childrenBefore;
    private static ConfigurableApplicationContext context;
    private static int port;
    private static WebTestClient web;

    @BeforeAll
    static void start() {
        childrenBefore = children();
        // the hang-up test closes a connection mid-upload on purpose: reactor-netty warns of it after the fact
        context = new SpringApplicationBuilder(HelperServiceApplication.class).run("--server.port=0",
                "--logging.level.reactor.netty.channel.FluxReceive=error");
        port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
        web = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(TIMEOUT).build();
    }

    @AfterAll
    static void stop() {
        if (context != null) {
            context.close();
        }
    }

    @Test
    @Order(1)
    void theRequestBodyStreamsThroughAHelperOfItsOwnAndEachChunkIsChecksummed() {
        byte[] body = new byte[4 << 20];
        new Random(1).nextBytes(body);
        String lines = web.post().uri("/checksums").contentType(MediaType.APPLICATION_OCTET_STREAM).bodyValue(body)
                .exchange().expectStatus().isOk().expectBody(String.class).returnResult().getResponseBody();
        assertChecksums(body, body.length, lines);
    }

    @Test
    @Order(2)
    void aJsonRequestGoesThroughThePooledPythonHelper() {
        web.post().uri("/upper").contentType(MediaType.APPLICATION_JSON).bodyValue(Map.of("id", 7, "text", "abc"))
                .exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.id").isEqualTo(7).jsonPath("$.upper").isEqualTo("ABC");
    }

    @Test
    @Order(2)
    void theHelpersRunOnTheWebServersEventLoops() {
        UmhHelpers helpers = context.getBean(UmhHelpers.class);
        String thread = helpers.<HelperServiceApplication.Answer, HelperServiceApplication.Query>client("upper")
                .exchange(new HelperServiceApplication.Query(1, "a")).map(a -> Thread.currentThread().getName())
                .block(TIMEOUT);
        assertThat(thread).startsWith("reactor-http-epoll");
    }

    @Test
    @Order(3)
    void aHelperThatStopsReadingStopsTheUploadWithBoundedBuffersAndGoesOnWhenItReadsAgain() throws Exception {
        try (Upload upload = new Upload(port)) {
            long helper = awaitHelper("checksum");
            signal("STOP", helper);
            long stalled = upload.awaitStall();
            // what the service and the kernel hold for a stopped helper: pipe, stdin's high-water mark, netty's
            // and the sockets' buffers; nothing grows with the body
            assertThat(stalled).as("bytes uploaded before the upload stalled").isLessThan(64L << 20);
            signal("CONT", helper);
            await().atMost(TIMEOUT).until(() -> upload.sent.get() > stalled + (32L << 20));
            upload.finish();
            assertThat(upload.responseLines().stream().mapToLong(l -> Long.parseLong(l.split(" ")[1])).sum())
                    .as("every byte sent was checksummed").isEqualTo(upload.sent.get());
        }
        await().atMost(TIMEOUT).until(() -> helpers("checksum").isEmpty());
    }

    @Test
    @Order(4)
    void aClientThatHangsUpKillsItsHelper() throws Exception {
        long helper;
        try (Upload upload = new Upload(port)) {
            helper = awaitHelper("checksum");
            await().atMost(TIMEOUT).until(() -> upload.sent.get() > (8L << 20));
        } // closed mid-upload, without the last chunk
        await().atMost(TIMEOUT).until(() -> ProcessHandle.of(helper).isEmpty());
    }

    @Test
    @Order(5)
    void aKilledPooledHelperTurnsTheHealthDownUntilThePoolStartsAnother() {
        aJsonRequestGoesThroughThePooledPythonHelper();
        web.get().uri("/actuator/health").exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.components.umh.components.upper.status").isEqualTo("UP");
        UmhHelpers helpers = context.getBean(UmhHelpers.class);
        for (long pid : helpers.state("upper").pids()) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        await().atMost(TIMEOUT).untilAsserted(() -> web.get().uri("/actuator/health").exchange()
                .expectStatus().isEqualTo(503)
                .expectBody().jsonPath("$.components.umh.components.upper.status").isEqualTo("DOWN")
                .jsonPath("$.components.umh.components.upper.details.lastExit").isEqualTo("killed by SIGKILL (9)"));
        aJsonRequestGoesThroughThePooledPythonHelper();
        web.get().uri("/actuator/health").exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.components.umh.components.upper.status").isEqualTo("UP");
    }

    @Test
    @Order(6)
    void theHelpersMetersAreInTheApplicationsRegistry() {
        web.get().uri("/actuator/metrics/umh.helpers.spawns").exchange().expectStatus().isOk()
                .expectBody().jsonPath("$.availableTags[?(@.tag == 'helper')].values[*]").value(values ->
                        assertThat(values.toString()).contains("upper").contains("checksum"));
    }

    @Test
    @Order(7)
    void closingTheApplicationReapsEveryHelper() {
        aJsonRequestGoesThroughThePooledPythonHelper();
        assertThat(children()).hasSizeGreaterThan(childrenBefore.size());
        context.close();
        assertThat(children()).as("every helper reaped when the context is closed")
                .containsExactlyInAnyOrderElementsOf(childrenBefore);
    }

    private static void assertChecksums(byte[] body, long length, String lines) {
        long offset = 0;
        for (String line : lines.split("\n")) {
            String[] f = line.split(" ");
            int n = Integer.parseInt(f[1]);
            CRC32 crc = new CRC32();
            crc.update(body, (int) offset, n);
            assertThat(f[0]).as("chunk at %d", offset).isEqualTo(String.format("%08x", crc.getValue()));
            offset += n;
        }
        assertThat(offset).isEqualTo(length);
    }

    /** The pids of this JVM's children running the named blob. */
    private static List<Long> helpers(String name) {
        List<Long> out = new ArrayList<>();
        for (long pid : children()) {
            try {
                if (Files.readSymbolicLink(Path.of("/proc/" + pid + "/exe")).toString().contains("umh:" + name)) {
                    out.add(pid);
                }
            } catch (IOException gone) {
                // exited meanwhile
            }
        }
        return out;
    }

    private static long awaitHelper(String name) {
        await().atMost(TIMEOUT).until(() -> helpers(name).size() == 1);
        return helpers(name).get(0);
    }

    private static List<Long> children() {
        return ProcessHandle.current().children().filter(ProcessHandle::isAlive).map(ProcessHandle::pid).toList();
    }

    private static void signal(String signal, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).isTrue();
    }

    /**
     * A chunked {@code POST /checksums} written by a thread of its own as fast as the server takes it (random
     * 64 KiB chunks), counting what it wrote; the response is read only at the end.
     */
    static final class Upload implements AutoCloseable {
        final AtomicLong sent = new AtomicLong();
        private final Socket socket;
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread writer;

        Upload(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /checksums HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            writer = new Thread(() -> {
                byte[] chunk = new byte[64 * 1024];
                new Random(2).nextBytes(chunk);
                byte[] head = (Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII);
                try {
                    while (!stop.get()) {
                        out.write(head);
                        out.write(chunk);
                        out.write('\r');
                        out.write('\n');
                        sent.addAndGet(chunk.length);
                    }
                } catch (IOException closed) {
                    // the test hung up
                }
            }, "upload");
            writer.setDaemon(true);
            writer.start();
        }

        /** @return the bytes sent once nothing more went for a second */
        long awaitStall() {
            AtomicLong last = new AtomicLong(-1);
            AtomicLong since = new AtomicLong(System.nanoTime());
            await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(100)).until(() -> {
                long now = sent.get();
                if (last.getAndSet(now) != now) {
                    since.set(System.nanoTime());
                    return false;
                }
                return System.nanoTime() - since.get() > TimeUnit.SECONDS.toNanos(1);
            });
            return last.get();
        }

        /** Ends the body (the last chunk) once the writer stopped. */
        void finish() throws Exception {
            stop.set(true);
            writer.join(TIMEOUT.toMillis());
            socket.getOutputStream().write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
        }

        /** @return the response's lines (its chunked framing taken off) */
        List<String> responseLines() throws IOException {
            socket.setSoTimeout((int) TIMEOUT.toMillis());
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.US_ASCII));
            String status = in.readLine();
            assertThat(status).isEqualTo("HTTP/1.1 200 OK");
            while (!in.readLine().isEmpty()) {
                // headers
            }
            StringBuilder content = new StringBuilder();
            for (int size; (size = Integer.parseInt(in.readLine().trim(), 16)) > 0;) {
                char[] data = new char[size];
                for (int read = 0; read < size;) {
                    read += in.read(data, read, size - read);
                }
                content.append(data);
                in.readLine(); // the chunk's CRLF
            }
            return content.toString().lines().toList();
        }

        @Override
        public void close() throws IOException {
            stop.set(true);
            socket.close();
        }
    }
}
