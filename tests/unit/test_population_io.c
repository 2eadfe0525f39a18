/* Population snapshots: save / load round trip and every refusal. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "config.h"
#include "helpers.h"
#include "store.h"

static void build_store(mf_store *store) {
    cr_assert_eq(mf_store_alloc(store, 3, 5, 2), MF_OK);
    snprintf(store->asset_names[0], MF_NAME_LEN, "BTC");
    snprintf(store->asset_names[1], MF_NAME_LEN, "ETH");
    const uint8_t modes[3] = {MF_MODE_ISOLATED, MF_MODE_CROSS, MF_MODE_ISOLATED};
    const double collateral[3] = {0, 12345.678, 0};
    const int64_t account[5] = {0, 1, 1, 2, 2};
    const uint8_t asset[5] = {0, 0, 1, 1, 0};
    const double quantity[5] = {0.1, -2.5, 1.0 / 3.0, -7, 1e-8};
    const double entry[5] = {50000.5, 49000, 3000.25, 3100.0 / 3.0, 51000};
    const double margin[5] = {1234.5, 0, 0, 99.9, 0.0};
    memcpy(store->account_mode, modes, sizeof modes);
    memcpy(store->account_collateral, collateral, sizeof collateral);
    memcpy(store->position_account, account, sizeof account);
    memcpy(store->position_asset, asset, sizeof asset);
    memcpy(store->position_quantity, quantity, sizeof quantity);
    memcpy(store->position_entry, entry, sizeof entry);
    memcpy(store->position_margin, margin, sizeof margin);
}

static mf_config config_with_assets(const char *first, const char *second) {
    mf_config config;
    memset(&config, 0, sizeof config);
    config.market.n_assets = second ? 2 : 1;
    snprintf(config.market.assets[0].name, MF_NAME_LEN, "%s", first);
    if (second) snprintf(config.market.assets[1].name, MF_NAME_LEN, "%s", second);
    return config;
}

static const char *saved_snapshot(const char *name) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", mf_test_tmpdir(), name);
    mf_store store;
    build_store(&store);
    cr_assert_eq(mf_population_save(&store, path, 0), MF_OK, "%s", mf_error_message());
    mf_store_free(&store);
    return path;
}

static void expect_load_error(const char *path, const mf_config *config, const char *fragment) {
    mf_store store;
    mf_error_clear();
    cr_assert_eq(mf_population_load(&store, path, config), MF_ERR_INPUT, "load should fail");
    const char *message = mf_error_message();
    cr_expect(strstr(message, path) != NULL, "file name not in: %s", message);
    cr_expect(strstr(message, fragment) != NULL, "'%s' not in: %s", fragment, message);
    cr_expect_null(store.position_entry, "a failed load leaves no arrays");
}

static int temp_files_in(const char *path) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *entry;
    while ((entry = readdir(d)))
        if (strstr(entry->d_name, ".tmp.")) n++;
    closedir(d);
    return n;
}

Test(population_io, round_trip_is_bit_for_bit) {
    const char *path = saved_snapshot("population.h5");
    cr_expect_eq(temp_files_in(path), 0);
    mf_store original, loaded;
    build_store(&original);
    cr_assert_eq(mf_store_finish(&original), MF_OK, "%s", mf_error_message());
    mf_config config = config_with_assets("BTC", "ETH");
    cr_assert_eq(mf_population_load(&loaded, path, &config), MF_OK, "%s", mf_error_message());
    cr_assert_eq(loaded.n_accounts, 3);
    cr_assert_eq(loaded.n_positions, 5);
    cr_assert_eq(loaded.n_assets, 2);
    cr_expect_str_eq(loaded.asset_names[0], "BTC");
    cr_expect_str_eq(loaded.asset_names[1], "ETH");
#define SAME(field, n)                                                                             \
    cr_expect(memcmp(original.field, loaded.field, (n) * sizeof *original.field) == 0,             \
              #field " differs")
    SAME(account_mode, 3);
    SAME(account_collateral, 3);
    SAME(account_first, 3);
    SAME(account_positions, 3);
    SAME(position_account, 5);
    SAME(position_asset, 5);
    SAME(position_quantity, 5);
    SAME(position_entry, 5);
    SAME(position_margin, 5);
#undef SAME
    mf_store_free(&original);
    mf_store_free(&loaded);

    /* The layout docs/output.md promises. */
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    int32_t version[2];
    cr_assert_geq(
        H5LTget_attribute(file, "population", "format_version", H5T_NATIVE_INT32, version), 0);
    cr_expect_eq(version[0], 1);
    hid_t dataset = H5Dopen2(file, "population/position_asset", H5P_DEFAULT);
    hid_t type = H5Dget_type(dataset);
    cr_expect(H5Tequal(type, H5T_STD_U8LE) > 0);
    H5Tclose(type);
    H5Dclose(dataset);
    dataset = H5Dopen2(file, "population/position_account", H5P_DEFAULT);
    type = H5Dget_type(dataset);
    cr_expect(H5Tequal(type, H5T_STD_I64LE) > 0);
    H5Tclose(type);
    H5Dclose(dataset);
    H5Fclose(file);
}

Test(population_io, refuses_to_overwrite_without_force) {
    const char *path = saved_snapshot("population.h5");
    mf_store store;
    build_store(&store);
    store.position_quantity[0] = 0.2;
    mf_error_clear();
    cr_expect_eq(mf_population_save(&store, path, 0), MF_ERR_OUTPUT);
    cr_expect(strstr(mf_error_message(), "--force") != NULL, "%s", mf_error_message());
    cr_expect(strstr(mf_error_message(), path) != NULL, "%s", mf_error_message());
    cr_expect_eq(mf_population_save(&store, path, 1), MF_OK, "%s", mf_error_message());
    mf_store_free(&store);
    mf_config config = config_with_assets("BTC", "ETH");
    cr_assert_eq(mf_population_load(&store, path, &config), MF_OK, "%s", mf_error_message());
    cr_expect_eq(store.position_quantity[0], 0.2);
    mf_store_free(&store);
    cr_expect_eq(temp_files_in(path), 0);
}

Test(population_io, wrong_asset_names_are_refused_listing_both) {
    const char *path = saved_snapshot("population.h5");
    mf_config config = config_with_assets("BTC", "SOL");
    expect_load_error(path, &config, "[BTC, ETH]");
    expect_load_error(path, &config, "[BTC, SOL]");
    config = config_with_assets("ETH", "BTC");
    expect_load_error(path, &config, "[ETH, BTC]");
    config = config_with_assets("BTC", NULL);
    expect_load_error(path, &config, "[BTC]");
}

Test(population_io, missing_and_non_hdf5_files_are_refused) {
    mf_config config = config_with_assets("BTC", "ETH");
    char path[512];
    snprintf(path, sizeof path, "%s/none.h5", mf_test_tmpdir());
    expect_load_error(path, &config, "No such file");
    snprintf(path, sizeof path, "%s/text.h5", mf_test_tmpdir());
    cr_assert_eq(mf_test_write_file(path, "account,quantity\n0,1\n"), 0);
    expect_load_error(path, &config, "not an HDF5 file");
}

Test(population_io, truncated_file_is_refused) {
    const char *path = saved_snapshot("population.h5");
    FILE *file = fopen(path, "rb");
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *bytes = malloc((size_t)size);
    cr_assert_eq(fread(bytes, 1, (size_t)size, file), (size_t)size);
    fclose(file);
    mf_config config = config_with_assets("BTC", "ETH");
    const long cuts[] = {size / 2, size - 100, 600};
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        char truncated[600];
        snprintf(truncated, sizeof truncated, "%s.cut%zu.h5", path, c);
        file = fopen(truncated, "wb");
        fwrite(bytes, 1, (size_t)cuts[c], file);
        fclose(file);
        mf_store store;
        mf_error_clear();
        cr_expect_eq(mf_population_load(&store, truncated, &config), MF_ERR_INPUT,
                     "a file cut at %ld of %ld bytes was accepted", cuts[c], size);
        cr_expect(strstr(mf_error_message(), truncated) != NULL, "%s", mf_error_message());
    }
    free(bytes);
}

Test(population_io, missing_dataset_is_refused) {
    const char *path = saved_snapshot("population.h5");
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(H5Ldelete(file, "population/position_entry", H5P_DEFAULT), 0);
    H5Fclose(file);
    mf_config config = config_with_assets("BTC", "ETH");
    expect_load_error(path, &config, "/population/position_entry is missing");
}

Test(population_io, inconsistent_sizes_are_refused) {
    const char *path = saved_snapshot("population.h5");
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(H5Ldelete(file, "population/position_margin", H5P_DEFAULT), 0);
    hsize_t n = 4;
    const double margin[4] = {1, 0, 0, 1};
    cr_assert_geq(H5LTmake_dataset_double(file, "population/position_margin", 1, &n, margin), 0);
    H5Fclose(file);
    mf_config config = config_with_assets("BTC", "ETH");
    expect_load_error(path, &config, "position_margin has 4 elements");
}

Test(population_io, wrong_format_and_missing_group_are_refused) {
    char path[512];
    snprintf(path, sizeof path, "%s/other.h5", mf_test_tmpdir());
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(file);
    mf_config config = config_with_assets("BTC", "ETH");
    expect_load_error(path, &config, "no /population group");
    file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t group = H5Gcreate2(file, "population", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5LTset_attribute_string(file, "population", "format", "marginfall");
    H5Gclose(group);
    H5Fclose(file);
    expect_load_error(path, &config, "format is 'marginfall'");
}

Test(population_io, broken_invariants_are_refused_with_the_file_name) {
    char path[512];
    snprintf(path, sizeof path, "%s/unsorted.h5", mf_test_tmpdir());
    mf_store store;
    build_store(&store);
    store.position_account[4] = 1; /* 0, 1, 1, 2, 1 */
    cr_assert_eq(mf_population_save(&store, path, 0), MF_OK, "%s", mf_error_message());
    mf_store_free(&store);
    mf_config config = config_with_assets("BTC", "ETH");
    expect_load_error(path, &config, "not sorted by account");
}
