/* The margin-model table: one row per model (docs/model.md, "Margin models"). For each mode the
 * scenario takes the first row of that mode whose `reference` matches run.margin_kernel. To add
 * a model: one file under kernels/ with an mf_margin_check_fn, and one row here. */
#include "margin.h"

const mf_margin_model mf_margin_models[] = {
    {"isolated-prefiltered", MF_MODE_ISOLATED, 0, mf_margin_check_isolated_prefiltered,
     mf_prefilter_size, mf_prefilter_prepare_isolated},
    {"cross-prefiltered", MF_MODE_CROSS, 0, mf_margin_check_cross_prefiltered, mf_prefilter_size,
     mf_prefilter_prepare_cross},
    {"isolated", MF_MODE_ISOLATED, 1, mf_margin_check_isolated, NULL, NULL},
    {"cross", MF_MODE_CROSS, 1, mf_margin_check_cross, NULL, NULL},
    {"portfolio", MF_MODE_PORTFOLIO, 1, mf_margin_check_portfolio, NULL, NULL},
};
const int mf_n_margin_models = (int)(sizeof mf_margin_models / sizeof mf_margin_models[0]);
