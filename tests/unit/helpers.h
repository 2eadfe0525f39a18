/* Small shared helpers for the Criterion unit tests. */
#ifndef MF_TEST_HELPERS_H
#define MF_TEST_HELPERS_H

#include <stddef.h>

/* A fresh empty temporary directory (static buffer; path without trailing slash). */
const char *mf_test_tmpdir(void);
/* Write text to a file, return 0 on success. */
int mf_test_write_file(const char *path, const char *text);

#endif
