package io.umhflux;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.unix.FileDescriptor;
import io.umhflux.internal.loop.EventLoops;
import io.umhflux.internal.process.HelperProcess;
import io.umhflux.internal.process.Launcher;
import java.io.BufferedInputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Real helpers, descriptor and zombie counts, blocking pipe access for tests. In this package because
 * {@link #spawn} launches a blob directly, through the package-private {@code Blob.loaded()} and
 * {@code Environment.toEnvp}.
 */
public final class TestHelpers {
    public static final Duration TIMEOUT = Duration.ofSeconds(20);
    public static final long JVM_PID = ProcessHandle.current().pid();

    static {
        // the shared event loops open their epoll, event and timer descriptors once, on first use: open them
        // before any test counts descriptors
        EventLoops.shared().next();
    }

    private TestHelpers() {
    }

    /** {@link io.umhflux.codec.Codecs#bytes()} without its array ways: no {@code ArrayCodec}, for the ByteBuf paths. */
    public static io.umhflux.codec.Codec<byte[]> plainBytes() {
        return PlainBytes.INSTANCE;
    }

    private enum PlainBytes implements io.umhflux.codec.Codec<byte[]> {
        INSTANCE;

        @Override
        public void encode(byte[] value, io.netty.buffer.ByteBuf out) throws Exception {
            io.umhflux.codec.Codecs.bytes().encode(value, out);
        }

        @Override
        public byte[] decode(io.netty.buffer.ByteBuf frame) throws Exception {
            return io.umhflux.codec.Codecs.bytes().decode(frame);
        }
    }

    public static Blob cat() {
        return Blob.of(Path.of("/bin/cat"));
    }

    public static Blob sh() {
        return Blob.of(Path.of("/bin/sh"));
    }

    public static Blob script(String name, String body) {
        return Blob.of(name, ("#!/bin/sh\n" + body + "\n").getBytes(StandardCharsets.UTF_8));
    }

    public static HelperProcess spawn(Blob blob, String... args) {
        return spawn(Launcher.standard(), blob, Environment.inherit(), null, args);
    }

    public static HelperProcess spawn(Launcher launcher, Blob blob, Environment env, @Nullable Path cwd,
            String... args) {
        return launcher.launch(blob.loaded(), new Launcher.Request(blob.name(), List.of(args),
                env.toEnvp(reactor.util.context.Context.empty()), cwd, 0), EventLoops.shared().next());
    }

    public static ExitStatus awaitExit(HelperProcess p) {
        try {
            return p.onExit().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError("helper " + p + " did not exit within " + TIMEOUT, e);
        }
    }

    /** A blocking stream on a pipe end: a second open file description of the same pipe. */
    public static InputStream in(FileDescriptor fd) {
        try {
            // buffered: JDK 17 FileInputStream.readAllBytes seeks, which a pipe refuses
            return new BufferedInputStream(new FileInputStream("/proc/self/fd/" + fd.intValue()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static OutputStream out(FileDescriptor fd) {
        try {
            return new FileOutputStream("/proc/self/fd/" + fd.intValue());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Closes the helper's stdin and reads its stdout to EOF. */
    public static String readAllStdout(HelperProcess p) throws IOException {
        p.stdin().close();
        try (InputStream in = in(p.stdout())) {
            p.stdout().close();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /**
     * The descriptors open in this JVM now, each as {@code "<fd> -> <what it points at>"}. Compare sets, not
     * counts: a helper of an earlier test may still be closing its pipes on an event loop (stderr after its
     * drain timeout, say), which lowers the count while a test runs; what a test must show is that it left no
     * NEW descriptor open. The listing's own descriptor is left out: its number depends on which numbers are
     * free at that moment, so it would look new whenever another thread holds a lower one for an instant.
     */
    public static java.util.Set<String> openFds() {
        java.util.Set<String> out = new java.util.TreeSet<>();
        String self = "/proc/" + JVM_PID + "/fd";
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                String target;
                try {
                    target = Files.readSymbolicLink(fd).toString();
                } catch (IOException closedMeanwhile) {
                    continue;
                }
                if (!target.equals(self)) {
                    out.add(fd.getFileName() + " -> " + target);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /**
     * The descriptors open now that were not in {@code before}, leaving out those the JVM opens by itself: a
     * jar opened the first time another thread loads a class from it, a /proc file read for a moment.
     */
    public static java.util.Set<String> newFds(java.util.Set<String> before) {
        java.util.Set<String> now = new java.util.TreeSet<>(openFds());
        now.removeAll(before);
        now.removeIf(fd -> fd.endsWith(".jar") || fd.contains(" -> /proc/"));
        return now;
    }

    /** This JVM's children now that were not in {@code before}. */
    public static List<Long> newChildren(List<Long> before) {
        List<Long> now = new ArrayList<>(children('*'));
        now.removeAll(before);
        return now;
    }

    /** The pids of this JVM's children in state {@code state} ('Z' for zombies), or in any state for '*'. */
    public static List<Long> children(char state) {
        List<Long> out = new ArrayList<>();
        try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : proc) {
                String stat;
                try {
                    stat = Files.readString(p.resolve("stat"));
                } catch (IOException gone) {
                    continue;
                }
                // pid (comm) state ppid ...; comm may contain spaces and parentheses
                String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                if (Long.parseLong(rest[1]) == JVM_PID && (state == '*' || rest[0].charAt(0) == state)) {
                    out.add(Long.parseLong(p.getFileName().toString()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    public static void assertNoZombies() {
        assertThat(children('Z')).as("zombie children of this JVM").isEmpty();
    }

    /** Whether {@code pid} is gone, or a zombie waiting for a parent other than us. */
    public static boolean goneOrZombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException gone) {
            return true;
        }
    }

    public static boolean alive(long pid) {
        return Files.exists(Path.of("/proc/" + pid));
    }

    /** Gcc, or null where it is missing (tests that need it are skipped with a message). */
    public static @Nullable Path compileC(Path dir, String name, String source)
            throws IOException, InterruptedException {
        Path src = dir.resolve(name + ".c");
        Path exe = dir.resolve(name);
        Files.writeString(src, source);
        Process gcc;
        try {
            gcc = new ProcessBuilder("gcc", "-O2", "-o", exe.toString(), src.toString()).redirectErrorStream(true)
                    .start();
        } catch (IOException noGcc) {
            return null;
        }
        String out = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(gcc.waitFor()).as("gcc output: %s", out).isZero();
        return exe;
    }
}
