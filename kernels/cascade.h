/* Cascades of one path (docs/model.md section 7): maximal runs of steps whose liquidated notional
 * exceeds a threshold, allowing quiet gaps of up to `gap` steps inside one run. */
#ifndef MF_CASCADE_H
#define MF_CASCADE_H

#include <stdint.h>

typedef struct {
    int32_t start, end;   /* first and last step above the threshold */
    double notional;      /* USD liquidated over [start, end] */
    double accounts;      /* accounts liquidated over [start, end] */
    double amplification; /* (mark log-drawdown + delta) / (index log-drawdown + delta) */
} mf_cascade;

/* Regularises the amplification ratio where the index barely moved: 1 basis point. */
#define MF_AMPLIFICATION_DELTA 1e-4

/* Find the cascades of one path. notional[t], accounts[t] for t = 0..steps-1; log_mark and
 * log_index hold steps + 1 composite log-prices (entry 0 = start, entry t + 1 = end of step t).
 * Writes at most max_out cascades (steps / 1 is always enough) and returns how many. */
int32_t mf_find_cascades(int32_t steps, const double *notional, const double *accounts,
                         const double *log_mark, const double *log_index, double threshold,
                         int32_t gap, mf_cascade *out, int32_t max_out);

/* Largest peak-to-trough fall of a log-price series x[first..last] (>= 0). */
double mf_log_drawdown(const double *x, int32_t first, int32_t last);

#endif
