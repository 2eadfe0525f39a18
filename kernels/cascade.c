#include "cascade.h"

double mf_log_drawdown(const double *x, int32_t first, int32_t last) {
    double peak = x[first];
    double worst = 0;
    for (int32_t t = first; t <= last; t++) {
        if (x[t] > peak) peak = x[t];
        if (peak - x[t] > worst) worst = peak - x[t];
    }
    return worst;
}

int32_t mf_find_cascades(int32_t steps, const double *notional, const double *accounts,
                         const double *log_mark, const double *log_index, double threshold,
                         int32_t gap, mf_cascade *out, int32_t max_out) {
    int32_t count = 0;
    int32_t t = 0;
    while (t < steps && count < max_out) {
        if (!(notional[t] > threshold)) {
            t++;
            continue;
        }
        mf_cascade cascade = {t, t, 0, 0, 1};
        int32_t last_active = t;
        for (int32_t u = t; u < steps && u - last_active <= gap + 1; u++) {
            if (notional[u] > threshold) last_active = u;
        }
        cascade.end = last_active;
        for (int32_t u = cascade.start; u <= cascade.end; u++) {
            cascade.notional += notional[u];
            cascade.accounts += accounts[u];
        }
        /* Prices at the start of the run (entry start) through the end of its last step. */
        const double mark_fall = mf_log_drawdown(log_mark, cascade.start, cascade.end + 1);
        const double index_fall = mf_log_drawdown(log_index, cascade.start, cascade.end + 1);
        cascade.amplification =
            (mark_fall + MF_AMPLIFICATION_DELTA) / (index_fall + MF_AMPLIFICATION_DELTA);
        out[count++] = cascade;
        t = cascade.end + 1;
    }
    return count;
}
