package io.umhflux.internal.blob;

import io.umhflux.BlobException;
import io.umhflux.internal.os.Os;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * A blob's bytes placed where {@code execve} can reach them, hashed after placement, and moved to a private
 * file if the kernel later refuses to execute the memfd. Thread-safe: any number of threads spawn from it.
 *
 * <p>A spawn and the helper it starts hold the placements open ({@link #retain()} until {@link #release()}), past
 * a {@link #close()}: the kernel hands a script's interpreter, the sandbox's launcher and a helper JVM's argument
 * file the placement's path, which they open after the spawn returned; closed at once, its descriptor number could
 * be gone, or be another blob's, by then. A close refuses new spawns at once and frees the placements once the last
 * helper started from them was reaped.
 */
public final class LoadedBlob implements AutoCloseable {
    private static final int HASH_CHUNK = 64 * 1024;

    private final String name;
    private final long size;
    private final String sha256;
    private final List<Path> fallbackDirectories;
    private final List<ExecImage> retired = new ArrayList<>();
    private ExecImage image;
    private boolean closed;
    /** Spawns under way and helpers not yet reaped that were started from these placements. */
    private int users;
    /** Closed with this blob's placements: a blob whose path this one's bytes name (an argument file). */
    private @Nullable LoadedBlob dependent;

    private LoadedBlob(String name, long size, String sha256, List<Path> fallbackDirectories, ExecImage image) {
        this.name = name;
        this.size = size;
        this.sha256 = sha256;
        this.fallbackDirectories = fallbackDirectories;
        this.image = image;
    }

    /**
     * Places {@code bytes}: a sealed memfd if {@code memfd} allows it and the kernel agrees, otherwise a
     * private file in the first usable of {@code fallbackDirectories}. Hashes what was placed, after it
     * was sealed, and compares with {@code pinnedSha256}.
     *
     * @throws BlobException naming each placement tried and why it failed, or the hash mismatch
     */
    public static LoadedBlob load(String name, ByteBuffer bytes, @Nullable String pinnedSha256, boolean memfd,
            List<Path> fallbackDirectories) {
        List<String> attempts = new ArrayList<>();
        ExecImage image = null;
        if (memfd) {
            try {
                image = SealedMemfd.create(name, bytes);
            } catch (IOException e) {
                attempts.add("sealed memfd: " + e.getMessage());
            }
        } else {
            attempts.add("sealed memfd: disabled by the loader");
        }
        if (image == null) {
            image = placeInFile(name, bytes, fallbackDirectories, attempts);
        }
        if (image == null) {
            throw new BlobException(name, "no placement can execute it", attempts, null);
        }
        String actual;
        try {
            actual = hash(image);
        } catch (IOException | RuntimeException e) {
            image.close();
            throw new BlobException(name, "cannot hash the placed content: " + e.getMessage(), attempts, e);
        }
        if (pinnedSha256 != null && !pinnedSha256.toLowerCase(Locale.ROOT).equals(actual)) {
            image.close();
            throw new BlobException(name, "SHA-256 mismatch: pinned " + pinnedSha256.toLowerCase(Locale.ROOT)
                    + ", sealed content has " + actual + "; refused before any exec", List.of(), null);
        }
        return new LoadedBlob(name, bytes.remaining(), actual, List.copyOf(fallbackDirectories), image);
    }

    private static @Nullable ExecImage placeInFile(String name, ByteBuffer bytes, List<Path> dirs,
            List<String> attempts) {
        if (dirs.isEmpty()) {
            attempts.add("private file: no fallback directory configured");
        }
        for (Path dir : dirs) {
            try {
                return PrivateFile.create(dir, name, bytes);
            } catch (IOException e) {
                attempts.add("private file in " + e.getMessage());
            }
        }
        return null;
    }

    /** Reads a whole stream; the caller closes it. */
    public static ByteBuffer readAll(InputStream in) throws IOException {
        return ByteBuffer.wrap(in.readAllBytes());
    }

    private static String hash(ExecImage image) throws IOException {
        MessageDigest digest = sha256Digest();
        if (image instanceof SealedMemfd) {
            int fd = ((SealedMemfd) image).fd();
            ByteBuffer buf = ByteBuffer.allocateDirect(HASH_CHUNK);
            long offset = 0;
            while (true) {
                buf.clear();
                long n = Os.libc().pread(fd, buf, buf.capacity(), offset);
                if (n < 0) {
                    if (Os.errno() == Os.EINTR) {
                        continue;
                    }
                    throw new IOException("pread memfd: " + Os.describe(Os.errno()));
                }
                if (n == 0) {
                    break;
                }
                buf.limit((int) n);
                digest.update(buf);
                offset += n;
            }
        } else {
            digest.update(Files.readAllBytes(((PrivateFile) image).file()));
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static @Nullable String hashOrNull(ExecImage image) {
        try {
            return hash(image);
        } catch (IOException e) {
            return null;
        }
    }

    private static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** The current placement; throws if the blob was closed. */
    public synchronized ExecImage image() {
        if (closed) {
            throw new IllegalStateException("blob '" + name + "' is closed");
        }
        return image;
    }

    /**
     * The current placement, held open until {@link #release()} (once for each call), even past a {@link #close()}:
     * for a spawn, and then for the helper it started until it is reaped.
     *
     * @throws IllegalStateException if the blob was closed
     */
    public synchronized ExecImage retain() {
        ExecImage current = image();
        users++;
        return current;
    }

    /** Lets go of what one {@link #retain()} held; the last one after a {@link #close()} frees the placements. */
    public void release() {
        synchronized (this) {
            if (users <= 0) {
                throw new IllegalStateException("blob '" + name + "' released more often than retained");
            }
            if (--users > 0 || !closed) {
                return;
            }
        }
        closeImages();
    }

    /**
     * {@code other} is closed with this blob's placements, once no helper started from them can still open its path:
     * the argument file a launcher script names.
     */
    public synchronized void closesWith(LoadedBlob other) {
        if (closed) {
            throw new IllegalStateException("blob '" + name + "' is closed");
        }
        dependent = other;
    }

    /**
     * The kernel refused to execute {@code refused} (a memfd): place the same sealed bytes in a private file
     * and use that from now on. Returns the new image, or the current one if another thread already moved.
     *
     * @param attempts receives why each fallback directory could not serve
     * @return the file image, or {@code null} when no directory could hold an executable file
     */
    public synchronized @Nullable ExecImage fallBack(ExecImage refused, List<String> attempts) {
        if (closed) {
            throw new IllegalStateException("blob '" + name + "' is closed");
        }
        if (image != refused) {
            return image;
        }
        if (!(refused instanceof SealedMemfd)) {
            return null;
        }
        ByteBuffer bytes;
        try {
            bytes = ByteBuffer.wrap(Files.readAllBytes(Path.of("/proc/self/fd/" + ((SealedMemfd) refused).fd())));
        } catch (IOException e) {
            attempts.add("reading the sealed memfd back: " + e.getMessage());
            return null;
        }
        if (bytes.remaining() != size) {
            attempts.add("reading the sealed memfd back: " + bytes.remaining() + " bytes, expected " + size);
            return null;
        }
        String interpreter = unexecutableInterpreter(bytes);
        if (interpreter != null) {
            // exec refuses the script's interpreter, not the memfd: a file on disk would be refused the same way
            attempts.add("its #! interpreter " + interpreter + " is not an executable file, so the refusal is not"
                    + " the memfd's; the blob stays in its memfd");
            return null;
        }
        ExecImage file = placeInFile(name, bytes, fallbackDirectories, attempts);
        if (file != null && !sha256.equals(hashOrNull(file))) {
            attempts.add(file + ": content does not hash to " + sha256);
            file.close();
            return null;
        }
        if (file != null) {
            retired.add(image);
            image = file;
        }
        return file;
    }

    public String name() {
        return name;
    }

    public long size() {
        return size;
    }

    public String sha256() {
        return sha256;
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    /**
     * Refuses new spawns from now on, and frees the placements now, or once the helpers started from them were
     * reaped.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            if (users > 0) {
                return; // the last release frees them
            }
        }
        closeImages();
    }

    /** Once closed and no longer used: frees the placements, then the dependent blob. */
    private void closeImages() {
        List<ExecImage> images;
        LoadedBlob other;
        synchronized (this) {
            images = new ArrayList<>(retired);
            images.add(image);
            retired.clear();
            other = dependent;
            dependent = null;
        }
        RuntimeException failure = null;
        for (ExecImage img : images) {
            failure = closeCollecting(img::close, failure);
        }
        if (other != null) {
            failure = closeCollecting(other::close, failure);
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static @Nullable RuntimeException closeCollecting(Runnable close, @Nullable RuntimeException failure) {
        try {
            close.run();
            return failure;
        } catch (RuntimeException e) {
            if (failure == null) {
                return e;
            }
            failure.addSuppressed(e);
            return failure;
        }
    }

    @Override
    public String toString() {
        return "blob '" + name + "' (" + size + " bytes, sha256 " + sha256 + ")";
    }

    /**
     * For a script ({@code #!} first), its interpreter when that is not a regular file that may be executed (the
     * kernel's EACCES for {@code #!/etc/passwd} or {@code #!/tmp}); otherwise null.
     */
    private static @Nullable String unexecutableInterpreter(ByteBuffer bytes) {
        int n = Math.min(bytes.remaining(), 256); // the kernel reads at most this much of a #! line
        if (n < 3 || bytes.get(bytes.position()) != '#' || bytes.get(bytes.position() + 1) != '!') {
            return null;
        }
        StringBuilder line = new StringBuilder();
        for (int i = 2; i < n; i++) {
            char c = (char) (bytes.get(bytes.position() + i) & 0xff);
            if (c == '\n') {
                break;
            }
            line.append(c);
        }
        String[] words = line.toString().trim().split("[ \t]+", 2);
        if (words[0].isEmpty()) {
            return null;
        }
        Path interpreter = Path.of(words[0]);
        return Files.isRegularFile(interpreter) && Files.isExecutable(interpreter) ? null : words[0];
    }
}
