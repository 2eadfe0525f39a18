#include "results.h"

#include <stdlib.h>
#include <string.h>

/* Histogram ranges by kind of quantity (log bins, lower edge > 0). */
#define USD_RANGE 1e3, 1e13
#define COUNT_RANGE 1.0, 1e7
#define FRACTION_RANGE 1e-4, 1.0
#define RATIO_RANGE 1e-2, 1e3
#define STEPS_RANGE 1.0, 1e5

static const mf_metric_info metric_table[MF_METRIC_COUNT] = {
    [MF_METRIC_LIQUIDATED_NOTIONAL] = {"liquidated_notional", "USD",
                                       "notional liquidated over the horizon", 0, USD_RANGE},
    [MF_METRIC_LIQUIDATED_ACCOUNTS] = {"liquidated_accounts", "accounts",
                                       "accounts with at least one position liquidated", 0,
                                       COUNT_RANGE},
    [MF_METRIC_BAD_DEBT] = {"bad_debt", "USD", "negative equity of liquidated accounts (bad debt)",
                            0, USD_RANGE},
    [MF_METRIC_UNCOVERED_DEFICIT] = {"uncovered_deficit", "USD",
                                     "bad debt the insurance fund could not pay", 0, USD_RANGE},
    [MF_METRIC_FUND_MIN] = {"fund_min", "USD", "lowest insurance fund balance over the horizon", 0,
                            USD_RANGE},
    [MF_METRIC_LARGEST_CASCADE] = {"largest_cascade", "USD",
                                   "liquidated notional of the path's largest cascade", 0,
                                   USD_RANGE},
    [MF_METRIC_CASCADE_COUNT] = {"cascade_count", "count", "number of cascades on the path", 0,
                                 COUNT_RANGE},
    [MF_METRIC_MARK_DRAWDOWN] = {"mark_drawdown", "fraction",
                                 "largest fractional drawdown of the mark price (worst asset)", 0,
                                 FRACTION_RANGE},
    [MF_METRIC_INDEX_DRAWDOWN] = {"index_drawdown", "fraction",
                                  "largest fractional drawdown of the index price (worst asset)", 0,
                                  FRACTION_RANGE},
    [MF_METRIC_CASCADE_NOTIONAL] = {"cascade_notional", "USD", "notional liquidated in one cascade",
                                    1, USD_RANGE},
    [MF_METRIC_CASCADE_ACCOUNTS] = {"cascade_accounts", "accounts",
                                    "accounts liquidated in one cascade", 1, COUNT_RANGE},
    [MF_METRIC_CASCADE_AMPLIFICATION] = {"cascade_amplification", "ratio",
                                         "mark over index log-drawdown during one cascade", 1,
                                         RATIO_RANGE},
    [MF_METRIC_CASCADE_DURATION] = {"cascade_duration", "steps",
                                    "steps from a cascade's first to its last liquidation", 1,
                                    STEPS_RANGE},
};

const double mf_quantile_levels[MF_N_QUANTILES] = {0.5, 0.9, 0.99, 0.999};

const mf_metric_info *mf_metric_describe(mf_metric_id id) {
    if ((int)id < 0 || id >= MF_METRIC_COUNT) return NULL;
    return &metric_table[id];
}

void mf_point_result_free(mf_point_result *result) {
    if (!result) return;
    for (int m = 0; m < MF_METRIC_COUNT; m++) {
        free(result->metrics[m].edges);
        free(result->metrics[m].counts);
        result->metrics[m].edges = NULL;
        result->metrics[m].counts = NULL;
        result->metrics[m].n_bins = 0;
    }
    free(result->profile_liquidated_notional);
    free(result->profile_liquidated_accounts);
    free(result->profile_fund);
    free(result->paths);
    result->profile_liquidated_notional = NULL;
    result->profile_liquidated_accounts = NULL;
    result->profile_fund = NULL;
    result->paths = NULL;
}
