package io.umhflux.internal.blob;

/**
 * One placement of a blob's bytes that {@code execve} can open by path: a sealed memfd or a private file.
 * Thread-safe; {@link #close()} is idempotent.
 */
public interface ExecImage extends AutoCloseable {
    /** The path handed to {@code posix_spawn}; valid until {@link #close()}. */
    String execPath();

    /** Which kind of placement this is. */
    Placement placement();

    /** Frees the descriptor or deletes the file. */
    @Override
    void close();

    /** The kinds of placement, in the order they are tried. */
    enum Placement {
        /** An anonymous memfd, sealed, executed through {@code /proc/<jvm pid>/fd/<fd>}. */
        MEMFD,
        /** A mode 0500 file in a fresh 0700 directory, deleted on close. */
        FILE
    }
}
