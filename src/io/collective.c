/* Collective hyperslab writes of the per-path tables and traces into the file rank 0 wrote
 * (collective.h). Every rank makes the same sequence of HDF5 calls (open, one H5Dwrite per
 * dataset, close), a rank without rows of a point with an empty selection: parallel HDF5 writes
 * filtered (Fletcher32) datasets only collectively. */
#include "collective.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "h5_util.h"
#include "mf_mpi.h"

#define NAME_LEN 512

static mf_status collective_failed(const char *path, const char *what, const char *name) {
    char reason[256];
    h5_error_reason(reason, sizeof reason);
    return MF_FAIL(MF_ERR_OUTPUT, "cannot write %s '%s' in '%s' (collective write): %s", what, name,
                   path, reason);
}

/* One collective write of dataset `name`: this rank's n_runs runs [start, start + count) of the
 * file's elements from `data` (n_values, the runs' total, in file order). A rank whose own
 * preparation failed (ok 0) still takes part, with nothing selected, so no rank waits. */
static mf_status write_runs(hid_t file, hid_t dxpl, const char *path, const char *name,
                            hid_t mem_type, const hsize_t *starts, const hsize_t *counts,
                            int64_t n_runs, const void *data, hsize_t n_values, int ok) {
    mf_status status = MF_OK;
    hid_t dataset = H5Dopen2(file, name, H5P_DEFAULT);
    if (dataset < 0) return collective_failed(path, "dataset", name);
    hid_t space = H5Dget_space(dataset);
    const hsize_t one = 1;
    hid_t memory = H5Screate_simple(1, n_values && ok ? &n_values : &one, NULL);
    herr_t selected = space >= 0 && memory >= 0 ? H5Sselect_none(space) : -1;
    for (int64_t i = 0; i < n_runs && ok && selected >= 0; i++)
        selected = H5Sselect_hyperslab(space, H5S_SELECT_OR, &starts[i], NULL, &counts[i], NULL);
    if (selected < 0) status = collective_failed(path, "selection of", name);
    if ((selected < 0 || !ok || n_values == 0) && space >= 0 && memory >= 0) {
        H5Sselect_none(space);
        H5Sselect_none(memory);
    }
    const double unused = 0;
    if (space >= 0 && memory >= 0 &&
        H5Dwrite(dataset, mem_type, memory, space, dxpl,
                 data && ok && n_values ? data : (const void *)&unused) < 0 &&
        status == MF_OK)
        status = collective_failed(path, "dataset", name);
    if (space < 0 || memory < 0) status = collective_failed(path, "dataspace of", name);
    if (memory >= 0) H5Sclose(memory);
    if (space >= 0) H5Sclose(space);
    H5Dclose(dataset);
    return status;
}

static hid_t column_mem_type(const mf_path_column *column) {
    return column->type == MF_COLUMN_F64   ? H5T_NATIVE_DOUBLE
           : column->type == MF_COLUMN_I64 ? H5T_NATIVE_INT64
                                           : H5T_NATIVE_INT32;
}

/* /point_<i>/paths/<column>: this rank's rows, one run per stretch of adjacent blocks. */
static mf_status write_point_paths(hid_t file, hid_t dxpl, const char *path,
                                   const mf_local_point *point, int n_assets, int failed) {
    int64_t n_rows = 0;
    for (int64_t b = 0; b < point->n_blocks; b++)
        n_rows += point->blocks[b]->n_paths;
    const size_t n_slots = point->n_blocks > 0 ? (size_t)point->n_blocks : 1;
    hsize_t *starts = calloc(n_slots, sizeof *starts);
    hsize_t *counts = calloc(n_slots, sizeof *counts);
    unsigned char *column = malloc((n_rows > 0 ? (size_t)n_rows : 1) * 8);
    int ok = starts && counts && column && !failed;
    mf_status status =
        ok || failed ? MF_OK : MF_FAIL(MF_ERR_MEMORY, "out of memory for a path column");
    int64_t n_runs = 0;
    for (int64_t b = 0; b < point->n_blocks && ok; b++) {
        const mf_block_result *block = point->blocks[b];
        if (n_runs > 0 && starts[n_runs - 1] + counts[n_runs - 1] == (hsize_t)block->first_path) {
            counts[n_runs - 1] += (hsize_t)block->n_paths;
        } else {
            starts[n_runs] = (hsize_t)block->first_path;
            counts[n_runs] = (hsize_t)block->n_paths;
            n_runs++;
        }
        if (!block->ledgers || block->first_path + block->n_paths > point->n_paths) {
            status = MF_FAIL(MF_ERR_INTERNAL,
                             "point %d: a block of paths %lld+%lld without "
                             "its ledgers or beyond the point's %lld paths",
                             point->point_index, (long long)block->first_path,
                             (long long)block->n_paths, (long long)point->n_paths);
            ok = 0;
        }
    }
    for (int c = 0; c < mf_path_column_count(); c++) {
        const mf_path_column *col = mf_path_column_describe(c);
        if (!mf_path_column_written(col, 1, n_assets)) continue;
        const size_t size = mf_path_column_size(col);
        int64_t row = 0;
        for (int64_t b = 0; b < point->n_blocks && ok; b++) {
            const mf_block_result *block = point->blocks[b];
            for (int64_t j = 0; j < block->n_paths; j++, row++)
                memcpy(column + row * (int64_t)size,
                       mf_path_column_value(col, &block->rows[j], &block->ledgers[j]), size);
        }
        char name[NAME_LEN];
        snprintf(name, sizeof name, "point_%d/paths/%s", point->point_index, col->name);
        const mf_status written = write_runs(file, dxpl, path, name, column_mem_type(col), starts,
                                             counts, n_runs, column, (hsize_t)n_rows, ok);
        if (status == MF_OK) status = written;
    }
    free(starts);
    free(counts);
    free(column);
    return status;
}

/* /point_<i>/traces/path_<p>/<series>: the rank that simulated the path writes each whole
 * series, the others select nothing. */
static mf_status write_point_traces(hid_t file, hid_t dxpl, const char *path,
                                    const mf_local_point *point, int n_assets,
                                    const char *const *asset_names, int failed) {
    mf_status status = MF_OK;
    for (int i = 0; i < point->n_traces; i++) {
        const mf_path_trace *trace = &point->traces[i];
        const int mine = trace->index != NULL;
        const hsize_t steps = (hsize_t)trace->n_steps;
        double *series = malloc((steps + 1) * sizeof *series);
        int ok = series != NULL && !failed;
        if (!series && status == MF_OK)
            status = MF_FAIL(MF_ERR_MEMORY, "out of memory for a trace");
        const hsize_t zero = 0, all_prices = steps + 1;
        char name[NAME_LEN];
        for (int k = 0; k < n_assets; k++)
            for (int kind = 0; kind < 2; kind++) {
                const double *prices = kind == 0 ? trace->index : trace->mark;
                for (hsize_t t = 0; t <= steps && mine && ok; t++)
                    series[t] = prices[t * (hsize_t)n_assets + (hsize_t)k];
                snprintf(name, sizeof name, "point_%d/traces/path_%lld/%s_%s", point->point_index,
                         (long long)trace->path, kind == 0 ? "index" : "mark", asset_names[k]);
                const mf_status written =
                    write_runs(file, dxpl, path, name, H5T_NATIVE_DOUBLE, &zero, &all_prices, mine,
                               series, mine ? all_prices : 0, ok);
                if (status == MF_OK) status = written;
            }
        static const char *const flows[] = {
            "liquidated_long", "liquidated_short", "liquidated_accounts", "backlog", "fund",
            "rounds"};
        const void *values[] = {trace->liquidated_long,
                                trace->liquidated_short,
                                trace->liquidated_accounts,
                                trace->backlog,
                                trace->fund,
                                trace->rounds};
        for (int f = 0; f < 6; f++) {
            snprintf(name, sizeof name, "point_%d/traces/path_%lld/%s", point->point_index,
                     (long long)trace->path, flows[f]);
            const mf_status written =
                write_runs(file, dxpl, path, name, f == 5 ? H5T_NATIVE_INT32 : H5T_NATIVE_DOUBLE,
                           &zero, &steps, mine, values[f], mine ? steps : 0, ok);
            if (status == MF_OK) status = written;
        }
        free(series);
    }
    return status;
}

/* Every rank: open temp_path with the MPI-IO driver, write what it holds, close. */
static mf_status write_ranks_part(const char *path, const char *temp_path,
                                  const mf_local_point *local, int n_points, int n_assets,
                                  const char *const *asset_names, MPI_Comm comm) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    herr_t ready = fapl < 0 ? -1 : H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
    /* The format rank 0 wrote (libver bounds pinned to 1.10), whatever the library. */
    if (ready >= 0) ready = H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110);
    if (ready >= 0) ready = H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    hid_t file = ready < 0 ? H5I_INVALID_HID : H5Fopen(temp_path, H5F_ACC_RDWR, fapl);
    if (fapl >= 0) H5Pclose(fapl);
    if (file < 0) return collective_failed(path, "file", temp_path);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    mf_status status = MF_OK;
    if (dxpl < 0 || H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) < 0)
        status = collective_failed(path, "transfer properties for", temp_path);
    /* Test hook: MARGINFALL_FAIL_WRITE_RANK=r makes rank r fail here, as a rank whose own
     * part cannot be prepared (tests/scripts/test_collective_paths.py). */
    int rank;
    MPI_Comm_rank(comm, &rank);
    const char *hook = getenv("MARGINFALL_FAIL_WRITE_RANK");
    if (status == MF_OK && hook && *hook && atoi(hook) == rank)
        status = MF_FAIL(MF_ERR_OUTPUT,
                         "cannot write '%s': failure injected on rank %d "
                         "(MARGINFALL_FAIL_WRITE_RANK)",
                         path, rank);
    /* A failure on one rank must not leave the others in a collective call: every rank goes
     * through every dataset (write_runs selects nothing after a local failure). */
    for (int i = 0; i < n_points && dxpl >= 0; i++) {
        const int failed = status != MF_OK;
        mf_status written = MF_OK;
        if (local[i].write_paths)
            written = write_point_paths(file, dxpl, path, &local[i], n_assets, failed);
        if (status == MF_OK) status = written;
        written = write_point_traces(file, dxpl, path, &local[i], n_assets, asset_names, failed);
        if (status == MF_OK) status = written;
    }
    if (dxpl >= 0) H5Pclose(dxpl);
    if (H5Fclose(file) < 0 && status == MF_OK) status = collective_failed(path, "file", temp_path);
    return status;
}

mf_status mf_output_write_collective(const char *path, int force, const mf_run_info *info,
                                     const mf_point_result *points, int n_points,
                                     const mf_local_point *local, int n_assets,
                                     const char *const *asset_names, MPI_Comm comm) {
    int rank;
    MF_CHECK_MPI(MPI_Comm_rank(comm, &rank));
    char temp_path[4200] = "";
    mf_status status = MF_OK;
    if (rank == 0) {
        mf_output_temp_name(path, temp_path, sizeof temp_path);
        status = mf_output_write_temp(path, temp_path, force, info, points, n_points);
    }
    status = mf_mpi_agree(status, comm);
    if (status != MF_OK) return status; /* rank 0 removed its temporary file */
    status = MF_MPI(MPI_Bcast(temp_path, (int)sizeof temp_path, MPI_CHAR, 0, comm));
    status = mf_mpi_agree(status, comm);
    /* Nothing for the ranks to write (no table, no trace): no parallel open. The same answer on
     * every rank (the config and the traced paths are everyone's). */
    int needed = 0;
    for (int i = 0; i < n_points; i++)
        needed |= local[i].write_paths || local[i].n_traces > 0;
    if (status == MF_OK && needed) {
        h5_quiet saved;
        h5_quiet_begin(&saved);
        status = write_ranks_part(path, temp_path, local, n_points, n_assets, asset_names, comm);
        h5_quiet_end(&saved);
    }
    status = mf_mpi_agree(status, comm);
    if (rank == 0) {
        if (status != MF_OK)
            unlink(temp_path);
        else
            status = mf_output_publish(temp_path, path, force); /* removes it on failure */
    }
    status = mf_mpi_agree(status, comm);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}
