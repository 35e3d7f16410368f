/* The smallest useful helper: exits 0 at once. Built static so that spawn cost is not dynamic loading. */
int main(void) {
    return 0;
}
