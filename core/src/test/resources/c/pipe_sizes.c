/* Prints the capacity of its stdin, stdout and stderr pipes ("262144 262144 65536"), then reads stdin to EOF. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
    printf("%d %d %d\n", fcntl(0, F_GETPIPE_SZ), fcntl(1, F_GETPIPE_SZ), fcntl(2, F_GETPIPE_SZ));
    fflush(stdout);
    char buf[4096];
    while (read(0, buf, sizeof buf) > 0) {
    }
    return 0;
}
