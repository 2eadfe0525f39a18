/* Checks shared by the readers of HDF5 input files that users may hand-make or damage
 * (population snapshots, replays): what a dataset stores and how a read failed. The callers
 * word the messages, with their file and dataset names. */
#ifndef MF_HDF5_INPUT_H
#define MF_HDF5_INPUT_H

#include <hdf5.h>

/* Whether type is an IEEE float of `bytes` bytes (4 or 8) in either byte order: the layouts
 * HDF5 converts to a double exactly. A damaged datatype message (another precision, exponent
 * or mantissa layout) is not one. */
int mf_hdf5_is_ieee_float(hid_t type, size_t bytes);

/* What a dataset stores, for messages: "a 4-byte float", "a 2-byte unsigned integer",
 * "a string". */
void mf_hdf5_describe_type(hid_t type, char *out, size_t size);

/* Whether the read that just failed failed on a Fletcher32 checksum mismatch (HDF5's error
 * stack says so); call it right after the failed H5Dread. */
int mf_hdf5_checksum_failed(void);

#endif
