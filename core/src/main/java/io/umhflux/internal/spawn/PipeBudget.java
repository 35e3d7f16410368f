package io.umhflux.internal.spawn;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The default pipe size: a helper's stdin and stdout pipes get {@link #BYTES} instead of the kernel's 64 KiB
 * while the helpers holding such pipes stay within a small share of the user's pipe allowance; later helpers
 * get the kernel's default until earlier ones exit.
 *
 * <p>Why a budget: Linux counts the capacity of every pipe a user has open against
 * {@code /proc/sys/fs/pipe-user-pages-soft} (16,384 pages, 64 MiB, by default). Past it, every new pipe of
 * that user, in any program, gets two pages, and enlarging one fails. A library that enlarged the pipes of
 * a thousand helpers would push a whole account there. This one takes at most a sixteenth of the soft limit
 * (1,024 pages, 4 MiB, for ten helpers at the default), and never more than the kernel allows one pipe
 * ({@code pipe-max-size}).
 *
 * <p>Why 256 KiB: bytes echoed through {@code cat} on 2 cores moved 1.4x as fast as through default pipes
 * (at 4 KiB and 64 KiB chunks, with less CPU); 512 KiB and 1 MiB pipes moved less than 256 KiB
 * (BENCHMARKS.md). The pages themselves are allocated only as bytes wait in the pipe.
 *
 * <p>Thread-safe.
 */
public final class PipeBudget {
    /** The spec's pipe size meaning "this default" (0 means the kernel's default, more an exact size). */
    public static final int AUTO = -1;
    /** The size of an enlarged stdin or stdout pipe. */
    public static final int BYTES = 256 * 1024;

    private static final int PAGE = 4096;
    /** The pages one helper's two enlarged pipes add to the kernel's count (a default pipe has 16). */
    static final int PAGES_PER_HELPER = 2 * (BYTES / PAGE - 16);

    private static final PipeBudget SHARED = new PipeBudget(defaultLimit());

    private final int limitPages;
    private final AtomicInteger usedPages = new AtomicInteger();

    PipeBudget(int limitPages) {
        this.limitPages = limitPages;
    }

    /** The budget of this JVM. */
    public static PipeBudget shared() {
        return SHARED;
    }

    /** @return whether a helper may have enlarged pipes now; if so, {@link #release()} it when it is gone */
    boolean tryReserve() {
        while (true) {
            int used = usedPages.get();
            if (used + PAGES_PER_HELPER > limitPages) {
                return false;
            }
            if (usedPages.compareAndSet(used, used + PAGES_PER_HELPER)) {
                return true;
            }
        }
    }

    /** Gives back one helper's reservation. */
    public void release() {
        usedPages.addAndGet(-PAGES_PER_HELPER);
    }

    /** Pages reserved now, for tests and diagnostics. */
    public int usedPages() {
        return usedPages.get();
    }

    /** How many helpers at once may have enlarged pipes. */
    public int helpers() {
        return limitPages / PAGES_PER_HELPER;
    }

    private static int defaultLimit() {
        long maxPipe = readLong("/proc/sys/fs/pipe-max-size", BYTES);
        if (maxPipe < BYTES) {
            return 0; // the administrator keeps pipes small: so do we
        }
        long soft = readLong("/proc/sys/fs/pipe-user-pages-soft", 16384);
        long share = soft == 0 ? 1024 : Math.min(1024, soft / 16); // 0 means no soft limit
        return (int) share;
    }

    /**
     * The number in a sysctl file. Read through a buffered reader: {@code Files.readString} sees a size of 0 and
     * reads one byte first, and a sysctl file answers a read at offset 1 with end of file ("1" for 1048576).
     */
    static long readLong(String file, long otherwise) {
        try (BufferedReader in = Files.newBufferedReader(Path.of(file))) {
            String line = in.readLine();
            return line == null ? otherwise : Long.parseLong(line.trim());
        } catch (IOException | NumberFormatException | SecurityException e) {
            return otherwise; // not Linux's procfs as expected: the kernel's defaults
        }
    }
}
