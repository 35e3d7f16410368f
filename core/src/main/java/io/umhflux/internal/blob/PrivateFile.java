package io.umhflux.internal.blob;

import io.umhflux.internal.os.Os;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The fallback placement, for systems that refuse to execute memfds ({@code vm.memfd_noexec=2}, seccomp,
 * SELinux): a mode 0500 file in a fresh mode 0700 directory, both deleted on {@link #close()}.
 *
 * <p>The private directory keeps other users from swapping the file between write and exec; the
 * directory's file system is checked for {@code noexec} first so that the error can say why.
 */
final class PrivateFile implements ExecImage {
    private static final int STATVFS_BYTES = 128;
    /** {@code f_flag} in the 64-bit glibc {@code struct statvfs}. */
    private static final int STATVFS_FLAG_OFFSET = 72;

    private final Path dir;
    private final Path file;
    private final AtomicBoolean closed = new AtomicBoolean();

    private PrivateFile(Path dir, Path file) {
        this.dir = dir;
        this.file = file;
    }

    /**
     * @param base the directory to create the private directory in
     * @param name the file's name (sanitized)
     * @param bytes the content, from position to limit; not modified
     * @throws IOException why this directory cannot serve, e.g. "mounted noexec"
     */
    static PrivateFile create(Path base, String name, ByteBuffer bytes) throws IOException {
        if (!Files.isDirectory(base)) {
            throw new IOException(base + ": not a directory");
        }
        ByteBuffer stat = ByteBuffer.allocateDirect(STATVFS_BYTES).order(ByteOrder.nativeOrder());
        if (Os.libc().statvfs(base.toString(), stat) != 0) {
            throw new IOException(base + ": statvfs: " + Os.describe(Os.errno()));
        }
        if ((stat.getLong(STATVFS_FLAG_OFFSET) & Os.ST_NOEXEC) != 0) {
            throw new IOException(base + ": mounted noexec");
        }
        Path dir = Files.createTempDirectory(base, "umh-flux-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path file = dir.resolve(sanitize(name));
        try {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer src = bytes.duplicate();
                while (src.hasRemaining()) {
                    ch.write(src);
                }
            }
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r-x------"));
            return new PrivateFile(dir, file);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(file, e);
            deleteQuietly(dir, e);
            throw e;
        }
    }

    private static String sanitize(String name) {
        String s = name.replaceAll("[^A-Za-z0-9._-]", "_");
        return s.isEmpty() || s.startsWith(".") ? "blob" + s : s;
    }

    private static void deleteQuietly(Path p, Exception into) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            into.addSuppressed(e);
        }
    }

    /** The file, for hashing. */
    Path file() {
        return file;
    }

    @Override
    public String execPath() {
        return file.toString();
    }

    @Override
    public Placement placement() {
        return Placement.FILE;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                Files.deleteIfExists(file);
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete blob file " + file, e);
            }
        }
    }

    @Override
    public String toString() {
        return "private file " + file;
    }
}
