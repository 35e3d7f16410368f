/*
 * C baseline for bytes echoed through cat: spawns /bin/cat with posix_spawn and pipes, one thread writes
 * TOTAL bytes in CHUNK-byte write()s, the main thread reads with 64 KiB read()s until EOF.
 *
 * usage: echo_baseline CAT_PATH CHUNK TOTAL ROUNDS [PIPE_SIZE]
 * prints one line per round: "bytes_per_sec <value>"
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct writer {
    int fd;
    size_t chunk;
    long long total;
};

static void *write_all(void *arg) {
    struct writer *w = arg;
    char *buf = malloc(w->chunk);
    memset(buf, 'x', w->chunk);
    long long left = w->total;
    while (left > 0) {
        size_t n = left < (long long) w->chunk ? (size_t) left : w->chunk;
        size_t off = 0;
        while (off < n) {
            ssize_t k = write(w->fd, buf + off, n - off);
            if (k < 0) {
                perror("write");
                exit(2);
            }
            off += (size_t) k;
        }
        left -= (long long) n;
    }
    close(w->fd);
    free(buf);
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s CAT_PATH CHUNK TOTAL ROUNDS [PIPE_SIZE]\n", argv[0]);
        return 2;
    }
    const char *cat = argv[1];
    size_t chunk = (size_t) atoll(argv[2]);
    long long total = atoll(argv[3]);
    int rounds = atoi(argv[4]);
    int pipe_size = argc > 5 ? atoi(argv[5]) : 0;
    char *buf = malloc(65536);
    for (int r = 0; r < rounds; r++) {
        double start = now();
        int in[2], out[2];
        if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
            perror("pipe2");
            return 2;
        }
        if (pipe_size > 0) {
            fcntl(in[1], F_SETPIPE_SZ, pipe_size);
            fcntl(out[0], F_SETPIPE_SZ, pipe_size);
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        char *args[] = {(char *) cat, NULL};
        pid_t pid;
        if (posix_spawn(&pid, cat, &fa, NULL, args, environ) != 0) {
            perror("posix_spawn");
            return 2;
        }
        posix_spawn_file_actions_destroy(&fa);
        close(in[0]);
        close(out[1]);
        struct writer w = {in[1], chunk, total};
        pthread_t t;
        pthread_create(&t, NULL, write_all, &w);
        long long got = 0;
        for (;;) {
            ssize_t n = read(out[0], buf, 65536);
            if (n <= 0) break;
            got += n;
        }
        pthread_join(t, NULL);
        close(out[0]);
        int status;
        waitpid(pid, &status, 0);
        if (got != total) {
            fprintf(stderr, "echoed %lld of %lld bytes\n", got, total);
            return 2;
        }
        printf("bytes_per_sec %.0f\n", total / (now() - start));
        fflush(stdout);
    }
    return 0;
}
