/* Echoes stdin to stdout slowly: reads at most CHUNK bytes (argv[1], default 1024) at a time and sleeps PAUSE
   microseconds (argv[2], default 100) after each read, so that a writer that is faster than it fills the pipe.
   Exits 0 at end of input. */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    size_t chunk = argc > 1 ? (size_t) atol(argv[1]) : 1024;
    useconds_t pause = argc > 2 ? (useconds_t) atol(argv[2]) : 100;
    char *buf = malloc(chunk);
    if (!buf) {
        return 2;
    }
    for (;;) {
        ssize_t n = read(0, buf, chunk);
        if (n == 0) {
            return 0;
        }
        if (n < 0) {
            return 3;
        }
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(1, buf + done, (size_t) (n - done));
            if (w < 0) {
                return 4;
            }
            done += w;
        }
        usleep(pause);
    }
}
