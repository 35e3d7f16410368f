/*
 * C baseline for a ping-pong round trip over pipes: the parent sends one length-prefixed message (4-byte
 * big-endian length + PAYLOAD bytes) to a child's stdin, waits for the child to echo it back on its stdout,
 * checks it, and repeats. The child is forked and echoes frame by frame (read the length, read the payload,
 * one write of both); with ECHO_PATH it is that executable instead (posix_spawn, e.g. /bin/cat), which
 * gets the frames on its stdin and must write them back on its stdout (with cat, keep PAYLOAD below the
 * 64 KiB pipe size: cat echoes while the parent is still writing, and both would block on full pipes).
 *
 * usage: pingpong_baseline ITERATIONS ROUNDS [PAYLOAD [ECHO_PATH]]     (PAYLOAD defaults to 32 bytes)
 * prints one line per round: "ns_per_roundtrip <value>" (the mean over ITERATIONS round trips), after one
 * unmeasured warm-up round
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
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

/* Reads exactly n bytes; returns 0 at end of file before the first byte, exits on a short frame. */
static int read_full(int fd, unsigned char *buf, size_t n) {
    size_t off = 0;
    while (off < n) {
        ssize_t k = read(fd, buf + off, n - off);
        if (k < 0) {
            perror("read");
            exit(2);
        }
        if (k == 0) {
            if (off == 0) {
                return 0;
            }
            fprintf(stderr, "end of file inside a frame\n");
            exit(2);
        }
        off += (size_t) k;
    }
    return 1;
}

static void write_full(int fd, const unsigned char *buf, size_t n) {
    size_t off = 0;
    while (off < n) {
        ssize_t k = write(fd, buf + off, n - off);
        if (k < 0) {
            perror("write");
            exit(2);
        }
        off += (size_t) k;
    }
}

static uint32_t frame_length(const unsigned char *b) {
    return (uint32_t) b[0] << 24 | (uint32_t) b[1] << 16 | (uint32_t) b[2] << 8 | (uint32_t) b[3];
}

/* The forked child: echoes frames from stdin to stdout until end of file. */
static void echo_frames(void) {
    size_t capacity = 4 + 65536;
    unsigned char *buf = malloc(capacity);
    while (read_full(0, buf, 4)) {
        uint32_t n = frame_length(buf);
        if (4 + (size_t) n > capacity) {
            capacity = 4 + (size_t) n;
            buf = realloc(buf, capacity);
        }
        read_full(0, buf + 4, n);
        write_full(1, buf, 4 + (size_t) n);
    }
    _exit(0);
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: %s ITERATIONS ROUNDS [PAYLOAD [ECHO_PATH]]\n", argv[0]);
        return 2;
    }
    int iterations = atoi(argv[1]);
    int rounds = atoi(argv[2]);
    size_t payload = argc > 3 ? (size_t) atoll(argv[3]) : 32;
    const char *echo_path = argc > 4 ? argv[4] : NULL;
    int in[2], out[2]; /* in: parent -> child stdin; out: child stdout -> parent */
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
        perror("pipe2");
        return 2;
    }
    pid_t pid;
    if (echo_path == NULL) {
        pid = fork();
        if (pid < 0) {
            perror("fork");
            return 2;
        }
        if (pid == 0) {
            dup2(in[0], 0);
            dup2(out[1], 1);
            close(in[0]);
            close(in[1]);
            close(out[0]);
            close(out[1]);
            echo_frames();
        }
    } else {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        char *args[] = {(char *) echo_path, NULL};
        int rc = posix_spawn(&pid, echo_path, &fa, NULL, args, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) {
            fprintf(stderr, "posix_spawn %s: %s\n", echo_path, strerror(rc));
            return 2;
        }
    }
    close(in[0]);
    close(out[1]);
    unsigned char *frame = malloc(4 + payload);
    unsigned char *reply = malloc(4 + payload);
    frame[0] = (unsigned char) (payload >> 24);
    frame[1] = (unsigned char) (payload >> 16);
    frame[2] = (unsigned char) (payload >> 8);
    frame[3] = (unsigned char) payload;
    for (int r = -1; r < rounds; r++) { /* round -1 warms up */
        long long start = now_ns();
        for (int i = 0; i < iterations; i++) {
            memset(frame + 4, 'a' + i % 26, payload);
            write_full(in[1], frame, 4 + payload);
            if (!read_full(out[0], reply, 4) || frame_length(reply) != payload) {
                fprintf(stderr, "bad reply header\n");
                return 2;
            }
            read_full(out[0], reply + 4, payload);
            if (memcmp(frame + 4, reply + 4, payload) != 0) {
                fprintf(stderr, "reply differs from the message\n");
                return 2;
            }
        }
        if (r >= 0) {
            printf("ns_per_roundtrip %lld\n", (now_ns() - start) / iterations);
            fflush(stdout);
        }
    }
    close(in[1]);
    int status;
    waitpid(pid, &status, 0);
    close(out[0]);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "echo child ended with status %d\n", status);
        return 2;
    }
    return 0;
}
