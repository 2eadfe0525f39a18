/* The wire format of block results (src/results/wire.h), shared by the MPI gather and the
 * checkpoints: a packed block unpacks to the same bits (ledgers included), and truncated
 * buffers or lengths out of range are refused, never read past. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define STEPS 5

static void fill_block(mf_block_result *block, int64_t first, int64_t n_paths, int n_cascades) {
    cr_assert_eq(mf_block_result_init(block, STEPS, first, n_paths), MF_OK);
    for (int64_t i = 0; i < n_paths; i++) {
        mf_path_row *row = &block->rows[i];
        row->path_index = first + i;
        row->liquidated_notional = 1e6 * (double)(i + 1) + 0.1;
        row->liquidated_accounts = 3 * i;
        row->bad_debt = 0.5 * (double)i;
        row->uncovered_deficit = 0.25 * (double)i;
        row->fund_min = -1.0 / 3.0 * (double)i;
        row->mark_drawdown = 0.01 * (double)i;
        row->index_drawdown = 0.02 * (double)i;
        row->cascades = (int32_t)(i % 3);
        row->largest_cascade = 7.5 * (double)i;
        row->max_rounds = (int32_t)(50 - i);
        mf_path_ledger *ledger = &block->ledgers[i];
        ledger->initial_collateral = 1e8 + (double)i;
        ledger->initial_fund = 2e6;
        ledger->trading_pnl = -1234.5678 * (double)(i + 1);
        ledger->final_trader_equity = 9.9e7 - (double)i;
        ledger->final_fund = 1.5e6 + 0.125 * (double)i;
        ledger->uncovered_deficit = row->uncovered_deficit;
    }
    for (int c = 0; c < n_cascades; c++) {
        const double fields[MF_CASCADE_FIELDS] = {1e5 * (c + 1), c + 2.0, 1.5 + c, 3.0 * c};
        cr_assert_eq(mf_block_result_add_cascade(block, fields), MF_OK);
    }
    for (int s = 0; s < MF_PROFILE_SERIES * STEPS; s++)
        block->profile[s] = 0.1 * s - 2.0;
}

static void expect_same(const mf_block_result *a, const mf_block_result *b) {
    cr_assert_eq(a->first_path, b->first_path);
    cr_assert_eq(a->n_paths, b->n_paths);
    cr_assert_eq(a->n_steps, b->n_steps);
    cr_assert_eq(a->n_cascades, b->n_cascades);
    for (int c = 0; c < mf_path_column_count(); c++) {
        const mf_path_column *column = mf_path_column_describe(c);
        for (int64_t i = 0; i < a->n_paths; i++)
            cr_assert(memcmp(mf_path_column_value(column, &a->rows[i], &a->ledgers[i]),
                             mf_path_column_value(column, &b->rows[i], &b->ledgers[i]),
                             mf_path_column_size(column)) == 0,
                      "column %s, path %lld", column->name, (long long)i);
    }
    cr_assert(memcmp(a->cascades, b->cascades,
                     (size_t)a->n_cascades * MF_CASCADE_FIELDS * sizeof(double)) == 0);
    cr_assert(memcmp(a->profile, b->profile, MF_PROFILE_SERIES * STEPS * sizeof(double)) == 0);
}

static unsigned char *pack(const mf_block_result *block, size_t *size) {
    *size = mf_block_wire_size(block);
    unsigned char *buffer = malloc(*size);
    cr_assert_not_null(buffer);
    cr_assert_eq(mf_block_wire_pack(block, buffer), *size);
    return buffer;
}

Test(wire, round_trip_is_bit_for_bit_ledgers_included) {
    mf_block_result block, back;
    fill_block(&block, 40, 6, 70); /* more cascades than the initial capacity */
    size_t size;
    unsigned char *buffer = pack(&block, &size);
    size_t used = 0;
    cr_assert_eq(mf_block_wire_unpack(buffer, size, STEPS, &back, &used), MF_OK);
    cr_assert_eq(used, size);
    expect_same(&block, &back);
    mf_block_result_free(&back);
    free(buffer);
    mf_block_result_free(&block);
}

Test(wire, blocks_follow_each_other) {
    mf_block_result a, b, back;
    fill_block(&a, 0, 3, 0);
    fill_block(&b, 3, 2, 4);
    const size_t size_a = mf_block_wire_size(&a), size = size_a + mf_block_wire_size(&b);
    unsigned char *buffer = malloc(size);
    mf_block_wire_pack(&a, buffer);
    mf_block_wire_pack(&b, buffer + size_a);
    size_t used = 0;
    cr_assert_eq(mf_block_wire_unpack(buffer, size, STEPS, &back, &used), MF_OK);
    cr_assert_eq(used, size_a);
    expect_same(&a, &back);
    mf_block_result_free(&back);
    cr_assert_eq(mf_block_wire_unpack(buffer + used, size - used, STEPS, &back, &used), MF_OK);
    expect_same(&b, &back);
    mf_block_result_free(&back);
    free(buffer);
    mf_block_result_free(&a);
    mf_block_result_free(&b);
}

Test(wire, empty_block_round_trips) {
    mf_block_result block, back;
    fill_block(&block, 0, 0, 0);
    size_t size, used;
    unsigned char *buffer = pack(&block, &size);
    cr_assert_eq(size, MF_BLOCK_WIRE_HEADER_BYTES + MF_PROFILE_SERIES * STEPS * sizeof(double));
    cr_assert_eq(mf_block_wire_unpack(buffer, size, STEPS, &back, &used), MF_OK);
    expect_same(&block, &back);
    mf_block_result_free(&back);
    free(buffer);
    mf_block_result_free(&block);
}

Test(wire, every_truncation_is_refused) {
    mf_block_result block, back;
    fill_block(&block, 8, 4, 3);
    size_t size, used = 99;
    unsigned char *buffer = pack(&block, &size);
    for (size_t cut = 0; cut < size; cut++) {
        /* A copy of exactly `cut` bytes, so ASan sees any read past the end. */
        unsigned char *part = malloc(cut ? cut : 1);
        memcpy(part, buffer, cut);
        cr_assert_eq(mf_block_wire_unpack(part, cut, STEPS, &back, &used), MF_ERR_INPUT,
                     "%zu of %zu bytes accepted", cut, size);
        cr_assert_null(back.rows);
        cr_assert_eq(used, 0);
        free(part);
    }
    free(buffer);
    mf_block_result_free(&block);
}

/* Overwrite header field k (0..2 int64, 3..6 int32) and expect a refusal. */
static void expect_refused(int field, int64_t value) {
    mf_block_result block, back;
    fill_block(&block, 0, 4, 2);
    size_t size, used;
    unsigned char *buffer = pack(&block, &size);
    if (field < 3) {
        memcpy(buffer + 8 * field, &value, 8);
    } else {
        const int32_t narrow = (int32_t)value;
        memcpy(buffer + 24 + 4 * (field - 3), &narrow, 4);
    }
    cr_assert_eq(mf_block_wire_unpack(buffer, size, STEPS, &back, &used), MF_ERR_INPUT,
                 "field %d = %lld accepted", field, (long long)value);
    cr_assert(strlen(mf_error_message()) > 0);
    free(buffer);
    mf_block_result_free(&block);
}

Test(wire, lengths_out_of_range_are_refused) {
    expect_refused(0, -1);                             /* first path */
    expect_refused(1, -1);                             /* paths */
    expect_refused(1, 5);                              /* one path more than the bytes hold */
    expect_refused(1, MF_BLOCK_WIRE_MAX_PATHS + 1);    /* beyond the limit */
    expect_refused(1, INT64_MAX);                      /* would overflow a size */
    expect_refused(2, -3);                             /* cascades */
    expect_refused(2, 3);                              /* more than the bytes hold */
    expect_refused(2, MF_BLOCK_WIRE_MAX_CASCADES + 1); /* beyond the limit */
    expect_refused(3, STEPS + 1);                      /* steps of another run */
    expect_refused(4, mf_path_column_count() - 1);     /* another build's column table */
    expect_refused(5, MF_PROFILE_SERIES + 1);          /* another build's profile series */
    expect_refused(6, MF_CASCADE_FIELDS - 1);          /* another build's cascade fields */
}

Test(wire, path_columns_come_from_one_table) {
    cr_assert_eq(mf_path_column_count(), 46);
    int ledger_columns = 0;
    for (int c = 0; c < mf_path_column_count(); c++) {
        const mf_path_column *column = mf_path_column_describe(c);
        cr_assert_not_null(column);
        cr_assert_str_eq(column->unit,
                         column->source == MF_COLUMN_FROM_LEDGER ? "USD" : column->unit);
        ledger_columns += column->source == MF_COLUMN_FROM_LEDGER;
    }
    cr_assert_eq(ledger_columns, 10);
    cr_assert_str_eq(mf_path_column_describe(0)->name, "path_index");
    cr_assert_null(mf_path_column_describe(mf_path_column_count()));
    cr_assert_null(mf_path_column_describe(-1));
}

/* The MPI reduction sends only some columns (the per-path metrics' when the rows stay on their
 * ranks): those come back bit for bit, the others zero, and a buffer packed with another set
 * of columns is refused by its column count. */
Test(wire, a_subset_of_columns_round_trips_and_is_told_apart) {
    mf_block_result block, back;
    fill_block(&block, 8, 5, 3);
    const int n_columns = mf_path_column_count();
    unsigned char *mask = calloc((size_t)n_columns, 1);
    cr_assert_not_null(mask);
    int sent = 0;
    for (int c = 0; c < n_columns; c++) {
        const mf_path_column *column = mf_path_column_describe(c);
        mask[c] = strcmp(column->name, "bad_debt") == 0 || strcmp(column->name, "cascades") == 0;
        sent += mask[c];
    }
    cr_assert_eq(sent, 2);
    const size_t size = mf_block_wire_size_columns(&block, mask);
    cr_assert_eq(size, MF_BLOCK_WIRE_HEADER_BYTES + 5 * (8 + 4) +
                           3 * MF_CASCADE_FIELDS * sizeof(double) +
                           MF_PROFILE_SERIES * STEPS * sizeof(double));
    unsigned char *buffer = malloc(size);
    cr_assert_not_null(buffer);
    cr_assert_eq(mf_block_wire_pack_columns(&block, mask, buffer), size);
    size_t used = 0;
    cr_assert_eq(mf_block_wire_unpack_columns(buffer, size, STEPS, mask, &back, &used), MF_OK);
    cr_assert_eq(used, size);
    for (int64_t i = 0; i < 5; i++) {
        cr_assert(memcmp(&back.rows[i].bad_debt, &block.rows[i].bad_debt, sizeof(double)) == 0);
        cr_assert_eq(back.rows[i].cascades, block.rows[i].cascades);
        cr_assert_eq(back.rows[i].liquidated_notional, 0.0, "a column not sent stays zero");
        cr_assert_eq(back.ledgers[i].initial_fund, 0.0);
    }
    cr_assert(memcmp(back.cascades, block.cascades, 3 * MF_CASCADE_FIELDS * sizeof(double)) == 0);
    cr_assert(memcmp(back.profile, block.profile, MF_PROFILE_SERIES * STEPS * sizeof(double)) == 0);
    mf_block_result_free(&back);
    /* Read as a whole block (every column), the count of 2 columns is refused. */
    cr_assert_eq(mf_block_wire_unpack(buffer, size, STEPS, &back, &used), MF_ERR_INPUT);
    free(buffer);
    free(mask);
    mf_block_result_free(&block);
}
