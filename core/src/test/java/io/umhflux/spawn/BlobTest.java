package io.umhflux.spawn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.umhflux.Blob;
import io.umhflux.BlobException;
import io.umhflux.TestHelpers;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlobTest {
    private static final byte[] SCRIPT = "#!/bin/sh\necho hi\n".getBytes(StandardCharsets.UTF_8);

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @Test
    void everySourceLoadsTheSameSealedBytes(@TempDir Path dir) throws Exception {
        Path file = Files.write(dir.resolve("hi.sh"), SCRIPT);
        ByteBuffer offset = ByteBuffer.allocate(SCRIPT.length + 7);
        offset.position(7);
        offset.put(SCRIPT);
        offset.position(7);
        String expected = sha256(SCRIPT);
        ByteBuffer readOnly = ByteBuffer.wrap(SCRIPT).asReadOnlyBuffer(); // no array to hand to jnr-ffi
        try (Blob a = Blob.of(SCRIPT);
                Blob b = Blob.loader().name("buf").load(offset);
                Blob c = Blob.loader().load(new ByteArrayInputStream(SCRIPT));
                Blob d = Blob.of(file);
                Blob e = Blob.loader().load(readOnly)) {
            for (Blob blob : new Blob[] {a, b, c, d, e}) {
                assertThat(blob.sha256()).isEqualTo(expected);
                assertThat(blob.size()).isEqualTo(SCRIPT.length);
                assertThat(blob.placement()).isEqualTo(Blob.Placement.MEMFD);
            }
            assertThat(offset.position()).as("the caller's buffer is not consumed").isEqualTo(7);
            assertThat(d.name()).isEqualTo("hi.sh");
        }
    }

    @Test
    void classpathResourceLoads() throws Exception {
        try (Blob blob = Blob.fromClasspath("helpers/hello.sh")) {
            assertThat(blob.name()).isEqualTo("hello.sh");
            var p = TestHelpers.spawn(blob);
            assertThat(TestHelpers.readAllStdout(p)).isEqualTo("resource-helper\n");
            assertThat(TestHelpers.awaitExit(p).isSuccess()).isTrue();
            p.closePipes();
        }
    }

    @Test
    void missingResourceAndDirectoryAreTypedErrors(@TempDir Path dir) {
        assertThatThrownBy(() -> Blob.fromClasspath("helpers/missing"))
                .isInstanceOf(BlobException.class)
                .hasMessageContaining("no class path resource helpers/missing");
        assertThatThrownBy(() -> Blob.of(dir))
                .isInstanceOf(BlobException.class)
                .hasMessageContaining("is a directory");
        assertThatThrownBy(() -> Blob.of(dir.resolve("absent")))
                .isInstanceOf(BlobException.class)
                .hasMessageContaining("cannot read");
    }

    @Test
    void pinnedHashMatchLoads() throws Exception {
        try (Blob blob = Blob.loader().sha256(sha256(SCRIPT).toUpperCase()).load(SCRIPT)) {
            assertThat(blob.sha256()).isEqualTo(sha256(SCRIPT));
        }
    }

    @Test
    void pinnedHashMismatchIsRefusedBeforeExecAndLeaksNothing() throws Exception {
        var fds = TestHelpers.openFds();
        String wrong = sha256("something else".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> Blob.loader().name("tampered").sha256(wrong).load(SCRIPT))
                .isInstanceOf(BlobException.class)
                .hasMessageContaining("blob 'tampered'")
                .hasMessageContaining("SHA-256 mismatch")
                .hasMessageContaining(wrong)
                .hasMessageContaining(sha256(SCRIPT));
        assertThat(TestHelpers.newFds(fds)).isEmpty();
    }

    @Test
    void closeFreesTheMemfdAndForbidsSpawning() {
        var fds = TestHelpers.openFds();
        Blob blob = Blob.of(SCRIPT);
        assertThat(TestHelpers.newFds(fds)).as("the blob holds one descriptor, its sealed memfd").hasSize(1);
        blob.close();
        blob.close();
        assertThat(blob.isClosed()).isTrue();
        assertThat(TestHelpers.newFds(fds)).isEmpty();
        assertThatThrownBy(() -> TestHelpers.spawn(blob)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void badOptionsAreRejected() {
        assertThatThrownBy(() -> Blob.loader().sha256("abc")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Blob.loader().name("a/b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Blob.loader().name("")).isInstanceOf(IllegalArgumentException.class);
    }
}
