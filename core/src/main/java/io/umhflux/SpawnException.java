package io.umhflux;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The kernel refused to start a helper: the blob is not executable (ENOEXEC), its {@code #!} interpreter is
 * missing (ENOENT), exec is forbidden where it was placed (EACCES on a noexec mount), the working directory
 * is missing, or the system is out of processes or descriptors.
 *
 * <p>Thrown synchronously by spawn, never reported later as an "exit 127": {@code posix_spawn} reports the
 * exec's own errno. When it is thrown no child is left (not even a zombie) and every descriptor opened for
 * the helper is closed.
 */
public final class SpawnException extends UmhException {
    private static final long serialVersionUID = 1L;

    private final String blobName;
    private final int errno;
    private final String errnoName;
    @SuppressWarnings("serial") // always a List.copyOf, which is serializable
    private final List<String> attempts;

    /**
     * @param blobName the blob that was to be executed
     * @param errno the error number of the last failure
     * @param errnoName its symbolic name, like {@code ENOEXEC}
     * @param message what failed, with its context
     * @param attempts each exec path tried and its result, in order
     * @param cause the underlying failure, or {@code null}
     */
    public SpawnException(String blobName, int errno, String errnoName, String message, List<String> attempts,
            @Nullable Throwable cause) {
        super("cannot spawn blob '" + blobName + "': " + message
                + (attempts.isEmpty() ? "" : "; tried: " + String.join("; ", attempts)), cause);
        this.blobName = blobName;
        this.errno = errno;
        this.errnoName = errnoName;
        this.attempts = List.copyOf(attempts);
    }

    /** @return the name of the blob that failed to start */
    public String blobName() {
        return blobName;
    }

    /** @return the error number of the last failure, as {@code errno(3)} numbers it on this platform */
    public int errno() {
        return errno;
    }

    /** @return the symbolic name of {@link #errno()}, like {@code ENOEXEC} */
    public String errnoName() {
        return errnoName;
    }

    /** @return each exec path tried and its result, in the order tried */
    public List<String> attempts() {
        return attempts;
    }
}
