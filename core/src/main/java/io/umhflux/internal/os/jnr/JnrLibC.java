package io.umhflux.internal.os.jnr;

import java.nio.ByteBuffer;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.Pinned;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.byref.IntByReference;

/**
 * The C library's calls as jnr-ffi binds them (for {@code io.umhflux.internal.os.JnrLayer}): calls marked
 * {@link SaveError} leave {@code errno} where jnr-ffi's {@code getLastError} finds it.
 *
 * <p>Public, in a package of its own that the module exports, only because jnr-ffi implements it in a class of
 * its own class loader (an unnamed module), which must see it; not API.
 */
@SuppressWarnings({"checkstyle:MethodName", "checkstyle:ParameterName"})
public interface JnrLibC {
    @SaveError
    int memfd_create(String name, int flags);

    @SaveError
    int pipe2(@Out int[] fds, int flags);

    @SaveError
    int fcntl(int fd, int cmd, int arg);

    /** The size of a page of memory, which is also the unit the kernel counts pipe buffers in. */
    int getpagesize();

    /** {@code write(2)}; a heap buffer's array is pinned for the call and written from in place, not copied. */
    @SaveError
    long write(int fd, @In @Pinned ByteBuffer buf, long count);

    /** {@code read(2)}; a heap buffer's array is pinned for the call and read into in place, not copied. */
    @SaveError
    long read(int fd, @Out @Pinned ByteBuffer buf, long count);

    @SaveError
    long pread(int fd, @Out ByteBuffer buf, long count, long offset);

    @SaveError
    int open(String path, int flags, int mode);

    @SaveError
    int close(int fd);

    @SaveError
    int ftruncate(int fd, long length);

    @SaveError
    int statvfs(String path, @Out ByteBuffer buf);

    int getpid();

    int posix_spawn(@Out IntByReference pid, String path, Pointer fileActions, Pointer attr, Pointer argv,
            Pointer envp);

    int posix_spawn_file_actions_init(Pointer fileActions);

    int posix_spawn_file_actions_destroy(Pointer fileActions);

    int posix_spawn_file_actions_adddup2(Pointer fileActions, int fd, int newFd);

    int posix_spawn_file_actions_addclose(Pointer fileActions, int fd);

    int posix_spawn_file_actions_addclosefrom_np(Pointer fileActions, int from);

    int posix_spawn_file_actions_addchdir_np(Pointer fileActions, String path);

    int posix_spawnattr_init(Pointer attr);

    int posix_spawnattr_destroy(Pointer attr);

    int posix_spawnattr_setflags(Pointer attr, short flags);

    int posix_spawnattr_setsigmask(Pointer attr, Pointer sigset);

    int posix_spawnattr_setsigdefault(Pointer attr, Pointer sigset);

    int sigemptyset(Pointer sigset);

    int sigaddset(Pointer sigset, int signal);

    int pthread_sigmask(int how, Pointer set, Pointer oldSet);

    int sigaction(int signal, Pointer action, Pointer oldAction);

    /** {@code syscall(2)} with up to four integer arguments, for pidfd_open and pidfd_send_signal. */
    @SaveError
    int syscall(long number, long a, long b, long c, long d);

    @SaveError
    int waitid(int idType, int id, Pointer siginfo, int options);

    @SaveError
    int kill(int pid, int signal);

    /** {@code ioctl(2)} with an {@code int *} argument, as {@code FIONREAD} takes. */
    @SaveError
    int ioctl(int fd, long request, @Out int[] value);
}
