#include "reduction.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reduce.h"

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
    default:
        return NAN;
    }
}

static int cascade_field(mf_metric_id id) {
    switch (id) {
    case MF_METRIC_CASCADE_NOTIONAL:
        return 0;
    case MF_METRIC_CASCADE_ACCOUNTS:
        return 1;
    case MF_METRIC_CASCADE_AMPLIFICATION:
        return 2;
    case MF_METRIC_CASCADE_DURATION:
        return 3;
    default:
        return -1;
    }
}

/* One metric: moments per block merged in block order, histogram counts, and quantiles and
 * expected shortfall from the sorted full sample. */
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
                                        : path_metric(&blocks[i].rows[j], id);
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
    mf_sort_doubles(samples, n_samples);
    for (int q = 0; q < MF_N_QUANTILES; q++) {
        result->quantiles[q] = mf_sorted_quantile(samples, n_samples, mf_quantile_levels[q]);
        result->expected_shortfall[q] =
            mf_sorted_expected_shortfall(samples, n_samples, mf_quantile_levels[q]);
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
    for (int m = 0; m < MF_METRIC_COUNT; m++)
        MF_CHECK(reduce_metric(config, blocks, n_blocks, (mf_metric_id)m, &out->metrics[m]));

    MF_ALLOC(out->profile_liquidated_notional, steps);
    MF_ALLOC(out->profile_liquidated_accounts, steps);
    MF_ALLOC(out->profile_fund, steps);
    for (int64_t i = 0; i < n_blocks; i++)
        for (int32_t t = 0; t < steps; t++) {
            out->profile_liquidated_notional[t] +=
                blocks[i].profile[MF_PROFILE_LIQUIDATED_NOTIONAL * (int64_t)steps + t];
            out->profile_liquidated_accounts[t] +=
                blocks[i].profile[MF_PROFILE_LIQUIDATED_ACCOUNTS * (int64_t)steps + t];
            out->profile_fund[t] += blocks[i].profile[MF_PROFILE_FUND * (int64_t)steps + t];
        }
    for (int32_t t = 0; t < steps && n_paths > 0; t++) {
        out->profile_liquidated_notional[t] /= (double)n_paths;
        out->profile_liquidated_accounts[t] /= (double)n_paths;
        out->profile_fund[t] /= (double)n_paths;
    }

    int64_t with_bad_debt = 0, with_shortfall = 0;
    for (int64_t i = 0; i < n_blocks; i++)
        for (int64_t j = 0; j < blocks[i].n_paths; j++) {
            with_bad_debt += blocks[i].rows[j].bad_debt > 0;
            with_shortfall += blocks[i].rows[j].uncovered_deficit > 0;
        }
    out->prob_bad_debt = n_paths ? (double)with_bad_debt / (double)n_paths : NAN;
    out->prob_fund_shortfall = n_paths ? (double)with_shortfall / (double)n_paths : NAN;

    if (keep_paths) {
        MF_ALLOC(out->paths, n_paths);
        int64_t row = 0;
        for (int64_t i = 0; i < n_blocks; i++)
            for (int64_t j = 0; j < blocks[i].n_paths; j++)
                out->paths[row++] = blocks[i].rows[j];
    }
    return MF_OK;
}

/* ---------------------------------------------------------------- MPI gather */

static int compare_first_path(const void *a, const void *b) {
    const mf_block_result *x = a, *y = b;
    return (x->first_path > y->first_path) - (x->first_path < y->first_path);
}

static mf_status mpi_check(int code, const char *what) {
    if (code == MPI_SUCCESS) return MF_OK;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    return MF_FAIL(MF_ERR_MPI, "%s failed: %s", what, text);
}

/* Gather variable-length byte buffers to rank 0 in rank order. */
static mf_status gather_bytes(const void *send, int64_t send_bytes, MPI_Comm comm, void **recv,
                              int64_t *recv_bytes) {
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (send_bytes > INT32_MAX)
        return MF_FAIL(MF_ERR_MPI,
                       "a rank's results exceed 2 GiB (%lld bytes); use more ranks "
                       "or fewer paths per run",
                       (long long)send_bytes);
    int count = (int)send_bytes;
    int *counts = NULL, *offsets = NULL;
    if (rank == 0) {
        MF_ALLOC(counts, size);
        MF_ALLOC(offsets, size);
    }
    MF_CHECK(mpi_check(MPI_Gather(&count, 1, MPI_INT, counts, 1, MPI_INT, 0, comm), "MPI_Gather"));
    char *buffer = NULL;
    if (rank == 0) {
        int64_t total = 0;
        for (int r = 0; r < size; r++) {
            if (total > INT32_MAX) {
                free(counts);
                free(offsets);
                return MF_FAIL(MF_ERR_MPI, "gathered results exceed 2 GiB");
            }
            offsets[r] = (int)total;
            total += counts[r];
        }
        buffer = malloc(total ? (size_t)total : 1);
        if (!buffer) {
            free(counts);
            free(offsets);
            return MF_FAIL(MF_ERR_MEMORY, "out of memory gathering %lld bytes", (long long)total);
        }
        *recv_bytes = total;
    }
    const int code = MPI_Gatherv(send, count, MPI_BYTE, buffer, counts, offsets, MPI_BYTE, 0, comm);
    free(counts);
    free(offsets);
    if (code != MPI_SUCCESS) free(buffer);
    MF_CHECK(mpi_check(code, "MPI_Gatherv"));
    if (rank == 0) *recv = buffer;
    return MF_OK;
}

mf_status mf_reduce_gather(const mf_config *config, const mf_block_result *const *local_blocks,
                           int64_t n_local_blocks, int keep_paths, MPI_Comm comm,
                           mf_point_result *out) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    memset(out, 0, sizeof *out);
    const int32_t steps = config->run.steps;

    /* Pack: per block a header (first path, paths, cascades), then rows, cascades, profile. */
    int64_t bytes = 0;
    for (int64_t i = 0; i < n_local_blocks; i++)
        bytes += 3 * sizeof(int64_t) + local_blocks[i]->n_paths * sizeof(mf_path_row) +
                 local_blocks[i]->n_cascades * MF_CASCADE_FIELDS * sizeof(double) +
                 3 * (int64_t)steps * sizeof(double);
    char *packed = malloc(bytes ? (size_t)bytes : 1);
    if (!packed) return MF_FAIL(MF_ERR_MEMORY, "out of memory packing block results");
    char *cursor = packed;
    for (int64_t i = 0; i < n_local_blocks; i++) {
        const mf_block_result *block = local_blocks[i];
        const int64_t header[3] = {block->first_path, block->n_paths, block->n_cascades};
        memcpy(cursor, header, sizeof header);
        cursor += sizeof header;
        memcpy(cursor, block->rows, block->n_paths * sizeof(mf_path_row));
        cursor += block->n_paths * sizeof(mf_path_row);
        memcpy(cursor, block->cascades, block->n_cascades * MF_CASCADE_FIELDS * sizeof(double));
        cursor += block->n_cascades * MF_CASCADE_FIELDS * sizeof(double);
        memcpy(cursor, block->profile, MF_PROFILE_SERIES * (size_t)steps * sizeof(double));
        cursor += MF_PROFILE_SERIES * (size_t)steps * sizeof(double);
    }
    void *gathered = NULL;
    int64_t gathered_bytes = 0;
    mf_status status = gather_bytes(packed, bytes, comm, &gathered, &gathered_bytes);
    free(packed);
    MF_CHECK(status);
    if (rank != 0) return MF_OK;

    /* Unpack into block views (pointers into the gathered buffer) in block order. */
    int64_t n_blocks = 0, capacity = 64;
    mf_block_result *blocks = calloc((size_t)capacity, sizeof *blocks);
    const char *read = gathered;
    const char *stop = read + gathered_bytes;
    while (blocks && read < stop) {
        if (n_blocks == capacity) {
            capacity *= 2;
            mf_block_result *grown = realloc(blocks, (size_t)capacity * sizeof *blocks);
            if (!grown) {
                free(blocks);
                blocks = NULL;
                break;
            }
            blocks = grown;
        }
        int64_t header[3];
        memcpy(header, read, sizeof header);
        read += sizeof header;
        mf_block_result *block = &blocks[n_blocks++];
        memset(block, 0, sizeof *block);
        block->first_path = header[0];
        block->n_paths = header[1];
        block->n_cascades = header[2];
        block->n_steps = steps;
        block->rows = (mf_path_row *)(uintptr_t)read;
        read += block->n_paths * sizeof(mf_path_row);
        block->cascades = (double *)(uintptr_t)read;
        read += block->n_cascades * MF_CASCADE_FIELDS * sizeof(double);
        block->profile = (double *)(uintptr_t)read;
        read += MF_PROFILE_SERIES * (size_t)steps * sizeof(double);
    }
    if (!blocks) {
        free(gathered);
        return MF_FAIL(MF_ERR_MEMORY, "out of memory unpacking block results");
    }
    /* Blocks arrive in rank order; after a resume, rank 0 also holds restored blocks from
     * anywhere in the range. Block order is path order. */
    qsort(blocks, (size_t)n_blocks, sizeof *blocks, compare_first_path);
    int64_t expected = 0;
    for (int64_t i = 0; i < n_blocks; i++) {
        if (blocks[i].first_path != expected) {
            const long long found = (long long)blocks[i].first_path;
            free(blocks);
            free(gathered);
            return MF_FAIL(MF_ERR_INTERNAL,
                           "gathered blocks do not tile the paths: block %lld "
                           "starts at path %lld, expected %lld",
                           (long long)i, found, (long long)expected);
        }
        expected += blocks[i].n_paths;
    }
    if (expected != config->run.paths) {
        free(blocks);
        free(gathered);
        return MF_FAIL(MF_ERR_INTERNAL, "gathered blocks cover %lld of %lld paths",
                       (long long)expected, (long long)config->run.paths);
    }
    status = mf_reduce_blocks(config, blocks, n_blocks, keep_paths, out);
    free(blocks);
    free(gathered);
    MF_CHECK(status);
    return MF_OK;
}
