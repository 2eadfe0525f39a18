#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *mf_test_tmpdir(void) {
    static char dir[256];
    snprintf(dir, sizeof dir, "/tmp/mf_test_XXXXXX");
    if (!mkdtemp(dir)) return NULL;
    return dir;
}

int mf_test_write_file(const char *path, const char *text) {
    FILE *file = fopen(path, "w");
    if (!file) return -1;
    size_t length = strlen(text);
    int ok = fwrite(text, 1, length, file) == length;
    return (fclose(file) == 0 && ok) ? 0 : -1;
}
