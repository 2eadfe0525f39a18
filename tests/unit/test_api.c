/* The public C API compiles and works with include/marginfall.h alone (no internal header):
 * what tools and the Python package see. Criterion forks per test, so nothing here calls MPI;
 * mf_run is exercised by the script tests through the command line, which uses only this
 * header too. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "marginfall.h"

#define CONFIG(name) MF_SOURCE_DIR "/tests/configs/" name
#define FIXTURE(name) MF_SOURCE_DIR "/tests/fixtures/config/" name

static char temp_dir[64];

static const char *temp_path(const char *name) {
    static char path[256];
    if (!temp_dir[0]) {
        snprintf(temp_dir, sizeof temp_dir, "/tmp/mf_api_XXXXXX");
        cr_assert_not_null(mkdtemp(temp_dir));
    }
    snprintf(path, sizeof path, "%s/%s", temp_dir, name);
    return path;
}

Test(api, version_and_build) {
    cr_assert_gt(strlen(mf_version()), 0);
    cr_assert_not_null(strstr(mf_build_description(), "commit "));
}

Test(api, status_names_and_error_state) {
    cr_assert_str_eq(mf_status_name(MF_ERR_CONFIG), "config error");
    cr_assert_str_eq(mf_status_name(MF_OK), "ok");
    mf_error_clear();
    cr_assert_eq(mf_error_status(), MF_OK);
    cr_assert_str_eq(mf_error_message(), "");
    cr_assert_eq(MF_ERR_MPI, 6);
    cr_assert_eq(MF_ERR_INTERRUPTED, 8);
    cr_assert_eq(MF_ERR_NUMERIC, 9);
    cr_assert_str_eq(mf_status_name(MF_ERR_NUMERIC), "numeric error");
}

Test(api, config_check_resolves_and_counts_points) {
    char *yaml = NULL;
    int64_t points = 0;
    cr_assert_eq(mf_config_check(CONFIG("small.yaml"), NULL, 0, &yaml, &points), MF_OK, "%s",
                 mf_error_message());
    cr_assert_eq(points, 1);
    cr_assert_not_null(yaml);
    cr_assert_not_null(strstr(yaml, "paths: 24"));
    mf_free(yaml);

    const char *overrides[] = {"run.paths=8"};
    cr_assert_eq(mf_config_check(CONFIG("small.yaml"), overrides, 1, &yaml, NULL), MF_OK);
    cr_assert_not_null(strstr(yaml, "paths: 8"));
    mf_free(yaml);

    cr_assert_eq(mf_config_check(CONFIG("sweep-small.yaml"), NULL, 0, NULL, &points), MF_OK);
    cr_assert_eq(points, 6);
}

Test(api, config_check_names_the_bad_key) {
    char *yaml = (char *)"untouched";
    cr_assert_eq(mf_config_check(FIXTURE("unknown_key.yaml"), NULL, 0, &yaml, NULL), MF_ERR_CONFIG);
    cr_assert_null(yaml);
    cr_assert_gt(strlen(mf_error_message()), 0);
    cr_assert_eq(mf_error_status(), MF_ERR_CONFIG);
    const char *bad[] = {"run.paths=-3"};
    cr_assert_eq(mf_config_check(CONFIG("small.yaml"), bad, 1, NULL, NULL), MF_ERR_CONFIG);
    cr_assert_not_null(strstr(mf_error_message(), "paths"), "%s", mf_error_message());
    cr_assert_eq(mf_config_check(NULL, NULL, 0, NULL, NULL), MF_ERR_USAGE);
}

Test(api, population_save_then_check) {
    const char *snapshot = temp_path("population.h5");
    cr_assert_eq(mf_save_population(CONFIG("small.yaml"), NULL, 0, snapshot, 0, NULL), MF_OK, "%s",
                 mf_error_message());
    int64_t accounts = 0, positions = 0;
    cr_assert_eq(
        mf_population_check(CONFIG("small.yaml"), NULL, 0, snapshot, &accounts, &positions), MF_OK,
        "%s", mf_error_message());
    cr_assert_eq(accounts, 2000);
    cr_assert_geq(positions, accounts);
    /* Not replaced without force. */
    cr_assert_eq(mf_save_population(CONFIG("small.yaml"), NULL, 0, snapshot, 0, NULL),
                 MF_ERR_OUTPUT);
    /* A sweep config saves its base population. */
    cr_assert_eq(mf_save_population(CONFIG("sweep-small.yaml"), NULL, 0, snapshot, 1, NULL), MF_OK,
                 "%s", mf_error_message());
    unlink(snapshot);
    rmdir(temp_dir);
}

Test(api, result_files_refuse_what_is_not_one) {
    char digest[MF_DIGEST_TEXT_LEN] = "x";
    cr_assert_eq(mf_result_digest(temp_path("missing.h5"), digest), MF_ERR_INPUT);
    cr_assert_str_eq(digest, "");
    cr_assert_eq(mf_output_info(CONFIG("small.yaml"), stdout), MF_ERR_INPUT);
    const char *inputs[] = {CONFIG("small.yaml")};
    cr_assert_eq(mf_output_merge(temp_path("merged.h5"), inputs, 1, 0, 0, ""), MF_ERR_INPUT);
    cr_assert_eq(access(temp_path("merged.h5"), F_OK), -1);
    rmdir(temp_dir);
}
