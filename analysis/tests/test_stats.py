"""Each statistic against a known answer (pure numpy/scipy, no engine)."""
import numpy as np
import pytest
from scipy import stats as st

from marginfall import stats


def test_mean_se_matches_moments():
    x = np.random.default_rng(1).lognormal(size=500)
    m2 = np.sum((x - x.mean()) ** 2)
    assert stats.mean_se(x) == pytest.approx(stats.mean_se_from_moments(m2, x.size), rel=1e-12)
    assert stats.mean_se(x) == pytest.approx(np.std(x, ddof=1) / np.sqrt(500), rel=1e-12)


def test_engine_quantile_and_es_definitions():
    x = np.arange(1.0, 1001.0)  # x(k) = k
    assert stats.quantile(x, [0.5, 0.99, 0.999]).tolist() == [500, 990, 999]
    # ES(0.99) = mean of the ceil(0.01 * 1000) = 10 largest
    assert stats.expected_shortfall(x, [0.99])[0] == pytest.approx(np.mean(np.arange(991, 1001)))


@pytest.mark.parametrize("q,n", [(0.5, 50), (0.9, 200), (0.99, 1000)])
def test_quantile_ci_coverage(q, n):
    """The order-statistic interval covers the true quantile at >= its nominal 95% rate (it is
    conservative for discrete order statistics, but not absurdly so)."""
    rng = np.random.default_rng(12345)
    truth = st.expon.ppf(q)
    reps = 1000
    hit = 0
    for _ in range(reps):
        lo, hi = stats.quantile_ci(rng.exponential(size=n), [q])
        hit += lo[0] <= truth <= hi[0]
    rate = hit / reps
    # the exact coverage P(l <= B <= u-1) for B ~ Binomial(n, q)
    l, u = _indices(n, q)
    exact = st.binom.cdf(u - 1, n, q) - st.binom.cdf(l - 1, n, q)
    print(f"q={q} n={n}: coverage {rate:.3f} over {reps} seeds (exact {exact:.3f})")
    assert exact >= 0.95
    assert abs(rate - exact) < 4 * np.sqrt(exact * (1 - exact) / reps) + 1e-3
    assert rate >= 0.93


def _indices(n, q):
    l = st.binom.ppf(0.025, n, q)
    l = l + 1 if st.binom.cdf(l, n, q) <= 0.025 else l
    return l, st.binom.ppf(0.975, n, q) + 1


def test_quantile_ci_undetermined_bound_is_nan():
    lo, hi = stats.quantile_ci(np.arange(100.0), [0.999])
    assert np.isnan(hi[0])


def test_wilson_and_clopper_pearson_known_values():
    # Wilson 95% for 0/10: [0, 0.2775] (Newcombe 1998, table I); k = 5 of 10 symmetric
    lo, hi = stats.wilson_interval(0, 10)
    assert lo == 0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = stats.clopper_pearson(0, 10)
    assert hi == pytest.approx(1 - 0.025 ** (1 / 10), rel=1e-9)  # closed form at k = 0
    lo, hi = stats.clopper_pearson(5, 10)
    assert lo == pytest.approx(1 - hi, rel=1e-9)


def test_clopper_pearson_coverage():
    rng = np.random.default_rng(3)
    p, n, reps = 0.02, 300, 2000
    k = rng.binomial(n, p, size=reps)
    lo, hi = stats.clopper_pearson(k, np.full(reps, n))
    rate = np.mean((lo <= p) & (p <= hi))
    print(f"Clopper-Pearson p={p} n={n}: coverage {rate:.3f}")
    assert rate >= 0.94


def test_tail_probability():
    x = np.arange(1.0, 101.0)
    p, lo, hi = stats.tail_probability(x, [50.0, 100.0, 0.0])
    assert p.tolist() == [0.5, 0.0, 1.0]
    assert lo[0] < 0.5 < hi[0] and lo[1] == 0 and hi[2] == 1


def test_ccdf_from_histogram_matches_samples():
    rng = np.random.default_rng(4)
    x = rng.pareto(1.5, size=5000) + 1
    edges = np.geomspace(1, 1e3, 31)
    counts, _ = np.histogram(x, edges)
    under, over = np.sum(x < 1), np.sum(x >= 1e3)
    e, p, lo, hi = stats.ccdf_from_histogram(edges, counts, under, over)
    direct = np.array([np.mean(x >= t) for t in edges])
    assert np.allclose(p, direct)


@pytest.mark.parametrize("alpha", [1.0, 1.5, 3.0])
def test_hill_on_pareto(alpha):
    """On exact Pareto samples the Hill estimator is unbiased up to k/(k-1); its SE alpha/sqrt(k)
    matches the spread over seeds."""
    rng = np.random.default_rng(int(alpha * 10))
    est = []
    for _ in range(200):
        x = (1 - rng.random(20000)) ** (-1 / alpha)  # Pareto(alpha), x_min = 1
        a, se, k = stats.hill(x, k=1000)
        est.append(a)
    est = np.array(est)
    print(f"Hill alpha={alpha}: mean {est.mean():.4f}, sd {est.std(ddof=1):.4f}, "
          f"SE formula {alpha / np.sqrt(1000):.4f}")
    assert est.mean() == pytest.approx(alpha, rel=0.01)
    assert est.std(ddof=1) == pytest.approx(alpha / np.sqrt(1000), rel=0.15)
    a, se, k = stats.hill(x)
    assert k == int(np.sqrt(20000)) and abs(a - alpha) < 4 * se


def test_hill_curve_agrees_with_hill():
    x = np.random.default_rng(5).pareto(2.0, 3000) + 1
    ks, a, se = stats.hill_curve(x, ks=[10, 100, 500])
    for k, ak in zip(ks, a):
        assert ak == pytest.approx(stats.hill(x, k)[0], rel=1e-10)


def test_es_se_against_repeated_sampling():
    rng = np.random.default_rng(6)
    n, q = 4000, 0.95
    es, ses = [], []
    for _ in range(300):
        x = rng.lognormal(0, 1, n)
        es.append(stats.expected_shortfall(x, [q])[0])
        ses.append(stats.expected_shortfall_se(x, [q])[0])
    print(f"ES SE: formula median {np.median(ses):.4f}, sd over seeds {np.std(es, ddof=1):.4f}")
    assert np.median(ses) == pytest.approx(np.std(es, ddof=1), rel=0.2)


def test_paired_difference():
    rng = np.random.default_rng(7)
    common = rng.lognormal(size=400)
    a, b = common, common * 1.1 + rng.normal(0, 0.01, 400)
    d, se, se_unpaired = stats.paired_difference(a, b)
    assert d == pytest.approx(np.mean(b - a))
    assert se == pytest.approx(np.std(b - a, ddof=1) / 20)
    assert se < se_unpaired / 5  # common random numbers: far smaller than unpaired
    with pytest.raises(ValueError):
        stats.paired_difference(a, b[:-1])
