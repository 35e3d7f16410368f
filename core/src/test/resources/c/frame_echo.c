/* Length-prefixed frames (4-byte big-endian length, then the payload) on stdin; each is written back to
   stdout with its payload reversed. Exits 0 at end of input; exits 3 on a frame cut short. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int read_full(void *buf, size_t n) {
    return n == 0 || fread(buf, 1, n, stdin) == n;
}

int main(void) {
    for (;;) {
        uint32_t be;
        if (fread(&be, 1, 4, stdin) != 4) {
            return feof(stdin) ? 0 : 3;
        }
        uint32_t n = ntohl(be);
        unsigned char *p = malloc(n ? n : 1);
        if (!p || !read_full(p, n)) {
            return 3;
        }
        for (uint32_t i = 0; i < n / 2; i++) {
            unsigned char t = p[i];
            p[i] = p[n - 1 - i];
            p[n - 1 - i] = t;
        }
        fwrite(&be, 1, 4, stdout);
        fwrite(p, 1, n, stdout);
        free(p);
        if (feof(stdin) || fflush(stdout) != 0) {
            return 0;
        }
    }
}
