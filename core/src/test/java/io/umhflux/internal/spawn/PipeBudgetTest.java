package io.umhflux.internal.spawn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.umhflux.internal.os.Os;
import io.umhflux.internal.spawn.PosixSpawner.Spawned;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The budget for enlarged pipes, against real pipes: a spawner with room for one helper enlarges the first
 * helper's stdin and stdout, leaves the second at the kernel's default, and enlarges again once the first
 * gave its reservation back; a failed spawn gives it back by itself.
 */
class PipeBudgetTest {
    private static final String[] NO_ENV = new String[0];
    private static final int SIZE = 256 * 1024;
    /** The pages one helper's two enlarged pipes add beyond two default ones. */
    private static final int ONE_HELPER = 2 * (SIZE / PipeBudget.pageSize() - 16);

    @Test
    void enlargesStdinAndStdoutOnlyWhileTheBudgetLasts() throws Exception {
        assumeEnlargeable();
        PipeBudget budget = new PipeBudget(SIZE, ONE_HELPER); // room for one helper
        PosixSpawner spawner = new PosixSpawner(true, budget);
        List<Spawned> alive = new ArrayList<>();
        try {
            Spawned first = spawn(spawner, alive);
            assertThat(sizes(first)).containsExactly(SIZE, SIZE, defaultSize());
            assertThat(budget.usedPages()).isEqualTo(ONE_HELPER);

            Spawned second = spawn(spawner, alive);
            assertThat(sizes(second)).containsExactly(defaultSize(), defaultSize(), defaultSize());
            assertThat(second.pipeBudget()).isNull();

            first.releasePipes();
            second.releasePipes(); // nothing reserved: a no-op
            assertThat(budget.usedPages()).isZero();
            Spawned third = spawn(spawner, alive);
            assertThat(sizes(third)).containsExactly(SIZE, SIZE, defaultSize());
        } finally {
            stop(alive);
        }
    }

    @Test
    void exactSizesAndTheKernelsDefaultTakeNothingFromTheBudget() throws Exception {
        PipeBudget budget = new PipeBudget(SIZE, ONE_HELPER);
        PosixSpawner spawner = new PosixSpawner(true, budget);
        List<Spawned> alive = new ArrayList<>();
        try {
            Spawned exact = spawner.spawn("/bin/cat", new String[] {"cat"}, NO_ENV, null, 1 << 20);
            alive.add(exact);
            assertThat(sizes(exact)).containsExactly(1 << 20, 1 << 20, 1 << 20);
            Spawned kernels = spawner.spawn("/bin/cat", new String[] {"cat"}, NO_ENV, null, 0);
            alive.add(kernels);
            assertThat(sizes(kernels)).containsExactly(defaultSize(), defaultSize(), defaultSize());
            assertThat(budget.usedPages()).isZero();
        } finally {
            stop(alive);
        }
    }

    /**
     * The kernel refuses to enlarge (here: a size it cannot round, EINVAL; for an unprivileged user past
     * pipe-user-pages-soft it is EPERM): the helper still starts, on the kernel's pipes, and the reservation is
     * given back.
     */
    @Test
    void aRefusalToEnlargeFallsBackToTheKernelsPipes() throws Exception {
        PipeBudget budget = new PipeBudget(Integer.MAX_VALUE, Integer.MAX_VALUE);
        spawnKeepsTheKernelsPipes(budget);
        assertThat(budget.usedPages()).isZero();
    }

    @Test
    void aFailedSpawnGivesItsReservationBack() {
        PipeBudget budget = new PipeBudget(SIZE, ONE_HELPER);
        PosixSpawner spawner = new PosixSpawner(true, budget);
        assertThatThrownBy(() -> spawner.spawn("/nonexistent/helper", new String[] {"helper"}, NO_ENV, null,
                PipeBudget.AUTO)).isInstanceOf(PosixSpawner.SpawnFailure.class);
        assertThat(budget.usedPages()).isZero();
    }

    @Test
    void theSharedBudgetTakesAnEighthOfTheSoftLimitAtMost() throws Exception {
        long maxPipe = PipeBudget.readLong("/proc/sys/fs/pipe-max-size", -1);
        long soft = PipeBudget.readLong("/proc/sys/fs/pipe-user-pages-soft", -1);
        // the whole number, not its first digit (a sysctl file read from offset 1 is at its end)
        assertThat(maxPipe).isEqualTo(Long.parseLong(Files.readAllLines(Path.of("/proc/sys/fs/pipe-max-size"))
                .get(0).trim()));
        int bytes = Integer.highestOneBit((int) Math.min(maxPipe, PipeBudget.BYTES));
        PipeBudget shared = PipeBudget.shared();
        if (bytes < 256 * 1024) {
            assertThat(shared.helpers()).isZero();
            return;
        }
        long pages = soft == 0 ? 2048 : Math.min(2048, soft / 8);
        assertThat(shared.bytes()).isEqualTo(bytes);
        int perHelper = 2 * Math.max(0, bytes / PipeBudget.pageSize() - 16);
        assertThat(shared.helpers()).isEqualTo(perHelper == 0 ? 0 : (int) (pages / perHelper));
    }

    /** The budget counts in the kernel's pages, whatever their size here. */
    @Test
    void pagesAreTheSystemsPages() throws Exception {
        Process getconf = new ProcessBuilder("getconf", "PAGESIZE").start();
        String answer = new String(getconf.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        assertThat(getconf.waitFor()).isZero();
        assertThat(PipeBudget.pageSize()).isEqualTo(Integer.parseInt(answer.trim()));
    }

    /**
     * On 64 KiB pages (some arm64 kernels) a new pipe already holds 16 pages, 1 MiB: a budget for 1 MiB pipes
     * there reserves nothing and enlarges nothing; 2 MiB pipes would take 16 pages each. With 4 KiB pages counted
     * as before, a 1 MiB pipe is 240 pages beyond the default.
     */
    @Test
    void onPagesOf64KibANewPipeIsAlreadyAMibAndNothingIsEnlarged() throws Exception {
        PipeBudget big = new PipeBudget(1 << 20, 2048, 64 * 1024);
        assertThat(big.helpers()).isZero();
        assertThat(big.tryReserve()).isFalse();
        assertThat(big.usedPages()).isZero();
        assertThat(new PipeBudget(2 << 20, 2048, 64 * 1024).helpers()).isEqualTo(2048 / 32);
        assertThat(new PipeBudget(1 << 20, 2048, 4096).helpers()).isEqualTo(2048 / 480);
        // a spawner on it keeps the kernel's pipes (here: this machine's default), and gives nothing back
        spawnKeepsTheKernelsPipes(big);
    }

    /** A helper spawned on {@code budget} gets the kernel's three pipes and holds no reservation. */
    private static void spawnKeepsTheKernelsPipes(PipeBudget budget) throws Exception {
        PosixSpawner spawner = new PosixSpawner(true, budget);
        List<Spawned> alive = new ArrayList<>();
        try {
            Spawned s = spawn(spawner, alive);
            assertThat(sizes(s)).containsExactly(defaultSize(), defaultSize(), defaultSize());
            assertThat(s.pipeBudget()).isNull();
        } finally {
            stop(alive);
        }
    }

    /** These tests enlarge pipes to {@link #SIZE}: not where a page is so big that a new pipe already holds it. */
    private static void assumeEnlargeable() {
        assumeTrue(ONE_HELPER > 0, "a new pipe holds 16 pages of " + PipeBudget.pageSize() + " bytes here");
    }

    private static Spawned spawn(PosixSpawner spawner, List<Spawned> alive) throws Exception {
        Spawned s = spawner.spawn("/bin/cat", new String[] {"cat"}, NO_ENV, null, PipeBudget.AUTO);
        alive.add(s);
        return s;
    }

    private static int[] sizes(Spawned s) {
        return new int[] {size(s.stdin()), size(s.stdout()), size(s.stderr())};
    }

    private static int size(int fd) {
        int n = Os.libc().fcntl(fd, Os.F_GETPIPE_SZ, 0);
        assertThat(n).as("F_GETPIPE_SZ errno %s", n < 0 ? Os.describe(Os.errno()) : "").isPositive();
        return n;
    }

    /** A fresh pipe's capacity (64 KiB, unless this user is past its soft limit). */
    private static int defaultSize() {
        int[] fds = new int[2];
        assertThat(Os.libc().pipe2(fds, Os.O_CLOEXEC)).isZero();
        try {
            return size(fds[0]);
        } finally {
            Os.close(fds[0]);
            Os.close(fds[1]);
        }
    }

    /** Closes stdin (cat exits), the other ends, and reaps. */
    private static void stop(List<Spawned> alive) {
        for (Spawned s : alive) {
            Os.close(s.stdin());
            Os.close(s.stdout());
            Os.close(s.stderr());
            Os.libc().kill(s.pid(), Os.SIGKILL);
            Os.libc().waitid(1 /* P_PID */, s.pid(), Os.allocate(Os.SIGINFO_BYTES), Os.WEXITED);
        }
    }
}
