#include "reduction.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "precision.h"
#include "reduce.h"
#include "wire.h"

static double path_metric(const mf_path_row *row, mf_metric_id id) {
    switch (id) {
    case MF_METRIC_LIQUIDATED_NOTIONAL:
        return row->liquidated_notional;
    case MF_METRIC_LIQUIDATED_ACCOUNTS:
        return (double)row->liquidated_accounts;
    case MF_METRIC_BAD_DEBT:
        return row->bad_debt;
    case MF_METRIC_UNCOVERED_DEFICIT:
        return row->uncovered_deficit;
    case MF_METRIC_FUND_MIN:
        return row->fund_min;
    case MF_METRIC_LARGEST_CASCADE:
        return row->largest_cascade;
    case MF_METRIC_CASCADE_COUNT:
        return (double)row->cascades;
    case MF_METRIC_MARK_DRAWDOWN:
        return row->mark_drawdown;
    case MF_METRIC_INDEX_DRAWDOWN:
        return row->index_drawdown;
    case MF_METRIC_LIQUIDATED_LONG:
        return row->liquidated_long;
    case MF_METRIC_LIQUIDATED_SHORT:
        return row->liquidated_short;
    case MF_METRIC_ADL_NOTIONAL:
        return row->adl_notional;
    case MF_METRIC_SOCIALISED_LOSS:
        return row->socialised_loss;
    case MF_METRIC_VAULT_NOTIONAL:
        return row->vault_notional;
    case MF_METRIC_FUNDING_PAID:
        return row->funding_paid;
    case MF_METRIC_BREAKER_TRIPS:
        return (double)row->breaker_trips;
    case MF_METRIC_CASCADE_NOTIONAL:
    case MF_METRIC_CASCADE_ACCOUNTS:
    case MF_METRIC_CASCADE_AMPLIFICATION:
    case MF_METRIC_CASCADE_DURATION:
    case MF_METRIC_COUNT:
    default:
        return NAN;
    }
}

static int cascade_field(mf_metric_id id) {
    switch (id) {
    case MF_METRIC_CASCADE_NOTIONAL:
        return MF_CASCADE_NOTIONAL;
    case MF_METRIC_CASCADE_ACCOUNTS:
        return MF_CASCADE_ACCOUNTS;
    case MF_METRIC_CASCADE_AMPLIFICATION:
        return MF_CASCADE_AMPLIFICATION;
    case MF_METRIC_CASCADE_DURATION:
        return MF_CASCADE_DURATION;
    case MF_METRIC_LIQUIDATED_NOTIONAL:
    case MF_METRIC_LIQUIDATED_ACCOUNTS:
    case MF_METRIC_BAD_DEBT:
    case MF_METRIC_UNCOVERED_DEFICIT:
    case MF_METRIC_FUND_MIN:
    case MF_METRIC_LARGEST_CASCADE:
    case MF_METRIC_CASCADE_COUNT:
    case MF_METRIC_MARK_DRAWDOWN:
    case MF_METRIC_INDEX_DRAWDOWN:
    case MF_METRIC_LIQUIDATED_LONG:
    case MF_METRIC_LIQUIDATED_SHORT:
    case MF_METRIC_ADL_NOTIONAL:
    case MF_METRIC_SOCIALISED_LOSS:
    case MF_METRIC_VAULT_NOTIONAL:
    case MF_METRIC_FUNDING_PAID:
    case MF_METRIC_BREAKER_TRIPS:
    case MF_METRIC_COUNT:
    default:
        return -1;
    }
}

/* A per-path metric's value of path j of a block, from its row or its metric values. */
static double block_metric(const mf_block_result *block, int64_t j, mf_metric_id id) {
    return block->metric_values ? block->metric_values[(int64_t)id * block->n_paths + j]
                                : path_metric(&block->rows[j], id);
}

/* Rank 0 keeps only the metric values of a block unpacked without whole rows: a fifth of the
 * memory of rows and ledgers per path. */
static mf_status keep_metric_values(mf_block_result *block) {
    MF_ALLOC(block->metric_values, (int64_t)MF_METRIC_COUNT * block->n_paths);
    for (int m = 0; m < MF_METRIC_COUNT; m++)
        if (!mf_metric_describe((mf_metric_id)m)->per_cascade)
            for (int64_t j = 0; j < block->n_paths; j++)
                block->metric_values[m * block->n_paths + j] =
                    path_metric(&block->rows[j], (mf_metric_id)m);
    free(block->rows);
    free(block->ledgers);
    block->rows = NULL;
    block->ledgers = NULL;
    return MF_OK;
}

/* The per-path columns a per-path metric reads (path_metric): all rank 0's statistics need of
 * a row. Filled in mask (one flag per column); fails if a metric's field has no column. */
static mf_status metric_columns(unsigned char *mask) {
    static const size_t fields[] = {
        offsetof(mf_path_row, liquidated_notional),
        offsetof(mf_path_row, liquidated_accounts),
        offsetof(mf_path_row, bad_debt),
        offsetof(mf_path_row, uncovered_deficit),
        offsetof(mf_path_row, fund_min),
        offsetof(mf_path_row, largest_cascade),
        offsetof(mf_path_row, cascades),
        offsetof(mf_path_row, mark_drawdown),
        offsetof(mf_path_row, index_drawdown),
        offsetof(mf_path_row, liquidated_long),
        offsetof(mf_path_row, liquidated_short),
        offsetof(mf_path_row, adl_notional),
        offsetof(mf_path_row, socialised_loss),
        offsetof(mf_path_row, vault_notional),
        offsetof(mf_path_row, funding_paid),
        offsetof(mf_path_row, breaker_trips),
    };
    const int n_fields = (int)(sizeof fields / sizeof fields[0]);
    int per_path_metrics = 0, found = 0;
    for (int m = 0; m < MF_METRIC_COUNT; m++)
        per_path_metrics += !mf_metric_describe((mf_metric_id)m)->per_cascade;
    for (int c = 0; c < mf_path_column_count(); c++) {
        const mf_path_column *column = mf_path_column_describe(c);
        mask[c] = 0;
        for (int f = 0; f < n_fields; f++)
            if (column->source == MF_COLUMN_FROM_ROW && column->offset == fields[f]) mask[c] = 1;
        found += mask[c];
    }
    if (found != n_fields || n_fields != per_path_metrics)
        return MF_FAIL(MF_ERR_INTERNAL,
                       "%d per-path metrics, %d fields listed, %d columns found for them",
                       per_path_metrics, n_fields, found);
    return MF_OK;
}

/* One metric: moments per block merged in block order, histogram counts, and quantiles and
 * expected shortfall from the sorted full sample, with their standard errors and intervals;
 * the unsorted samples of a per-path metric are its path values (path order). */
static mf_status reduce_metric(const mf_config *config, const mf_block_result *blocks,
                               int64_t n_blocks, mf_metric_id id, mf_metric_result *result) {
    const mf_metric_info *info = mf_metric_describe(id);
    const int field = cascade_field(id);
    int64_t n_samples = 0;
    for (int64_t i = 0; i < n_blocks; i++)
        n_samples += field >= 0 ? blocks[i].n_cascades : blocks[i].n_paths;

    const int bins_per_decade = config->output.bins_per_decade;
    result->n_bins = mf_log_bins(info->hist_min, info->hist_max, bins_per_decade, NULL);
    MF_ALLOC(result->edges, result->n_bins + 1);
    MF_ALLOC(result->counts, result->n_bins);
    mf_log_bins(info->hist_min, info->hist_max, bins_per_decade, result->edges);

    if (field < 0 && config->output.path_values) MF_ALLOC(result->path_values, n_samples);
    double *samples = NULL;
    MF_ALLOC(samples, n_samples);
    mf_moments total;
    mf_moments_init(&total);
    int64_t filled = 0;
    for (int64_t i = 0; i < n_blocks; i++) {
        mf_moments block_moments;
        mf_moments_init(&block_moments);
        const int64_t count = field >= 0 ? blocks[i].n_cascades : blocks[i].n_paths;
        for (int64_t j = 0; j < count; j++) {
            const double x = field >= 0 ? blocks[i].cascades[j * MF_CASCADE_FIELDS + field]
                                        : block_metric(&blocks[i], j, id);
            mf_moments_add(&block_moments, x);
            samples[filled++] = x;
            const int bin = mf_bin_index(result->edges, result->n_bins, x);
            if (bin < 0)
                result->underflow++;
            else if (bin >= result->n_bins)
                result->overflow++;
            else
                result->counts[bin]++;
        }
        mf_moments_merge(&total, &block_moments);
    }
    result->count = total.count;
    result->mean = total.count ? total.mean : NAN;
    result->m2 = total.count ? total.m2 : NAN;
    result->min = total.count ? total.min : NAN;
    result->max = total.count ? total.max : NAN;
    result->mean_standard_error = mf_mean_standard_error(total.count, total.m2);
    if (result->path_values && n_samples > 0)
        memcpy(result->path_values, samples, (size_t)n_samples * sizeof *samples);
    mf_sort_doubles(samples, n_samples);
    result->n_quantiles = config->output.n_quantiles;
    for (int q = 0; q < result->n_quantiles; q++) {
        const double level = config->output.quantiles[q];
        double ci[2];
        result->levels[q] = level;
        result->quantiles[q] = mf_sorted_quantile(samples, n_samples, level);
        mf_sorted_quantile_ci(samples, n_samples, level, ci);
        result->quantile_ci_low[q] = ci[0];
        result->quantile_ci_high[q] = ci[1];
        result->expected_shortfall[q] = mf_sorted_expected_shortfall(samples, n_samples, level);
        result->expected_shortfall_standard_error[q] =
            mf_sorted_expected_shortfall_se(samples, n_samples, level);
        result->tail_samples[q] = mf_tail_samples(n_samples, level);
    }
    free(samples);
    return MF_OK;
}

mf_status mf_reduce_blocks(const mf_config *config, const mf_block_result *blocks, int64_t n_blocks,
                           int keep_paths, mf_point_result *out) {
    memset(out, 0, sizeof *out);
    const int32_t steps = config->run.steps;
    int64_t n_paths = 0;
    for (int64_t i = 0; i < n_blocks; i++)
        n_paths += blocks[i].n_paths;
    out->n_paths = n_paths;
    out->n_steps = steps;
    out->dt_seconds = config->run.dt_seconds;
    for (int m = 0; m < MF_METRIC_COUNT; m++)
        MF_CHECK(reduce_metric(config, blocks, n_blocks, (mf_metric_id)m, &out->metrics[m]));

    MF_ALLOC(out->profile_liquidated_notional, steps);
    MF_ALLOC(out->profile_liquidated_accounts, steps);
    MF_ALLOC(out->profile_fund, steps);
    double *const series[MF_PROFILE_SERIES] = {
        [MF_PROFILE_LIQUIDATED_NOTIONAL] = out->profile_liquidated_notional,
        [MF_PROFILE_LIQUIDATED_ACCOUNTS] = out->profile_liquidated_accounts,
        [MF_PROFILE_FUND] = out->profile_fund,
    };
    /* Block by block, in block order: the same sums for any rank count. */
    for (int64_t i = 0; i < n_blocks; i++)
        for (int s = 0; s < MF_PROFILE_SERIES; s++)
            for (int32_t t = 0; t < steps; t++)
                series[s][t] += blocks[i].profile[s * (int64_t)steps + t];
    for (int s = 0; s < MF_PROFILE_SERIES && n_paths > 0; s++)
        for (int32_t t = 0; t < steps; t++)
            series[s][t] /= (double)n_paths;

    int64_t with_bad_debt = 0, with_shortfall = 0;
    for (int64_t i = 0; i < n_blocks; i++)
        for (int64_t j = 0; j < blocks[i].n_paths; j++) {
            with_bad_debt += block_metric(&blocks[i], j, MF_METRIC_BAD_DEBT) > 0;
            with_shortfall += block_metric(&blocks[i], j, MF_METRIC_UNCOVERED_DEFICIT) > 0;
        }
    out->prob_bad_debt = n_paths ? (double)with_bad_debt / (double)n_paths : NAN;
    out->prob_fund_shortfall = n_paths ? (double)with_shortfall / (double)n_paths : NAN;
    out->prob_bad_debt_standard_error = mf_proportion_standard_error(out->prob_bad_debt, n_paths);
    out->prob_fund_shortfall_standard_error =
        mf_proportion_standard_error(out->prob_fund_shortfall, n_paths);
    mf_wilson_interval(out->prob_bad_debt, n_paths, out->prob_bad_debt_ci);
    mf_wilson_interval(out->prob_fund_shortfall, n_paths, out->prob_fund_shortfall_ci);

    for (int64_t i = 0; i < n_blocks && keep_paths; i++)
        if (!blocks[i].rows)
            return MF_FAIL(MF_ERR_INTERNAL, "the per-path table needs the blocks' rows");
    if (keep_paths) {
        MF_ALLOC(out->paths, n_paths);
        MF_ALLOC(out->ledgers, n_paths);
        int64_t row = 0;
        for (int64_t i = 0; i < n_blocks; i++)
            for (int64_t j = 0; j < blocks[i].n_paths; j++, row++) {
                out->paths[row] = blocks[i].rows[j];
                if (blocks[i].ledgers) out->ledgers[row] = blocks[i].ledgers[j];
            }
    }
    return MF_OK;
}

/* ---------------------------------------------------------------- MPI gather */

static int compare_first_path(const void *a, const void *b) {
    const mf_block_result *x = a, *y = b;
    return (x->first_path > y->first_path) - (x->first_path < y->first_path);
}

/* Gather variable-length byte buffers to rank 0 in rank order. Collective and safe: every
 * rank first learns whether any rank failed before the gather (`local` is this rank's status
 * so far, send is unused then), whether the total fits one MPI count and whether rank 0 could
 * allocate it, so all ranks skip the gather together. *skipped = 1 on a rank that did not
 * fail itself when another one did: its caller returns MF_OK and leaves the report to the
 * failing rank (run.c's agree). */
static mf_status gather_bytes(mf_status local, const void *send, int64_t send_bytes, MPI_Comm comm,
                              void **recv, int64_t *recv_bytes, int *skipped) {
    *skipped = 0;
    int rank, size;
    MF_CHECK_MPI(MPI_Comm_rank(comm, &rank));
    MF_CHECK_MPI(MPI_Comm_size(comm, &size));
    /* {any rank failed, total bytes} */
    int64_t mine[2] = {local != MF_OK, local == MF_OK ? send_bytes : 0}, all[2] = {0, 0};
    MF_CHECK_MPI(MPI_Allreduce(&mine[0], &all[0], 1, MPI_INT64_T, MPI_MAX, comm));
    MF_CHECK_MPI(MPI_Allreduce(&mine[1], &all[1], 1, MPI_INT64_T, MPI_SUM, comm));
    if (all[0]) {
        *skipped = local == MF_OK;
        return local;
    }
    const int64_t total = all[1];
    if (total > INT32_MAX)
        return MF_FAIL(MF_ERR_MPI,
                       "one point's gathered results exceed 2 GiB (%lld bytes); keep fewer "
                       "paths per run (output.paths, run.paths) or split the sweep",
                       (long long)total);
    int count = (int)send_bytes;
    int *counts = NULL, *offsets = NULL;
    char *buffer = NULL;
    int ready = 1;
    if (rank == 0) {
        counts = calloc((size_t)size, sizeof *counts);
        offsets = calloc((size_t)size, sizeof *offsets);
        buffer = malloc(total ? (size_t)total : 1);
        ready = counts && offsets && buffer;
    }
    mf_status status = MF_MPI(MPI_Bcast(&ready, 1, MPI_INT, 0, comm));
    if (status == MF_OK && !ready)
        status = MF_FAIL(MF_ERR_MEMORY, "out of memory on rank 0 gathering %lld bytes",
                         (long long)total);
    if (status == MF_OK)
        status = MF_MPI(MPI_Gather(&count, 1, MPI_INT, counts, 1, MPI_INT, 0, comm));
    if (status == MF_OK && rank == 0) {
        int64_t offset = 0;
        for (int r = 0; r < size; r++) {
            offsets[r] = (int)offset;
            offset += counts[r];
        }
    }
    if (status == MF_OK)
        status =
            MF_MPI(MPI_Gatherv(send, count, MPI_BYTE, buffer, counts, offsets, MPI_BYTE, 0, comm));
    free(counts);
    free(offsets);
    if (status != MF_OK) {
        free(buffer);
        MF_CHECK(status);
    }
    if (rank == 0) {
        *recv = buffer;
        *recv_bytes = total;
    }
    return MF_OK;
}

static void free_blocks(mf_block_result *blocks, int64_t n) {
    for (int64_t i = 0; blocks && i < n; i++)
        mf_block_result_free(&blocks[i]);
    free(blocks);
}

/* Rank 0: the gathered bytes back into blocks (mf_block_wire_unpack checks every length). */
static mf_status unpack_blocks(const char *read, int64_t n_bytes, int32_t steps,
                               const unsigned char *mask, mf_block_result **blocks_out,
                               int64_t *n_out) {
    int64_t n_blocks = 0, capacity = 64;
    mf_block_result *blocks = calloc((size_t)capacity, sizeof *blocks);
    if (!blocks) return MF_FAIL(MF_ERR_MEMORY, "out of memory unpacking block results");
    size_t left = (size_t)n_bytes;
    mf_status status = MF_OK;
    while (left > 0 && status == MF_OK) {
        if (n_blocks == capacity) {
            capacity *= 2;
            mf_block_result *grown = realloc(blocks, (size_t)capacity * sizeof *blocks);
            if (!grown) {
                status = MF_FAIL(MF_ERR_MEMORY, "out of memory unpacking block results");
                break;
            }
            blocks = grown;
        }
        size_t used = 0;
        status = mf_block_wire_unpack_columns(read, left, steps, mask, &blocks[n_blocks], &used);
        if (status != MF_OK) break;
        n_blocks++;
        if (mask) status = keep_metric_values(&blocks[n_blocks - 1]);
        read += used;
        left -= used;
    }
    if (status != MF_OK) {
        free_blocks(blocks, n_blocks);
        MF_CHECK(status);
    }
    *blocks_out = blocks;
    *n_out = n_blocks;
    return MF_OK;
}

mf_status mf_reduce_gather(const mf_config *config, const mf_block_result *const *local_blocks,
                           int64_t n_local_blocks, int keep_paths, int whole_rows, MPI_Comm comm,
                           mf_point_result *out) {
    int rank;
    memset(out, 0, sizeof *out);
    MF_CHECK_MPI(MPI_Comm_rank(comm, &rank));
    const int32_t steps = config->run.steps;
    if (keep_paths && !whole_rows)
        return MF_FAIL(MF_ERR_INTERNAL, "mf_reduce_gather: a kept table needs whole rows");
    unsigned char mask_columns[256];
    const unsigned char *mask = NULL;
    if (mf_path_column_count() > (int)sizeof mask_columns)
        return MF_FAIL(MF_ERR_INTERNAL, "%d per-path columns", mf_path_column_count());
    if (!whole_rows) {
        MF_CHECK(metric_columns(mask_columns));
        mask = mask_columns;
    }

    /* Pack this rank's blocks one after the other in the wire format: whole rows (ledgers
     * included), or only the columns the metrics read. */
    int64_t bytes = 0;
    for (int64_t i = 0; i < n_local_blocks; i++)
        bytes += (int64_t)mf_block_wire_size_columns(local_blocks[i], mask);
    char *packed = malloc(bytes ? (size_t)bytes : 1);
    mf_status status =
        packed ? MF_OK : MF_FAIL(MF_ERR_MEMORY, "out of memory packing block results");
    char *cursor = packed;
    for (int64_t i = 0; packed && i < n_local_blocks; i++)
        cursor += mf_block_wire_pack_columns(local_blocks[i], mask, cursor);
    void *gathered = NULL;
    int64_t gathered_bytes = 0;
    int skipped = 0;
    status = gather_bytes(status, packed, bytes, comm, &gathered, &gathered_bytes, &skipped);
    free(packed);
    MF_CHECK(status);
    if (rank != 0 || skipped) return MF_OK;

    mf_block_result *blocks = NULL;
    int64_t n_blocks = 0;
    status = unpack_blocks(gathered, gathered_bytes, steps, mask, &blocks, &n_blocks);
    free(gathered);
    MF_CHECK(status);
    /* Blocks arrive in rank order; after a resume, rank 0 also holds restored blocks from
     * anywhere in the range. Block order is path order. */
    qsort(blocks, (size_t)n_blocks, sizeof *blocks, compare_first_path);
    int64_t expected = 0;
    for (int64_t i = 0; i < n_blocks && status == MF_OK; i++) {
        if (blocks[i].first_path != expected)
            status = MF_FAIL(MF_ERR_INTERNAL,
                             "gathered blocks do not tile the paths: block %lld "
                             "starts at path %lld, expected %lld",
                             (long long)i, (long long)blocks[i].first_path, (long long)expected);
        expected += blocks[i].n_paths;
    }
    if (status == MF_OK && expected != config->run.paths)
        status = MF_FAIL(MF_ERR_INTERNAL, "gathered blocks cover %lld of %lld paths",
                         (long long)expected, (long long)config->run.paths);
    if (status == MF_OK) status = mf_reduce_blocks(config, blocks, n_blocks, keep_paths, out);
    free_blocks(blocks, n_blocks);
    MF_CHECK(status);
    return MF_OK;
}
