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

int64_t mf_test_margin_check(const mf_margin_model *model, const mf_book_view *book,
                             const mf_tier_table *tiers, const int64_t *accounts, int64_t n,
                             const void *prepared, int batch, const double *marks,
                             const uint8_t *active, uint8_t *account_state,
                             uint8_t *position_state) {
    double funding[MF_MAX_ASSETS * MF_KERNEL_MAX_BATCH];
    double scale[MF_MAX_ASSETS * MF_KERNEL_MAX_BATCH];
    for (int i = 0; i < MF_MAX_ASSETS * MF_KERNEL_MAX_BATCH; i++) {
        funding[i] = 0;
        scale[i] = 1;
    }
    mf_margin_call call = {0};
    call.book = book;
    call.tiers = tiers;
    call.accounts = accounts;
    call.begin = 0;
    call.end = n;
    call.batch = batch;
    call.marks = marks;
    call.vectors = (mf_market_vectors){funding, scale, 0};
    call.active = active;
    call.account_state = account_state;
    call.position_state = position_state;
    call.prepared = prepared;
    return model->check(&call);
}
