/*
 * Attempts past the sandbox's seccomp filter, one per argument, printing "<attempt> ok" or "<attempt> <strerror>":
 *   socket-udp:PORT   socket(AF_INET, SOCK_DGRAM) and a datagram "plain" to 127.0.0.1:PORT
 *   uring-udp:PORT    the same socket made by io_uring's IORING_OP_SOCKET, then a datagram "uring" to PORT
 *   clone:newuser     clone(CLONE_NEWUSER | CLONE_NEWNET | SIGCHLD): a child in new namespaces
 *   clone3:newuser    the same through clone3
 *   unshare           unshare(CLONE_NEWUSER | CLONE_NEWNET)
 *   open_tree         open_tree("/", OPEN_TREE_CLONE): a detached copy of the mount (new mount API)
 *   open_tree_attr    the same through open_tree_attr (Linux 6.15, number 467)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int send_to(int s, int port, const char *what) {
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short) port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sendto(s, what, strlen(what), 0, (struct sockaddr *) &a, sizeof a) < 0 ? -1 : 0;
}

/* an AF_INET datagram socket made by the kernel's io_uring, not by the socket() system call */
static int uring_socket(void) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    int ring = (int) syscall(__NR_io_uring_setup, 4, &p);
    if (ring < 0) {
        return -1;
    }
    size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    char *sq = mmap(0, sq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
    char *cq = mmap(0, cq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
    struct io_uring_sqe *sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
            MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) {
        return -1;
    }
    unsigned *tail = (unsigned *) (sq + p.sq_off.tail);
    unsigned *mask = (unsigned *) (sq + p.sq_off.ring_mask);
    unsigned *array = (unsigned *) (sq + p.sq_off.array);
    unsigned t = *tail;
    unsigned i = t & *mask;
    memset(&sqes[i], 0, sizeof sqes[i]);
    sqes[i].opcode = IORING_OP_SOCKET;
    sqes[i].fd = AF_INET;
    sqes[i].off = SOCK_DGRAM;
    sqes[i].len = 0;
    array[i] = i;
    __atomic_store_n(tail, t + 1, __ATOMIC_RELEASE);
    if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) {
        return -1;
    }
    unsigned *chead = (unsigned *) (cq + p.cq_off.head);
    unsigned *cmask = (unsigned *) (cq + p.cq_off.ring_mask);
    struct io_uring_cqe *cqes = (struct io_uring_cqe *) (cq + p.cq_off.cqes);
    int res = cqes[*chead & *cmask].res;
    if (res < 0) {
        errno = -res;
        return -1;
    }
    return res;
}


static int in_child(long pid) {
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        _exit(0);
    }
    int status;
    waitpid((pid_t) pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : (errno = ECHILD, -1);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *c = argv[i];
        int rc = 0;
        errno = 0;
        if (!strncmp(c, "socket-udp:", 11)) {
            int s = socket(AF_INET, SOCK_DGRAM, 0);
            rc = s < 0 ? -1 : send_to(s, atoi(c + 11), "plain");
        } else if (!strncmp(c, "uring-udp:", 10)) {
            int s = uring_socket();
            rc = s < 0 ? -1 : send_to(s, atoi(c + 10), "uring");
        } else if (!strcmp(c, "clone:newuser")) {
            rc = in_child(syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0));
        } else if (!strcmp(c, "clone3:newuser")) {
            struct clone_args a;
            memset(&a, 0, sizeof a);
            a.flags = CLONE_NEWUSER | CLONE_NEWNET;
            a.exit_signal = SIGCHLD;
            rc = in_child(syscall(SYS_clone3, &a, sizeof a));
        } else if (!strcmp(c, "open_tree")) {
            rc = syscall(428, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */ | O_CLOEXEC) < 0 ? -1 : 0;
        } else if (!strcmp(c, "open_tree_attr")) {
            rc = syscall(467, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */ | O_CLOEXEC, NULL, 0) < 0 ? -1 : 0;
        } else if (!strcmp(c, "unshare")) {
            rc = unshare(CLONE_NEWUSER | CLONE_NEWNET);
        } else {
            rc = -1;
            errno = EINVAL;
        }
        if (rc < 0) {
            printf("%s %s\n", c, strerror(errno));
        } else {
            printf("%s ok\n", c);
        }
        fflush(stdout);
    }
    return 0;
}
