package io.umhflux.internal.pipe;

import java.io.IOException;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * What a helper's stdout and stdin pipes tell the handle that owns them, on the event loop: the helper's end, its
 * descriptors closed, bytes for the metrics, and the errors that need the helper's exit status.
 */
public interface PipeOwner {
    // ---- stdout (InboundPipe)

    /** The subscriber cancelled: stop the helper. */
    void inboundCancelled();

    /** Bytes that can never be a message arrived; the inbound side is failing with {@code error}. */
    void inboundFrameError(FrameException error);

    /** End of file on stdout. */
    void inboundEof();

    /** {@code bytes} were read from stdout (for metrics). */
    void bytesRead(int bytes);

    /** The stdout descriptor was closed (it may be closed more than once: idempotent). */
    void stdoutClosed();

    /** The error to end with when the helper's end was bad. */
    Throwable failureFor(FrameException error);

    /** Builds the terminal error for a helper that ended unsuccessfully, or null for success. */
    @Nullable Throwable endError();

    // ---- stdin (OutboundPipe)

    /**
     * Writing failed ({@code EPIPE}: the helper closed its stdin or exited). The owner answers when it
     * knows the helper's end, with the error to give the sender.
     */
    void writeFailed(IOException error, Consumer<Throwable> then);

    /** {@code bytes} were written to stdin (for metrics). */
    void bytesWritten(long bytes);

    /** The stdin descriptor was closed (it may be closed more than once: idempotent). */
    void stdinClosed();
}
