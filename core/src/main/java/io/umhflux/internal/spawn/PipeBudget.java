package io.umhflux.internal.spawn;

import io.umhflux.internal.os.Os;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The default pipe size: a streaming helper's stdin and stdout pipes get up to 1 MiB instead of the kernel's
 * 64 KiB while the helpers holding such pipes stay within a share of the user's pipe allowance; later helpers
 * get the kernel's default until earlier ones are done (exited, and both pipes closed by this JVM).
 *
 * <p>Why a budget: Linux counts the capacity of every pipe a user has open, in pages, against
 * {@code /proc/sys/fs/pipe-user-pages-soft} (16,384 pages, 64 MiB on 4 KiB pages, by default). Past it, every
 * new pipe of that user, in any program, gets two pages, and enlarging one fails. A library that enlarged the
 * pipes of a thousand helpers would push a whole account there. This one takes at most an eighth of the soft
 * limit (2,048 pages, 8 MiB on 4 KiB pages: four helpers at the default), and never more than the kernel allows
 * one pipe ({@code pipe-max-size}, 1 MiB by default). On 64 KiB pages a new pipe already holds 1 MiB: nothing is
 * enlarged there.
 *
 * <p>Why 1 MiB: an event loop is woken through epoll each time a pipe fills or empties, so a larger pipe means
 * fewer wake-ups per byte, and 1 MiB is the kernel's default {@code pipe-max-size}; the echo rows of
 * BENCHMARKS.md compare it with the kernel's 64 KiB pipes. The pages themselves are allocated only as bytes wait
 * in the pipe.
 *
 * <p>Thread-safe.
 */
public final class PipeBudget {
    /** The spec's pipe size meaning "this default" (0 means the kernel's default, more an exact size). */
    public static final int AUTO = -1;
    /** The size of an enlarged stdin or stdout pipe, unless {@code pipe-max-size} is lower. */
    public static final int BYTES = 1 << 20;
    /** Below this, enlarging is not worth a share of the allowance: the kernel's default it is. */
    private static final int MIN_BYTES = 256 * 1024;
    /** A new pipe's capacity in pages (the kernel's {@code PIPE_DEF_BUFFERS}): 64 KiB on 4 KiB pages. */
    private static final int DEFAULT_PIPE_PAGES = 16;

    private static final PipeBudget SHARED = fromProc();

    private final int bytes;
    private final int pagesPerHelper;
    private final int limitPages;
    private final AtomicInteger usedPages = new AtomicInteger();

    /**
     * @param bytes the size of an enlarged pipe
     * @param limitPages the most pages beyond the kernel's default that the helpers holding such pipes may add
     */
    PipeBudget(int bytes, int limitPages) {
        this(bytes, limitPages, pageSize());
    }

    /**
     * @param pageSize the size of a page, the unit of the kernel's pipe accounting: where a page is 64 KiB (some
     *     arm64 kernels), a new pipe already holds 1 MiB, and a pipe of {@code bytes} or less is not enlarged
     */
    PipeBudget(int bytes, int limitPages, int pageSize) {
        this.bytes = bytes;
        // stdin and stdout; nothing to gain (0) when a default pipe is as big
        this.pagesPerHelper = 2 * Math.max(0, bytes / pageSize - DEFAULT_PIPE_PAGES);
        this.limitPages = pagesPerHelper == 0 ? 0 : limitPages;
    }

    /** The size of a page of memory here. */
    static int pageSize() {
        return Os.libc().getpagesize();
    }

    /** The budget of this JVM. */
    public static PipeBudget shared() {
        return SHARED;
    }

    /** @return the size of an enlarged pipe */
    public int bytes() {
        return bytes;
    }

    /** @return whether a helper may have enlarged pipes now; if so, {@link #release()} once this JVM closed both */
    boolean tryReserve() {
        while (true) {
            int used = usedPages.get();
            if (pagesPerHelper == 0 || used + pagesPerHelper > limitPages) {
                return false;
            }
            if (usedPages.compareAndSet(used, used + pagesPerHelper)) {
                return true;
            }
        }
    }

    /** Gives back one helper's reservation. */
    public void release() {
        usedPages.addAndGet(-pagesPerHelper);
    }

    /** Pages reserved now, for tests and diagnostics. */
    public int usedPages() {
        return usedPages.get();
    }

    /** How many helpers at once may have enlarged pipes. */
    public int helpers() {
        return pagesPerHelper == 0 ? 0 : limitPages / pagesPerHelper;
    }

    private static PipeBudget fromProc() {
        long maxPipe = readLong("/proc/sys/fs/pipe-max-size", BYTES);
        int bytes = Integer.highestOneBit((int) Math.min(maxPipe, BYTES)); // a power of two, as the kernel rounds
        if (bytes < MIN_BYTES) {
            return new PipeBudget(MIN_BYTES, 0); // the administrator keeps pipes small: so do we
        }
        long soft = readLong("/proc/sys/fs/pipe-user-pages-soft", 16384);
        long share = soft == 0 ? 2048 : Math.min(2048, soft / 8); // 0 means no soft limit
        return new PipeBudget(bytes, (int) share);
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
