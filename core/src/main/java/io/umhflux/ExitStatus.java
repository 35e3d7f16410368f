package io.umhflux;

import java.util.List;
import java.util.Objects;
import jnr.constants.platform.Signal;

/**
 * How a helper ended: its exit code, or the signal that killed it (and whether it dumped core), with the
 * last lines it wrote to stderr. Immutable.
 */
public final class ExitStatus {
    /** Stderr lines {@link #toString()} shows at most. */
    private static final int SHOWN_LINES = 3;
    /** Characters of a stderr line {@link #toString()} shows at most. */
    private static final int SHOWN_CHARS = 200;

    private final int code;
    private final int signal;
    private final boolean coreDumped;
    private final List<String> stderrTail;

    private ExitStatus(int code, int signal, boolean coreDumped, List<String> stderrTail) {
        this.code = code;
        this.signal = signal;
        this.coreDumped = coreDumped;
        this.stderrTail = List.copyOf(stderrTail);
    }

    /** @return a helper that called {@code exit(code)} */
    public static ExitStatus exited(int code) {
        if (code < 0 || code > 255) {
            throw new IllegalArgumentException("exit code must be 0..255: " + code);
        }
        return new ExitStatus(code, 0, false, List.of());
    }

    /** @return a helper killed by {@code signal} */
    public static ExitStatus killed(int signal, boolean coreDumped) {
        if (signal <= 0) {
            throw new IllegalArgumentException("signal must be positive: " + signal);
        }
        return new ExitStatus(-1, signal, coreDumped, List.of());
    }

    /** @return this status carrying {@code lines}, the last lines the helper wrote to stderr */
    public ExitStatus withStderrTail(List<String> lines) {
        return new ExitStatus(code, signal, coreDumped, lines);
    }

    /** @return whether the helper exited by itself (not killed by a signal) */
    public boolean hasExited() {
        return signal == 0;
    }

    /** @return the exit code 0..255, or -1 when killed by a signal */
    public int code() {
        return code;
    }

    /** @return the signal that killed the helper, or 0 when it exited by itself */
    public int signal() {
        return signal;
    }

    /** @return whether the killing signal dumped core */
    public boolean coreDumped() {
        return coreDumped;
    }

    /** @return whether the helper exited with code 0 */
    public boolean isSuccess() {
        return signal == 0 && code == 0;
    }

    /** @return the last lines the helper wrote to stderr, oldest first; empty when none were kept */
    public List<String> stderrTail() {
        return stderrTail;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ExitStatus)) {
            return false;
        }
        ExitStatus that = (ExitStatus) o;
        return code == that.code && signal == that.signal && coreDumped == that.coreDumped
                && stderrTail.equals(that.stderrTail);
    }

    @Override
    public int hashCode() {
        return Objects.hash(code, signal, coreDumped, stderrTail);
    }

    /** @return like {@code "exit 3"} or {@code "killed by SIGSEGV (11), core dumped"}, without the stderr tail */
    public String summary() {
        if (signal == 0) {
            return "exit " + code;
        }
        return "killed by " + signalName(signal) + " (" + signal + ")" + (coreDumped ? ", core dumped" : "");
    }

    /**
     * @return the {@link #summary()}, then the last {@value #SHOWN_LINES} stderr lines kept, each cut at
     *     {@value #SHOWN_CHARS} characters: {@code exit 1; stderr: "error: bad input" | "at line 3"}, so that a log
     *     line or a failed assertion shows why two statuses differ
     */
    @Override
    public String toString() {
        if (stderrTail.isEmpty()) {
            return summary();
        }
        StringBuilder sb = new StringBuilder(summary()).append("; stderr: ");
        int from = Math.max(0, stderrTail.size() - SHOWN_LINES);
        if (from > 0) {
            sb.append("... | ");
        }
        for (int i = from; i < stderrTail.size(); i++) {
            String line = stderrTail.get(i);
            sb.append(i > from ? " | " : "").append('"')
                    .append(line.length() > SHOWN_CHARS ? line.substring(0, SHOWN_CHARS) + "..." : line).append('"');
        }
        return sb.toString();
    }

    private static String signalName(int signal) {
        switch (signal) {
            case 6:
                return "SIGABRT"; // jnr-constants names it by its alias SIGIOT
            case 31:
                return "SIGSYS"; // and this one SIGUNUSED
            default:
                Signal s = Signal.valueOf(signal);
                return s == null || s.name().startsWith("__UNKNOWN") ? "signal" : s.name();
        }
    }
}
