"""Statistics of Monte Carlo samples: pure numpy/scipy, no file access.

Definitions follow docs/output.md (the engine's own) so that a statistic computed here from the
per-path table equals the engine's: the quantile at level q is the order statistic x(k),
k = ceil(q N); the expected shortfall is the mean of the m = ceil((1 - q) N) largest samples.
Formulas and sources: docs/analysis.md.
"""
from __future__ import annotations

import numpy as np
from scipy import stats as _st

# ceil(q N) computed in floating point can land one above the exact value (0.99 * 100 =
# 99.00000000000001); the engine rounds the same way only if we subtract a tiny amount.
_EPS = 1e-9


def _z(conf):
    return _st.norm.ppf(0.5 + conf / 2.0)


def mean_se(x):
    """Standard error of the sample mean: s / sqrt(N) with s the (N - 1) standard deviation."""
    x = np.asarray(x, dtype=float)
    if x.size < 2:
        return np.nan
    return float(np.std(x, ddof=1) / np.sqrt(x.size))


def mean_se_from_moments(m2, count):
    """Standard error of the mean from the engine's moments: sqrt(m2 / (count - 1) / count).

    Works elementwise on arrays; NaN where count < 2."""
    m2 = np.asarray(m2, dtype=float)
    n = np.asarray(count, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= 2, np.sqrt(m2 / (n - 1) / n), np.nan)


def proportion_se(p, n):
    """Binomial standard error sqrt(p (1 - p) / n) of an estimated probability p over n paths."""
    p, n = np.asarray(p, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(p * (1 - p) / n)


def wilson_interval(k, n, conf=0.95):
    """Wilson (1927) score interval of a binomial proportion k / n. Elementwise.

    Unlike p +- z SE it stays inside [0, 1] and does not collapse to a point at k = 0."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    z = _z(conf)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        lo = np.where(k <= 0, 0.0, np.clip(centre - half, 0, 1))  # exact ends, not 1e-17
        hi = np.where(k >= n, 1.0, np.clip(centre + half, 0, 1))
        return lo, hi


def clopper_pearson(k, n, conf=0.95):
    """Clopper-Pearson (1934) exact interval of a binomial proportion k / n. Elementwise.

    Coverage is at least ``conf`` for every true p (conservative)."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    a = 1 - conf
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k > 0, _st.beta.ppf(a / 2, k, n - k + 1), 0.0)
        hi = np.where(k < n, _st.beta.ppf(1 - a / 2, k + 1, n - k), 1.0)
    return lo, hi


def quantile(x, q):
    """The engine's quantile: x(k) with k = ceil(q N), k >= 1 (no interpolation)."""
    xs = np.sort(np.asarray(x, dtype=float))
    q = np.atleast_1d(np.asarray(q, dtype=float))
    k = np.clip(np.ceil(q * xs.size - _EPS).astype(int), 1, xs.size)
    return xs[k - 1]


def quantile_ci(x, q, conf=0.95):
    """Distribution-free confidence interval of the q-quantile from order statistics.

    The number B of samples at or below the true quantile is Binomial(N, q), so
    P(x(l) <= xi_q <= x(u)) >= P(l <= B <= u - 1). We take l the largest index with
    P(B < l) <= a/2 and u the smallest with P(B >= u) <= a/2 (David & Nagaraja, Order
    Statistics, 3rd ed., section 7.1). The coverage is at least ``conf`` for a continuous
    distribution. A bound that would need an order statistic outside 1..N is NaN: the sample
    does not determine it (e.g. the upper bound of p99.9 from 100 paths).

    Returns (low, high) arrays, one value per level in q.
    """
    xs = np.sort(np.asarray(x, dtype=float))
    n = xs.size
    q = np.atleast_1d(np.asarray(q, dtype=float))
    a = 1 - conf
    lo = np.full(q.shape, np.nan)
    hi = np.full(q.shape, np.nan)
    if n == 0:
        return lo, hi
    # l - 1 = largest j with cdf(j) <= a/2, i.e. l = ppf(a/2) (smallest j with cdf(j) >= a/2)
    # unless cdf hits a/2 exactly; u - 1 = ppf(1 - a/2).
    l_idx = _st.binom.ppf(a / 2, n, q)
    l_idx = np.where(_st.binom.cdf(l_idx, n, q) <= a / 2, l_idx + 1, l_idx)
    u_idx = _st.binom.ppf(1 - a / 2, n, q) + 1
    ok_l = l_idx >= 1
    ok_u = u_idx <= n
    lo[ok_l] = xs[l_idx[ok_l].astype(int) - 1]
    hi[ok_u] = xs[u_idx[ok_u].astype(int) - 1]
    return lo, hi


def expected_shortfall(x, q):
    """The engine's expected shortfall: mean of the m = ceil((1 - q) N) largest samples."""
    xs = np.sort(np.asarray(x, dtype=float))
    q = np.atleast_1d(np.asarray(q, dtype=float))
    m = np.clip(np.ceil((1 - q) * xs.size - _EPS).astype(int), 1, xs.size)
    return np.array([xs[-k:].mean() for k in m])


def expected_shortfall_se(x, q):
    """Asymptotic standard error of the expected shortfall estimator.

    Var(ES_q) ~ [Var(X | X > VaR_q) + q (ES_q - VaR_q)^2] / (N (1 - q))
    (Manistre & Hancock 2005, "Variance of the CTE estimator", North American Actuarial
    Journal 9(2); Yamai & Yoshiba 2002), with VaR_q the quantile x(k), k = ceil(q N), and the
    tail variance the (m - 1) sample variance of the m largest samples, as the engine computes
    it (format 1.4+). With fewer than 2 tail samples it is NaN.
    """
    xs = np.sort(np.asarray(x, dtype=float))
    n = xs.size
    q = np.atleast_1d(np.asarray(q, dtype=float))
    out = np.full(q.shape, np.nan)
    for i, level in enumerate(q):
        m = int(np.clip(np.ceil((1 - level) * n - _EPS), 1, n))
        if m < 2:
            continue
        tail = xs[-m:]
        # VaR_q is the engine's quantile x(k), k = ceil(q N) (docs/output.md), so that this
        # equals the engine's expected_shortfall_standard_error (format 1.4) bit for bit
        var_q = xs[int(np.clip(np.ceil(level * n - _EPS), 1, n)) - 1]
        es = tail.mean()
        out[i] = np.sqrt((tail.var(ddof=1) + level * (es - var_q) ** 2) / (n * (1 - level)))
    return out


def tail_probability(x, thresholds, conf=0.95):
    """P(X > t) for each threshold t, with Clopper-Pearson bands.

    Returns (p, low, high). The band of each point is exact (binomial count of exceedances);
    the bands of different thresholds are not simultaneous."""
    x = np.asarray(x, dtype=float)
    t = np.atleast_1d(np.asarray(thresholds, dtype=float))
    xs = np.sort(x)
    k = xs.size - np.searchsorted(xs, t, side="right")
    n = np.full(t.shape, xs.size, dtype=float)
    lo, hi = clopper_pearson(k, n, conf)
    with np.errstate(invalid="ignore", divide="ignore"):
        return k / n, lo, hi


def ccdf_from_histogram(edges, counts, underflow, overflow, conf=0.95):
    """P(X >= edge_j) for every histogram edge, from the engine's log-binned histogram.

    Returns (edges, p, low, high) with Clopper-Pearson bands. Exact at the edges: every sample
    is in underflow, one bin, or overflow (docs/output.md)."""
    counts = np.asarray(counts, dtype=float)
    n = float(underflow) + counts.sum() + float(overflow)
    above = np.concatenate([np.cumsum(counts[::-1])[::-1], [0.0]]) + float(overflow)
    lo, hi = clopper_pearson(above, np.full(above.shape, n), conf)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(edges, dtype=float), above / n, lo, hi


def hill(x, k=None):
    """Hill (1975) estimator of the tail index alpha of a Pareto-type upper tail.

    alpha_hat = k / sum_{i=1..k} log(x(N-i+1) / x(N-k)), from the k largest of the N positive
    samples; its asymptotic standard error is alpha_hat / sqrt(k) (Hill 1975, Annals of
    Statistics 3(5); Haeusler & Teugels 1985). Default k = max(10, floor(sqrt(N_pos))) (a
    common compromise between bias, which grows with k when the tail is only asymptotically
    Pareto, and variance, which falls as 1/k); check it on a Hill plot (``hill_curve``).

    Returns (alpha, se, k). NaN when fewer than k + 1 positive samples exist.
    """
    xs = np.sort(np.asarray(x, dtype=float))
    xs = xs[np.isfinite(xs) & (xs > 0)]
    n = xs.size
    if k is None:
        k = max(10, int(np.sqrt(n)))
    k = int(k)
    if k < 1 or n < k + 1:
        return np.nan, np.nan, k
    top = xs[-k:]
    threshold = xs[-k - 1]
    alpha = k / np.sum(np.log(top / threshold))
    return float(alpha), float(alpha / np.sqrt(k)), k


def hill_curve(x, ks=None):
    """Hill estimates over a range of k (a Hill plot): returns (ks, alpha, se)."""
    xs = np.sort(np.asarray(x, dtype=float))
    xs = xs[np.isfinite(xs) & (xs > 0)]
    n = xs.size
    if ks is None:
        ks = np.unique(np.geomspace(5, max(6, n - 1), 40).astype(int))
    ks = np.asarray([k for k in ks if 1 <= k < n], dtype=int)
    logs = np.log(xs[::-1])  # descending
    csum = np.cumsum(logs)
    alpha = ks / (csum[ks - 1] - ks * logs[ks])
    return ks, alpha, alpha / np.sqrt(ks)


def paired_difference(a, b):
    """Mean of b - a over paired samples (same paths at two sweep points) and its SE.

    Returns (diff, se_paired, se_unpaired): se_paired = sd(b - a) / sqrt(N); se_unpaired is what
    one would wrongly use for independent samples, sqrt(se_a^2 + se_b^2). Common random numbers
    make se_paired much smaller when the points are positively correlated."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples need equal lengths, got {a.size} and {b.size}")
    d = b - a
    return float(d.mean()), mean_se(d), float(np.hypot(mean_se(a), mean_se(b)))


def quantile_convergence(x, q, sizes=None, conf=0.95):
    """The q-quantile and its interval from the first n paths, for growing n.

    Returns (sizes, estimate, low, high). Paths are in path order (independent draws), so
    prefixes are random subsamples."""
    x = np.asarray(x, dtype=float)
    if sizes is None:
        sizes = np.unique(np.geomspace(min(20, x.size), x.size, 12).astype(int))
    est, lo, hi = [], [], []
    for n in sizes:
        est.append(quantile(x[:n], q)[0])
        l, h = quantile_ci(x[:n], q, conf)
        lo.append(l[0])
        hi.append(h[0])
    return np.asarray(sizes), np.array(est), np.array(lo), np.array(hi)
