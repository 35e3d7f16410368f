package io.umhflux;

import io.umhflux.internal.blob.BlobAccess;
import io.umhflux.internal.blob.ExecImage;
import io.umhflux.internal.blob.LoadedBlob;
import io.umhflux.internal.os.Platform;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The bytes of an executable (an ELF binary or a {@code #!} script), loaded once and spawned any number of
 * times, without a file on disk.
 *
 * <p>On Linux the bytes go into an anonymous {@code memfd}, sealed against writing, growing, shrinking and
 * further sealing, then hashed: what is hashed is exactly what every spawn executes. One memfd serves
 * every spawn (no copy per spawn). Where the kernel refuses to execute memfds ({@code vm.memfd_noexec=2},
 * seccomp, SELinux) the bytes go into a mode 0500 file in a fresh private directory instead, deleted by
 * {@link #close()}; if that is impossible too, the error names each cause tried.
 *
 * <p>A {@code Blob} is thread-safe. Close it when no more helpers will be spawned from it; helpers already
 * running are unaffected: the memfd or file stays until the last helper spawned from it was reaped, since a
 * {@code #!} script's interpreter opens it by path after the spawn returned.
 *
 * <pre>{@code
 * try (Blob cat = Blob.of(Path.of("/bin/cat"))) {
 *     // spawn helpers from cat
 * }
 * }</pre>
 */
public final class Blob implements AutoCloseable {
    static {
        BlobAccess.install(Blob::loaded);
    }

    /** Longer class paths go through an argument file; well under the kernel's 128 KiB for one argument. */
    private static final int CLASS_PATH_ARGUMENT_BYTES = 32 * 1024;

    private final LoadedBlob loaded;

    private Blob(LoadedBlob loaded) {
        this.loaded = loaded;
    }

    /**
     * Loads {@code bytes} (copied; later changes to the array do not matter) under the name {@code "blob"}.
     *
     * @throws BlobException when no placement can execute it
     */
    public static Blob of(byte[] bytes) {
        return loader().load(bytes);
    }

    /**
     * Loads {@code bytes} under {@code name}, the name shown in {@code /proc/<pid>/exe} and in errors.
     *
     * @throws BlobException when no placement can execute it
     */
    public static Blob of(String name, byte[] bytes) {
        return loader().name(name).load(bytes);
    }

    /**
     * Reads the file at {@code path} once; its file name becomes the blob's name.
     *
     * @throws BlobException when it cannot be read (a directory, missing, unreadable) or placed
     */
    public static Blob of(Path path) {
        return loader().name(fileName(path)).load(path);
    }

    /**
     * Loads a resource, like {@code "helpers/resize"}, of the calling class's class loader (so a helper
     * shipped in an application's jar is found where umh-flux sits in a parent class loader); use
     * {@link Loader#loadResource} to name another.
     *
     * @throws BlobException when the resource is missing or cannot be placed
     */
    public static Blob fromClasspath(String resource) {
        Class<?> caller = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).getCallerClass();
        ClassLoader classLoader = caller.getClassLoader();
        return loader().name(fileName(Path.of(resource))).loadResource(
                classLoader != null ? classLoader : ClassLoader.getSystemClassLoader(), resource);
    }

    /**
     * A {@code #!/bin/sh} launcher that runs {@code mainClass} with this JVM's {@code java} and class path: a
     * JVM application running part of its own code as a separate, crash-isolated, killable helper. Arguments
     * given at spawn are passed to {@code main}.
     *
     * <p>The class path is this JVM's {@code java.class.path}; where classes come from elsewhere (an
     * application server, {@code mvn exec:java}), use {@link #javaMainOnClassPath(String, Class, String...)}.
     *
     * <p>On Java 22 and later the helper's JVM also gets {@code --enable-native-access=ALL-UNNAMED}, and on 23 and
     * later {@code --sun-misc-unsafe-memory-access=allow}: the libraries a helper built with the SDK uses (jnr-ffi's
     * native stub, Netty, Kryo) call native code and {@code sun.misc.Unsafe}, and without these the JVM writes
     * warnings to the helper's stderr, which would then not be the helper's own (and would be kept in its
     * {@link ExitStatus}). Its JVM's own warnings (unified logging) go to stderr instead of stdout, where they would
     * be read as the helper's messages. Options given here come after these, so they can override them.
     *
     * @param jvmOptions options for the helper's JVM, like {@code "-Xmx64m"}
     */
    public static Blob javaMain(Class<?> mainClass, String... jvmOptions) {
        return javaMainOnClassPath(System.getProperty("java.class.path"), mainClass, jvmOptions);
    }

    /**
     * As {@link #javaMain(Class, String...)}, with the helper's class path given.
     *
     * <p>A class path longer than {@value #CLASS_PATH_ARGUMENT_BYTES} bytes reaches the helper's JVM through an
     * argument file ({@code java @file}) loaded as a second sealed memfd beside the launcher, owned and closed with
     * this blob, since the kernel refuses any one argument over 128 KiB ({@code MAX_ARG_STRLEN}); a shorter one is
     * a plain {@code -cp} argument. The helper inherits no descriptor for it: its JVM opens the file by path.
     *
     * @param classPath the helper JVM's {@code -cp}
     */
    public static Blob javaMainOnClassPath(String classPath, Class<?> mainClass, String... jvmOptions) {
        Objects.requireNonNull(mainClass, "mainClass");
        Objects.requireNonNull(classPath, "classPath");
        StringBuilder script = new StringBuilder("#!/bin/sh\nexec ")
                .append(shellQuote(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        // the helper runs this JVM's java: the same release
        int release = Runtime.version().feature();
        // the JVM's own warnings go to stdout by default, where they would break the helper's protocol
        script.append(" -Xlog:disable -Xlog:all=warning:stderr");
        if (release >= 22) {
            script.append(" --enable-native-access=ALL-UNNAMED");
        }
        if (release >= 23) {
            script.append(" --sun-misc-unsafe-memory-access=allow");
        }
        for (String option : jvmOptions) {
            script.append(' ').append(shellQuote(option));
        }
        Blob argumentFile = null;
        if (classPath.getBytes(StandardCharsets.UTF_8).length > CLASS_PATH_ARGUMENT_BYTES) {
            argumentFile = loader().name(mainClass.getSimpleName() + "-classpath")
                    .load(("-cp " + argumentFileQuote(classPath) + "\n").getBytes(StandardCharsets.UTF_8));
            script.append(' ').append(shellQuote("@" + argumentFile.loaded.image().execPath()));
        } else {
            script.append(" -cp ").append(shellQuote(classPath));
        }
        script.append(' ').append(shellQuote(mainClass.getName())).append(" \"$@\"\n");
        try {
            Blob launcher = loader().name(mainClass.getSimpleName())
                    .load(script.toString().getBytes(StandardCharsets.UTF_8));
            if (argumentFile != null) {
                launcher.loaded.closesWith(argumentFile.loaded); // read by the helper JVM as it starts
            }
            return launcher;
        } catch (RuntimeException e) {
            if (argumentFile != null) {
                argumentFile.close();
            }
            throw e;
        }
    }

    private static String shellQuote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /** One argument of a {@code java} argument file: double-quoted, with backslash escapes inside the quotes. */
    private static String argumentFileQuote(String s) {
        StringBuilder quoted = new StringBuilder(s.length() + 16).append('"');
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '\\', '"' -> quoted.append('\\').append(ch);
                case '\n' -> quoted.append("\\n");
                case '\r' -> quoted.append("\\r");
                default -> quoted.append(ch);
            }
        }
        return quoted.append('"').toString();
    }

    /** A loader with the defaults; set a name, a pinned hash or fallback directories on it. */
    public static Loader loader() {
        return Loader.DEFAULT;
    }

    private static String fileName(Path path) {
        Path f = path.getFileName();
        return f == null ? "blob" : f.toString();
    }

    /** @return the name given when loading: shown in errors and {@code /proc/<pid>/exe} */
    public String name() {
        return loaded.name();
    }

    /** @return the number of bytes loaded */
    public long size() {
        return loaded.size();
    }

    /** @return the lowercase hex SHA-256 of the sealed content */
    public String sha256() {
        return loaded.sha256();
    }

    /**
     * @return where the bytes are executed from now; {@link Placement#FILE} after the kernel refused memfds
     * @throws IllegalStateException after {@link #close()}
     */
    public Placement placement() {
        return loaded.image().placement() == ExecImage.Placement.MEMFD ? Placement.MEMFD : Placement.FILE;
    }

    /** @return whether {@link #close()} was called */
    public boolean isClosed() {
        return loaded.isClosed();
    }

    /** For the spawner in this module. */
    LoadedBlob loaded() {
        return loaded;
    }

    /**
     * Frees the memfd or deletes the fallback file (and a long class path's argument file, for
     * {@link #javaMainOnClassPath}), at once or, while helpers spawned from it run, once the last of them was reaped.
     * Idempotent. Spawning afterwards fails with {@link IllegalStateException}; running helpers are unaffected.
     */
    @Override
    public void close() {
        loaded.close();
    }

    @Override
    public String toString() {
        return loaded.toString();
    }

    /** Where a blob's bytes are executed from. */
    public enum Placement {
        /** A sealed anonymous memfd: no file on disk. */
        MEMFD,
        /** A private mode 0500 file, because the kernel refused to execute memfds. */
        FILE
    }

    /**
     * An immutable set of load options; each setter returns a new {@code Loader}.
     *
     * <pre>{@code
     * Blob blob = Blob.loader()
     *         .name("resize")
     *         .sha256("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
     *         .loadResource(MyService.class.getClassLoader(), "helpers/resize");
     * }</pre>
     */
    public static final class Loader {
        static final Loader DEFAULT = new Loader("blob", null, true, defaultFallbackDirectories());

        private final String name;
        private final @Nullable String sha256;
        private final boolean memfd;
        private final List<Path> fallbackDirectories;

        private Loader(String name, @Nullable String sha256, boolean memfd, List<Path> fallbackDirectories) {
            this.name = name;
            this.sha256 = sha256;
            this.memfd = memfd;
            this.fallbackDirectories = fallbackDirectories;
        }

        private static List<Path> defaultFallbackDirectories() {
            List<Path> dirs = new ArrayList<>(2);
            String runtime = System.getenv("XDG_RUNTIME_DIR");
            if (runtime != null && !runtime.isEmpty()) {
                dirs.add(Path.of(runtime));
            }
            dirs.add(Path.of(System.getProperty("java.io.tmpdir", "/tmp")));
            return List.copyOf(dirs);
        }

        /** @param name shown in errors and {@code /proc/<pid>/exe}; default {@code "blob"} */
        public Loader name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isEmpty() || name.indexOf('\0') >= 0 || name.indexOf('/') >= 0) {
                throw new IllegalArgumentException("blob name must be non-empty without '/' or NUL: " + name);
            }
            return new Loader(name, sha256, memfd, fallbackDirectories);
        }

        /**
         * Pins the content: loading fails with {@link BlobException} unless the sealed bytes hash to this.
         *
         * @param sha256 64 hex digits, either case
         */
        public Loader sha256(String sha256) {
            Objects.requireNonNull(sha256, "sha256");
            if (!sha256.matches("[0-9a-fA-F]{64}")) {
                throw new IllegalArgumentException("sha256 must be 64 hex digits: " + sha256);
            }
            return new Loader(name, sha256.toLowerCase(Locale.ROOT), memfd, fallbackDirectories);
        }

        /**
         * @param memfd {@code false} to skip the memfd and always use a private file (for systems known to
         *     refuse memfd exec); default {@code true}
         */
        public Loader memfd(boolean memfd) {
            return new Loader(name, sha256, memfd, fallbackDirectories);
        }

        /**
         * @param directories where a private file may be created when memfds cannot be executed, in order;
         *     default {@code $XDG_RUNTIME_DIR} (when set), then {@code java.io.tmpdir}
         */
        public Loader fallbackDirectories(Path... directories) {
            List<Path> dirs = List.of(directories);
            return new Loader(name, sha256, memfd, dirs);
        }

        /** Loads a copy of {@code bytes}. */
        public Blob load(byte[] bytes) {
            Objects.requireNonNull(bytes, "bytes");
            return load(ByteBuffer.wrap(bytes));
        }

        /** Loads the bytes from position to limit of {@code bytes}; the buffer itself is not changed. */
        public Blob load(ByteBuffer bytes) {
            Objects.requireNonNull(bytes, "bytes");
            Platform.requireSupported("load a blob");
            return new Blob(LoadedBlob.load(name, bytes.duplicate(), sha256, memfd, fallbackDirectories));
        }

        /** Reads {@code in} to its end (the caller closes it) and loads what it read. */
        public Blob load(InputStream in) {
            Objects.requireNonNull(in, "in");
            try {
                return load(LoadedBlob.readAll(in));
            } catch (IOException e) {
                throw new BlobException(name, "cannot read the input stream: " + e, List.of(), e);
            }
        }

        /** Reads the file at {@code path} once and loads it. */
        public Blob load(Path path) {
            Objects.requireNonNull(path, "path");
            if (Files.isDirectory(path)) {
                throw new BlobException(name, path + " is a directory, not an executable", List.of(), null);
            }
            try {
                return load(ByteBuffer.wrap(Files.readAllBytes(path)));
            } catch (IOException | UncheckedIOException e) {
                throw new BlobException(name, "cannot read " + path + ": " + e, List.of(), e);
            }
        }

        /** Loads the resource {@code resource} of {@code classLoader}. */
        public Blob loadResource(ClassLoader classLoader, String resource) {
            Objects.requireNonNull(classLoader, "classLoader");
            Objects.requireNonNull(resource, "resource");
            try (InputStream in = classLoader.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new BlobException(name, "no class path resource " + resource, List.of(), null);
                }
                return load(in);
            } catch (IOException e) {
                throw new BlobException(name, "cannot read class path resource " + resource + ": " + e, List.of(), e);
            }
        }
    }
}
