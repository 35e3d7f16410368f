/*
 * Writes varint-delimited google.protobuf.Timestamp messages to stdout, as writeDelimitedTo does, encoded by
 * hand: message i has seconds = 1700000000 + i (field 1, varint) and nanos = i * 1000 (field 2, varint, left
 * out when 0, as protobuf leaves out defaults).
 *
 * usage: timestamps COUNT [overlong|cut]
 *   overlong: after COUNT messages, a frame that declares 2^30 bytes
 *   cut:      after COUNT messages, a frame that declares 10 bytes and has 3, then the end of stdout
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t varint(unsigned char *out, unsigned long long v) {
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (unsigned char) (v | 0x80);
        v >>= 7;
    }
    out[n++] = (unsigned char) v;
    return n;
}

int main(int argc, char **argv) {
    long count = argc > 1 ? atol(argv[1]) : 0;
    const char *mode = argc > 2 ? argv[2] : "";
    unsigned char body[32], head[10];
    for (long i = 0; i < count; i++) {
        size_t n = 0;
        body[n++] = 0x08; /* field 1, varint */
        n += varint(body + n, 1700000000ULL + (unsigned long long) i);
        if (i != 0) {
            body[n++] = 0x10; /* field 2, varint */
            n += varint(body + n, (unsigned long long) i * 1000);
        }
        size_t h = varint(head, n);
        fwrite(head, 1, h, stdout);
        fwrite(body, 1, n, stdout);
    }
    if (strcmp(mode, "overlong") == 0) {
        size_t h = varint(head, 1ULL << 30);
        fwrite(head, 1, h, stdout);
        fwrite("abc", 1, 3, stdout);
    } else if (strcmp(mode, "cut") == 0) {
        size_t h = varint(head, 10);
        fwrite(head, 1, h, stdout);
        fwrite("\x08\x01\x10", 1, 3, stdout);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
