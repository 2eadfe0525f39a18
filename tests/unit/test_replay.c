/* Replayed index paths from CSV and HDF5 files. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "config.h"
#include "helpers.h"
#include "replay.h"

#define FIXTURES MF_SOURCE_DIR "/tests/fixtures/replay"

/* A config with one asset replaying `file` (relative to the config's directory `dir`). */
static mf_config replay_config(const char *dir, const char *file, mf_replay_format format) {
    mf_config config;
    memset(&config, 0, sizeof config);
    if (dir) snprintf(config.source_file, sizeof config.source_file, "%s/scenario.yaml", dir);
    config.run.steps = 4;
    config.market.n_assets = 1;
    mf_asset_config *asset = &config.market.assets[0];
    snprintf(asset->name, sizeof asset->name, "BTC");
    asset->price = 50000;
    asset->replay_format = format;
    snprintf(asset->replay_file, sizeof asset->replay_file, "%s", file);
    return config;
}

static void expect_error(const mf_config *config, int32_t steps, const char *fragment_a,
                         const char *fragment_b) {
    double out[64];
    mf_error_clear();
    cr_assert_eq(mf_replay_load(config, 0, steps, out), MF_ERR_INPUT, "expected a failure");
    const char *message = mf_error_message();
    cr_expect(strstr(message, fragment_a) != NULL, "'%s' not in: %s", fragment_a, message);
    if (fragment_b)
        cr_expect(strstr(message, fragment_b) != NULL, "'%s' not in: %s", fragment_b, message);
}

Test(replay, csv_close_column_rescaled_to_the_start_price) {
    mf_config config = replay_config(FIXTURES, "tiny.csv", MF_REPLAY_CSV);
    double out[5];
    cr_assert_eq(mf_replay_load(&config, 0, 4, out), MF_OK, "%s", mf_error_message());
    const double closes[5] = {100.0, 110.0, 88.0, 96.8, 92.4};
    for (int t = 0; t < 5; t++) {
        double expected = log(50000.0) + log(closes[t] / closes[0]);
        cr_expect_eq(out[t], expected, "t=%d: %.17g vs %.17g", t, out[t], expected);
    }
    cr_expect_eq(out[0], log(50000.0));
    cr_expect_float_eq(exp(out[2]), 44000.0, 1e-9);
}

Test(replay, uses_only_the_first_steps_plus_one_prices) {
    mf_config config = replay_config(FIXTURES, "tiny.csv", MF_REPLAY_CSV);
    double out[4] = {0, 0, 0, -1};
    cr_assert_eq(mf_replay_load(&config, 0, 2, out), MF_OK, "%s", mf_error_message());
    cr_expect_eq(out[2], log(50000.0) + log(88.0 / 100.0));
    cr_expect_eq(out[3], -1); /* untouched */
}

Test(replay, custom_quoted_column_and_crlf) {
    mf_config config = replay_config(FIXTURES, "custom_column.csv", MF_REPLAY_CSV);
    snprintf(config.market.assets[0].replay_column, MF_NAME_LEN, "mid_price");
    double out[3];
    cr_assert_eq(mf_replay_load(&config, 0, 2, out), MF_OK, "%s", mf_error_message());
    cr_expect_eq(out[1], log(50000.0) + log(1999.25 / 2000.5));
    cr_expect_eq(out[2], log(50000.0) + log(2100 / 2000.5));
}

Test(replay, too_few_rows_names_the_counts) {
    mf_config config = replay_config(FIXTURES, "tiny.csv", MF_REPLAY_CSV);
    expect_error(&config, 5, "tiny.csv", "has 5 prices, the run needs steps+1 = 6");
}

Test(replay, non_numeric_price_names_file_and_line) {
    mf_config config = replay_config(FIXTURES, "malformed.csv", MF_REPLAY_CSV);
    expect_error(&config, 2, "malformed.csv:4:", "'n/a' is not a number");
}

Test(replay, non_positive_price_names_file_and_line) {
    mf_config config = replay_config(FIXTURES, "nonpositive.csv", MF_REPLAY_CSV);
    expect_error(&config, 1, "nonpositive.csv:3:", "must be finite and > 0");
}

Test(replay, short_row_names_file_and_line) {
    mf_config config = replay_config(FIXTURES, "short_row.csv", MF_REPLAY_CSV);
    expect_error(&config, 1, "short_row.csv:3:", "no column 'close'");
}

Test(replay, missing_column_and_missing_header) {
    mf_config config = replay_config(FIXTURES, "tiny.csv", MF_REPLAY_CSV);
    snprintf(config.market.assets[0].replay_column, MF_NAME_LEN, "price");
    expect_error(&config, 1, "tiny.csv:1:", "no column 'price'");
    config = replay_config(FIXTURES, "no_header.csv", MF_REPLAY_CSV);
    expect_error(&config, 1, "no_header.csv:1:", "header");
}

Test(replay, missing_and_empty_files) {
    mf_config config = replay_config(FIXTURES, "does_not_exist.csv", MF_REPLAY_CSV);
    expect_error(&config, 1, FIXTURES "/does_not_exist.csv", "No such file");
    const char *dir = mf_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/empty.csv", dir);
    cr_assert_eq(mf_test_write_file(path, ""), 0);
    config = replay_config(dir, "empty.csv", MF_REPLAY_CSV);
    expect_error(&config, 1, "empty.csv", "empty");
}

Test(replay, relative_paths_resolve_against_the_config_then_the_cwd) {
    /* Absolute file names ignore the config's directory. */
    mf_config config = replay_config("/nonexistent/dir", FIXTURES "/tiny.csv", MF_REPLAY_CSV);
    double out[5];
    cr_expect_eq(mf_replay_load(&config, 0, 4, out), MF_OK, "%s", mf_error_message());
    /* No config file name: relative to the working directory. */
    config = replay_config(NULL, "tiny.csv", MF_REPLAY_CSV);
    cr_assert_eq(chdir(FIXTURES), 0);
    cr_expect_eq(mf_replay_load(&config, 0, 4, out), MF_OK, "%s", mf_error_message());
    /* A config file name without a directory is in the working directory too. */
    snprintf(config.source_file, sizeof config.source_file, "scenario.yaml");
    cr_expect_eq(mf_replay_load(&config, 0, 4, out), MF_OK, "%s", mf_error_message());
    cr_assert_eq(chdir("/"), 0);
    expect_error(&config, 4, "tiny.csv", "No such file");
}

Test(replay, real_crash_day_btc_2020_03_12) {
    /* 1439 one-minute closes; first close 7639.42, lowest close 3706.96 at 2020-03-13T02:16
     * (row 1216 after the first), last close 4839.52. */
    mf_config config =
        replay_config(MF_SHARED_DIR "/replay", "btc_2020-03-12_1m.csv", MF_REPLAY_CSV);
    config.market.assets[0].price = 7000;
    static double out[1440];
    cr_assert_eq(mf_replay_load(&config, 0, 1438, out), MF_OK, "%s", mf_error_message());
    int lowest = 0;
    for (int t = 1; t < 1439; t++)
        if (out[t] < out[lowest]) lowest = t;
    cr_expect_eq(lowest, 1216);
    cr_expect_eq(out[0], log(7000.0));
    cr_expect_eq(out[lowest], log(7000.0) + log(3706.96 / 7639.42));
    cr_expect_eq(out[1438], log(7000.0) + log(4839.52 / 7639.42));
    expect_error(&config, 1439, "btc_2020-03-12_1m.csv",
                 "has 1439 prices, the run needs steps+1 = 1440");
}

static void make_hdf5(const char *path) {
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(file, 0);
    const double close[4] = {20000, 19000, 15000.5, 21000};
    hsize_t n = 4;
    cr_assert_geq(H5LTmake_dataset_double(file, "/close", 1, &n, close), 0);
    hid_t group = H5Gcreate2(file, "prices", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const double btc[3] = {10, 12, 9};
    n = 3;
    H5LTmake_dataset_double(group, "btc", 1, &n, btc);
    const double bad[3] = {10, -1, 9};
    H5LTmake_dataset_double(group, "bad", 1, &n, bad);
    hsize_t dims[2] = {2, 2};
    H5LTmake_dataset_double(group, "matrix", 2, dims, close);
    const int ints[3] = {1, 2, 3};
    H5LTmake_dataset_int(group, "ints", 1, &n, ints);
    H5Gclose(group);
    H5Fclose(file);
}

Test(replay, hdf5_dataset) {
    const char *dir = mf_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/prices.h5", dir);
    make_hdf5(path);
    mf_config config = replay_config(dir, "prices.h5", MF_REPLAY_HDF5);
    double out[4];
    cr_assert_eq(mf_replay_load(&config, 0, 3, out), MF_OK, "%s", mf_error_message());
    cr_expect_eq(out[2], log(50000.0) + log(15000.5 / 20000));
    snprintf(config.market.assets[0].replay_dataset, MF_PATH_LEN, "/prices/btc");
    cr_assert_eq(mf_replay_load(&config, 0, 2, out), MF_OK, "%s", mf_error_message());
    cr_expect_eq(out[2], log(50000.0) + log(9.0 / 10));
    expect_error(&config, 3, "prices.h5", "has 3 prices, the run needs steps+1 = 4");
    snprintf(config.market.assets[0].replay_dataset, MF_PATH_LEN, "/prices/bad");
    expect_error(&config, 2, "/prices/bad", "element 1");
    snprintf(config.market.assets[0].replay_dataset, MF_PATH_LEN, "/prices/matrix");
    expect_error(&config, 1, "/prices/matrix", "1-D");
    snprintf(config.market.assets[0].replay_dataset, MF_PATH_LEN, "/prices/ints");
    expect_error(&config, 1, "/prices/ints", "floating-point");
    snprintf(config.market.assets[0].replay_dataset, MF_PATH_LEN, "/prices/eth");
    expect_error(&config, 1, "prices.h5", "no dataset '/prices/eth'");
    snprintf(config.market.assets[0].replay_dataset, MF_PATH_LEN, "/nogroup/eth");
    expect_error(&config, 1, "prices.h5", "no dataset '/nogroup/eth'");
    config = replay_config(FIXTURES, "tiny.csv", MF_REPLAY_HDF5);
    expect_error(&config, 1, "tiny.csv", "not an HDF5 file");
}

Test(replay, bad_arguments_are_internal_errors) {
    mf_config config = replay_config(FIXTURES, "tiny.csv", MF_REPLAY_CSV);
    double out[5];
    cr_expect_eq(mf_replay_load(&config, 1, 4, out), MF_ERR_INTERNAL);
    config.market.assets[0].replay_format = MF_REPLAY_NONE;
    cr_expect_eq(mf_replay_load(&config, 0, 4, out), MF_ERR_INTERNAL);
}
