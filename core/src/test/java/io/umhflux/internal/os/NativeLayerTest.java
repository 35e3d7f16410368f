package io.umhflux.internal.os;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The native layer in use, and its calls' plain semantics (results, errno, buffers in place). The whole suite runs
 * on each layer: on Java 22+ the FFM layer by default, and {@code -Dio.umhflux.native=jnr} for jnr-ffi.
 */
class NativeLayerTest {
    private final LibC c = Os.libc();

    @Test
    void theFfmLayerOnJava22AndLaterUnlessJnrIsAskedFor() {
        boolean ffm = Runtime.version().feature() >= 22 && !"jnr".equals(System.getProperty("io.umhflux.native"));
        assertThat(Os.layerName()).isEqualTo(ffm ? "ffm" : "jnr");
    }

    @Test
    void errnoIsTheLastFailedCallsOnThisThread() {
        assertThat(c.close(-1)).isEqualTo(-1);
        assertThat(c.errno()).isEqualTo(9); // EBADF
        assertThat(c.kill(Integer.MAX_VALUE, 0)).isEqualTo(-1);
        assertThat(c.errno()).isEqualTo(Os.ESRCH);
        assertThat(c.sigaddset(c.allocate(Os.SIGSET_BYTES), 9999)).isEqualTo(-1);
        assertThat(c.errno()).isEqualTo(Os.EINVAL);
        assertThat(c.close(-1)).isEqualTo(-1);
        assertThat(c.sigaction(9999, null, null)).isEqualTo(-1);
        assertThat(c.errno()).isEqualTo(Os.EINVAL);
    }

    @Test
    void aPipeCarriesBytesFromHeapAndDirectBuffers() {
        int[] fds = new int[2];
        assertThat(c.pipe2(fds, Os.O_CLOEXEC)).isZero();
        try {
            ByteBuffer heap = ByteBuffer.wrap("xxhello".getBytes(StandardCharsets.US_ASCII));
            heap.position(2); // from the position, as jnr-ffi passes a buffer
            assertThat(c.write(fds[1], heap, 5)).isEqualTo(5);
            ByteBuffer direct = ByteBuffer.allocateDirect(16);
            assertThat(c.read(fds[0], direct, 16)).isEqualTo(5);
            byte[] got = new byte[5];
            direct.get(0, got);
            assertThat(new String(got, StandardCharsets.US_ASCII)).isEqualTo("hello");

            ByteBuffer out = ByteBuffer.allocateDirect(3).put(0, "abc".getBytes(StandardCharsets.US_ASCII));
            assertThat(c.write(fds[1], out, 3)).isEqualTo(3);
            int[] ready = new int[1];
            assertThat(c.ioctl(fds[0], Os.FIONREAD, ready)).isZero();
            assertThat(ready[0]).isEqualTo(3);
            ByteBuffer in = ByteBuffer.allocate(8);
            assertThat(c.read(fds[0], in, 8)).isEqualTo(3);
            assertThat(new String(in.array(), 0, 3, StandardCharsets.US_ASCII)).isEqualTo("abc");
        } finally {
            c.close(fds[0]);
            c.close(fds[1]);
        }
    }

    @Test
    void memfdSealsAndPages() {
        int fd = c.memfd_create("native-layer-test", Os.MFD_CLOEXEC | Os.MFD_ALLOW_SEALING);
        assertThat(fd).isGreaterThanOrEqualTo(0);
        try {
            assertThat(c.fcntl(fd, Os.F_ADD_SEALS, Os.F_SEAL_GROW)).isZero();
            assertThat(c.fcntl(fd, Os.F_GET_SEALS, 0) & Os.F_SEAL_GROW).isEqualTo(Os.F_SEAL_GROW);
            assertThat(c.ftruncate(fd, 4096)).isEqualTo(-1); // sealed against growing
            assertThat(c.errno()).isEqualTo(Os.EPERM);
        } finally {
            c.close(fd);
        }
        assertThat(c.getpagesize()).isPositive();
        assertThat(c.getpid()).isEqualTo((int) ProcessHandle.current().pid());
        assertThat(c.syscall(39 /* getpid */, 0, 0, 0, 0)).isEqualTo((int) ProcessHandle.current().pid());
    }

    @Test
    void nativeMemoryIsZeroedAndReadsBackWhatWasPut() {
        NativeMemory m = c.allocate(64);
        assertThat(m.getInt(0)).isZero();
        m.putInt(4, 0x12345678);
        m.putLong(8, -1L);
        m.putByte(16, (byte) 7);
        assertThat(m.getInt(4)).isEqualTo(0x12345678);
        assertThat(m.getInt(8)).isEqualTo(-1);
        assertThat(m.getInt(16)).isEqualTo(7);
    }
}
