/* The margin-model table: one row per model (docs/model.md, "Margin models"). For each mode the
 * scenario takes the first row of that mode whose kind matches run.margin_kernel, else the
 * first row of that mode. To add a model: one file under kernels/ with an mf_margin_check_fn,
 * and one row here. */
#include "margin.h"

const mf_margin_model mf_margin_models[] = {
    {"isolated-events", MF_MODE_ISOLATED, MF_MODEL_EVENTS, mf_margin_check_isolated,
     mf_events_size_isolated, mf_events_prepare_isolated},
    {"cross-events", MF_MODE_CROSS, MF_MODEL_EVENTS, mf_margin_check_cross, mf_events_size_cross,
     mf_events_prepare_cross},
    {"portfolio-events", MF_MODE_PORTFOLIO, MF_MODEL_EVENTS, mf_margin_check_portfolio,
     mf_events_size_portfolio, mf_events_prepare_portfolio},
    {"isolated-prefiltered", MF_MODE_ISOLATED, MF_MODEL_FILTERED,
     mf_margin_check_isolated_prefiltered, mf_prefilter_size, mf_prefilter_prepare_isolated},
    {"cross-prefiltered", MF_MODE_CROSS, MF_MODEL_FILTERED, mf_margin_check_cross_prefiltered,
     mf_prefilter_size, mf_prefilter_prepare_cross},
    {"isolated", MF_MODE_ISOLATED, MF_MODEL_REFERENCE, mf_margin_check_isolated, NULL, NULL},
    {"cross", MF_MODE_CROSS, MF_MODEL_REFERENCE, mf_margin_check_cross, NULL, NULL},
    {"portfolio", MF_MODE_PORTFOLIO, MF_MODEL_REFERENCE, mf_margin_check_portfolio, NULL, NULL},
};
const int mf_n_margin_models = (int)(sizeof mf_margin_models / sizeof mf_margin_models[0]);
