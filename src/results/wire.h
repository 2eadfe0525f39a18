/* The wire format of one block's results: one byte layout used by the MPI reduction (ranks
 * send their blocks to rank 0) and by checkpoints (blocks saved to disk), so both carry the
 * same fields, the money ledgers included. Layout (docs/output.md, "Checkpoints"), every
 * number in the host's byte order:
 *
 *   header   int64 first_path, n_paths, n_cascades
 *            int32 n_steps, n_path_columns, n_profile_series, n_cascade_fields
 *   columns  for each per-path column of mf_path_column_describe, in table order,
 *            n_paths values of 4 or 8 bytes (row and ledger columns alike)
 *   cascades n_cascades * n_cascade_fields float64, in (path, cascade) order
 *   profile  n_profile_series * n_steps float64, series-major
 *
 * The column, series and field counts come from the tables (mf_path_column_count,
 * MF_PROFILE_SERIES, MF_CASCADE_FIELDS), and unpacking refuses a block whose counts differ
 * from this build's. */
#ifndef MF_WIRE_H
#define MF_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "block_result.h"
#include "mf_error.h"

/* Bytes of the fixed header. */
#define MF_BLOCK_WIRE_HEADER_BYTES (3 * 8 + 4 * 4)

/* Largest block (paths) and cascade count unpacking accepts: a corrupt length is refused
 * before any allocation. */
#define MF_BLOCK_WIRE_MAX_PATHS ((int64_t)1 << 26)
#define MF_BLOCK_WIRE_MAX_CASCADES ((int64_t)1 << 32)

/* Bytes block packs into. */
size_t mf_block_wire_size(const mf_block_result *block);

/* Write block into buffer, which has at least mf_block_wire_size(block) bytes; returns the
 * number written. block->ledgers may be NULL (zeros are written). */
size_t mf_block_wire_pack(const mf_block_result *block, void *buffer);

/* Read one block from the first `size` bytes of buffer into *block (allocated: free with
 * mf_block_result_free). Every length read back is checked against the bytes left, the
 * limits above and this build's tables; n_steps must equal `steps`. On success *consumed is
 * the block's size in bytes. A short or corrupt buffer gives MF_ERR_INPUT and *block empty. */
mf_status mf_block_wire_unpack(const void *buffer, size_t size, int32_t steps,
                               mf_block_result *block, size_t *consumed);

/* The same with only the per-path columns whose flag in mask is set (mask: one flag per
 * column of mf_path_column_describe; NULL: all). The header's column count is the number
 * sent, and unpacking with the same mask leaves the other columns zero. The MPI reduction
 * sends only what rank 0's statistics read when the rows stay on their ranks. */
size_t mf_block_wire_size_columns(const mf_block_result *block, const unsigned char *mask);
size_t mf_block_wire_pack_columns(const mf_block_result *block, const unsigned char *mask,
                                  void *buffer);
mf_status mf_block_wire_unpack_columns(const void *buffer, size_t size, int32_t steps,
                                       const unsigned char *mask, mf_block_result *block,
                                       size_t *consumed);

#endif
