/* Checks shared by the readers of untrusted HDF5 inputs (see hdf5_input.h). */
#include "hdf5_input.h"

#include <stdio.h>
#include <string.h>

int mf_hdf5_is_ieee_float(hid_t type, size_t bytes) {
    const hid_t little = bytes == 4 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
    const hid_t big = bytes == 4 ? H5T_IEEE_F32BE : H5T_IEEE_F64BE;
    if (bytes != 4 && bytes != 8) return 0;
    return H5Tequal(type, little) > 0 || H5Tequal(type, big) > 0;
}

void mf_hdf5_describe_type(hid_t type, char *out, size_t size) {
    const H5T_class_t class = H5Tget_class(type);
    const size_t bytes = H5Tget_size(type);
    if (class == H5T_INTEGER)
        snprintf(out, size, "a %zu-byte %s integer", bytes,
                 H5Tget_sign(type) == H5T_SGN_NONE ? "unsigned" : "signed");
    else if (class == H5T_FLOAT)
        snprintf(out, size, "a %zu-byte float%s", bytes,
                 (bytes == 4 || bytes == 8) && !mf_hdf5_is_ieee_float(type, bytes)
                     ? " of a non-IEEE layout"
                     : "");
    else if (class == H5T_STRING)
        snprintf(out, size, "a string");
    else
        snprintf(out, size, "an HDF5 type of class %d", (int)class);
}

static herr_t find_fletcher32(unsigned n, const H5E_error2_t *error, void *found) {
    (void)n;
    /* The filter reports "data error detected by Fletcher32 checksum"; its function name is
     * the other stable mark across HDF5 versions. */
    if ((error->desc && strstr(error->desc, "Fletcher32")) ||
        (error->func_name && strstr(error->func_name, "fletcher32")))
        *(int *)found = 1;
    return 0;
}

int mf_hdf5_checksum_failed(void) {
    int found = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, find_fletcher32, &found);
    return found;
}
