/*
 * umh-sandbox: confines a helper between posix_spawn and its first instruction, then executes it.
 *
 * umh-flux ships this program in its jar, built statically by Maven, and runs it from a sealed memfd in place of
 * a sandboxed helper. It opens the helper's executable, applies the policy its options give, and fexecve()s the
 * helper in its own place: same pid, same stdin/stdout/stderr, the environment it was given, no other descriptor.
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
 *   -b        best effort: a kernel feature that is missing is skipped (with a line on stderr), not fatal
 *
 * Always: /dev/null (read and write), /dev/zero, /dev/urandom and /dev/random (read), no_new_privs, and a seccomp
 * filter that refuses with EPERM the system calls a helper has no business
 * making (tracing other processes, mounting, namespaces, kernel modules, BPF, keyrings, perf events, reboot,
 * swap, the kernel's clock and quotas, reading or writing other processes' memory), and x32 system calls.
 *
 * Failures before the exec: a line "umh-sandbox: ..." on stderr and exit status 126 (127 when the exec itself
 * failed), so that the helper's ExitStatus and stderr tail say what went wrong.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

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

static int best_effort;

static void die(int status, const char *what, int err) {
    if (err) {
        fprintf(stderr, "umh-sandbox: %s: %s\n", what, strerror(err));
    } else {
        fprintf(stderr, "umh-sandbox: %s\n", what);
    }
    exit(status);
}

/* a kernel feature that is missing: fatal unless best effort */
static void missing(const char *what) {
    if (!best_effort) {
        die(126, what, 0);
    }
    fprintf(stderr, "umh-sandbox: best effort: %s; going on without it\n", what);
}

static unsigned long long number(const char *option, const char *text) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end) {
        fprintf(stderr, "umh-sandbox: %s wants a number, not '%s'\n", option, text);
        exit(126);
    }
    return v;
}

static void limit(int resource, const char *name, unsigned long long value) {
    struct rlimit r = {value, value};
    if (resource == RLIMIT_CPU) {
        r.rlim_max = value + 1; /* SIGXCPU at the soft limit, SIGKILL at the hard one */
    }
    if (setrlimit(resource, &r) != 0) {
        die(126, name, errno);
    }
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

/* returns 0, or EBADFD for a file Landlock takes no rule for (a memfd: not reachable from the file system) */
static int allow_path(int ruleset, const char *path, uint64_t access, uint64_t handled) {
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) {
        char what[512];
        snprintf(what, sizeof what, "allowed path %s", path);
        die(126, what, errno);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        die(126, path, errno);
    }
    if (!S_ISDIR(st.st_mode)) { /* a file takes only the rights of files */
        access &= LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV;
    }
    struct ll_path_beneath_attr rule = {access & handled, fd};
    if (syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &rule, 0) != 0) {
        if (errno == EBADFD) {
            close(fd);
            return EBADFD;
        }
        char what[512];
        snprintf(what, sizeof what, "landlock_add_rule %s", path);
        die(126, what, errno);
    }
    close(fd);
    return 0;
}

static void landlock(const char *executable, const char **read_paths, int reads, const char **write_paths,
        int writes, int network) {
    int abi = (int) syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
    if (abi < 1) {
        missing(errno == EOPNOTSUPP ? "Landlock is disabled on this kernel (boot with lsm=...,landlock)"
                : "Landlock is not supported by this kernel (Linux 5.13 or later)");
        return;
    }
    struct ll_ruleset_attr attr = {fs_rights(abi), 0, 0};
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
    int ruleset = (int) syscall(__NR_landlock_create_ruleset, &attr, size, 0);
    if (ruleset < 0) {
        die(126, "landlock_create_ruleset", errno);
    }
    uint64_t read_access = LL_FS_EXECUTE | LL_FS_READ_FILE | LL_FS_READ_DIR;
    /* what almost every program opens: /dev/null both ways, the zero and random devices for reading */
    static const char *const devices[] = {"/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"};
    for (size_t d = 0; d < sizeof devices / sizeof devices[0]; d++) {
        if (access(devices[d], F_OK) == 0) {
            uint64_t rights = LL_FS_READ_FILE | (d == 0 ? LL_FS_WRITE_FILE : 0);
            (void) allow_path(ruleset, devices[d], rights, attr.handled_access_fs);
        }
    }
    /* the helper itself, which the exec opens again (a memfd needs no rule: Landlock leaves such files alone) */
    (void) allow_path(ruleset, executable, LL_FS_EXECUTE | LL_FS_READ_FILE, attr.handled_access_fs);
    for (int i = 0; i < reads; i++) {
        if (allow_path(ruleset, read_paths[i], read_access, attr.handled_access_fs) != 0) {
            die(126, read_paths[i], EBADFD);
        }
    }
    for (int i = 0; i < writes; i++) {
        if (allow_path(ruleset, write_paths[i], attr.handled_access_fs, attr.handled_access_fs) != 0) {
            die(126, write_paths[i], EBADFD);
        }
    }
    if (syscall(__NR_landlock_restrict_self, ruleset, 0) != 0) {
        die(126, "landlock_restrict_self", errno);
    }
    close(ruleset);
}

#define DENY(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
                 BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))

static void seccomp(int network) {
    struct sock_filter head[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS), /* another ABI: not this filter's business */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        /* x32 system calls (the high bit set) */
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        DENY(__NR_ptrace), DENY(__NR_process_vm_readv), DENY(__NR_process_vm_writev),
        DENY(__NR_mount), DENY(__NR_umount2), DENY(__NR_pivot_root), DENY(__NR_chroot),
        DENY(__NR_unshare), DENY(__NR_setns),
        DENY(__NR_init_module), DENY(__NR_finit_module), DENY(__NR_delete_module),
        DENY(__NR_kexec_load), DENY(__NR_kexec_file_load), DENY(__NR_reboot),
        DENY(__NR_bpf), DENY(__NR_perf_event_open), DENY(__NR_userfaultfd),
        DENY(__NR_keyctl), DENY(__NR_add_key), DENY(__NR_request_key),
        DENY(__NR_swapon), DENY(__NR_swapoff), DENY(__NR_acct), DENY(__NR_quotactl),
        DENY(__NR_settimeofday), DENY(__NR_clock_settime), DENY(__NR_clock_adjtime), DENY(__NR_adjtimex),
        DENY(__NR_iopl), DENY(__NR_ioperm), DENY(__NR_syslog),
        DENY(__NR_open_by_handle_at), DENY(__NR_name_to_handle_at),
        DENY(__NR_fanotify_init), DENY(__NR_lookup_dcookie),
        DENY(__NR_mount_setattr), DENY(__NR_move_mount), DENY(__NR_open_tree), DENY(__NR_fsopen),
        DENY(__NR_fsmount), DENY(__NR_fsconfig), DENY(__NR_fspick),
    };
    /* without the network: socket(AF_INET or AF_INET6, ...) and socketpair of them refused */
    struct sock_filter net[] = {
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 5),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)),
    };
    struct sock_filter tail[] = {
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_filter filter[sizeof head / sizeof head[0] + sizeof net / sizeof net[0] + 1];
    size_t n = 0;
    memcpy(filter + n, head, sizeof head);
    n += sizeof head / sizeof head[0];
    if (!network) {
        memcpy(filter + n, net, sizeof net);
        n += sizeof net / sizeof net[0];
    }
    memcpy(filter + n, tail, sizeof tail);
    n += 1;
    struct sock_fprog prog = {(unsigned short) n, filter};
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
        if (errno == EINVAL) {
            missing("seccomp filters are not supported by this kernel");
        } else {
            die(126, "seccomp", errno);
        }
    }
}

/*
 * A #! script cannot be fexecve()d from a close-on-exec descriptor: its interpreter opens it by path, and the
 * JVM's /proc/<pid>/fd is out of a sandboxed process's reach (Landlock refuses it as it refuses ptrace). So the
 * script stays open for its interpreter, which is executed here as the kernel would, with /dev/fd/N as the
 * script's path: a sandboxed script keeps that one descriptor (read-only, its own sealed content) beside 0-2.
 * Returns when the file is no script.
 */
static void exec_script(int exe, const char *executable, char **helper_argv, int helper_argc) {
    char head[256];
    ssize_t n = pread(exe, head, sizeof head - 1, 0);
    if (n < 2 || head[0] != '#' || head[1] != '!') {
        return;
    }
    head[n] = '\0';
    char *end = strchr(head, '\n');
    if (end == NULL) {
        die(126, "a #! line longer than 255 bytes", 0);
    }
    *end = '\0';
    char *interpreter = head + 2;
    while (*interpreter == ' ' || *interpreter == '\t') {
        interpreter++;
    }
    char *arg = interpreter + strcspn(interpreter, " \t");
    if (*arg) {
        *arg++ = '\0';
        while (*arg == ' ' || *arg == '\t') {
            arg++;
        }
        char *trail = arg + strlen(arg);
        while (trail > arg && (trail[-1] == ' ' || trail[-1] == '\t')) {
            *--trail = '\0';
        }
    }
    /* interpreter [arg] script argv[1..] */
    char **argv = calloc((size_t) helper_argc + 3, sizeof *argv);
    if (argv == NULL) {
        die(126, "calloc", errno);
    }
    int k = 0;
    argv[k++] = interpreter;
    if (*arg) {
        argv[k++] = arg;
    }
    static char script[32];
    if (fcntl(exe, F_SETFD, 0) != 0) {
        die(126, "fcntl", errno);
    }
    snprintf(script, sizeof script, "/dev/fd/%d", exe);
    (void) executable;
    argv[k++] = script;
    for (int j = 1; j < helper_argc; j++) {
        argv[k++] = helper_argv[j];
    }
    argv[k] = NULL;
    extern char **environ;
    execve(interpreter, argv, environ);
    int err = errno;
    char what[512];
    snprintf(what, sizeof what, "exec %s, the interpreter of the script%s", interpreter,
            err == EACCES ? " (Landlock: allow its directory read-only)" : "");
    die(127, what, err);
}

int main(int argc, char **argv) {
    const char *read_paths[MAX_PATHS];
    const char *write_paths[MAX_PATHS];
    int reads = 0, writes = 0, network = 0;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *o = argv[i];
        if (strcmp(o, "-n") == 0) {
            network = 1;
            continue;
        }
        if (strcmp(o, "-b") == 0) {
            best_effort = 1;
            continue;
        }
        if (i + 1 >= argc || strlen(o) != 2 || o[0] != '-') {
            fprintf(stderr, "umh-sandbox: unknown option or missing value: %s\n", o);
            return 126;
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
        case 'f': limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", number(o, v)); break;
        case 's': limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", number(o, v)); break;
        case 'p': limit(RLIMIT_NPROC, "RLIMIT_NPROC", number(o, v)); break;
        default:
            fprintf(stderr, "umh-sandbox: unknown option %s\n", o);
            return 126;
        }
    }
    if (i + 2 >= argc) { /* argv[i] is "--", then the executable and argv[0] */
        die(126, "usage: umh-sandbox [OPTION]... -- EXECUTABLE ARGV0 [ARG]...", 0);
    }
    const char *executable = argv[i + 1];
    char **helper_argv = argv + i + 2;
    /* opened before Landlock, which would refuse it: the helper's memfd is under no allowed path */
    int exe = open(executable, O_RDONLY | O_CLOEXEC);
    if (exe < 0) {
        char what[512];
        snprintf(what, sizeof what, "open %s", executable);
        die(126, what, errno);
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        die(126, "no_new_privs", errno);
    }
    landlock(executable, read_paths, reads, write_paths, writes, network);
    seccomp(network);
    extern char **environ;
    exec_script(exe, executable, helper_argv, argc - (i + 2));
    fexecve(exe, helper_argv, environ);
    int err = errno;
    fprintf(stderr, "umh-sandbox: fexecve %s: %s%s\n", executable, strerror(err),
            err == ENOENT ? " (a #! script: run its interpreter as the helper, with the script as an argument)"
            : err == EACCES ? " (Landlock: the helper's dynamic loader or interpreter is not under an allowed path)"
            : "");
    return 127;
}
