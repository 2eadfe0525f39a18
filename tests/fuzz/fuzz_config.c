/* libFuzzer harness for the config loader: any bytes as a YAML file, optionally followed by
 * one `--set` override after a 0x01 byte. Whatever the input, the loader must return a status
 * (never crash, hang, leak or hit undefined behaviour), and a config it accepts must survive
 * its own resolved YAML. Built and run by tests/fuzz/run_fuzz.sh (clang's libFuzzer, ASan,
 * UBSan); the seed corpus is the repository's configs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mf_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 16)) return 0; /* configs are small; keep each input cheap */
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    const char *overrides[1] = {NULL};
    int n_overrides = 0;
    char *split = memchr(text, '\x01', size);
    if (split) {
        *split = '\0';
        overrides[0] = split + 1;
        n_overrides = 1;
    }
    mf_config config;
    memset(&config, 0, sizeof config);
    if (mf_config_load_string(&config, text, "fuzz.yaml", overrides, n_overrides) == MF_OK) {
        /* What the loader accepts, it can write and read back. */
        char *resolved = NULL;
        if (mf_config_to_yaml(&config, &resolved) != MF_OK) abort();
        mf_config again;
        memset(&again, 0, sizeof again);
        if (mf_config_load_string(&again, resolved, "resolved.yaml", NULL, 0) != MF_OK) abort();
        mf_config_free(&again);
        free(resolved);
        mf_config_free(&config);
    }
    mf_error_clear();
    free(text);
    return 0;
}
