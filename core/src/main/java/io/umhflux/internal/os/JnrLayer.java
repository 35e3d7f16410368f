package io.umhflux.internal.os;

import io.umhflux.internal.os.jnr.JnrLibC;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.byref.IntByReference;

/**
 * {@link LibC} through jnr-ffi, for Java 17 to 21 (and where {@code -Dio.umhflux.native=jnr} asks for it). jnr-ffi's
 * native stub uses {@code sun.misc.Unsafe} for memory, which Java 24+ warns about and a later release denies.
 */
final class JnrLayer implements LibC {
    private final JnrLibC c = LibraryLoader.create(JnrLibC.class).load("c");
    private final Runtime runtime = Runtime.getRuntime(c);

    /** jnr's memory behind a {@link NativeMemory}. */
    private static final class Block implements NativeMemory {
        final Pointer pointer;

        Block(Pointer pointer) {
            this.pointer = pointer;
        }

        @Override
        public void putByte(long offset, byte value) {
            pointer.putByte(offset, value);
        }

        @Override
        public void putInt(long offset, int value) {
            pointer.putInt(offset, value);
        }

        @Override
        public void putLong(long offset, long value) {
            pointer.putLong(offset, value);
        }

        @Override
        public int getInt(long offset) {
            return pointer.getInt(offset);
        }
    }

    private static Pointer p(NativeMemory m) {
        return m == null ? null : ((Block) m).pointer;
    }

    @Override
    public int errno() {
        return runtime.getLastError();
    }

    @Override
    public NativeMemory allocate(int bytes) {
        return new Block(Memory.allocateDirect(runtime, bytes, true));
    }

    /** A NULL-terminated {@code char *[]} of UTF-8 strings, all in one zeroed block. */
    private Pointer stringArray(String[] strings) {
        int pointerSize = runtime.addressSize();
        byte[][] utf8 = new byte[strings.length][];
        long stringBytes = 0;
        for (int i = 0; i < strings.length; i++) {
            utf8[i] = strings[i].getBytes(StandardCharsets.UTF_8);
            stringBytes += utf8[i].length + 1;
        }
        long pointerBytes = (long) (strings.length + 1) * pointerSize;
        Pointer block = Memory.allocateDirect(runtime, Math.toIntExact(pointerBytes + stringBytes), true);
        long at = pointerBytes;
        for (int i = 0; i < strings.length; i++) {
            block.put(at, utf8[i], 0, utf8[i].length); // the zeroed block supplies the NUL
            block.putAddress((long) i * pointerSize, block.address() + at);
            at += utf8[i].length + 1;
        }
        return block;
    }

    @Override
    public int memfd_create(String name, int flags) {
        return c.memfd_create(name, flags);
    }

    @Override
    public int pipe2(int[] fds, int flags) {
        return c.pipe2(fds, flags);
    }

    @Override
    public int fcntl(int fd, int cmd, int arg) {
        return c.fcntl(fd, cmd, arg);
    }

    @Override
    public int getpagesize() {
        return c.getpagesize();
    }

    @Override
    public long write(int fd, ByteBuffer buf, long count) {
        return c.write(fd, buf, count);
    }

    @Override
    public long read(int fd, ByteBuffer buf, long count) {
        return c.read(fd, buf, count);
    }

    @Override
    public long pread(int fd, ByteBuffer buf, long count, long offset) {
        return c.pread(fd, buf, count, offset);
    }

    @Override
    public int open(String path, int flags, int mode) {
        return c.open(path, flags, mode);
    }

    @Override
    public int close(int fd) {
        return c.close(fd);
    }

    @Override
    public int ftruncate(int fd, long length) {
        return c.ftruncate(fd, length);
    }

    @Override
    public int statvfs(String path, ByteBuffer buf) {
        return c.statvfs(path, buf);
    }

    @Override
    public int getpid() {
        return c.getpid();
    }

    @Override
    public int posix_spawn(int[] pid, String path, NativeMemory fileActions, NativeMemory attr, String[] argv,
            String[] envp) {
        IntByReference child = new IntByReference();
        int rc = c.posix_spawn(child, path, p(fileActions), p(attr), stringArray(argv), stringArray(envp));
        pid[0] = child.intValue();
        return rc;
    }

    @Override
    public int posix_spawn_file_actions_init(NativeMemory fileActions) {
        return c.posix_spawn_file_actions_init(p(fileActions));
    }

    @Override
    public int posix_spawn_file_actions_destroy(NativeMemory fileActions) {
        return c.posix_spawn_file_actions_destroy(p(fileActions));
    }

    @Override
    public int posix_spawn_file_actions_adddup2(NativeMemory fileActions, int fd, int newFd) {
        return c.posix_spawn_file_actions_adddup2(p(fileActions), fd, newFd);
    }

    @Override
    public int posix_spawn_file_actions_addclose(NativeMemory fileActions, int fd) {
        return c.posix_spawn_file_actions_addclose(p(fileActions), fd);
    }

    @Override
    public int posix_spawn_file_actions_addclosefrom_np(NativeMemory fileActions, int from) {
        return c.posix_spawn_file_actions_addclosefrom_np(p(fileActions), from);
    }

    @Override
    public int posix_spawn_file_actions_addchdir_np(NativeMemory fileActions, String path) {
        return c.posix_spawn_file_actions_addchdir_np(p(fileActions), path);
    }

    @Override
    public int posix_spawnattr_init(NativeMemory attr) {
        return c.posix_spawnattr_init(p(attr));
    }

    @Override
    public int posix_spawnattr_destroy(NativeMemory attr) {
        return c.posix_spawnattr_destroy(p(attr));
    }

    @Override
    public int posix_spawnattr_setflags(NativeMemory attr, short flags) {
        return c.posix_spawnattr_setflags(p(attr), flags);
    }

    @Override
    public int posix_spawnattr_setsigmask(NativeMemory attr, NativeMemory sigset) {
        return c.posix_spawnattr_setsigmask(p(attr), p(sigset));
    }

    @Override
    public int posix_spawnattr_setsigdefault(NativeMemory attr, NativeMemory sigset) {
        return c.posix_spawnattr_setsigdefault(p(attr), p(sigset));
    }

    @Override
    public int sigemptyset(NativeMemory sigset) {
        return c.sigemptyset(p(sigset));
    }

    @Override
    public int sigaddset(NativeMemory sigset, int signal) {
        return c.sigaddset(p(sigset), signal);
    }

    @Override
    public int pthread_sigmask(int how, NativeMemory set, NativeMemory oldSet) {
        return c.pthread_sigmask(how, p(set), p(oldSet));
    }

    @Override
    public int sigaction(int signal, NativeMemory action, NativeMemory oldAction) {
        return c.sigaction(signal, p(action), p(oldAction));
    }

    @Override
    public int syscall(long number, long a, long b, long c4, long d) {
        return c.syscall(number, a, b, c4, d);
    }

    @Override
    public int waitid(int idType, int id, NativeMemory siginfo, int options) {
        return c.waitid(idType, id, p(siginfo), options);
    }

    @Override
    public int kill(int pid, int signal) {
        return c.kill(pid, signal);
    }

    @Override
    public int ioctl(int fd, long request, int[] value) {
        return c.ioctl(fd, request, value);
    }
}
