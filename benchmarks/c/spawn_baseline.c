/*
 * C baseline for spawn + exit: what umh-flux's spawn path does, written directly in C.
 * Per iteration: three pipe2(O_CLOEXEC) pipes, posix_spawn with dup2 file actions onto 0/1/2 and
 * closefrom(3), an empty signal mask, default signals and a new session, then waitpid and close.
 *
 * usage: spawn_baseline EXECUTABLE ITERATIONS ROUNDS
 * prints one line per round: "ns_per_op <value>"
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void spawn_once(const char *path, posix_spawnattr_t *attr) {
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
        perror("pipe2");
        exit(2);
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    char *argv[] = {(char *) path, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, path, &fa, attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "posix_spawn: %s\n", strerror(rc));
        exit(2);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
    }
    close(in[1]);
    close(out[0]);
    close(err[0]);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s EXECUTABLE ITERATIONS ROUNDS\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];
    int iterations = atoi(argv[2]);
    int rounds = atoi(argv[3]);
    posix_spawnattr_t attr;
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setsigdefault(&attr, &all);
    for (int r = 0; r < rounds; r++) {
        long long start = now_ns();
        for (int i = 0; i < iterations; i++) {
            spawn_once(path, &attr);
        }
        printf("ns_per_op %lld\n", (now_ns() - start) / iterations);
        fflush(stdout);
    }
    return 0;
}
