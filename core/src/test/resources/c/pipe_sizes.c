/*
 * Prints the capacity of its stdin, stdout and stderr pipes ("1048576 1048576 65536"), then reads stdin to EOF.
 * With --per-line, prints them once for each line read instead (a request/response helper).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void sizes(void) {
    printf("%d %d %d\n", fcntl(0, F_GETPIPE_SZ), fcntl(1, F_GETPIPE_SZ), fcntl(2, F_GETPIPE_SZ));
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--per-line") == 0) {
        char line[4096];
        while (fgets(line, sizeof line, stdin) != NULL) {
            sizes();
        }
        return 0;
    }
    sizes();
    char buf[4096];
    while (read(0, buf, sizeof buf) > 0) {
    }
    return 0;
}
