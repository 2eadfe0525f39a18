/* The public C API's entry points that have no home in a layer of their own
 * (include/marginfall.h): version, mf_free, config check, population snapshot check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "marginfall.h"
#include "mf_error.h"
#include "mf_version.h"
#include "store.h"

const char *mf_version(void) {
    return MF_VERSION_STRING;
}

const char *mf_build_description(void) {
    return "commit " MF_GIT_COMMIT ", " MF_COMPILER ", " MF_BUILD_TYPE;
}

void mf_free(void *pointer) {
    free(pointer);
}

mf_status mf_config_check(const char *path, const char *const *overrides, int n_overrides,
                          char **resolved_yaml, int64_t *n_points) {
    if (resolved_yaml) *resolved_yaml = NULL;
    if (!path || !*path) return MF_FAIL(MF_ERR_USAGE, "mf_config_check: no config file given");
    if (n_overrides < 0 || (n_overrides > 0 && !overrides))
        return MF_FAIL(MF_ERR_USAGE, "mf_config_check: %d overrides but no array", n_overrides);
    mf_config *config = calloc(1, sizeof *config);
    if (!config) return MF_FAIL(MF_ERR_MEMORY, "out of memory");
    mf_status status = mf_config_load(config, path, overrides, n_overrides);
    if (status == MF_OK && resolved_yaml) status = mf_config_to_yaml(config, resolved_yaml);
    if (status == MF_OK && n_points)
        *n_points = config->sweep.n_params > 0 ? config->sweep.n_points : 1;
    mf_config_free(config);
    free(config);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}

mf_status mf_population_check(const char *config_path, const char *const *overrides,
                              int n_overrides, const char *population_path, int64_t *accounts,
                              int64_t *positions) {
    if (!config_path || !population_path)
        return MF_FAIL(MF_ERR_USAGE, "mf_population_check: a config and a snapshot are needed");
    mf_config *config = calloc(1, sizeof *config);
    if (!config) return MF_FAIL(MF_ERR_MEMORY, "out of memory");
    mf_store store;
    memset(&store, 0, sizeof store);
    mf_status status = mf_config_load(config, config_path, overrides, n_overrides);
    if (status == MF_OK) status = mf_population_load(&store, population_path, config);
    if (status == MF_OK) {
        if (accounts) *accounts = store.n_accounts;
        if (positions) *positions = store.n_positions;
    }
    mf_store_free(&store);
    mf_config_free(config);
    free(config);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}
