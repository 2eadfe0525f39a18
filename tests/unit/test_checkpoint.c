/* Checkpoints (src/run/checkpoint.c, format 3): blocks saved in the wire format come back
 * bit for bit, ledgers included; a truncated file, a corrupt item length, a format 1 file, one
 * flipped byte anywhere, and crafted contents with a valid checksum (indices out of range, NaN)
 * are refused with MF_ERR_INPUT, never read past. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "helpers.h"

#define STEPS 6

static const mf_checkpoint_identity identity = {0x1234abcdULL, 0, 2, 3, STEPS, 4};

static void fill(mf_work_result *item, int64_t point, int64_t block) {
    memset(item, 0, sizeof *item);
    item->point = point;
    item->block = block;
    mf_block_result *b = &item->result;
    cr_assert_eq(mf_block_result_init(b, STEPS, block * 4, 4), MF_OK);
    for (int64_t i = 0; i < 4; i++) {
        b->rows[i].path_index = block * 4 + i;
        b->rows[i].liquidated_notional = 1e6 / 3.0 * (double)(i + point);
        b->rows[i].cascades = (int32_t)i;
        b->ledgers[i].initial_collateral = 1e8 + (double)i;
        b->ledgers[i].initial_fund = 2e6;
        b->ledgers[i].trading_pnl = -12345.678 * (double)(i + 1);
        b->ledgers[i].final_trader_equity = 9.9e7;
        b->ledgers[i].final_fund = 1.25e6;
        b->ledgers[i].uncovered_deficit = 0.5 * (double)i;
    }
    const double cascade[MF_CASCADE_FIELDS] = {1e5, 3, 1.5, 2};
    cr_assert_eq(mf_block_result_add_cascade(b, cascade), MF_OK);
    for (int s = 0; s < MF_PROFILE_SERIES * STEPS; s++)
        b->profile[s] = 0.25 * s + (double)point;
}

static void write_two(const char *dir, mf_work_result items[2]) {
    fill(&items[0], 0, 1);
    fill(&items[1], 1, 2);
    const uint8_t done[2] = {1, 1};
    cr_assert_eq(mf_checkpoint_write(dir, 0, &identity, items, done, 2), MF_OK, "%s",
                 mf_error_message());
}

static long file_size(const char *path) {
    FILE *file = fopen(path, "rb");
    cr_assert_not_null(file);
    fseek(file, 0, SEEK_END);
    const long size = ftell(file);
    fclose(file);
    return size;
}

Test(checkpoint, round_trip_keeps_every_bit_and_the_ledgers) {
    char dir[300];
    snprintf(dir, sizeof dir, "%s/run.h5.checkpoint", mf_test_tmpdir());
    mf_work_result items[2];
    write_two(dir, items);
    mf_work_result *loaded = NULL;
    int64_t n = 0;
    cr_assert_eq(mf_checkpoint_load(dir, &identity, &loaded, &n), MF_OK, "%s", mf_error_message());
    cr_assert_eq(n, 2);
    for (int k = 0; k < 2; k++) {
        const mf_block_result *a = &items[k].result, *b = &loaded[k].result;
        cr_assert_eq(loaded[k].point, items[k].point);
        cr_assert_eq(loaded[k].block, items[k].block);
        cr_assert_eq(b->first_path, a->first_path);
        cr_assert_eq(b->n_cascades, a->n_cascades);
        cr_assert(memcmp(a->ledgers, b->ledgers, 4 * sizeof *a->ledgers) == 0);
        for (int64_t i = 0; i < 4; i++) {
            cr_assert_eq(b->rows[i].path_index, a->rows[i].path_index);
            cr_assert(memcmp(&b->rows[i].liquidated_notional, &a->rows[i].liquidated_notional, 8) ==
                      0);
        }
        cr_assert(memcmp(a->profile, b->profile, MF_PROFILE_SERIES * STEPS * sizeof(double)) == 0);
        cr_assert(memcmp(a->cascades, b->cascades, MF_CASCADE_FIELDS * sizeof(double)) == 0);
        mf_block_result_free(&loaded[k].result);
        mf_block_result_free(&items[k].result);
    }
    free(loaded);
    mf_checkpoint_remove(dir);
}

Test(checkpoint, truncated_or_corrupt_files_are_refused) {
    char dir[300], path[400];
    snprintf(dir, sizeof dir, "%s/run.h5.checkpoint", mf_test_tmpdir());
    snprintf(path, sizeof path, "%s/rank-0.ckpt", dir);
    mf_work_result items[2];
    write_two(dir, items);
    const long size = file_size(path);
    unsigned char *bytes = malloc((size_t)size);
    FILE *file = fopen(path, "rb");
    cr_assert_eq(fread(bytes, 1, (size_t)size, file), (size_t)size);
    fclose(file);
    /* Every cut that drops part of an item (the header alone with no items is fine). */
    for (long cut = 1; cut < size; cut += 7) {
        file = fopen(path, "wb");
        fwrite(bytes, 1, (size_t)cut, file);
        fclose(file);
        mf_work_result *loaded = NULL;
        int64_t n = 0;
        cr_assert_eq(mf_checkpoint_load(dir, &identity, &loaded, &n), MF_ERR_INPUT,
                     "cut at %ld of %ld bytes accepted", cut, size);
        cr_assert_eq(n, 0);
        cr_assert_null(loaded);
    }
    /* A huge item length is refused before it is allocated. */
    unsigned char *corrupt = malloc((size_t)size);
    memcpy(corrupt, bytes, (size_t)size);
    /* Find the first item's header (point 0, block 1, its length) and make the length huge. */
    int64_t first_length = 0;
    long at = -1;
    for (long offset = 0; offset + 24 <= size; offset += 8) {
        int64_t point, block, length;
        memcpy(&point, corrupt + offset, 8);
        memcpy(&block, corrupt + offset + 8, 8);
        memcpy(&length, corrupt + offset + 16, 8);
        if (point == 0 && block == 1 && length > 40 && length < size) {
            at = offset + 16;
            first_length = length;
            break;
        }
    }
    cr_assert_geq(at, 0, "item header not found");
    cr_assert_gt(first_length, 0);
    const int64_t huge = (int64_t)1 << 40;
    memcpy(corrupt + at, &huge, 8);
    file = fopen(path, "wb");
    fwrite(corrupt, 1, (size_t)size, file);
    fclose(file);
    mf_work_result *loaded = NULL;
    int64_t n = 0;
    cr_assert_eq(mf_checkpoint_load(dir, &identity, &loaded, &n), MF_ERR_INPUT, "%s",
                 mf_error_message());
    /* Format 1 is named as such. */
    memcpy(corrupt, bytes, (size_t)size);
    memcpy(corrupt, "MFCKPT01", 8);
    file = fopen(path, "wb");
    fwrite(corrupt, 1, (size_t)size, file);
    fclose(file);
    cr_assert_eq(mf_checkpoint_load(dir, &identity, &loaded, &n), MF_ERR_INPUT);
    cr_assert_not_null(strstr(mf_error_message(), "format 01"), "%s", mf_error_message());
    free(corrupt);
    free(bytes);
    for (int k = 0; k < 2; k++)
        mf_block_result_free(&items[k].result);
    mf_checkpoint_remove(dir);
}

static unsigned char *read_file(const char *path, long *size) {
    *size = file_size(path);
    unsigned char *bytes = malloc((size_t)*size);
    FILE *file = fopen(path, "rb");
    cr_assert_eq(fread(bytes, 1, (size_t)*size, file), (size_t)*size);
    fclose(file);
    return bytes;
}

static void write_file(const char *path, const unsigned char *bytes, long size) {
    FILE *file = fopen(path, "wb");
    cr_assert_eq(fwrite(bytes, 1, (size_t)size, file), (size_t)size);
    fclose(file);
}

Test(checkpoint, one_flipped_byte_anywhere_is_refused) {
    char dir[300], path[400];
    snprintf(dir, sizeof dir, "%s/run.h5.checkpoint", mf_test_tmpdir());
    snprintf(path, sizeof path, "%s/rank-0.ckpt", dir);
    mf_work_result items[2];
    write_two(dir, items);
    long size;
    unsigned char *bytes = read_file(path, &size);
    static const unsigned char flips[] = {0x01, 0x80, 0xff};
    for (long offset = 0; offset < size; offset++)
        for (size_t f = 0; f < sizeof flips; f++) {
            bytes[offset] ^= flips[f];
            write_file(path, bytes, size);
            bytes[offset] ^= flips[f];
            mf_work_result *loaded = NULL;
            int64_t n = 0;
            cr_assert_eq(mf_checkpoint_load(dir, &identity, &loaded, &n), MF_ERR_INPUT,
                         "byte %ld of %ld flipped by 0x%02x was accepted", offset, size, flips[f]);
            cr_assert_null(loaded);
            cr_assert_not_null(strstr(mf_error_message(), "rank-0.ckpt"), "%s", mf_error_message());
            cr_assert_not_null(strstr(mf_error_message(), "--force"), "%s", mf_error_message());
        }
    free(bytes);
    for (int k = 0; k < 2; k++)
        mf_block_result_free(&items[k].result);
    mf_checkpoint_remove(dir);
}

/* Contents a checksum cannot catch (the file was written with them): still refused. */
static void refuse_written(const char *what, mf_work_result *item) {
    char dir[300];
    snprintf(dir, sizeof dir, "%s/crafted.h5.checkpoint", mf_test_tmpdir());
    const uint8_t done[1] = {1};
    cr_assert_eq(mf_checkpoint_write(dir, 0, &identity, item, done, 1), MF_OK);
    mf_work_result *loaded = NULL;
    int64_t n = 0;
    cr_assert_eq(mf_checkpoint_load(dir, &identity, &loaded, &n), MF_ERR_INPUT, "%s accepted",
                 what);
    cr_assert_null(loaded);
    mf_checkpoint_remove(dir);
}

Test(checkpoint, crafted_indices_and_values_are_refused) {
    static const int64_t bad_blocks[] = {-1, 3, 16, 1000, 100000};
    for (size_t i = 0; i < sizeof bad_blocks / sizeof bad_blocks[0]; i++) {
        mf_work_result item;
        fill(&item, 0, 1);
        item.block = bad_blocks[i];
        refuse_written("an out-of-range block", &item);
        mf_block_result_free(&item.result);
    }
    static const int64_t bad_points[] = {-1, 2, 16, 100000};
    for (size_t i = 0; i < sizeof bad_points / sizeof bad_points[0]; i++) {
        mf_work_result item;
        fill(&item, 0, 1);
        item.point = bad_points[i];
        refuse_written("an out-of-range point", &item);
        mf_block_result_free(&item.result);
    }
    mf_work_result item;
    fill(&item, 0, 1);
    item.result.rows[2].bad_debt = NAN;
    refuse_written("a NaN bad debt", &item);
    cr_assert_not_null(strstr(mf_error_message(), "bad_debt"), "%s", mf_error_message());
    mf_block_result_free(&item.result);
    fill(&item, 0, 1);
    item.result.rows[1].path_index += 1;
    refuse_written("a shifted path index", &item);
    mf_block_result_free(&item.result);
    fill(&item, 0, 1);
    item.result.cascades[0] = -5.0;
    refuse_written("a negative cascade notional", &item);
    mf_block_result_free(&item.result);
    fill(&item, 0, 1);
    item.result.profile[3] = INFINITY;
    refuse_written("an infinite profile value", &item);
    mf_block_result_free(&item.result);
    fill(&item, 0, 1);
    item.result.ledgers[0].final_fund = NAN;
    refuse_written("a NaN in the ledger", &item);
    mf_block_result_free(&item.result);
}
