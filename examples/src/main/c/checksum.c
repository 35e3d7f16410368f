/*
 * checksum: the examples' embedded helper. The examples module's Maven build compiles it with gcc into
 * helpers/checksum of its jar, and Java spawns it from there as a blob (see Checksums.java), the way a
 * kernel module carries its usermode helper inside itself.
 *
 * Protocol, both ways: frames of a 4-byte big-endian length followed by that many payload bytes.
 * For every input frame it writes one output frame of 8 payload bytes: the CRC-32 of the input payload
 * (IEEE 802.3, the same as java.util.zip.CRC32), then the input payload's length, both big-endian.
 *
 * Flushing: answers are buffered, and written when the buffer is full or before the helper would wait for
 * more input, so a caller sending one frame at a time gets each answer at once and a bulk caller gets
 * few large writes.
 *
 * Exit: 0 at end of input between two frames. 2, with a message on stderr naming the frame, for a
 * malformed frame: a length above MAX_PAYLOAD, or input ending inside a frame. 3 when reading or writing
 * fails (a closed stdout kills it with SIGPIPE first, as for any filter). Answers to every frame before a
 * malformed one are written first.
 *
 * Poison: a frame whose payload is exactly the 6 ASCII bytes "poison" makes it crash with a real SIGSEGV
 * (a write through a null pointer), after writing the answers to every frame before it and without a
 * core file. This is for the crash-isolation examples.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_PAYLOAD (16u << 20) /* Checksums.MAX_PAYLOAD in Java */
#define POISON "poison"
#define POISON_LEN 6u
#define ANSWER_LEN 12u /* length prefix, CRC-32, payload length */

static unsigned char in[1 << 16];
static size_t in_pos, in_len;
static unsigned char out[1 << 16];
static size_t out_len;
static uint32_t crc_table[256];
static unsigned long frame; /* the number of the frame being read, from 0 */
static char *volatile nowhere; /* null, but the compiler may not assume so: the write below must happen */

static void flush_out(void);

static void fail(int code, const char *format, ...) {
    va_list args;
    if (code != 3) {
        flush_out();
    }
    fputs("checksum: ", stderr);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    exit(code);
}

static void flush_out(void) {
    size_t done = 0;
    while (done < out_len) {
        ssize_t n = write(STDOUT_FILENO, out + done, out_len - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail(3, "cannot write stdout: %s", strerror(errno));
        }
        done += (size_t) n;
    }
    out_len = 0;
}

/* Refills the input buffer; returns 0 at end of input. Answers still buffered are written first when no
   input is waiting, since the caller may be waiting for them before it sends more. */
static size_t fill(void) {
    for (;;) {
        if (out_len > 0) {
            struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
            int ready;
            do {
                ready = poll(&p, 1, 0);
            } while (ready < 0 && errno == EINTR);
            if (ready == 0) {
                flush_out();
            } else if (ready < 0) {
                fail(3, "cannot poll stdin: %s", strerror(errno));
            }
        }
        ssize_t n = read(STDIN_FILENO, in, sizeof in);
        if (n >= 0) {
            in_pos = 0;
            in_len = (size_t) n;
            return in_len;
        }
        if (errno != EINTR) {
            fail(3, "cannot read stdin: %s", strerror(errno));
        }
    }
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}

static void crash(void) {
    struct rlimit none = { 0, 0 };
    flush_out();
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* no core even where cores are piped to a handler */
    *nowhere = 1;
    abort(); /* not reached */
}

int main(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        crc_table[i] = c;
    }
    for (frame = 0;; frame++) {
        unsigned char prefix[4];
        size_t got = 0;
        while (got < 4) {
            if (in_pos == in_len && fill() == 0) {
                if (got == 0) {
                    flush_out();
                    return 0;
                }
                fail(2, "frame %lu: input ended inside its length prefix, after %zu of 4 bytes", frame, got);
            }
            prefix[got++] = in[in_pos++];
        }
        uint32_t len = (uint32_t) prefix[0] << 24 | (uint32_t) prefix[1] << 16 | (uint32_t) prefix[2] << 8
                | prefix[3];
        if (len > MAX_PAYLOAD) {
            fail(2, "frame %lu: length prefix 0x%08x (%u bytes) exceeds the maximum of %u bytes", frame,
                    (unsigned) len, (unsigned) len, MAX_PAYLOAD);
        }
        unsigned char head[POISON_LEN];
        uint32_t crc = 0xFFFFFFFFu;
        uint32_t done = 0;
        while (done < len) {
            if (in_pos == in_len && fill() == 0) {
                fail(2, "frame %lu: input ended after %u of its %u payload bytes", frame, (unsigned) done,
                        (unsigned) len);
            }
            size_t n = in_len - in_pos;
            if (n > len - done) {
                n = len - done;
            }
            const unsigned char *p = in + in_pos;
            for (size_t k = 0; k < n; k++) {
                if (done + k < POISON_LEN) {
                    head[done + k] = p[k];
                }
                crc = crc_table[(crc ^ p[k]) & 0xFF] ^ (crc >> 8);
            }
            in_pos += n;
            done += (uint32_t) n;
        }
        if (len == POISON_LEN && memcmp(head, POISON, POISON_LEN) == 0) {
            crash();
        }
        if (out_len + ANSWER_LEN > sizeof out) {
            flush_out();
        }
        put_be32(out + out_len, 8);
        put_be32(out + out_len + 4, crc ^ 0xFFFFFFFFu);
        put_be32(out + out_len + 8, len);
        out_len += ANSWER_LEN;
    }
}
