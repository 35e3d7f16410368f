package io.umhflux.internal.blob;

import io.umhflux.internal.os.LibC;
import io.umhflux.internal.os.Os;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A blob's bytes in an anonymous memory file, sealed against every change, held open read-only.
 *
 * <p>Made as {@code memfd_create(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC)}, written, sealed with
 * SHRINK, GROW, WRITE and SEAL, then reopened read-only through {@code /proc/self/fd} and the writable
 * descriptor closed (what runc does with its copies): no writable descriptor remains, so no kernel can
 * refuse the exec with ETXTBSY, and nothing can change the content after it was hashed.
 *
 * <p>It is executed as {@code /proc/<jvm pid>/fd/<fd>}: that path resolves through the JVM's descriptor
 * table, so the helper inherits no extra descriptor and a {@code #!} interpreter can reopen it.
 */
final class SealedMemfd implements ExecImage {
    static final int ALL_SEALS = Os.F_SEAL_SHRINK | Os.F_SEAL_GROW | Os.F_SEAL_WRITE | Os.F_SEAL_SEAL;
    /** Diagnostic: create memfds without exec permission, as {@code vm.memfd_noexec=1} does. */
    static final String NOEXEC_PROPERTY = "io.umhflux.blob.memfdNoexec";
    private static final int MFD_NOEXEC_SEAL = 0x8;

    private final int fd;
    private final String execPath;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SealedMemfd(int fd) {
        this.fd = fd;
        this.execPath = "/proc/" + ProcessHandle.current().pid() + "/fd/" + fd;
    }

    /**
     * @param name shown in {@code /proc/<pid>/exe} as {@code /memfd:umh:<name>}
     * @param bytes the content, read from position to limit; not modified
     * @throws IOException naming the step and errno that failed; nothing stays open
     */
    static SealedMemfd create(String name, ByteBuffer bytes) throws IOException {
        LibC c = Os.libc();
        String memfdName = "umh:" + name;
        int base = Os.MFD_CLOEXEC | Os.MFD_ALLOW_SEALING;
        boolean noexec = Boolean.getBoolean(NOEXEC_PROPERTY);
        int fd = c.memfd_create(memfdName, base | (noexec ? MFD_NOEXEC_SEAL : Os.MFD_EXEC));
        if (fd < 0 && Os.errno() == Os.EINVAL) {
            // kernels before 6.3 know neither MFD_EXEC nor MFD_NOEXEC_SEAL; their memfds are executable
            fd = c.memfd_create(memfdName, base);
        }
        if (fd < 0) {
            throw new IOException("memfd_create: " + Os.describe(Os.errno()));
        }
        int readOnly = -1;
        try {
            // jnr-ffi takes native memory or an array: a read-only heap buffer has neither to offer
            ByteBuffer src = bytes.isDirect() || bytes.hasArray() ? bytes.duplicate() : copyOf(bytes);
            while (src.hasRemaining()) {
                // at most 1 MiB a call: the array stays pinned for the call, and a GC waits meanwhile
                long n = c.write(fd, src, Math.min(src.remaining(), 1 << 20));
                if (n < 0) {
                    int err = Os.errno();
                    if (err == Os.EINTR) {
                        continue;
                    }
                    throw new IOException("write to memfd: " + Os.describe(err));
                }
                src.position(src.position() + (int) n);
            }
            if (c.fcntl(fd, Os.F_ADD_SEALS, ALL_SEALS) < 0) {
                throw new IOException("F_ADD_SEALS: " + Os.describe(Os.errno()));
            }
            readOnly = c.open("/proc/self/fd/" + fd, Os.O_RDONLY | Os.O_CLOEXEC, 0);
            if (readOnly < 0) {
                throw new IOException("reopen memfd read-only through /proc/self/fd: " + Os.describe(Os.errno()));
            }
            return new SealedMemfd(readOnly);
        } catch (IOException | RuntimeException e) {
            if (readOnly >= 0) {
                Os.close(readOnly);
            }
            throw e;
        } finally {
            Os.close(fd);
        }
    }

    /** A heap copy of what remains of {@code bytes}, for a buffer with no array to hand to jnr-ffi. */
    private static ByteBuffer copyOf(ByteBuffer bytes) {
        byte[] copy = new byte[bytes.remaining()];
        bytes.duplicate().get(copy);
        return ByteBuffer.wrap(copy);
    }

    /** The sealed read-only descriptor, for hashing and for tests that check the seals. */
    int fd() {
        return fd;
    }

    @Override
    public String execPath() {
        return execPath;
    }

    @Override
    public Placement placement() {
        return Placement.MEMFD;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Os.close(fd);
        }
    }

    @Override
    public String toString() {
        return "sealed memfd " + execPath;
    }
}
