package io.umhflux.internal.blob;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.umhflux.internal.os.Os;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SealedMemfdTest {

    @Test
    void allFourSealsAreSetAndWriteAndTruncateFail() throws Exception {
        try (SealedMemfd memfd = SealedMemfd.create("sealed", ByteBuffer.wrap("#!/bin/sh\n".getBytes(
                StandardCharsets.UTF_8)))) {
            int seals = Os.libc().fcntl(memfd.fd(), Os.F_GET_SEALS, 0);
            assertThat(seals).isEqualTo(Os.F_SEAL_SEAL | Os.F_SEAL_SHRINK | Os.F_SEAL_GROW | Os.F_SEAL_WRITE);

            // a writable descriptor of the same memfd, as an attacker in this process could open
            int rw = Os.libc().open("/proc/self/fd/" + memfd.fd(), Os.O_RDWR, 0);
            assertThat(rw).as("open O_RDWR: %s", Os.describe(Os.errno())).isGreaterThanOrEqualTo(0);
            try {
                ByteBuffer evil = ByteBuffer.wrap("evil".getBytes(StandardCharsets.UTF_8));
                assertThat(Os.libc().write(rw, evil, 4)).isEqualTo(-1);
                assertThat(Os.errno()).isEqualTo(Os.EPERM);
                assertThat(Os.libc().ftruncate(rw, 0)).isEqualTo(-1);
                assertThat(Os.errno()).isEqualTo(Os.EPERM);
                assertThat(Os.libc().ftruncate(rw, 4096)).isEqualTo(-1);
                assertThat(Os.errno()).isEqualTo(Os.EPERM);
                // and no seal can be removed or added
                assertThat(Os.libc().fcntl(rw, Os.F_ADD_SEALS, 0x10)).isEqualTo(-1);
                assertThat(Os.errno()).isEqualTo(Os.EPERM);
            } finally {
                Os.close(rw);
            }
            assertThat(Files.readString(Path.of(memfd.execPath()))).isEqualTo("#!/bin/sh\n");
        }
    }

    @Test
    void heldDescriptorIsReadOnly() throws Exception {
        try (SealedMemfd memfd = SealedMemfd.create("ro", ByteBuffer.wrap(new byte[] {1, 2, 3}))) {
            int flags = Os.libc().fcntl(memfd.fd(), Os.F_GETFL, 0);
            assertThat(flags & 3).isEqualTo(Os.O_RDONLY);
            assertThatThrownBy(() -> {
                try (RandomAccessFile f = new RandomAccessFile("/proc/self/fd/" + memfd.fd(), "r")) {
                    f.getChannel().write(ByteBuffer.wrap(new byte[] {9}));
                }
            }).isInstanceOf(Exception.class);
        }
    }

    @Test
    void closeReleasesTheDescriptorOnce() throws IOException {
        SealedMemfd memfd = SealedMemfd.create("once", ByteBuffer.wrap(new byte[] {1}));
        Path fdPath = Path.of("/proc/self/fd/" + memfd.fd());
        assertThat(Files.exists(fdPath)).isTrue();
        memfd.close();
        memfd.close();
        assertThat(Files.exists(fdPath)).isFalse();
    }
}
