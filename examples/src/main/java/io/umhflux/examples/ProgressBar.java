package io.umhflux.examples;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The demo's progress: on a terminal one line redrawn in place ({@code \r}) with a bar, the percentage, the
 * messages done and the rate; elsewhere (a pipe, a file, a test) a plain line every few seconds. Notes (a
 * kill, a new helper) go on lines of their own above the bar. Called from one thread.
 */
final class ProgressBar {
    private static final int WIDTH = 30;
    private static final long PLAIN_EVERY_NANOS = 2_000_000_000L;

    private final PrintStream out;
    private final boolean terminal;
    private final long total;
    private final long start = System.nanoTime();
    private long lastPlain = start;
    private int drawn;

    /**
     * @param terminal whether {@code out} is a terminal that understands {@code \r}
     * @param total the messages to go
     */
    ProgressBar(PrintStream out, boolean terminal, long total) {
        this.out = out;
        this.terminal = terminal;
        this.total = total;
    }

    /** Shows {@code done} messages: redraws the line, or prints one when the last is a few seconds old. */
    void show(long done) {
        long now = System.nanoTime();
        if (terminal) {
            String line = line(done, now);
            out.print('\r' + line + " ".repeat(Math.max(0, drawn - line.length())));
            out.flush();
            drawn = line.length();
        } else if (now - lastPlain >= PLAIN_EVERY_NANOS) {
            out.println(line(done, now));
            lastPlain = now;
        }
    }

    /** Prints {@code note} on a line of its own; on a terminal the bar is drawn again below it. */
    void note(String note, long done) {
        if (terminal) {
            out.print('\r' + " ".repeat(drawn) + '\r');
            drawn = 0;
            out.println(note);
            show(done);
        } else {
            out.println(note);
        }
    }

    /** Shows the last state and ends the line. */
    void finish(long done) {
        if (terminal) {
            show(done);
            out.println();
        } else {
            out.println(line(done, System.nanoTime()));
        }
    }

    private String line(long done, long now) {
        double fraction = total == 0 ? 1 : (double) done / total;
        int filled = (int) Math.round(fraction * WIDTH);
        double seconds = Math.max(1e-9, (now - start) / 1e9);
        return String.format(Locale.ROOT, "[%s%s] %3d%%  %,d/%,d messages  %,.0f msg/s",
                "#".repeat(filled), ".".repeat(WIDTH - filled), (int) (fraction * 100), done, total, done / seconds);
    }
}
