package io.umhflux.internal.os;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;

/**
 * {@link LibC} through the Foreign Function &amp; Memory API (Java 22+): no {@code sun.misc.Unsafe}, downcalls the
 * JIT compiles. Calls that set {@code errno} capture it ({@code Linker.Option.captureCallState}) into a segment of
 * the calling thread, which {@link #errno()} reads. {@code read} and {@code write} are critical calls, so that a
 * heap buffer is passed in place, as jnr-ffi pins it: a critical call holds off the JVM's safepoints while it
 * runs, so they are only for descriptors that never block (the pipes are non-blocking, a memfd never waits);
 * {@code pread} and {@code statvfs}, which can wait on a file system, take direct buffers only.
 *
 * <p>Compiled only where a JDK 22+ builds the library (the {@code java22} source root); {@link Os} loads it by
 * name.
 */
@SuppressWarnings({"restricted", "checkstyle:MethodName", "checkstyle:ParameterName"})
final class FfmLayer implements LibC {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option SAVE_ERRNO = Linker.Option.captureCallState("errno");
    private static final Linker.Option IN_PLACE = Linker.Option.critical(true);

    /** Where this thread's calls leave {@code errno}. */
    private static final ThreadLocal<MemorySegment> STATE = ThreadLocal.withInitial(
            () -> Arena.ofAuto().allocate(CAPTURE));

    private static MethodHandle fn(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    private static final MethodHandle MEMFD_CREATE = fn("memfd_create",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), SAVE_ERRNO);
    private static final MethodHandle PIPE2 = fn("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
            SAVE_ERRNO);
    private static final MethodHandle FCNTL = fn("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT,
            JAVA_INT), SAVE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle GETPAGESIZE = fn("getpagesize", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle WRITE = fn("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS,
            JAVA_LONG), SAVE_ERRNO, IN_PLACE);
    private static final MethodHandle READ = fn("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS,
            JAVA_LONG), SAVE_ERRNO, IN_PLACE);
    private static final MethodHandle PREAD = fn("pread", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS,
            JAVA_LONG, JAVA_LONG), SAVE_ERRNO);
    private static final MethodHandle OPEN = fn("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT,
            JAVA_INT), SAVE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = fn("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), SAVE_ERRNO);
    private static final MethodHandle FTRUNCATE = fn("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT,
            JAVA_LONG), SAVE_ERRNO);
    private static final MethodHandle STATVFS = fn("statvfs", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS),
            SAVE_ERRNO);
    private static final MethodHandle GETPID = fn("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle POSIX_SPAWN = fn("posix_spawn", FunctionDescriptor.of(JAVA_INT, ADDRESS,
            ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle ACTIONS_INIT = fn("posix_spawn_file_actions_init",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ACTIONS_DESTROY = fn("posix_spawn_file_actions_destroy",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ADDDUP2 = fn("posix_spawn_file_actions_adddup2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle ADDCLOSE = fn("posix_spawn_file_actions_addclose",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle ADDCHDIR = fn("posix_spawn_file_actions_addchdir_np",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle ATTR_INIT = fn("posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT,
            ADDRESS));
    private static final MethodHandle ATTR_DESTROY = fn("posix_spawnattr_destroy", FunctionDescriptor.of(JAVA_INT,
            ADDRESS));
    private static final MethodHandle SETFLAGS = fn("posix_spawnattr_setflags", FunctionDescriptor.of(JAVA_INT,
            ADDRESS, JAVA_SHORT));
    private static final MethodHandle SETSIGMASK = fn("posix_spawnattr_setsigmask",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SETSIGDEFAULT = fn("posix_spawnattr_setsigdefault",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SIGEMPTYSET = fn("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS),
            SAVE_ERRNO);
    private static final MethodHandle SIGADDSET = fn("sigaddset", FunctionDescriptor.of(JAVA_INT, ADDRESS,
            JAVA_INT), SAVE_ERRNO);
    private static final MethodHandle PTHREAD_SIGMASK = fn("pthread_sigmask", FunctionDescriptor.of(JAVA_INT,
            JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SIGACTION = fn("sigaction", FunctionDescriptor.of(JAVA_INT, JAVA_INT,
            ADDRESS, ADDRESS), SAVE_ERRNO);
    private static final MethodHandle SYSCALL = fn("syscall", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG,
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), SAVE_ERRNO, Linker.Option.firstVariadicArg(1));
    private static final MethodHandle WAITID = fn("waitid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT,
            ADDRESS, JAVA_INT), SAVE_ERRNO);
    private static final MethodHandle KILL = fn("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT),
            SAVE_ERRNO);
    private static final MethodHandle IOCTL = fn("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG,
            ADDRESS), SAVE_ERRNO, Linker.Option.firstVariadicArg(2));

    /** Optional: glibc 2.34+; without it the spawner lists {@code /proc/self/fd}. */
    private static final MethodHandle ADDCLOSEFROM = LINKER.defaultLookup()
            .find("posix_spawn_file_actions_addclosefrom_np")
            .map(s -> LINKER.downcallHandle(s, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT))).orElse(null);

    private static MemorySegment m(NativeMemory memory) {
        return memory == null ? MemorySegment.NULL : ((FfmMemory) memory).segment();
    }

    /** A call that throws only what the native function cannot: a bug in a descriptor here. */
    private static RuntimeException bug(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("native call failed", t);
    }

    private static MemorySegment state() {
        return STATE.get();
    }

    @Override
    public int errno() {
        return (int) ERRNO.get(state(), 0L);
    }

    @Override
    public NativeMemory allocate(int bytes) {
        return new FfmMemory(Arena.ofAuto().allocate(bytes)); // zeroed
    }

    @Override
    public int memfd_create(String name, int flags) {
        try (Arena a = Arena.ofConfined()) {
            return (int) MEMFD_CREATE.invokeExact(state(), a.allocateFrom(name), flags);
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int pipe2(int[] fds, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pair = a.allocate(JAVA_INT, 2);
            int rc = (int) PIPE2.invokeExact(state(), pair, flags);
            fds[0] = pair.getAtIndex(JAVA_INT, 0);
            fds[1] = pair.getAtIndex(JAVA_INT, 1);
            return rc;
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int fcntl(int fd, int cmd, int arg) {
        try {
            return (int) FCNTL.invokeExact(state(), fd, cmd, arg);
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int getpagesize() {
        try {
            return (int) GETPAGESIZE.invokeExact();
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public long write(int fd, ByteBuffer buf, long count) {
        try {
            return (long) WRITE.invokeExact(state(), fd, MemorySegment.ofBuffer(buf), count);
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public long read(int fd, ByteBuffer buf, long count) {
        try {
            return (long) READ.invokeExact(state(), fd, MemorySegment.ofBuffer(buf), count);
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public long pread(int fd, ByteBuffer buf, long count, long offset) {
        try {
            return (long) PREAD.invokeExact(state(), fd, MemorySegment.ofBuffer(buf), count, offset);
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int open(String path, int flags, int mode) {
        try (Arena a = Arena.ofConfined()) {
            return (int) OPEN.invokeExact(state(), a.allocateFrom(path), flags, mode);
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int close(int fd) {
        try {
            return (int) CLOSE.invokeExact(state(), fd);
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int ftruncate(int fd, long length) {
        try {
            return (int) FTRUNCATE.invokeExact(state(), fd, length);
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int statvfs(String path, ByteBuffer buf) {
        try (Arena a = Arena.ofConfined()) {
            return (int) STATVFS.invokeExact(state(), a.allocateFrom(path), MemorySegment.ofBuffer(buf));
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int getpid() {
        try {
            return (int) GETPID.invokeExact();
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    /** A NULL-terminated {@code char *[]} of UTF-8 strings in {@code arena}. */
    private static MemorySegment strings(Arena arena, String[] strings) {
        MemorySegment array = arena.allocate(ADDRESS, strings.length + 1L); // zeroed: the last is NULL
        for (int i = 0; i < strings.length; i++) {
            array.setAtIndex(ADDRESS, i, arena.allocateFrom(strings[i]));
        }
        return array;
    }

    @Override
    public int posix_spawn(int[] pid, String path, NativeMemory fileActions, NativeMemory attr, String[] argv,
            String[] envp) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment child = a.allocate(JAVA_INT);
            int rc = (int) POSIX_SPAWN.invokeExact(child, a.allocateFrom(path), m(fileActions), m(attr),
                    strings(a, argv), strings(a, envp));
            pid[0] = child.get(JAVA_INT, 0);
            return rc;
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int posix_spawn_file_actions_init(NativeMemory fileActions) {
        try {
            return (int) ACTIONS_INIT.invokeExact(m(fileActions));
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int posix_spawn_file_actions_destroy(NativeMemory fileActions) {
        try {
            return (int) ACTIONS_DESTROY.invokeExact(m(fileActions));
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int posix_spawn_file_actions_adddup2(NativeMemory fileActions, int fd, int newFd) {
        try {
            return (int) ADDDUP2.invokeExact(m(fileActions), fd, newFd);
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int posix_spawn_file_actions_addclose(NativeMemory fileActions, int fd) {
        try {
            return (int) ADDCLOSE.invokeExact(m(fileActions), fd);
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int posix_spawn_file_actions_addclosefrom_np(NativeMemory fileActions, int from) {
        if (ADDCLOSEFROM == null) {
            throw new UnsatisfiedLinkError("libc has no posix_spawn_file_actions_addclosefrom_np");
        }
        try {
            return (int) ADDCLOSEFROM.invokeExact(m(fileActions), from);
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int posix_spawn_file_actions_addchdir_np(NativeMemory fileActions, String path) {
        try (Arena a = Arena.ofConfined()) {
            return (int) ADDCHDIR.invokeExact(m(fileActions), a.allocateFrom(path));
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int posix_spawnattr_init(NativeMemory attr) {
        try {
            return (int) ATTR_INIT.invokeExact(m(attr));
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int posix_spawnattr_destroy(NativeMemory attr) {
        try {
            return (int) ATTR_DESTROY.invokeExact(m(attr));
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int posix_spawnattr_setflags(NativeMemory attr, short flags) {
        try {
            return (int) SETFLAGS.invokeExact(m(attr), flags);
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int posix_spawnattr_setsigmask(NativeMemory attr, NativeMemory sigset) {
        try {
            return (int) SETSIGMASK.invokeExact(m(attr), m(sigset));
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int posix_spawnattr_setsigdefault(NativeMemory attr, NativeMemory sigset) {
        try {
            return (int) SETSIGDEFAULT.invokeExact(m(attr), m(sigset));
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int sigemptyset(NativeMemory sigset) {
        try {
            return (int) SIGEMPTYSET.invokeExact(state(), m(sigset));
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int sigaddset(NativeMemory sigset, int signal) {
        try {
            return (int) SIGADDSET.invokeExact(state(), m(sigset), signal);
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int pthread_sigmask(int how, NativeMemory set, NativeMemory oldSet) {
        try {
            return (int) PTHREAD_SIGMASK.invokeExact(how, m(set), m(oldSet));
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int sigaction(int signal, NativeMemory action, NativeMemory oldAction) {
        try {
            return (int) SIGACTION.invokeExact(state(), signal, m(action), m(oldAction));
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int syscall(long number, long a, long b, long c, long d) {
        try {
            return (int) (long) SYSCALL.invokeExact(state(), number, a, b, c, d);
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int waitid(int idType, int id, NativeMemory siginfo, int options) {
        try {
            return (int) WAITID.invokeExact(state(), idType, id, m(siginfo), options);
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int kill(int pid, int signal) {
        try {
            return (int) KILL.invokeExact(state(), pid, signal);
        } catch (Throwable t) {
            throw bug(t);
        }
    }

    @Override
    public int ioctl(int fd, long request, int[] value) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            int rc = (int) IOCTL.invokeExact(state(), fd, request, out);
            value[0] = out.get(JAVA_INT, 0);
            return rc;
        } catch (Throwable t) {
            throw bug(t);
        }
    }
}
