#include "wire.h"

#include <stdlib.h>
#include <string.h>

/* mask: one flag per column (NULL: every column). */
static int column_sent(const unsigned char *mask, int c) {
    return !mask || mask[c];
}

static int columns_sent(const unsigned char *mask) {
    int n = 0;
    for (int c = 0; c < mf_path_column_count(); c++)
        n += column_sent(mask, c);
    return n;
}

static size_t column_bytes(int64_t n_paths, const unsigned char *mask) {
    size_t bytes = 0;
    for (int c = 0; c < mf_path_column_count(); c++)
        if (column_sent(mask, c))
            bytes += (size_t)n_paths * mf_path_column_size(mf_path_column_describe(c));
    return bytes;
}

size_t mf_block_wire_size(const mf_block_result *block) {
    return mf_block_wire_size_columns(block, NULL);
}

size_t mf_block_wire_size_columns(const mf_block_result *block, const unsigned char *mask) {
    return MF_BLOCK_WIRE_HEADER_BYTES + column_bytes(block->n_paths, mask) +
           (size_t)block->n_cascades * MF_CASCADE_FIELDS * sizeof(double) +
           (size_t)MF_PROFILE_SERIES * (size_t)block->n_steps * sizeof(double);
}

static unsigned char *put(unsigned char *cursor, const void *data, size_t bytes) {
    if (bytes) memcpy(cursor, data, bytes);
    return cursor + bytes;
}

size_t mf_block_wire_pack(const mf_block_result *block, void *buffer) {
    return mf_block_wire_pack_columns(block, NULL, buffer);
}

size_t mf_block_wire_pack_columns(const mf_block_result *block, const unsigned char *mask,
                                  void *buffer) {
    unsigned char *cursor = buffer;
    const int64_t header64[3] = {block->first_path, block->n_paths, block->n_cascades};
    const int32_t header32[4] = {block->n_steps, (int32_t)columns_sent(mask),
                                 (int32_t)MF_PROFILE_SERIES, (int32_t)MF_CASCADE_FIELDS};
    cursor = put(cursor, header64, sizeof header64);
    cursor = put(cursor, header32, sizeof header32);
    const mf_path_ledger zero = {0};
    for (int c = 0; c < mf_path_column_count(); c++) {
        if (!column_sent(mask, c)) continue;
        const mf_path_column *column = mf_path_column_describe(c);
        const size_t size = mf_path_column_size(column);
        for (int64_t i = 0; i < block->n_paths; i++)
            cursor = put(cursor,
                         mf_path_column_value(column, &block->rows[i],
                                              block->ledgers ? &block->ledgers[i] : &zero),
                         size);
    }
    cursor = put(cursor, block->cascades,
                 (size_t)block->n_cascades * MF_CASCADE_FIELDS * sizeof(double));
    cursor = put(cursor, block->profile,
                 (size_t)MF_PROFILE_SERIES * (size_t)block->n_steps * sizeof(double));
    return (size_t)(cursor - (unsigned char *)buffer);
}

mf_status mf_block_wire_unpack(const void *buffer, size_t size, int32_t steps,
                               mf_block_result *block, size_t *consumed) {
    return mf_block_wire_unpack_columns(buffer, size, steps, NULL, block, consumed);
}

mf_status mf_block_wire_unpack_columns(const void *buffer, size_t size, int32_t steps,
                                       const unsigned char *mask, mf_block_result *block,
                                       size_t *consumed) {
    memset(block, 0, sizeof *block);
    *consumed = 0;
    if (size < MF_BLOCK_WIRE_HEADER_BYTES)
        return MF_FAIL(MF_ERR_INPUT, "block result truncated: %zu bytes, the header alone has %d",
                       size, MF_BLOCK_WIRE_HEADER_BYTES);
    const unsigned char *cursor = buffer;
    int64_t header64[3];
    int32_t header32[4];
    memcpy(header64, cursor, sizeof header64);
    memcpy(header32, cursor + sizeof header64, sizeof header32);
    cursor += MF_BLOCK_WIRE_HEADER_BYTES;
    const int64_t first_path = header64[0], n_paths = header64[1], n_cascades = header64[2];
    if (first_path < 0 || n_paths < 0 || n_paths > MF_BLOCK_WIRE_MAX_PATHS || n_cascades < 0 ||
        n_cascades > MF_BLOCK_WIRE_MAX_CASCADES)
        return MF_FAIL(MF_ERR_INPUT,
                       "corrupt block result: first path %lld, %lld paths, %lld cascades",
                       (long long)first_path, (long long)n_paths, (long long)n_cascades);
    if (header32[0] != steps)
        return MF_FAIL(MF_ERR_INPUT, "block result has %d steps, this run %d", header32[0], steps);
    if (header32[1] != columns_sent(mask) || header32[2] != MF_PROFILE_SERIES ||
        header32[3] != MF_CASCADE_FIELDS)
        return MF_FAIL(MF_ERR_INPUT,
                       "block result has %d path columns, %d profile series and %d cascade "
                       "fields; this build has %d, %d and %d",
                       header32[1], header32[2], header32[3], columns_sent(mask),
                       (int)MF_PROFILE_SERIES, (int)MF_CASCADE_FIELDS);
    /* Every length is bounded above, so these products do not overflow size_t. */
    const size_t columns = column_bytes(n_paths, mask);
    const size_t cascades = (size_t)n_cascades * MF_CASCADE_FIELDS * sizeof(double);
    const size_t profile = (size_t)MF_PROFILE_SERIES * (size_t)steps * sizeof(double);
    const size_t left = size - MF_BLOCK_WIRE_HEADER_BYTES;
    if (steps < 0 || columns > left || cascades > left - columns ||
        profile > left - columns - cascades)
        return MF_FAIL(MF_ERR_INPUT,
                       "block result truncated: %lld paths and %lld cascades need %zu bytes, "
                       "%zu are left",
                       (long long)n_paths, (long long)n_cascades, columns + cascades + profile,
                       left);

    mf_block_result out;
    MF_CHECK(mf_block_result_init(&out, steps, first_path, n_paths));
    if (n_cascades > out.cascade_capacity) {
        double *grown = realloc(out.cascades, cascades);
        if (!grown) {
            mf_block_result_free(&out);
            return MF_FAIL(MF_ERR_MEMORY, "out of memory for %lld cascades", (long long)n_cascades);
        }
        out.cascades = grown;
        out.cascade_capacity = n_cascades;
    }
    for (int c = 0; c < mf_path_column_count(); c++) {
        if (!column_sent(mask, c)) continue; /* left zero */
        const mf_path_column *column = mf_path_column_describe(c);
        const size_t value_size = mf_path_column_size(column);
        for (int64_t i = 0; i < n_paths; i++) {
            memcpy(mf_path_column_slot(column, &out.rows[i], &out.ledgers[i]), cursor, value_size);
            cursor += value_size;
        }
    }
    if (cascades) memcpy(out.cascades, cursor, cascades);
    cursor += cascades;
    if (profile) memcpy(out.profile, cursor, profile);
    cursor += profile;
    out.n_cascades = n_cascades;
    *block = out;
    *consumed = (size_t)(cursor - (const unsigned char *)buffer);
    return MF_OK;
}
