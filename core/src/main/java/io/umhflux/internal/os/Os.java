package io.umhflux.internal.os;

import jnr.constants.platform.Errno;

/**
 * The one binding of {@link LibC}, its constants, and errno formatting.
 *
 * <p>Constants are Linux's generic values, identical on x86_64 and aarch64, the two supported platforms.
 */
public final class Os {
    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;

    public static final int F_DUPFD_CLOEXEC = 1030;
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;
    public static final int F_SETPIPE_SZ = 1031;
    public static final int F_GETPIPE_SZ = 1032;
    public static final long FIONREAD = 0x541B;
    public static final int F_ADD_SEALS = 1033;
    public static final int F_GET_SEALS = 1034;
    public static final int F_SEAL_SEAL = 0x1;
    public static final int F_SEAL_SHRINK = 0x2;
    public static final int F_SEAL_GROW = 0x4;
    public static final int F_SEAL_WRITE = 0x8;

    public static final int MFD_CLOEXEC = 0x1;
    public static final int MFD_ALLOW_SEALING = 0x2;
    public static final int MFD_EXEC = 0x10;

    public static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    public static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    public static final short POSIX_SPAWN_SETSID = 0x80;

    public static final int SYS_PIDFD_SEND_SIGNAL = 424;
    public static final int SYS_PIDFD_OPEN = 434;
    public static final int P_PIDFD = 3;
    public static final int WNOHANG = 1;
    public static final int WEXITED = 4;
    public static final int CLD_EXITED = 1;
    public static final int CLD_KILLED = 2;
    public static final int CLD_DUMPED = 3;

    public static final int SIGKILL = 9;
    public static final int SIGPIPE = 13;
    public static final int SIGTERM = 15;
    public static final int SIG_BLOCK = 0;

    public static final int ST_NOEXEC = 8;

    public static final int EINTR = 4;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EACCES = 13;
    public static final int EPERM = 1;
    public static final int EINVAL = 22;
    public static final int ENOSYS = 38;
    public static final int ENOTDIR = 20;
    public static final int ECHILD = 10;

    /** glibc's {@code posix_spawn_file_actions_t} is 80 bytes and {@code posix_spawnattr_t} 336; room to spare. */
    public static final int SPAWN_STRUCT_BYTES = 512;
    /** {@code sigset_t} and {@code siginfo_t} are both 128 bytes on Linux. */
    public static final int SIGSET_BYTES = 128;
    public static final int SIGINFO_BYTES = 128;
    /** {@code struct sigaction} is 152 bytes on x86_64 glibc; room to spare. */
    public static final int SIGACTION_BYTES = 256;

    /**
     * Whether this JVM hands native code a pinned array itself ({@code GetPrimitiveArrayCritical} on HotSpot, with
     * any of its collectors) rather than a copy that it writes back whole on release (OpenJ9's arraylets): only then
     * may the pipes read and write straight from a pooled heap buffer's array, which other buffers share. The system
     * property {@code io.umhflux.pinnedIo=false} turns it off (the tests run both ways).
     */
    public static final boolean PINS_ARRAYS = pinsArrays(System.getProperty("java.vm.name", ""))
            && !"false".equals(System.getProperty("io.umhflux.pinnedIo"));

    private static final LibC LIBC = layer(System.getProperty("io.umhflux.native", ""));

    private Os() {
    }

    static boolean pinsArrays(String vmName) {
        return vmName.contains("HotSpot") || vmName.startsWith("OpenJDK");
    }

    /**
     * The native layer: the FFM API on Java 22+ when this build has it ({@code FfmLayer} is compiled where a JDK
     * 22+ builds the library), jnr-ffi otherwise, or as {@code -Dio.umhflux.native=jnr|ffm} asks.
     */
    private static LibC layer(String asked) {
        if (!asked.equals("jnr") && Runtime.version().feature() >= 22) {
            try {
                return (LibC) Class.forName("io.umhflux.internal.os.FfmLayer").getDeclaredConstructor()
                        .newInstance();
            } catch (ClassNotFoundException e) {
                if (asked.equals("ffm")) {
                    throw new IllegalStateException("-Dio.umhflux.native=ffm: this build has no FFM layer (it is"
                            + " compiled where a JDK 22+ builds the library)", e);
                }
            } catch (ReflectiveOperationException | LinkageError e) {
                if (asked.equals("ffm")) {
                    throw new IllegalStateException("-Dio.umhflux.native=ffm: the FFM layer failed to start", e);
                }
                org.slf4j.LoggerFactory.getLogger(Os.class).warn("the FFM native layer failed to start; using"
                        + " jnr-ffi", e);
            }
        } else if (asked.equals("ffm")) {
            throw new IllegalStateException("-Dio.umhflux.native=ffm needs Java 22+, this is "
                    + Runtime.version());
        }
        return new JnrLayer();
    }

    /** @return the C library calls, through the native layer in use */
    public static LibC libc() {
        return LIBC;
    }

    /** @return {@code "ffm"} or {@code "jnr"}: the native layer in use */
    public static String layerName() {
        return LIBC instanceof JnrLayer ? "jnr" : "ffm";
    }

    /** The {@code errno} the last failed call on this thread left. */
    public static int errno() {
        return LIBC.errno();
    }

    /** Zeroed native memory of {@code bytes}, freed once unreachable. */
    public static NativeMemory allocate(int bytes) {
        return LIBC.allocate(bytes);
    }

    /** {@code "ENOENT (No such file or directory)"}. */
    public static String describe(int errno) {
        Errno e = Errno.valueOf(errno);
        if (e == null || e.name().startsWith("__UNKNOWN")) {
            return "errno " + errno;
        }
        return e.name() + " (" + e.description() + ")";
    }

    /** {@code "ENOENT"}, or {@code "errno 123"} where the name is unknown. */
    public static String name(int errno) {
        Errno e = Errno.valueOf(errno);
        return e == null || e.name().startsWith("__UNKNOWN") ? "errno " + errno : e.name();
    }

    /** Sets {@code O_NONBLOCK} on {@code fd}; returns {@code errno} or 0. */
    public static int setNonBlocking(int fd) {
        int flags = LIBC.fcntl(fd, F_GETFL, 0);
        if (flags < 0) {
            return errno();
        }
        return LIBC.fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ? errno() : 0;
    }

    /** Closes {@code fd}, ignoring EINTR (Linux always frees the descriptor); returns errno or 0. */
    public static int close(int fd) {
        if (LIBC.close(fd) == 0) {
            return 0;
        }
        int err = errno();
        return err == EINTR ? 0 : err;
    }
}
