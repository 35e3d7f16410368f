/* Writes BYTES bytes of the pattern (offset % 251) to stdout with write(2), then _exit(0) at once:
   whatever is still in the pipe when it exits must reach the reader. Prints progress to stderr when
   asked ("progress" as the second argument): one line per 64 KiB written. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long long total = argc > 1 ? atoll(argv[1]) : 1048576;
    int progress = argc > 2 && strcmp(argv[2], "progress") == 0;
    static unsigned char buf[65536];
    long long written = 0;
    while (written < total) {
        size_t n = sizeof buf;
        if ((long long) n > total - written) n = (size_t) (total - written);
        for (size_t i = 0; i < n; i++) buf[i] = (unsigned char) ((written + i) % 251);
        size_t off = 0;
        while (off < n) {
            ssize_t w = write(1, buf + off, n - off);
            if (w < 0) _exit(3);
            off += (size_t) w;
        }
        written += n;
        if (progress) {
            char line[64];
            int len = snprintf(line, sizeof line, "%lld\n", written);
            if (write(2, line, (size_t) len) < 0) _exit(4);
        }
    }
    _exit(0);
}
