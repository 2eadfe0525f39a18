/* The resolved config stored in a result file, for `--resume` on a finished run. */
#include <stdlib.h>
#include <string.h>

#include "h5_util.h"
#include "output.h"

mf_status mf_output_read_config(const char *path, char **config_text) {
    *config_text = NULL;
    h5_quiet saved;
    h5_quiet_begin(&saved);
    hid_t file = H5I_INVALID_HID;
    int32_t version[2] = {0, 0};
    mf_status status = h5_result_open(path, &file, version);
    if (status == MF_OK) {
        *config_text = h5_read_attr_string(file, "config");
        if (!*config_text)
            status = MF_FAIL(MF_ERR_INPUT, "'%s' holds no resolved config (a damaged file?)", path);
        H5Fclose(file);
    }
    h5_quiet_end(&saved);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}
