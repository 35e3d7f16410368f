package io.umhflux.internal.os;

import java.nio.ByteBuffer;

/**
 * The C library calls umh-flux makes (memfd, pipes, the posix_spawn family, pidfd, waitid), whichever native
 * layer binds them: the Foreign Function &amp; Memory API on Java 22+ ({@code FfmLayer}), jnr-ffi otherwise
 * ({@link JnrLayer}); {@link Os#libc()} picks one. Calls that fail with -1 leave {@code errno} in {@link #errno()},
 * on the calling thread; the {@code posix_spawn*} family returns the error number instead.
 */
@SuppressWarnings({"checkstyle:MethodName", "checkstyle:ParameterName"})
public interface LibC {
    /** @return the {@code errno} the last failed call on this thread left */
    int errno();

    /** @return zeroed native memory of {@code bytes}, freed once unreachable */
    NativeMemory allocate(int bytes);

    int memfd_create(String name, int flags);

    int pipe2(int[] fds, int flags);

    int fcntl(int fd, int cmd, int arg);

    /** The size of a page of memory, which is also the unit the kernel counts pipe buffers in. */
    int getpagesize();

    /** {@code write(2)}; a heap buffer's array is pinned for the call and written from in place, not copied. */
    long write(int fd, ByteBuffer buf, long count);

    /** {@code read(2)}; a heap buffer's array is pinned for the call and read into in place, not copied. */
    long read(int fd, ByteBuffer buf, long count);

    long pread(int fd, ByteBuffer buf, long count, long offset);

    int open(String path, int flags, int mode);

    int close(int fd);

    int ftruncate(int fd, long length);

    int statvfs(String path, ByteBuffer buf);

    int getpid();

    /** @param pid receives the child's pid in its first element */
    int posix_spawn(int[] pid, String path, NativeMemory fileActions, NativeMemory attr, String[] argv,
            String[] envp);

    int posix_spawn_file_actions_init(NativeMemory fileActions);

    int posix_spawn_file_actions_destroy(NativeMemory fileActions);

    int posix_spawn_file_actions_adddup2(NativeMemory fileActions, int fd, int newFd);

    int posix_spawn_file_actions_addclose(NativeMemory fileActions, int fd);

    int posix_spawn_file_actions_addclosefrom_np(NativeMemory fileActions, int from);

    int posix_spawn_file_actions_addchdir_np(NativeMemory fileActions, String path);

    int posix_spawnattr_init(NativeMemory attr);

    int posix_spawnattr_destroy(NativeMemory attr);

    int posix_spawnattr_setflags(NativeMemory attr, short flags);

    int posix_spawnattr_setsigmask(NativeMemory attr, NativeMemory sigset);

    int posix_spawnattr_setsigdefault(NativeMemory attr, NativeMemory sigset);

    int sigemptyset(NativeMemory sigset);

    int sigaddset(NativeMemory sigset, int signal);

    int pthread_sigmask(int how, NativeMemory set, NativeMemory oldSet);

    int sigaction(int signal, NativeMemory action, NativeMemory oldAction);

    /** {@code syscall(2)} with up to four integer arguments, for pidfd_open and pidfd_send_signal. */
    int syscall(long number, long a, long b, long c, long d);

    int waitid(int idType, int id, NativeMemory siginfo, int options);

    int kill(int pid, int signal);

    /** {@code ioctl(2)} with an {@code int *} argument, as {@code FIONREAD} takes. */
    int ioctl(int fd, long request, int[] value);
}
