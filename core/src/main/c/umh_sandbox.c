/*
 * umh-sandbox: confines a helper between posix_spawn and its first instruction, then executes it.
 *
 * umh-flux ships this program in its jar, built statically by Maven, and runs it from a sealed memfd in place of
 * a sandboxed helper. It opens the helper's executable, applies the policy its options give, and fexecve()s the
 * helper in its own place: same pid, same stdin/stdout/stderr, the environment it was given, no other descriptor.
 *
 * It is freestanding: no libc, only system calls. Its exec is the price every sandboxed spawn pays on top of the
 * helper's own, and a static libc's start-up (CPU feature probing, relocations, TLS, stdio) costs several times
 * what this program does; without it the launcher's exec is about as cheap as an exec can be.
 *
 * usage: umh-sandbox [OPTION]... -- EXECUTABLE ARGV0 [ARG]...
 *   -r PATH   the helper may read (and execute) PATH and what is beneath it (Landlock)
 *   -w PATH   the helper may read, write, create and remove PATH and what is beneath it (Landlock)
 *   -n        the helper may use the network (default: no TCP through Landlock, no IPv4/IPv6 socket at all)
 *   -m BYTES  RLIMIT_AS: its address space
 *   -d BYTES  RLIMIT_DATA: its data segment and heap
 *   -c SECS   RLIMIT_CPU: CPU seconds, then SIGXCPU (and SIGKILL one second on)
 *   -f N      RLIMIT_NOFILE: open files
 *   -s BYTES  RLIMIT_FSIZE: the largest file it may write
 *   -p N      RLIMIT_NPROC: processes of its user
 *   -g FILE   join the cgroup whose cgroup.procs FILE is (a pids cgroup the caller made to bound its processes)
 *   -b        best effort: a kernel feature that is missing is skipped (with a line on stderr), not fatal
 *   -W TEXT   a line "umh-sandbox: best effort: TEXT; going on without it" on stderr (what the caller skipped)
 *
 * Always: /dev/null (read and write), /dev/zero, /dev/urandom and /dev/random (read), no_new_privs, and a seccomp
 * filter that refuses with EPERM the system calls a helper has no business
 * making (tracing other processes, mounting, namespaces, kernel modules, BPF, keyrings, perf events, reboot,
 * swap, the kernel's clock and quotas, reading or writing other processes' memory), and x32 system calls.
 *
 * Failures before the exec: a line "umh-sandbox: ..." on stderr and exit status 126 (127 when the exec itself
 * failed), so that the helper's ExitStatus and stderr tail say what went wrong.
 */
#ifndef __x86_64__
#error "umh-sandbox is written for x86_64 (its system call stubs and its seccomp filter's architecture)"
#endif

#include <asm/unistd.h>
#include <linux/audit.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/filter.h>
#include <linux/prctl.h>
#include <linux/resource.h>
#include <linux/seccomp.h>
#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#define AF_INET 2
/* x86_64 system call numbers newer than some kernel headers */
#define NR_QUOTACTL_FD 443
#define NR_OPEN_TREE_ATTR 467
#define AF_INET6 10

/* Landlock's ABI, written out here: the build machine's headers may be older than the kernels it runs on */
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_WRITE_FILE (1ULL << 1)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_FS_REMOVE_DIR (1ULL << 4)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_CHAR (1ULL << 6)
#define LL_FS_MAKE_DIR (1ULL << 7)
#define LL_FS_MAKE_REG (1ULL << 8)
#define LL_FS_MAKE_SOCK (1ULL << 9)
#define LL_FS_MAKE_FIFO (1ULL << 10)
#define LL_FS_MAKE_BLOCK (1ULL << 11)
#define LL_FS_MAKE_SYM (1ULL << 12)
#define LL_FS_REFER (1ULL << 13)    /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#define LL_NET_BIND_TCP (1ULL << 0) /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct ll_path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

#define MAX_PATHS 64

/* ---- system calls: the kernel's convention, a negative errno on failure ---- */

static long sys6(long n, long a, long b, long c, long d, long e, long f) {
    long r;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
            : "rcx", "r11", "memory");
    return r;
}

#define SYS(n, a, b, c) sys6((n), (long) (a), (long) (b), (long) (c), 0, 0, 0)

static __attribute__((noreturn)) void sys_exit(int status) {
    for (;;) {
        SYS(__NR_exit_group, status, 0, 0);
    }
}

/* the compiler may call these for copies and initializers even in a freestanding program */
void *memcpy(void *to, const void *from, size_t n) {
    char *t = to;
    const char *f = from;
    while (n--) {
        *t++ = *f++;
    }
    return to;
}

void *memset(void *to, int c, size_t n) {
    char *t = to;
    while (n--) {
        *t++ = (char) c;
    }
    return to;
}

static size_t length(const char *s) {
    size_t n = 0;
    while (s[n]) {
        n++;
    }
    return n;
}

static int same(const char *a, const char *b) {
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* ---- messages on stderr: one write per line ---- */

static char line[1024];
static size_t used;

static void put(const char *s) {
    while (*s && used < sizeof line - 1) {
        line[used++] = *s++;
    }
}

static void put_number(unsigned long v) {
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);
    while (n && used < sizeof line - 1) {
        line[used++] = digits[--n];
    }
}

static void flush(void) {
    line[used++] = '\n';
    SYS(__NR_write, 2, line, used);
    used = 0;
}

/* the C library's words for the errors this program can meet */
static const char *error_text(int err) {
    switch (err) {
    case EPERM: return "Operation not permitted";
    case ENOENT: return "No such file or directory";
    case E2BIG: return "Argument list too long";
    case ENOEXEC: return "Exec format error";
    case EBADF: return "Bad file descriptor";
    case EAGAIN: return "Resource temporarily unavailable";
    case ENOMEM: return "Cannot allocate memory";
    case EACCES: return "Permission denied";
    case EFAULT: return "Bad address";
    case EBUSY: return "Device or resource busy";
    case ENODEV: return "No such device";
    case ENOTDIR: return "Not a directory";
    case EISDIR: return "Is a directory";
    case EINVAL: return "Invalid argument";
    case ENFILE: return "Too many open files in system";
    case EMFILE: return "Too many open files";
    case ETXTBSY: return "Text file busy";
    case ENAMETOOLONG: return "File name too long";
    case ENOSYS: return "Function not implemented";
    case ELOOP: return "Too many levels of symbolic links";
    case EOPNOTSUPP: return "Operation not supported";
    case EBADFD: return "File descriptor in bad state";
    case ESRCH: return "No such process";
    default: return 0;
    }
}

static int best_effort;

/* "umh-sandbox: WHAT DETAIL: ERROR NOTE" on stderr, and exit */
static __attribute__((noreturn)) void die3(int status, const char *what, const char *detail, int err,
        const char *note) {
    put("umh-sandbox: ");
    put(what);
    put(detail);
    if (err) {
        const char *text = error_text(err);
        put(": ");
        if (text) {
            put(text);
        } else {
            put("errno ");
            put_number((unsigned long) err);
        }
    }
    put(note);
    flush();
    sys_exit(status);
}

static __attribute__((noreturn)) void die2(int status, const char *what, const char *detail, int err) {
    die3(status, what, detail, err, "");
}

static __attribute__((noreturn)) void die(int status, const char *what, int err) {
    die2(status, what, "", err);
}

/* a kernel feature that is missing: fatal unless best effort */
static void missing(const char *what) {
    if (!best_effort) {
        die(126, what, 0);
    }
    put("umh-sandbox: best effort: ");
    put(what);
    put("; going on without it");
    flush();
}

static unsigned long long number(const char *option, const char *text) {
    unsigned long long v = 0;
    const char *p = text;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned long long next = v * 10 + (unsigned long long) (*p - '0');
        if (next / 10 != v) {
            break; /* overflow */
        }
        v = next;
    }
    if (p == text || *p) {
        put("umh-sandbox: ");
        put(option);
        put(" wants a number, not '");
        put(text);
        put("'");
        flush();
        sys_exit(126);
    }
    return v;
}

static void limit(int resource, const char *name, unsigned long long value) {
    struct rlimit64 r = {value, value};
    if (resource == RLIMIT_CPU) {
        r.rlim_max = value + 1; /* SIGXCPU at the soft limit, SIGKILL at the hard one */
    }
    long rc = sys6(__NR_prlimit64, 0, resource, (long) &r, 0, 0, 0);
    if (rc < 0) {
        die(126, name, (int) -rc);
    }
}

/* writes "0" (this process) into a cgroup's cgroup.procs */
static void join_cgroup(const char *procs) {
    long fd = SYS(__NR_openat, AT_FDCWD, procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        die2(126, "cgroup ", procs, (int) -fd);
    }
    long rc = SYS(__NR_write, fd, "0", 1);
    if (rc < 0) {
        die2(126, "joining the cgroup ", procs, (int) -rc);
    }
    SYS(__NR_close, fd, 0, 0);
}

static uint64_t fs_rights(int abi) {
    uint64_t all = LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_READ_DIR | LL_FS_REMOVE_DIR
            | LL_FS_REMOVE_FILE | LL_FS_MAKE_CHAR | LL_FS_MAKE_DIR | LL_FS_MAKE_REG | LL_FS_MAKE_SOCK
            | LL_FS_MAKE_FIFO | LL_FS_MAKE_BLOCK | LL_FS_MAKE_SYM;
    if (abi >= 2) {
        all |= LL_FS_REFER;
    }
    if (abi >= 3) {
        all |= LL_FS_TRUNCATE;
    }
    if (abi >= 5) {
        all |= LL_FS_IOCTL_DEV;
    }
    return all;
}

/*
 * Returns 0, -ENOENT for a device that does not exist when optional, or -EBADFD for a file Landlock takes no rule
 * for (a memfd: not reachable from the file system).
 */
static int allow_path(int ruleset, const char *path, uint64_t access, uint64_t handled, int optional) {
    long fd = SYS(__NR_openat, AT_FDCWD, path, O_PATH | O_CLOEXEC | O_DIRECTORY);
    if (fd == -ENOTDIR) { /* a file takes only the rights of files */
        fd = SYS(__NR_openat, AT_FDCWD, path, O_PATH | O_CLOEXEC);
        access &= LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV;
    }
    if (fd < 0) {
        if (optional && fd == -ENOENT) {
            return -ENOENT;
        }
        die2(126, "allowed path ", path, (int) -fd);
    }
    struct ll_path_beneath_attr rule = {access & handled, (int32_t) fd};
    long rc = SYS(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &rule);
    SYS(__NR_close, fd, 0, 0);
    if (rc == -EBADFD) {
        return -EBADFD;
    }
    if (rc < 0) {
        die2(126, "landlock_add_rule ", path, (int) -rc);
    }
    return 0;
}

static void landlock(const char *executable, const char **read_paths, int reads, const char **write_paths,
        int writes, int network) {
    long abi = SYS(__NR_landlock_create_ruleset, 0, 0, LL_CREATE_RULESET_VERSION);
    if (abi < 1) {
        missing(abi == -EOPNOTSUPP ? "Landlock is disabled on this kernel (boot with lsm=...,landlock)"
                : "Landlock is not supported by this kernel (Linux 5.13 or later)");
        return;
    }
    struct ll_ruleset_attr attr = {fs_rights((int) abi), 0, 0};
    size_t size = sizeof(uint64_t);
    if (!network) {
        if (abi >= 4) {
            attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP; /* handled, never allowed */
            size = 2 * sizeof(uint64_t);
        } /* below ABI 4, the seccomp filter's socket rule alone keeps it off the network */
    }
    if (abi >= 6) {
        /* no signal to, no abstract unix socket of, a process outside the sandbox (the JVM, say) */
        attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
        size = 3 * sizeof(uint64_t);
    }
    long ruleset = SYS(__NR_landlock_create_ruleset, &attr, size, 0);
    if (ruleset < 0) {
        die(126, "landlock_create_ruleset", (int) -ruleset);
    }
    uint64_t read_access = LL_FS_EXECUTE | LL_FS_READ_FILE | LL_FS_READ_DIR;
    /* what almost every program opens: /dev/null both ways, the zero and random devices for reading */
    static const char *const devices[] = {"/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"};
    for (size_t d = 0; d < sizeof devices / sizeof devices[0]; d++) {
        uint64_t rights = LL_FS_READ_FILE | (d == 0 ? LL_FS_WRITE_FILE : 0);
        (void) allow_path((int) ruleset, devices[d], rights, attr.handled_access_fs, 1);
    }
    /* the helper itself, which the exec opens again (a memfd needs no rule: Landlock leaves such files alone) */
    (void) allow_path((int) ruleset, executable, LL_FS_EXECUTE | LL_FS_READ_FILE, attr.handled_access_fs, 0);
    for (int i = 0; i < reads; i++) {
        if (allow_path((int) ruleset, read_paths[i], read_access, attr.handled_access_fs, 0) != 0) {
            die(126, read_paths[i], EBADFD);
        }
    }
    for (int i = 0; i < writes; i++) {
        if (allow_path((int) ruleset, write_paths[i], attr.handled_access_fs, attr.handled_access_fs, 0) != 0) {
            die(126, write_paths[i], EBADFD);
        }
    }
    long rc = SYS(__NR_landlock_restrict_self, ruleset, 0, 0);
    if (rc < 0) {
        die(126, "landlock_restrict_self", (int) -rc);
    }
    SYS(__NR_close, ruleset, 0, 0);
}

/*
 * The system calls refused with EPERM, as ranges of x86_64 numbers: the filter's cost at its attach (the kernel
 * compiles it) and at every system call grows with its length, so neighbours share one test.
 */
static const struct {
    unsigned lo, hi;
} denied[] = {
    {__NR_ptrace, __NR_ptrace},
    {__NR_syslog, __NR_syslog},
    {__NR_pivot_root, __NR_pivot_root},
    {__NR_adjtimex, __NR_adjtimex},
    {__NR_chroot, __NR_chroot},
    /* acct, settimeofday, mount, umount2, swapon, swapoff, reboot, sethostname, setdomainname, iopl, ioperm,
       create_module, init_module, delete_module, get_kernel_syms, query_module, quotactl */
    {__NR_acct, __NR_quotactl},
    {__NR_lookup_dcookie, __NR_lookup_dcookie},
    {__NR_clock_settime, __NR_clock_settime},
    {__NR_kexec_load, __NR_kexec_load},
    {__NR_add_key, __NR_keyctl}, /* add_key, request_key, keyctl */
    {__NR_unshare, __NR_unshare},
    {__NR_perf_event_open, __NR_perf_event_open},
    {__NR_fanotify_init, __NR_fanotify_init},
    {__NR_name_to_handle_at, __NR_clock_adjtime}, /* name_to_handle_at, open_by_handle_at, clock_adjtime */
    {__NR_setns, __NR_setns},
    {__NR_process_vm_readv, __NR_process_vm_writev},
    {__NR_finit_module, __NR_finit_module},
    {__NR_kexec_file_load, __NR_bpf}, /* kexec_file_load, bpf */
    {__NR_userfaultfd, __NR_userfaultfd},
    {__NR_open_tree, __NR_fspick}, /* open_tree, move_mount, fsopen, fsconfig, fsmount, fspick */
    {__NR_io_uring_setup, __NR_io_uring_register}, /* its requests (a socket, say) pass no system call filter */
    {__NR_mount_setattr, NR_QUOTACTL_FD}, /* mount_setattr, quotactl_fd */
    {NR_OPEN_TREE_ATTR, NR_OPEN_TREE_ATTR},
};

/* new namespaces through clone's flags (clone3 keeps its flags behind a pointer: ENOSYS makes libc use clone) */
#define NAMESPACE_FLAGS 0x7E020000U /* CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET */

#define MAX_FILTER 128

static void seccomp(int network) {
    struct sock_filter f[MAX_FILTER];
    int n = 0;
    f[n++] = (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[n++] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    /* another ABI (i386 through int 0x80): not what this filter decides on, so refused outright */
    f[n++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    f[n++] = (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    /* the tests below jump forward to one of the two returns at the end: allow, or refuse with EPERM */
    int allow = n + 1 /* x32 */ + 5 /* the clone rules */ + (network ? 0 : 6) /* the socket rule */;
    for (size_t d = 0; d < sizeof denied / sizeof denied[0]; d++) {
        allow += denied[d].lo == denied[d].hi ? 1 : 2;
    }
    int deny = allow + 1;
#define TO(target) ((unsigned char) ((target) - n - 1))
    f[n] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 0); /* x32: the high bit */
    f[n].jt = TO(deny);
    n++;
    for (size_t d = 0; d < sizeof denied / sizeof denied[0]; d++) {
        if (denied[d].lo == denied[d].hi) {
            f[n] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, denied[d].lo, 0, 0);
        } else {
            f[n++] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, denied[d].hi, 1, 0);
            f[n] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, denied[d].lo, 0, 0);
        }
        f[n].jt = TO(deny);
        n++;
    }
    /* clone3 refused with ENOSYS (libc then uses clone); clone refused with EPERM when it asks for a namespace */
    f[n++] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1);
    f[n++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
    f[n] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 2);
    n++;
    f[n++] = (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
    f[n] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NAMESPACE_FLAGS, 0, 0);
    f[n].jt = TO(deny);
    f[n].jf = TO(allow);
    n++;
    if (!network) {
        /* socket(AF_INET or AF_INET6, ...) refused with EACCES: no IPv4 or IPv6 socket of any type */
        f[n] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 0);
        f[n].jf = TO(allow);
        n++;
        f[n++] = (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
        f[n++] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 2, 0);
        f[n++] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 1, 0);
        f[n++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        f[n++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA));
    }
#undef TO
    if (n != allow) {
        die(126, "the seccomp filter's jumps are miscounted", 0);
    }
    f[n++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    f[n++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
    struct sock_fprog prog = {(unsigned short) n, f};
    long rc = SYS(__NR_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
    if (rc == -EINVAL) {
        missing("seccomp filters are not supported by this kernel");
    } else if (rc < 0) {
        die(126, "seccomp", (int) -rc);
    }
}

/*
 * A #! script cannot be fexecve()d from a close-on-exec descriptor: its interpreter opens it by path, and the
 * JVM's /proc/<pid>/fd is out of a sandboxed process's reach (Landlock refuses it as it refuses ptrace). So the
 * script stays open for its interpreter, which is executed here as the kernel would, with /dev/fd/N as the
 * script's path: a sandboxed script keeps that one descriptor (read-only, its own sealed content) beside 0-2.
 * Returns when the file is no script.
 */
static void exec_script(int exe, char **helper_argv, int helper_argc, char **envp) {
    static char head[256];
    long n = sys6(__NR_pread64, exe, (long) head, sizeof head - 1, 0, 0, 0);
    if (n < 2 || head[0] != '#' || head[1] != '!') {
        return;
    }
    head[n] = '\0';
    char *end = head;
    while (*end && *end != '\n') {
        end++;
    }
    if (*end != '\n') {
        die(126, "a #! line longer than 255 bytes", 0);
    }
    *end = '\0';
    char *interpreter = head + 2;
    while (*interpreter == ' ' || *interpreter == '\t') {
        interpreter++;
    }
    char *arg = interpreter;
    while (*arg && *arg != ' ' && *arg != '\t') {
        arg++;
    }
    if (*arg) {
        *arg++ = '\0';
        while (*arg == ' ' || *arg == '\t') {
            arg++;
        }
        char *trail = arg + length(arg);
        while (trail > arg && (trail[-1] == ' ' || trail[-1] == '\t')) {
            *--trail = '\0';
        }
    }
    long rc = SYS(__NR_fcntl, exe, F_SETFD, 0);
    if (rc < 0) {
        die(126, "fcntl", (int) -rc);
    }
    static char script[32] = "/dev/fd/";
    size_t at = length(script);
    char digits[12];
    int k = 0;
    unsigned v = (unsigned) exe;
    do {
        digits[k++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);
    while (k) {
        script[at++] = digits[--k];
    }
    script[at] = '\0';
    /* interpreter [arg] script argv[1..] */
    char *argv[helper_argc + 3];
    k = 0;
    argv[k++] = interpreter;
    if (*arg) {
        argv[k++] = arg;
    }
    argv[k++] = script;
    for (int j = 1; j < helper_argc; j++) {
        argv[k++] = helper_argv[j];
    }
    argv[k] = 0;
    rc = SYS(__NR_execve, interpreter, argv, envp);
    die3(127, "exec ", interpreter, (int) -rc, rc == -EACCES
            ? ", the interpreter of the script (Landlock: allow its directory read-only)"
            : ", the interpreter of the script");
}

static int run(int argc, char **argv, char **envp) {
    const char *read_paths[MAX_PATHS];
    const char *write_paths[MAX_PATHS];
    int reads = 0, writes = 0, network = 0;
    long long open_files = -1; /* RLIMIT_NOFILE for the helper, if set */
    int i = 1;
    for (; i < argc && !same(argv[i], "--"); i++) {
        const char *o = argv[i];
        if (same(o, "-n")) {
            network = 1;
            continue;
        }
        if (same(o, "-b")) {
            best_effort = 1;
            continue;
        }
        if (i + 1 >= argc || o[0] != '-' || o[1] == '\0' || o[2] != '\0') {
            die2(126, "unknown option or missing value: ", o, 0);
        }
        const char *v = argv[++i];
        switch (o[1]) {
        case 'r':
        case 'w':
            if ((o[1] == 'r' ? reads : writes) >= MAX_PATHS) {
                die(126, "too many allowed paths", 0);
            }
            if (o[1] == 'r') {
                read_paths[reads++] = v;
            } else {
                write_paths[writes++] = v;
            }
            break;
        case 'm': limit(RLIMIT_AS, "RLIMIT_AS", number(o, v)); break;
        case 'd': limit(RLIMIT_DATA, "RLIMIT_DATA", number(o, v)); break;
        case 'c': limit(RLIMIT_CPU, "RLIMIT_CPU", number(o, v)); break;
        case 'f': open_files = (long long) number(o, v); break; /* set last: the launcher opens files first */
        case 's': limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", number(o, v)); break;
        case 'p': limit(RLIMIT_NPROC, "RLIMIT_NPROC", number(o, v)); break;
        case 'g': join_cgroup(v); break;
        case 'W':
            put("umh-sandbox: best effort: ");
            put(v);
            put("; going on without it");
            flush();
            break;
        default:
            die2(126, "unknown option ", o, 0);
        }
    }
    if (i + 2 >= argc) { /* argv[i] is "--", then the executable and argv[0] */
        die(126, "usage: umh-sandbox [OPTION]... -- EXECUTABLE ARGV0 [ARG]...", 0);
    }
    const char *executable = argv[i + 1];
    char **helper_argv = argv + i + 2;
    /* opened before Landlock, which would refuse it: the helper's memfd is under no allowed path */
    long exe = SYS(__NR_openat, AT_FDCWD, executable, O_RDONLY | O_CLOEXEC);
    if (exe < 0) {
        die2(126, "open ", executable, (int) -exe);
    }
    long rc = sys6(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0);
    if (rc < 0) {
        die(126, "no_new_privs", (int) -rc);
    }
    landlock(executable, read_paths, reads, write_paths, writes, network);
    seccomp(network);
    if (open_files >= 0) {
        limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", (unsigned long long) open_files); /* the helper's, not ours */
    }
    exec_script((int) exe, helper_argv, argc - (i + 2), envp);
    rc = sys6(__NR_execveat, exe, (long) "", (long) helper_argv, (long) envp, AT_EMPTY_PATH, 0);
    die3(127, "fexecve ", executable, (int) -rc,
            rc == -ENOENT ? " (a #! script: run its interpreter as the helper, with the script as an argument)"
            : rc == -EACCES ? " (Landlock: the helper's dynamic loader or interpreter is not under an allowed path)"
            : "");
}

/* the kernel's entry: argc, argv and the environment on the stack */
void __attribute__((used, noreturn)) umh_start(long *stack) {
    int argc = (int) stack[0];
    char **argv = (char **) (stack + 1);
    sys_exit(run(argc, argv, argv + argc + 1));
}

__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "    xor %rbp, %rbp\n"
        "    mov %rsp, %rdi\n"
        "    and $-16, %rsp\n"
        "    call umh_start\n"
        "    hlt\n");
