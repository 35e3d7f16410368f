package io.umhflux;

import org.jspecify.annotations.Nullable;

/**
 * A helper ended badly: it exited non-zero or was killed, closed its stdin while we were writing (EPIPE),
 * sent bytes that form no valid frame, or left its stdout open after it exited. Arrives through
 * {@code onError}, always after every message the helper wrote before was delivered.
 *
 * <p>{@link #exitStatus()} carries the exit code or signal and the last stderr lines, when the helper's end
 * is known by the time of the error.
 */
public final class HelperFailedException extends UmhException {
    private static final long serialVersionUID = 1L;

    private final String helperName;
    private final long pid;
    private final transient @Nullable ExitStatus exitStatus;

    /**
     * @param helperName the blob's name
     * @param pid the helper's pid
     * @param message what went wrong
     * @param exitStatus how the helper ended, if known
     * @param cause the underlying failure, if any
     */
    public HelperFailedException(String helperName, long pid, String message, @Nullable ExitStatus exitStatus,
            @Nullable Throwable cause) {
        super(format(helperName, pid, message, exitStatus), cause);
        this.helperName = helperName;
        this.pid = pid;
        this.exitStatus = exitStatus;
    }

    private static String format(String name, long pid, String message, @Nullable ExitStatus status) {
        StringBuilder sb = new StringBuilder("helper '").append(name).append("' (pid ").append(pid).append("): ")
                .append(message);
        if (status != null) {
            sb.append(" [").append(status.summary()).append(']');
            if (!status.stderrTail().isEmpty()) {
                sb.append("; last stderr lines:");
                for (String line : status.stderrTail()) {
                    sb.append("\n  ").append(line);
                }
            }
        }
        return sb.toString();
    }

    /** @return the blob name of the helper */
    public String helperName() {
        return helperName;
    }

    /** @return the helper's pid */
    public long pid() {
        return pid;
    }

    /** @return how the helper ended, with its last stderr lines; {@code null} if not known at the error */
    public @Nullable ExitStatus exitStatus() {
        return exitStatus;
    }
}
