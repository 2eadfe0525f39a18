/* Small shared helpers for the Criterion unit tests. */
#ifndef MF_TEST_HELPERS_H
#define MF_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "margin.h"

/* A fresh empty temporary directory (static buffer; path without trailing slash). */
const char *mf_test_tmpdir(void);
/* Write text to a file, return 0 on success. */
int mf_test_write_file(const char *path, const char *text);

/* Run one margin model over accounts[0..n) on `batch` paths with neutral market vectors
 * (funding 0, maintenance scale 1); returns its new flags. */
int64_t mf_test_margin_check(const mf_margin_model *model, const mf_book_view *book,
                             const mf_tier_table *tiers, const int64_t *accounts, int64_t n,
                             const void *prepared, int batch, const double *marks,
                             const uint8_t *active, uint8_t *account_state,
                             uint8_t *position_state);

#endif
