/*
 * A helper that tries to get out of its sandbox: each argument is an attempt, and it prints one line per
 * attempt, "<attempt> ok" or "<attempt> <strerror>".
 *   read:PATH      open PATH for reading          connect:PORT   a TCP connect to 127.0.0.1:PORT
 *   ptrace:PID     PTRACE_ATTACH                  mount          mount a tmpfs on /tmp
 *   unshare        a new user namespace           kill:PID       signal 0 to PID
 *   alloc:MIB      allocate and touch MIB MiB     fds            the descriptors open above 2 (none: ok)
 *   sigmask        the blocked signals (none: ok) write:PATH     create PATH and write to it
 *   drop:UID       setgid and setuid to UID       setuid:UID     setuid(UID)
 *   exec:PATH      execute PATH with the attempts after this one as its arguments
 *   forkbomb[:setsid]  fork children that wait forever (each in a session of its own with :setsid) until fork
 *                  fails; prints "child PID" for each, then "forkbomb N <strerror>", and exits 1
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *c = argv[i];
        int rc = 0;
        errno = 0;
        if (!strncmp(c, "read:", 5)) {
            int fd = open(c + 5, O_RDONLY);
            rc = fd < 0 ? -1 : close(fd);
        } else if (!strncmp(c, "write:", 6)) {
            int fd = open(c + 6, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            rc = fd < 0 ? -1 : (write(fd, "x", 1) == 1 ? close(fd) : -1);
        } else if (!strncmp(c, "connect:", 8)) {
            int s = socket(AF_INET, SOCK_STREAM, 0);
            if (s < 0) {
                rc = -1;
            } else {
                struct sockaddr_in a = {0};
                a.sin_family = AF_INET;
                a.sin_port = htons((unsigned short) atoi(c + 8));
                a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                rc = connect(s, (struct sockaddr *) &a, sizeof a);
                int err = errno;
                close(s);
                errno = err;
            }
        } else if (!strncmp(c, "ptrace:", 7)) {
            rc = ptrace(PTRACE_ATTACH, atoi(c + 7), 0, 0) < 0 ? -1 : 0;
        } else if (!strcmp(c, "mount")) {
            rc = mount("none", "/tmp", "tmpfs", 0, NULL);
        } else if (!strcmp(c, "unshare")) {
            rc = unshare(CLONE_NEWUSER);
        } else if (!strncmp(c, "kill:", 5)) {
            rc = kill(atoi(c + 5), 0);
        } else if (!strncmp(c, "alloc:", 6)) {
            size_t n = (size_t) atol(c + 6) << 20;
            char *p = malloc(n);
            if (p == NULL) {
                rc = -1;
            } else {
                memset(p, 1, n);
            }
        } else if (!strncmp(c, "drop:", 5)) {
            rc = setgid((gid_t) atoi(c + 5)) == 0 ? setuid((uid_t) atoi(c + 5)) : -1;
        } else if (!strncmp(c, "setuid:", 7)) {
            rc = setuid((uid_t) atoi(c + 7));
        } else if (!strncmp(c, "exec:", 5)) {
            fflush(stdout);
            argv[i] = (char *) c + 5;
            execv(c + 5, argv + i);
            rc = -1;
        } else if (!strncmp(c, "forkbomb", 8)) {
            int children = 0;
            for (;;) {
                pid_t pid = fork();
                if (pid == 0) {
                    if (!strcmp(c, "forkbomb:setsid")) {
                        setsid();
                    }
                    for (;;) {
                        pause();
                    }
                }
                if (pid < 0) {
                    break;
                }
                children++;
                printf("child %d\n", (int) pid);
            }
            printf("%s %d %s\n", c, children, strerror(errno));
            fflush(stdout);
            return 1;
        } else if (!strcmp(c, "fds")) {
            for (int fd = 3; fd < 1024; fd++) {
                if (fcntl(fd, F_GETFD) >= 0) {
                    printf("%s open: %d\n", c, fd);
                    rc = 1;
                }
            }
            if (rc) {
                fflush(stdout);
                continue;
            }
        } else if (!strcmp(c, "sigmask")) {
            sigset_t set;
            sigprocmask(SIG_BLOCK, NULL, &set);
            for (int s = 1; s < NSIG; s++) {
                if (sigismember(&set, s) == 1) {
                    printf("%s blocked: %d\n", c, s);
                    rc = 1;
                }
            }
            if (rc) {
                fflush(stdout);
                continue;
            }
        }
        printf("%s %s\n", c, rc == 0 ? "ok" : strerror(errno));
        fflush(stdout);
    }
    return 0;
}
