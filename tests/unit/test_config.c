/* The scenario config: defaults, the shipped default.yaml, the resolved-YAML round trip,
 * located error messages for every class of mistake, --set overrides, the derived tier
 * maintenance amounts and the Cholesky factor. */
#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_internal.h"

#define FIXTURE(name) MF_SOURCE_DIR "/tests/fixtures/config/" name

/* Bitwise equality of doubles: -0 differs from 0, inf equals inf. */
static int same_double(double a, double b) {
    return memcmp(&a, &b, sizeof a) == 0;
}

#define EXPECT_SAME(a, b, what)                                                                    \
    cr_expect(same_double((a), (b)), "%s: %.17g != %.17g", (what), (double)(a), (double)(b))

/* Field by field (padding bytes are not part of a config's value). */
static void expect_equal_configs(const mf_config *a, const mf_config *b) {
    cr_expect_eq(a->run.paths, b->run.paths);
    cr_expect_eq(a->run.seed, b->run.seed);
    cr_expect_eq(a->run.steps, b->run.steps);
    EXPECT_SAME(a->run.dt_seconds, b->run.dt_seconds, "run.dt_seconds");
    cr_expect_eq(a->run.block_paths, b->run.block_paths);
    cr_expect_eq(a->run.batch_paths, b->run.batch_paths);

    const mf_market_config *ma = &a->market, *mb = &b->market;
    cr_assert_eq(ma->n_assets, mb->n_assets);
    for (int i = 0; i < ma->n_assets; i++) {
        const mf_asset_config *x = &ma->assets[i], *y = &mb->assets[i];
        cr_expect_str_eq(x->name, y->name);
        EXPECT_SAME(x->price, y->price, "price");
        EXPECT_SAME(x->volatility, y->volatility, "volatility");
        EXPECT_SAME(x->drift, y->drift, "drift");
        EXPECT_SAME(x->jump_beta, y->jump_beta, "jump_beta");
        cr_expect_eq(x->replay_format, y->replay_format);
        cr_expect_str_eq(x->replay_file, y->replay_file);
        cr_expect_str_eq(x->replay_column, y->replay_column);
        cr_expect_str_eq(x->replay_dataset, y->replay_dataset);
        for (int j = 0; j < ma->n_assets; j++)
            EXPECT_SAME(ma->correlation[i][j], mb->correlation[i][j], "correlation");
    }
    EXPECT_SAME(ma->student_t_nu, mb->student_t_nu, "student_t_nu");
    cr_expect_eq(ma->garch_enabled, mb->garch_enabled);
    EXPECT_SAME(ma->garch_alpha, mb->garch_alpha, "garch_alpha");
    EXPECT_SAME(ma->garch_beta, mb->garch_beta, "garch_beta");
    EXPECT_SAME(ma->jump_intensity, mb->jump_intensity, "jump_intensity");
    EXPECT_SAME(ma->jump_mean, mb->jump_mean, "jump_mean");
    EXPECT_SAME(ma->jump_stdev, mb->jump_stdev, "jump_stdev");
    cr_expect_eq(ma->impact_law, mb->impact_law);
    EXPECT_SAME(ma->impact_permanent_fraction, mb->impact_permanent_fraction, "phi");
    EXPECT_SAME(ma->impact_half_life_seconds, mb->impact_half_life_seconds, "half life");
    EXPECT_SAME(ma->depth_feedback_beta, mb->depth_feedback_beta, "depth beta");
    EXPECT_SAME(ma->depth_feedback_floor, mb->depth_feedback_floor, "depth floor");
    cr_assert_eq(ma->n_stress, mb->n_stress);
    for (int s = 0; s < ma->n_stress; s++) {
        cr_expect_eq(ma->stress[s].asset, mb->stress[s].asset);
        cr_expect_eq(ma->stress[s].start_step, mb->stress[s].start_step);
        cr_expect_eq(ma->stress[s].steps, mb->stress[s].steps);
        EXPECT_SAME(ma->stress[s].log_return, mb->stress[s].log_return, "log_return");
    }

    const mf_venue_config *va = &a->venue, *vb = &b->venue;
    cr_expect_str_eq(va->name, vb->name);
    EXPECT_SAME(va->max_leverage, vb->max_leverage, "venue.max_leverage");
    EXPECT_SAME(va->insurance_fund_usd, vb->insurance_fund_usd, "insurance fund");
    EXPECT_SAME(va->liquidation_fee, vb->liquidation_fee, "liquidation fee");
    cr_expect_eq(va->max_rounds, vb->max_rounds);
    cr_expect_eq(va->deficit, vb->deficit);
    cr_expect_eq(va->partial_enabled, vb->partial_enabled);
    EXPECT_SAME(va->partial_min_notional_usd, vb->partial_min_notional_usd, "partial min");
    EXPECT_SAME(va->partial_chunk_fraction, vb->partial_chunk_fraction, "partial chunk");
    cr_expect_eq(va->partial_target, vb->partial_target);
    EXPECT_SAME(va->partial_cooldown_seconds, vb->partial_cooldown_seconds, "partial cooldown");
    EXPECT_SAME(va->partial_fee, vb->partial_fee, "partial fee");
    EXPECT_SAME(va->fill_bound_mmr, vb->fill_bound_mmr, "fill bound");
    cr_expect_eq(va->vault_enabled, vb->vault_enabled);
    EXPECT_SAME(va->vault_capital_usd, vb->vault_capital_usd, "vault capital");
    EXPECT_SAME(va->vault_takeover_fraction, vb->vault_takeover_fraction, "vault takeover");
    for (int i = 0; i < ma->n_assets; i++) {
        const mf_venue_market_config *x = &va->markets[i], *y = &vb->markets[i];
        EXPECT_SAME(x->depth_usd, y->depth_usd, "depth_usd");
        EXPECT_SAME(x->throughput_usd, y->throughput_usd, "throughput_usd");
        cr_expect_eq(x->contract, y->contract);
        EXPECT_SAME(x->expiry_seconds, y->expiry_seconds, "expiry_seconds");
        cr_assert_eq(x->n_tiers, y->n_tiers);
        for (int t = 0; t < x->n_tiers; t++) {
            EXPECT_SAME(x->tiers[t].floor_usd, y->tiers[t].floor_usd, "floor_usd");
            EXPECT_SAME(x->tiers[t].mmr, y->tiers[t].mmr, "mmr");
            EXPECT_SAME(x->tiers[t].max_leverage, y->tiers[t].max_leverage, "tier leverage");
            EXPECT_SAME(x->tiers[t].cum_usd, y->tiers[t].cum_usd, "cum_usd");
        }
    }

    const mf_population_config *pa = &a->population, *pb = &b->population;
    cr_expect_eq(pa->accounts, pb->accounts);
    cr_expect_str_eq(pa->file, pb->file);
    EXPECT_SAME(pa->isolated_share, pb->isolated_share, "isolated");
    EXPECT_SAME(pa->cross_share, pb->cross_share, "cross");
    cr_expect_eq(pa->max_positions, pb->max_positions);
    cr_expect_eq(pa->notional_law, pb->notional_law);
    EXPECT_SAME(pa->notional_sigma, pb->notional_sigma, "notional sigma");
    EXPECT_SAME(pa->notional_alpha, pb->notional_alpha, "notional alpha");
    EXPECT_SAME(pa->leverage_median, pb->leverage_median, "leverage median");
    EXPECT_SAME(pa->leverage_sigma, pb->leverage_sigma, "leverage sigma");
    EXPECT_SAME(pa->entry_spread, pb->entry_spread, "entry spread");
    for (int i = 0; i < ma->n_assets; i++) {
        EXPECT_SAME(pa->assets[i].open_interest_usd, pb->assets[i].open_interest_usd, "OI");
        EXPECT_SAME(pa->assets[i].long_share, pb->assets[i].long_share, "long_share");
    }

    EXPECT_SAME(a->cascade.threshold_usd, b->cascade.threshold_usd, "threshold");
    cr_expect_eq(a->cascade.gap_steps, b->cascade.gap_steps);
    cr_expect_eq(a->output.paths, b->output.paths);
    cr_expect_eq(a->output.bins_per_decade, b->output.bins_per_decade);
    cr_expect_eq(a->output.path_values, b->output.path_values);
    cr_assert_eq(a->output.n_quantiles, b->output.n_quantiles);
    for (int q = 0; q < a->output.n_quantiles; q++)
        EXPECT_SAME(a->output.quantiles[q], b->output.quantiles[q], "output.quantiles");
}

/* Loading must fail with MF_ERR_CONFIG and a message holding every given fragment. */
static void expect_load_error(const char *path, const char *const *overrides, int n,
                              const char *fragment1, const char *fragment2) {
    mf_config config;
    mf_error_clear();
    mf_status status = mf_config_load(&config, path, overrides, n);
    cr_assert_eq(status, MF_ERR_CONFIG, "status %d, message: %s", status, mf_error_message());
    const char *message = mf_error_message();
    cr_expect(strstr(message, fragment1) != NULL, "'%s' not in: %s", fragment1, message);
    if (fragment2)
        cr_expect(strstr(message, fragment2) != NULL, "'%s' not in: %s", fragment2, message);
}

static void expect_fixture_error(const char *file, const char *located, const char *detail) {
    expect_load_error(file, NULL, 0, located, detail);
}

/* ---- defaults ----------------------------------------------------------------------------- */

Test(config, defaults_validate) {
    mf_config config;
    mf_config_set_defaults(&config);
    mf_error_clear();
    cr_assert_eq(mf_config_validate(&config), MF_OK, "%s", mf_error_message());
    cr_expect_eq(config.market.n_assets, 3);
    cr_expect_str_eq(config.market.assets[2].name, "SOL");
    cr_expect_eq(config.venue.markets[2].n_tiers, 7);
    cr_expect_eq(config.run.seed, 20200312u);
    /* Every tier of every default market keeps maintenance below initial margin. */
    for (int i = 0; i < config.market.n_assets; i++)
        for (int t = 0; t < config.venue.markets[i].n_tiers; t++)
            cr_expect(config.venue.markets[i].tiers[t].mmr <
                      1.0 / config.venue.markets[i].tiers[t].max_leverage);
}

Test(config, default_yaml_equals_builtin_defaults) {
    mf_config loaded, defaults;
    mf_error_clear();
    cr_assert_eq(mf_config_load(&loaded, MF_SOURCE_DIR "/configs/default.yaml", NULL, 0), MF_OK,
                 "%s", mf_error_message());
    mf_config_set_defaults(&defaults);
    expect_equal_configs(&loaded, &defaults);
    cr_expect_str_eq(loaded.source_file, MF_SOURCE_DIR "/configs/default.yaml");
    /* The numeric sections as bytes too (both come from zeroed memory). */
    cr_expect(memcmp(&loaded.run, &defaults.run, sizeof defaults - offsetof(mf_config, run)) == 0);
}

Test(config, empty_file_gives_defaults) {
    mf_config loaded, defaults;
    cr_assert_eq(mf_config_load_string(&loaded, "# nothing here\n", "empty.yaml", NULL, 0), MF_OK,
                 "%s", mf_error_message());
    mf_config_set_defaults(&defaults);
    expect_equal_configs(&loaded, &defaults);
    cr_expect_str_eq(loaded.source_file, "empty.yaml");
}

Test(config, keys_not_given_keep_defaults) {
    mf_config config;
    const char *text = "run:\n  paths: 7\nmarket:\n  garch: {enabled: false}\n";
    cr_assert_eq(mf_config_load_string(&config, text, "partial.yaml", NULL, 0), MF_OK, "%s",
                 mf_error_message());
    cr_expect_eq(config.run.paths, 7);
    cr_expect_eq(config.run.steps, 1440);
    cr_expect_eq(config.market.garch_enabled, 0);
    cr_expect_eq(config.market.garch_alpha, 0.05);
    cr_expect_eq(config.venue.markets[0].depth_usd, 20e6);
}

/* ---- round trip --------------------------------------------------------------------------- */

Test(config, resolved_yaml_round_trips_exactly) {
    mf_config original;
    mf_config_set_defaults(&original);
    original.run.seed = UINT32_MAX; /* the largest seed the config accepts */
    original.run.paths = INT64_C(123456789012);
    original.market.assets[1].drift = 0.1 + 0.2;
    original.market.assets[2].volatility = 1.0 / 3.0;
    original.market.assets[0].price = 97123.456789012345;
    original.market.assets[0].replay_format = MF_REPLAY_CSV;
    snprintf(original.market.assets[0].replay_file, MF_PATH_LEN, "data/btc \"1m\".csv");
    original.market.assets[1].replay_format = MF_REPLAY_HDF5;
    snprintf(original.market.assets[1].replay_file, MF_PATH_LEN, "replay.h5");
    snprintf(original.market.assets[1].replay_dataset, MF_PATH_LEN, "/index/ETH");
    original.market.student_t_nu = INFINITY;
    original.market.jump_mean = -1e-300;
    original.market.impact_law = MF_IMPACT_LINEAR;
    original.market.n_stress = 2;
    original.market.stress[0].asset = -1;
    original.market.stress[0].start_step = 10;
    original.market.stress[0].steps = 5;
    original.market.stress[0].log_return = -0.128;
    original.market.stress[1].asset = 2;
    original.market.stress[1].start_step = 0;
    original.market.stress[1].steps = 1;
    original.market.stress[1].log_return = log(0.7);
    snprintf(original.venue.name, MF_NAME_LEN, "odd: name # with 'quotes'");
    original.venue.markets[0].depth_usd = INFINITY;
    original.venue.markets[1].throughput_usd = INFINITY;
    original.venue.liquidation_fee = 1e-4;
    original.population.notional_law = MF_NOTIONAL_PARETO;
    original.population.notional_alpha = 1.0 + 1e-15;
    original.population.isolated_share = 0.3;
    original.population.cross_share = 0.7;
    original.output.paths = 1;
    original.cascade.threshold_usd = 1.5e6;
    mf_error_clear();
    cr_assert_eq(mf_config_validate(&original), MF_OK, "%s", mf_error_message());

    char *text = NULL;
    cr_assert_eq(mf_config_to_yaml(&original, &text), MF_OK);
    mf_config reloaded;
    cr_assert_eq(mf_config_load_string(&reloaded, text, "resolved.yaml", NULL, 0), MF_OK, "%s\n%s",
                 mf_error_message(), text);
    expect_equal_configs(&original, &reloaded);
    cr_expect(strstr(text, ".inf") != NULL);

    /* Emitting the reloaded config gives the same text: a fixed point. */
    char *again = NULL;
    cr_assert_eq(mf_config_to_yaml(&reloaded, &again), MF_OK);
    cr_expect_str_eq(text, again);
    free(text);
    free(again);
}

Test(config, custom_asset_list_round_trips) {
    mf_config config, reloaded;
    mf_error_clear();
    cr_assert_eq(mf_config_load(&config, FIXTURE("custom_assets.yaml"), NULL, 0), MF_OK, "%s",
                 mf_error_message());
    cr_assert_eq(config.market.n_assets, 2);
    cr_expect_str_eq(config.market.assets[0].name, "DOGE");
    cr_expect_str_eq(config.market.assets[1].name, "BTC");
    /* BTC starts from its defaults; DOGE from the generic ones. */
    cr_expect_eq(config.market.assets[1].price, 100000.0);
    cr_expect_eq(config.market.assets[1].volatility, 0.6);
    cr_expect_eq(config.market.assets[0].drift, 0.0);
    cr_expect_eq(config.market.assets[0].jump_beta, 2.0);
    cr_expect_eq(config.market.assets[1].replay_format, MF_REPLAY_CSV);
    cr_expect_str_eq(config.market.assets[1].replay_column, "close");
    /* venue.markets and population.assets are stored in market.assets order. */
    cr_expect_eq(config.venue.markets[0].depth_usd, 1e6);
    cr_expect(isinf(config.venue.markets[0].throughput_usd));
    cr_expect(isinf(config.venue.markets[1].depth_usd));
    cr_expect_eq(config.venue.markets[1].n_tiers, 10);
    cr_expect_eq(config.venue.markets[0].tiers[1].cum_usd, 1e5 * (0.05 - 0.02));
    cr_expect_eq(config.population.assets[0].open_interest_usd, 5e8);
    cr_expect_eq(config.population.assets[1].long_share, 0.55);
    cr_expect(isinf(config.market.student_t_nu));
    cr_expect_eq(config.market.n_stress, 2);
    cr_expect_eq(config.market.stress[0].asset, 1);
    cr_expect_eq(config.market.stress[1].asset, -1);
    cr_expect_eq(config.market.stress[1].steps, 1);

    char *text = NULL;
    cr_assert_eq(mf_config_to_yaml(&config, &text), MF_OK);
    cr_assert_eq(mf_config_load_string(&reloaded, text, "resolved.yaml", NULL, 0), MF_OK, "%s",
                 mf_error_message());
    expect_equal_configs(&config, &reloaded);
    free(text);
}

/* ---- located errors --------------------------------------------------------------------- */

Test(config, syntax_error_names_file_line_and_column) {
    expect_fixture_error(FIXTURE("syntax.yaml"),
                         "syntax.yaml:4:2: YAML syntax: did not find expected key (while "
                         "parsing a block mapping at line 1)",
                         NULL);
}

Test(config, unknown_key_is_refused_with_a_hint) {
    expect_fixture_error(FIXTURE("unknown_key.yaml"),
                         "unknown_key.yaml:7: market.garch.alpah: unknown key 'alpah' in "
                         "market.garch",
                         "did you mean 'alpha'?");
}

Test(config, wrong_type_is_refused) {
    expect_fixture_error(FIXTURE("wrong_type.yaml"),
                         "wrong_type.yaml:6: market.assets[1].volatility: expected a number",
                         "'high'");
}

Test(config, mapping_where_a_list_belongs_is_refused) {
    expect_fixture_error(FIXTURE("wrong_kind.yaml"),
                         "wrong_kind.yaml:4: venue.markets: expected a list, got a mapping", NULL);
}

Test(config, duplicated_key_is_refused) {
    expect_fixture_error(FIXTURE("duplicate.yaml"),
                         "duplicate.yaml:4: venue.name: duplicated key 'name'",
                         "first given at line 2");
}

Test(config, leverage_below_one_is_refused) {
    expect_fixture_error(FIXTURE("leverage.yaml"),
                         "leverage.yaml:4: population.leverage.median: must be >= 1", "0.5");
}

Test(config, negative_depth_is_refused_at_its_yaml_entry) {
    /* BTC is the second entry in the file but asset 0 in the struct. */
    expect_fixture_error(FIXTURE("negative_depth.yaml"),
                         "negative_depth.yaml:6: venue.markets[1].depth_usd: must be > 0", NULL);
}

Test(config, correlation_not_positive_definite_is_refused) {
    expect_fixture_error(FIXTURE("not_pd.yaml"),
                         "not_pd.yaml:2: market.correlation: not positive definite",
                         "pivot 3 of 3 (asset SOL)");
}

Test(config, correlation_not_symmetric_is_refused) {
    expect_fixture_error(FIXTURE("not_symmetric.yaml"),
                         "not_symmetric.yaml:5: market.correlation[2][0]: not symmetric", NULL);
}

Test(config, margin_mode_shares_must_sum_to_one) {
    expect_fixture_error(FIXTURE("shares.yaml"),
                         "shares.yaml:3: population.margin_modes: the shares must sum to 1", NULL);
}

Test(config, missing_file_names_path_and_reason) {
    mf_config config;
    mf_error_clear();
    cr_assert_eq(mf_config_load(&config, FIXTURE("no_such_file.yaml"), NULL, 0), MF_ERR_CONFIG);
    cr_expect(strstr(mf_error_message(), "no_such_file.yaml") != NULL, "%s", mf_error_message());
    cr_expect(strstr(mf_error_message(), "No such file or directory") != NULL, "%s",
              mf_error_message());
}

Test(config, tiers_out_of_order_are_refused) {
    expect_fixture_error(FIXTURE("tier_order.yaml"),
                         "tier_order.yaml:7: venue.markets[0].tiers[2].floor_usd: tier floors "
                         "must be strictly ascending",
                         NULL);
}

Test(config, unknown_asset_in_venue_markets_is_refused) {
    expect_fixture_error(FIXTURE("unknown_asset.yaml"),
                         "unknown_asset.yaml:6: venue.markets[3].asset: unknown asset 'DOGE'",
                         NULL);
}

Test(config, missing_market_for_an_asset_is_refused) {
    expect_fixture_error(FIXTURE("missing_market.yaml"),
                         "missing_market.yaml:3: venue.markets: no entry for asset 'ETH'", NULL);
}

Test(config, new_asset_list_needs_its_venue_markets) {
    expect_fixture_error(FIXTURE("assets_without_markets.yaml"),
                         "assets_without_markets.yaml:4: venue.markets: missing: market.assets "
                         "is given",
                         "BTC, DOGE");
}

Test(config, more_range_checks_name_their_key) {
    static const struct {
        const char *text;
        const char *expected;
    } cases[] = {
        {"run:\n  paths: 0\n", "s.yaml:2: run.paths: must be >= 1"},
        {"run:\n  steps: 0\n", "s.yaml:2: run.steps: must be in 1..1000000"},
        {"run:\n  dt_seconds: 0\n", "s.yaml:2: run.dt_seconds"},
        {"run:\n  batch_paths: 17\n", "s.yaml:2: run.batch_paths: must be in 1..16"},
        {"run:\n  block_paths: 0\n", "s.yaml:2: run.block_paths"},
        {"run:\n  seed: -1\n", "s.yaml:2: run.seed: expected a non-negative integer"},
        {"run:\n  paths: 2.5\n", "s.yaml:2: run.paths: expected an integer"},
        {"run:\n  paths: \"10\"\n", "s.yaml:2: run.paths: expected an integer, got the quoted"},
        {"venue:\n  max_leverage: 0.5\n", "s.yaml:2: venue.max_leverage: must be >= 1"},
        {"venue:\n  liquidation_fee: 1\n", "s.yaml:2: venue.liquidation_fee"},
        {"venue:\n  insurance_fund_usd: -1\n", "s.yaml:2: venue.insurance_fund_usd"},
        {"venue:\n  deficit: bailout\n",
         "s.yaml:2: venue.deficit: expected one of uncovered, adl, socialised"},
        {"market:\n  student_t_nu: 2\n", "s.yaml:2: market.student_t_nu: must be > 2"},
        {"market:\n  student_t_nu: .nan\n", "s.yaml:2: market.student_t_nu: NaN"},
        {"market:\n  garch: {alpha: 0.1, beta: 0.9}\n",
         "s.yaml:2: market.garch.beta: alpha + beta"},
        {"market:\n  garch: {alpha: -0.1}\n", "s.yaml:2: market.garch.alpha: must be >= 0"},
        {"market:\n  impact: {permanent_fraction: 1.5}\n", "market.impact.permanent_fraction"},
        {"market:\n  impact: {law: sqr}\n", "did you mean 'sqrt'?"},
        {"market:\n  impact: {half_life_seconds: 0}\n", "market.impact.half_life_seconds"},
        {"market:\n  depth_feedback: {floor: 0}\n", "market.depth_feedback.floor"},
        {"market:\n  jumps: {intensity_per_year: .inf}\n", "must be a finite number"},
        {"market:\n  assets:\n    - {name: BTC, price: 0, volatility: 0.5}\n"
         "  correlation: [[1]]\nvenue:\n  markets: [{asset: BTC}]\n"
         "population:\n  assets: [{asset: BTC}]\n",
         "s.yaml:3: market.assets[0].price: must be a finite price > 0"},
        {"market:\n  stress:\n    - {asset: BTC, start_step: 1440, log_return: -0.1}\n",
         "s.yaml:3: market.stress[0].start_step: must be a step in 0..1439"},
        {"market:\n  stress:\n    - {asset: BTC, start_step: 0, steps: 0, log_return: -0.1}\n",
         "s.yaml:3: market.stress[0].steps: must be >= 1"},
        {"market:\n  stress:\n    - {asset: XRP, start_step: 0, log_return: -0.1}\n",
         "s.yaml:3: market.stress[0].asset: unknown asset 'XRP'"},
        {"market:\n  assets:\n    - {name: BTC, replay: {format: csv}}\n"
         "  correlation: [[1]]\nvenue:\n  markets: [{asset: BTC}]\n"
         "population:\n  assets: [{asset: BTC}]\n",
         "s.yaml:3: market.assets[0].replay.file: replay.format is csv but no replay.file"},
        {"population:\n  accounts: 0\n", "s.yaml:2: population.accounts: must be >= 1"},
        {"population:\n  max_positions: 0\n", "s.yaml:2: population.max_positions"},
        {"population:\n  notional: {law: pareto, alpha: 1}\n", "population.notional.alpha"},
        {"population:\n  notional: {sigma: -1}\n", "population.notional.sigma"},
        {"population:\n  margin_modes: {isolated: -0.5, cross: 1.5}\n",
         "s.yaml:2: population.margin_modes.isolated"},
        {"population:\n  assets:\n    - {asset: BTC, long_share: 1.2}\n    - {asset: ETH}\n"
         "    - {asset: SOL}\n",
         "s.yaml:3: population.assets[0].long_share: must be a share in [0, 1]"},
        {"population:\n  assets:\n    - {asset: BTC, open_interest_usd: 0}\n    - {asset: ETH}\n"
         "    - {asset: SOL}\n",
         "s.yaml:3: population.assets[0].open_interest_usd"},
        {"output:\n  bins_per_decade: 0\n", "s.yaml:2: output.bins_per_decade"},
        {"output:\n  quantiles:\n    - 0.9\n    - 0.9\n",
         "s.yaml:4: output.quantiles[1]: the levels must be strictly increasing"},
        {"output:\n  quantiles: [0, 0.5]\n", "s.yaml:2: output.quantiles[0]: a quantile level"},
        {"output:\n  quantiles: []\n", "s.yaml:2: output.quantiles: 0 levels"},
        {"output:\n  quantiles: {a: 1}\n", "s.yaml:2: output.quantiles: expected a list"},
        {"run:\n  seed: 4294967296\n", "s.yaml:2: run.seed: must be below 2^32"},
        {"output:\n  paths: yes\n", "s.yaml:2: output.paths: expected true or false"},
        {"venue:\n  name: 0123456789012345678901234567890123456789\n",
         "s.yaml:2: venue.name: too long"},
        {"venue:\n  markets:\n    - asset: BTC\n      tiers: [{floor_usd: 10, mmr: 0.01, "
         "max_leverage: 10}]\n    - {asset: ETH}\n    - {asset: SOL}\n",
         "s.yaml:4: venue.markets[0].tiers[0].floor_usd: the first tier must start at floor_usd 0"},
        {"venue:\n  markets:\n    - asset: BTC\n      tiers:\n        - {floor_usd: 0, mmr: 0.01, "
         "max_leverage: 10}\n        - {floor_usd: 5, mmr: 0.005, max_leverage: 5}\n"
         "    - {asset: ETH}\n    - {asset: SOL}\n",
         "s.yaml:6: venue.markets[0].tiers[1].mmr: maintenance rates must not decrease"},
        {"venue:\n  markets:\n    - asset: BTC\n      tiers: [{floor_usd: 0, mmr: 0.05, "
         "max_leverage: 20}]\n    - {asset: ETH}\n    - {asset: SOL}\n",
         "venue.markets[0].tiers[0].mmr: 0.05 is not below the initial margin rate"},
        {"venue:\n  markets:\n    - asset: BTC\n      tiers: []\n    - {asset: ETH}\n"
         "    - {asset: SOL}\n",
         "s.yaml:4: venue.markets[0].tiers: 0 tiers"},
        {"venue:\n  markets:\n    - {asset: BTC, liquidation_throughput_usd: -1}\n"
         "    - {asset: ETH}\n    - {asset: SOL}\n",
         "s.yaml:3: venue.markets[0].liquidation_throughput_usd: must be > 0"},
        {"venue:\n  markets:\n    - {asset: BTC}\n    - {asset: ETH}\n    - {asset: BTC}\n",
         "s.yaml:5: venue.markets[2].asset: a second entry for asset 'BTC'"},
        {"cascade:\n  gap_steps: -1\n", "s.yaml:2: cascade.gap_steps"},
        {"[1, 2]\n", "s.yaml:1: (top level): expected a mapping"},
        {"run: {paths: 1}\n---\nrun: {paths: 2}\n", "s.yaml:3: a second YAML document"},
        {"a: &x [*x]\n", "s.yaml:1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mf_config config;
        mf_error_clear();
        mf_status status = mf_config_load_string(&config, cases[i].text, "s.yaml", NULL, 0);
        cr_expect_eq(status, MF_ERR_CONFIG, "case %zu: status %d (%s)", i, status,
                     mf_error_message());
        cr_expect(strstr(mf_error_message(), cases[i].expected) != NULL,
                  "case %zu: '%s' not in: %s", i, cases[i].expected, mf_error_message());
    }
}

Test(config, too_many_entries_are_refused) {
    char text[4096] = "market:\n  assets:\n";
    for (int i = 0; i <= MF_MAX_ASSETS; i++) {
        size_t used = strlen(text);
        snprintf(text + used, sizeof text - used, "    - {name: A%d, price: 1, volatility: 1}\n",
                 i);
    }
    mf_config config;
    cr_assert_eq(mf_config_load_string(&config, text, "many.yaml", NULL, 0), MF_ERR_CONFIG);
    cr_expect(strstr(mf_error_message(), "many.yaml:2: market.assets: 9 assets, at most 8") != NULL,
              "%s", mf_error_message());
}

Test(config, population_file_allows_zero_accounts) {
    mf_config config;
    const char *text = "population:\n  accounts: 0\n  file: snapshot.h5\n";
    cr_assert_eq(mf_config_load_string(&config, text, "p.yaml", NULL, 0), MF_OK, "%s",
                 mf_error_message());
    cr_expect_str_eq(config.population.file, "snapshot.h5");
}

Test(config, validate_without_a_file_names_the_key) {
    mf_config config;
    mf_config_set_defaults(&config);
    config.venue.markets[1].depth_usd = -3.0;
    mf_error_clear();
    cr_assert_eq(mf_config_validate(&config), MF_ERR_CONFIG);
    cr_expect(strstr(mf_error_message(), "venue.markets[1].depth_usd") != NULL, "%s",
              mf_error_message());
}

/* ---- --set overrides ---------------------------------------------------------------------- */

Test(config, override_by_index) {
    const char *overrides[] = {"market.assets.0.volatility=0.8", "run.paths=1e6"};
    mf_config config;
    mf_error_clear();
    cr_assert_eq(mf_config_load(&config, MF_SOURCE_DIR "/configs/default.yaml", overrides, 2),
                 MF_OK, "%s", mf_error_message());
    cr_expect_eq(config.market.assets[0].volatility, 0.8);
    cr_expect_eq(config.market.assets[1].volatility, 0.64);
    cr_expect_eq(config.run.paths, 1000000);
}

Test(config, override_by_index_without_a_file) {
    /* The file gives no asset list: the override edits the default one. */
    const char *overrides[] = {"market.assets.2.price=150"};
    mf_config config;
    mf_error_clear();
    cr_assert_eq(mf_config_load_string(&config, "run: {paths: 5}\n", "small.yaml", overrides, 1),
                 MF_OK, "%s", mf_error_message());
    cr_expect_eq(config.market.assets[2].price, 150.0);
    cr_expect_eq(config.market.n_assets, 3);
    cr_expect_eq(config.venue.markets[2].depth_usd, 2.5e6);
    cr_expect_eq(config.run.paths, 5);
}

Test(config, override_by_name) {
    const char *overrides[] = {"venue.markets.BTC.depth_usd=1e7",
                               "venue.markets.SOL.tiers.0.mmr=0.015",
                               "population.assets.ETH.long_share=0.4"};
    mf_config config;
    mf_error_clear();
    cr_assert_eq(mf_config_load(&config, FIXTURE("custom_assets.yaml"), overrides, 1), MF_OK, "%s",
                 mf_error_message());
    cr_expect_eq(config.venue.markets[1].depth_usd, 1e7); /* BTC is asset 1 there */
    cr_assert_eq(mf_config_load(&config, NULL, overrides, 3), MF_OK, "%s", mf_error_message());
    cr_expect_eq(config.venue.markets[0].depth_usd, 1e7);
    cr_expect_eq(config.venue.markets[2].tiers[0].mmr, 0.015);
    cr_expect_eq(config.population.assets[1].long_share, 0.4);
    cr_expect_str_eq(config.source_file, "");
}

Test(config, override_with_flow_values) {
    const char *overrides[] = {"market.correlation=[[1,0.5,0.4],[0.5,1,0.3],[0.4,0.3,1]]",
                               "market.garch={enabled: false, alpha: 0.1, beta: 0.8}",
                               "market.stress=[{asset: all, start_step: 5, log_return: -0.2}]",
                               "venue.name=\"my venue\"", "market.student_t_nu=.inf"};
    mf_config config;
    mf_error_clear();
    cr_assert_eq(mf_config_load(&config, MF_SOURCE_DIR "/configs/default.yaml", overrides, 5),
                 MF_OK, "%s", mf_error_message());
    cr_expect_eq(config.market.correlation[0][1], 0.5);
    cr_expect_eq(config.market.correlation[2][1], 0.3);
    cr_expect_eq(config.market.garch_enabled, 0);
    cr_expect_eq(config.market.garch_beta, 0.8);
    cr_expect_eq(config.market.n_stress, 1);
    cr_expect_eq(config.market.stress[0].asset, -1);
    cr_expect_str_eq(config.venue.name, "my venue");
    cr_expect(isinf(config.market.student_t_nu));
}

Test(config, later_override_wins) {
    const char *overrides[] = {"run.steps=10", "run.steps=20"};
    mf_config config;
    cr_assert_eq(mf_config_load(&config, NULL, overrides, 2), MF_OK, "%s", mf_error_message());
    cr_expect_eq(config.run.steps, 20);
}

Test(config, override_unknown_key_is_refused) {
    const char *unknown[] = {"market.foo=1"};
    expect_load_error(NULL, unknown, 1, "--set market.foo=1: unknown key 'foo' in market", NULL);
    const char *typo[] = {"run.pahts=10"};
    expect_load_error(NULL, typo, 1, "--set run.pahts=10: unknown key 'pahts' in run",
                      "did you mean 'paths'?");
    const char *no_entry[] = {"venue.markets.XRP.depth_usd=1"};
    expect_load_error(NULL, no_entry, 1,
                      "--set venue.markets.XRP.depth_usd=1: no entry named 'XRP'", NULL);
    const char *no_index[] = {"market.assets.3.price=1"};
    expect_load_error(NULL, no_index, 1, "--set market.assets.3.price=1: no entry 3", NULL);
    const char *no_equals[] = {"run.paths"};
    expect_load_error(NULL, no_equals, 1, "--set run.paths: expected KEY=VALUE", NULL);
}

Test(config, override_bad_value_is_refused) {
    const char *text[] = {"run.paths=many"};
    expect_load_error(NULL, text, 1, "--set run.paths=many: run.paths: expected an integer", NULL);
    const char *range[] = {"venue.max_leverage=0.5"};
    expect_load_error(MF_SOURCE_DIR "/configs/default.yaml", range, 1,
                      "--set venue.max_leverage=0.5: venue.max_leverage: must be >= 1", NULL);
    const char *depth[] = {"venue.markets.ETH.depth_usd=-1"};
    expect_load_error(NULL, depth, 1,
                      "--set venue.markets.ETH.depth_usd=-1: venue.markets[1].depth_usd", NULL);
    const char *kind[] = {"run=[1, 2]"};
    expect_load_error(NULL, kind, 1, "--set run=[1, 2]: run: expected a mapping", NULL);
    const char *syntax[] = {"market.correlation=[[1,0"};
    expect_load_error(NULL, syntax, 1, "--set market.correlation=[[1,0: YAML syntax", NULL);
    const char *not_pd[] = {"market.correlation=[[1,0.9,0.9],[0.9,1,-0.9],[0.9,-0.9,1]]"};
    expect_load_error(NULL, not_pd, 1, "--set market.correlation=", "not positive definite");
    const char *rename[] = {"market.assets.0.name=DOGE"};
    expect_load_error(NULL, rename, 1,
                      "--set market.assets.0.name=DOGE: market.correlation: "
                      "missing: market.assets is given",
                      NULL);
}

/* ---- derived values ------------------------------------------------------------------------ */

Test(config, tier_cum_matches_binance_maintenance_amounts) {
    mf_config config;
    cr_assert_eq(mf_config_load(&config, MF_SOURCE_DIR "/configs/default.yaml", NULL, 0), MF_OK,
                 "%s", mf_error_message());
    /* BTCUSDT API snapshot: 0, 50, 1300, 46300, 546300, 2546300 ... */
    static const double btc_cum[] = {0,       50,      1300,    46300,    546300,
                                     2546300, 5046300, 8046300, 28046300, 103046300};
    const mf_venue_market_config *btc = &config.venue.markets[0];
    cr_assert_eq(btc->n_tiers, 10);
    for (int t = 0; t < 10; t++)
        cr_expect(fabs(btc->tiers[t].cum_usd - btc_cum[t]) < 1e-6, "tier %d: %.17g", t,
                  btc->tiers[t].cum_usd);
    /* ETH: 75, 950, 10950, 235950 ... (the bracket copy, docs/model.md [R17]). */
    const mf_venue_market_config *eth = &config.venue.markets[1];
    cr_expect(fabs(eth->tiers[1].cum_usd - 75) < 1e-6);
    cr_expect(fabs(eth->tiers[4].cum_usd - 235950) < 1e-6);
    /* Maintenance margin is continuous at every tier boundary. */
    for (int t = 1; t < btc->n_tiers; t++) {
        double notional = btc->tiers[t].floor_usd;
        double below = notional * btc->tiers[t - 1].mmr - btc->tiers[t - 1].cum_usd;
        double above = notional * btc->tiers[t].mmr - btc->tiers[t].cum_usd;
        cr_expect(fabs(below - above) < 1e-6 * notional, "boundary %d", t);
    }
}

Test(config, cholesky_of_a_known_matrix) {
    const double matrix[9] = {4, 12, -16, 12, 37, -43, -16, -43, 98};
    const double expected[9] = {2, 0, 0, 6, 1, 0, -8, 5, 3};
    double lower[9];
    for (int i = 0; i < 9; i++)
        lower[i] = 99.0; /* the upper triangle must be cleared */
    cr_assert_eq(mf_cholesky(matrix, 3, lower), MF_OK, "%s", mf_error_message());
    for (int i = 0; i < 9; i++)
        cr_expect(fabs(lower[i] - expected[i]) < 1e-12, "entry %d: %g", i, lower[i]);
}

Test(config, cholesky_names_the_failing_pivot) {
    const double matrix[9] = {1, 0.9, 0.9, 0.9, 1, -0.9, 0.9, -0.9, 1};
    double lower[9];
    mf_error_clear();
    cr_assert_eq(mf_cholesky(matrix, 3, lower), MF_ERR_CONFIG);
    cr_expect(strstr(mf_error_message(), "not positive definite") != NULL);
    cr_expect(strstr(mf_error_message(), "pivot 3 of 3") != NULL, "%s", mf_error_message());
    const double singular[4] = {1, 1, 1, 1};
    cr_assert_eq(mf_cholesky(singular, 2, lower), MF_ERR_CONFIG);
    cr_expect(strstr(mf_error_message(), "pivot 2 of 2") != NULL, "%s", mf_error_message());
}

/* ---- sweeps --------------------------------------------------------------------------------- */

static void load_ok(mf_config *config, const char *text, const char *const *overrides, int n) {
    memset(config, 0, sizeof *config);
    mf_error_clear();
    cr_assert_eq(mf_config_load_string(config, text, "sweep.yaml", overrides, n), MF_OK, "%s",
                 mf_error_message());
}

/* Loading `text` must fail with MF_ERR_CONFIG and a message holding `fragment`. */
static void expect_sweep_error(const char *text, const char *const *overrides, int n,
                               const char *fragment) {
    mf_config config;
    memset(&config, 0, sizeof config);
    mf_error_clear();
    mf_status status = mf_config_load_string(&config, text, "sweep.yaml", overrides, n);
    cr_expect_eq(status, MF_ERR_CONFIG, "status %d (%s) for:\n%s", status, mf_error_message(),
                 text);
    cr_expect(strstr(mf_error_message(), fragment) != NULL, "'%s' not in: %s", fragment,
              mf_error_message());
    if (status == MF_OK) mf_config_free(&config);
}

static double linear_value(double start, double stop, int num, int i) {
    return num == 1 ? start : start + (stop - start) * (double)i / (double)(num - 1);
}

static double log_value(double start, double stop, int num, int i) {
    return num == 1 ? start : start * pow(stop / start, (double)i / (double)(num - 1));
}

Test(config, no_sweep_is_one_point) {
    mf_config config, zeroed, point;
    mf_config_set_defaults(&config);
    cr_expect_eq(config.sweep.n_params, 0);
    cr_expect_eq(config.sweep.n_points, 1);
    char **overrides = (char **)&config; /* must be replaced */
    int n = -1;
    mf_error_clear();
    cr_assert_eq(mf_sweep_point_overrides(&config, 0, &overrides, &n), MF_OK, "%s",
                 mf_error_message());
    cr_expect_eq(n, 0);
    cr_expect_null(overrides);
    mf_sweep_free_overrides(overrides, n);
    cr_expect_eq(mf_sweep_point_overrides(&config, 1, &overrides, &n), MF_ERR_INTERNAL);
    cr_expect(isnan(mf_sweep_point_value(&config, 0, 0)));
    cr_expect_null(mf_sweep_point_text(&config, 0, 0));
    cr_expect_eq(mf_sweep_value_index(&config, 0, 0), -1);

    /* A zeroed struct is a config without a sweep too; freeing it (twice) is harmless. */
    memset(&zeroed, 0, sizeof zeroed);
    mf_config_free(&zeroed);
    mf_config_free(&zeroed);
    mf_config_free(NULL);
    cr_expect_eq(zeroed.sweep.n_points, 1);

    /* Point 0 of a config without a sweep is the config itself. */
    char *text = NULL;
    cr_assert_eq(mf_config_to_yaml(&config, &text), MF_OK);
    cr_expect(strstr(text, "sweep:\n  mode: product\n  parameters: []\n") != NULL, "%s", text);
    cr_assert_eq(mf_config_load_point(&point, text, "resolved.yaml", 0), MF_OK, "%s",
                 mf_error_message());
    expect_equal_configs(&config, &point);
    cr_expect_eq(point.sweep.n_params, 0);
    cr_expect_eq(mf_config_load_point(&point, text, "resolved.yaml", 1), MF_ERR_INTERNAL);
    cr_expect_eq(mf_config_load_point(&point, text, "resolved.yaml", -1), MF_ERR_INTERNAL);
    free(text);
}

Test(config, sweep_product_order_is_row_major) {
    const char *text = "sweep:\n"
                       "  parameters:\n"
                       "    - key: venue.max_leverage\n"
                       "      values: [10, 20]\n"
                       "    - key: market.impact.law\n"
                       "      values: [linear, sqrt, \"sqrt\"]\n"
                       "    - key: venue.insurance_fund_usd\n"
                       "      linear: {start: 0, stop: 1e9, num: 2}\n";
    mf_config config;
    load_ok(&config, text, NULL, 0);
    const mf_sweep_config *s = &config.sweep;
    cr_assert_eq(s->n_params, 3);
    cr_expect_eq(s->mode, MF_SWEEP_PRODUCT);
    cr_assert_eq(s->n_points, 12);
    cr_expect_str_eq(s->keys[1], "market.impact.law");
    cr_expect_eq(s->kind[0], MF_SWEEP_VALUES);
    cr_expect_eq(s->kind[2], MF_SWEEP_LINEAR);
    /* numpy.meshgrid(indexing='ij') flattened: the last parameter varies fastest. */
    for (int64_t point = 0; point < 12; point++) {
        int expected[3] = {(int)(point / 6), (int)(point / 2 % 3), (int)(point % 2)};
        for (int p = 0; p < 3; p++)
            cr_expect_eq(mf_sweep_value_index(&config, point, p), expected[p], "point %d param %d",
                         (int)point, p);
    }
    cr_expect_str_eq(mf_sweep_point_text(&config, 7, 0), "20");
    cr_expect_str_eq(mf_sweep_point_text(&config, 7, 1), "linear");
    cr_expect_str_eq(mf_sweep_point_text(&config, 7, 2), "1000000000");
    cr_expect_eq(mf_sweep_point_value(&config, 7, 0), 20.0);
    cr_expect(isnan(mf_sweep_point_value(&config, 7, 1)), "a word is not a number");
    cr_expect_eq(mf_sweep_point_value(&config, 7, 2), 1e9);
    /* A quoted value keeps its quotes: it is still the string it was. */
    cr_expect_str_eq(mf_sweep_point_text(&config, 4, 1), "\"sqrt\"");
    cr_expect_null(mf_sweep_point_text(&config, 12, 0));
    cr_expect_null(mf_sweep_point_text(&config, 0, 3));
    cr_expect(isnan(mf_sweep_point_value(&config, -1, 0)));

    char **overrides = NULL;
    int n = 0;
    cr_assert_eq(mf_sweep_point_overrides(&config, 11, &overrides, &n), MF_OK, "%s",
                 mf_error_message());
    cr_assert_eq(n, 3);
    cr_expect_str_eq(overrides[0], "venue.max_leverage=20");
    cr_expect_str_eq(overrides[1], "market.impact.law=\"sqrt\"");
    cr_expect_str_eq(overrides[2], "venue.insurance_fund_usd=1000000000");
    mf_sweep_free_overrides(overrides, n);
    cr_expect_eq(mf_sweep_point_overrides(&config, 12, &overrides, &n), MF_ERR_INTERNAL);
    mf_config_free(&config);
    cr_expect_eq(config.sweep.n_params, 0);
    cr_expect_null(config.sweep.values[0]);
}

Test(config, sweep_zip_walks_the_lists_together) {
    const char *text = "sweep:\n"
                       "  mode: zip\n"
                       "  parameters:\n"
                       "    - {key: venue.max_leverage, values: [10, 20, 50]}\n"
                       "    - {key: venue.liquidation_fee, linear: {start: 0.01, stop: 0.03, "
                       "num: 3}}\n"
                       "    - {key: venue.name, values: [a, b c, \"d\"]}\n";
    mf_config config;
    load_ok(&config, text, NULL, 0);
    cr_assert_eq(config.sweep.mode, MF_SWEEP_ZIP);
    cr_assert_eq(config.sweep.n_points, 3);
    for (int64_t point = 0; point < 3; point++)
        for (int p = 0; p < 3; p++)
            cr_expect_eq(mf_sweep_value_index(&config, point, p), (int)point);
    cr_expect_eq(mf_sweep_point_value(&config, 2, 0), 50.0);
    EXPECT_SAME(mf_sweep_point_value(&config, 1, 1), linear_value(0.01, 0.03, 3, 1), "fee");
    /* A plain value that would not survive a flow list is written quoted (same string). */
    cr_expect_str_eq(mf_sweep_point_text(&config, 1, 2), "\"b c\"");
    char *resolved = NULL;
    cr_assert_eq(mf_config_to_yaml(&config, &resolved), MF_OK);
    mf_config point;
    cr_assert_eq(mf_config_load_point(&point, resolved, "resolved.yaml", 1), MF_OK, "%s",
                 mf_error_message());
    cr_expect_eq(point.venue.max_leverage, 20.0);
    EXPECT_SAME(point.venue.liquidation_fee, linear_value(0.01, 0.03, 3, 1), "fee");
    cr_expect_str_eq(point.venue.name, "b c");
    cr_assert_eq(mf_config_load_point(&point, resolved, "resolved.yaml", 2), MF_OK, "%s",
                 mf_error_message());
    cr_expect_str_eq(point.venue.name, "d");
    free(resolved);
    mf_config_free(&config);
}

Test(config, sweep_ranges_are_exact) {
    const char *text = "sweep:\n"
                       "  parameters:\n"
                       "    - key: venue.markets.BTC.tiers.0.mmr\n"
                       "      linear: {start: 0.002, stop: 0.004, num: 5}\n"
                       "    - key: venue.insurance_fund_usd\n"
                       "      log: {start: 1.0e7, stop: 1.0e10, num: 4}\n"
                       "    - key: venue.liquidation_fee\n"
                       "      linear: {start: 0.02, stop: 0.9, num: 1}\n"
                       "    - key: market.jumps.mean\n"
                       "      log: {start: 3, stop: 0.1, num: 7}\n";
    mf_config config;
    load_ok(&config, text, NULL, 0);
    const mf_sweep_config *s = &config.sweep;
    cr_assert_eq(s->n_points, 5 * 4 * 1 * 7);
    cr_expect_eq(s->kind[1], MF_SWEEP_LOG);
    for (int i = 0; i < 5; i++) {
        EXPECT_SAME(s->numbers[0][i], linear_value(0.002, 0.004, 5, i), "linear");
        EXPECT_SAME(strtod(s->values[0][i], NULL), s->numbers[0][i], "linear text");
    }
    for (int i = 0; i < 4; i++) {
        EXPECT_SAME(s->numbers[1][i], log_value(1e7, 1e10, 4, i), "log");
        EXPECT_SAME(strtod(s->values[1][i], NULL), s->numbers[1][i], "log text");
    }
    for (int i = 0; i < 7; i++)
        EXPECT_SAME(s->numbers[3][i], log_value(3, 0.1, 7, i), "descending log");
    cr_expect_eq(s->n_values[2], 1);
    cr_expect_eq(s->numbers[2][0], 0.02, "num 1 is start");
    cr_expect_eq(s->numbers[0][0], 0.002);
    cr_expect_eq(s->numbers[1][0], 1e7);
    cr_expect_str_eq(s->values[0][2], "0.003");

    /* Every point's config holds the value bit for bit, through the resolved text. */
    char *resolved = NULL;
    cr_assert_eq(mf_config_to_yaml(&config, &resolved), MF_OK);
    for (int64_t point = 0; point < s->n_points; point += 5) {
        mf_config at;
        cr_assert_eq(mf_config_load_point(&at, resolved, "resolved.yaml", point), MF_OK, "%s",
                     mf_error_message());
        EXPECT_SAME(at.venue.markets[0].tiers[0].mmr, mf_sweep_point_value(&config, point, 0),
                    "mmr");
        EXPECT_SAME(at.venue.insurance_fund_usd, mf_sweep_point_value(&config, point, 1), "fund");
        EXPECT_SAME(at.market.jump_mean, mf_sweep_point_value(&config, point, 3), "jump mean");
        cr_expect_eq(at.sweep.n_params, 0);
    }
    free(resolved);
    mf_config_free(&config);
}

Test(config, sweep_point_equals_the_source_with_its_overrides) {
    const char *user[] = {"run.paths=7", "venue.markets.ETH.depth_usd=5e6"};
    mf_config config;
    mf_error_clear();
    cr_assert_eq(mf_config_load(&config, FIXTURE("sweep_cap_tier0.yaml"), user, 2), MF_OK, "%s",
                 mf_error_message());
    cr_assert_eq(config.sweep.n_points, 15);
    char *resolved = NULL;
    cr_assert_eq(mf_config_to_yaml(&config, &resolved), MF_OK);
    for (int64_t point = 0; point < 15; point++) {
        /* The same source, the user's overrides, then the point's, and no sweep. */
        char **overrides = NULL;
        int n = 0;
        cr_assert_eq(mf_sweep_point_overrides(&config, point, &overrides, &n), MF_OK);
        const char *all[8];
        all[0] = user[0];
        all[1] = user[1];
        for (int i = 0; i < n; i++)
            all[2 + i] = overrides[i];
        all[2 + n] = "sweep.parameters=[]";
        mf_config direct, from_text;
        cr_assert_eq(mf_config_load(&direct, FIXTURE("sweep_cap_tier0.yaml"), all, 3 + n), MF_OK,
                     "%s", mf_error_message());
        cr_assert_eq(mf_config_load_point(&from_text, resolved, "resolved.yaml", point), MF_OK,
                     "%s", mf_error_message());
        expect_equal_configs(&direct, &from_text);
        cr_expect_eq(from_text.sweep.n_params, 0);
        cr_expect_eq(from_text.sweep.n_points, 1);
        cr_expect_eq(direct.sweep.n_params, 0);
        cr_expect_eq(from_text.run.paths, 7);
        cr_expect_eq(from_text.venue.markets[1].depth_usd, 5e6);
        cr_expect_eq(from_text.venue.max_leverage, mf_sweep_point_value(&config, point, 0));
        cr_expect_eq(from_text.venue.markets[0].tiers[0].mmr,
                     mf_sweep_point_value(&config, point, 1));
        /* The derived maintenance amounts follow the swept rate. */
        cr_expect(fabs(from_text.venue.markets[0].tiers[1].cum_usd -
                       50e3 * (0.005 - from_text.venue.markets[0].tiers[0].mmr)) < 1e-9);
        cr_expect_str_eq(from_text.source_file, "resolved.yaml");
        mf_sweep_free_overrides(overrides, n);
    }
    free(resolved);
    mf_config_free(&config);
}

Test(config, sweep_round_trips_through_the_resolved_text) {
    const char *text = "sweep:\n"
                       "  mode: product\n"
                       "  parameters:\n"
                       "    - key: venue.markets.BTC.tiers.0.mmr\n"
                       "      linear: {start: 0.002, stop: 0.0041, num: 3}\n"
                       "    - key: venue.insurance_fund_usd\n"
                       "      log: {start: 1.0e7, stop: 1.0e10, num: 4}\n"
                       "    - key: venue.name\n"
                       "      values: [plain, with space, \"quo\\\"ted\", '#hash', \"\"]\n"
                       "    - key: market.student_t_nu\n"
                       "      values: [3, 1.0e1, .inf]\n";
    mf_config config, reloaded;
    load_ok(&config, text, NULL, 0);
    cr_assert_eq(config.sweep.n_points, 3 * 4 * 5 * 3);
    char *resolved = NULL, *again = NULL;
    cr_assert_eq(mf_config_to_yaml(&config, &resolved), MF_OK);
    cr_expect(strstr(resolved, "      linear: {start: 0.002, stop: 0.0041, num: 3}\n") != NULL,
              "%s", resolved);
    cr_expect(strstr(resolved, "      log: {start: 10000000, stop: 10000000000, num: 4}\n") != NULL,
              "%s", resolved);
    cr_expect(strstr(resolved, "values: [3, 1.0e1, .inf]") != NULL, "%s", resolved);
    mf_error_clear();
    cr_assert_eq(mf_config_load_string(&reloaded, resolved, "resolved.yaml", NULL, 0), MF_OK,
                 "%s\n%s", mf_error_message(), resolved);
    expect_equal_configs(&config, &reloaded);
    const mf_sweep_config *a = &config.sweep, *b = &reloaded.sweep;
    cr_assert_eq(a->n_params, b->n_params);
    cr_expect_eq(a->mode, b->mode);
    cr_expect_eq(a->n_points, b->n_points);
    for (int p = 0; p < a->n_params; p++) {
        cr_expect_str_eq(a->keys[p], b->keys[p]);
        cr_expect_eq(a->kind[p], b->kind[p]);
        cr_assert_eq(a->n_values[p], b->n_values[p]);
        for (int i = 0; i < a->n_values[p]; i++) {
            cr_expect_str_eq(a->values[p][i], b->values[p][i]);
            cr_expect_eq(memcmp(&a->numbers[p][i], &b->numbers[p][i], sizeof(double)), 0,
                         "param %d value %d", p, i);
        }
    }
    cr_assert_eq(mf_config_to_yaml(&reloaded, &again), MF_OK);
    cr_expect_str_eq(resolved, again);
    /* The string values reach the point configs intact. */
    static const char *const names[] = {"plain", "with space", "quo\"ted", "#hash", ""};
    for (int i = 0; i < 5; i++) {
        mf_config point;
        int64_t index = 3 * i; /* name i, the first t_nu */
        cr_assert_eq(mf_config_load_point(&point, resolved, "resolved.yaml", index), MF_OK, "%s",
                     mf_error_message());
        cr_expect_str_eq(point.venue.name, names[i]);
        cr_expect_eq(point.market.student_t_nu, 3.0);
    }
    cr_expect(isinf(mf_sweep_point_value(&config, 2, 3)));
    free(resolved);
    free(again);
    mf_config_free(&config);
    mf_config_free(&reloaded);
}

Test(config, sweep_set_overrides_edit_the_sweep) {
    const char *text = "sweep:\n"
                       "  parameters:\n"
                       "    - key: venue.max_leverage\n"
                       "      values: [10, 20]\n";
    mf_config config;
    const char *values[] = {"sweep.parameters.0.values=[5, 15, 25]", "sweep.mode=zip"};
    load_ok(&config, text, values, 2);
    cr_expect_eq(config.sweep.n_points, 3);
    cr_expect_eq(config.sweep.mode, MF_SWEEP_ZIP);
    cr_expect_eq(mf_sweep_point_value(&config, 2, 0), 25.0);
    mf_config_free(&config);

    const char *key[] = {"sweep.parameters.0.key=venue.insurance_fund_usd"};
    load_ok(&config, text, key, 1);
    cr_expect_str_eq(config.sweep.keys[0], "venue.insurance_fund_usd");
    mf_config_free(&config);

    /* A whole sweep from the command line, on a file without one. */
    const char *whole[] = {
        "sweep.parameters=[{key: venue.liquidation_fee, linear: {start: 0.01, "
        "stop: 0.02, num: 3}}, {key: market.impact.law, values: [linear, sqrt]}]"};
    load_ok(&config, "run: {paths: 5}\n", whole, 1);
    cr_expect_eq(config.sweep.n_points, 6);
    cr_expect_str_eq(mf_sweep_point_text(&config, 5, 1), "sqrt");
    mf_config_free(&config);

    /* ... and switched off. */
    const char *off[] = {"sweep.parameters=[]"};
    load_ok(&config, text, off, 1);
    cr_expect_eq(config.sweep.n_params, 0);
    cr_expect_eq(config.sweep.n_points, 1);

    /* Bad values from a --set are that argument's fault. */
    const char *bad[] = {"sweep.parameters.0.values=[1, 0]"};
    expect_sweep_error(text, bad, 1,
                       "--set sweep.parameters.0.values=[1, 0]: sweep.parameters[0]: point 1 "
                       "(venue.max_leverage=0): venue.max_leverage: must be >= 1, got 0");
    const char *none[] = {"sweep.parameters.0.values=[1]"};
    expect_sweep_error("run: {paths: 5}\n", none, 1,
                       "--set sweep.parameters.0.values=[1]: no entry 0 in sweep.parameters (it "
                       "has 0 entries)");
    const char *typo[] = {"sweep.parameters.0.valeus=[1]"};
    expect_sweep_error(text, typo, 1, "unknown key 'valeus' in sweep.parameters[0]");
    const char *mode[] = {"sweep.mode=grid"};
    expect_sweep_error(text, mode, 1,
                       "--set sweep.mode=grid: sweep.mode: expected one of product, zip");
}

Test(config, sweep_with_user_overrides_of_swept_lists) {
    /* The file gives no venue.markets: the point's override reaches into the default list,
     * and the user's override of another BTC key stays in force at every point. */
    const char *text = "sweep:\n"
                       "  parameters:\n"
                       "    - key: venue.markets.BTC.tiers.0.mmr\n"
                       "      values: [0.002, 0.003]\n";
    const char *user[] = {"venue.markets.BTC.depth_usd=1e7"};
    mf_config config, point;
    load_ok(&config, text, user, 1);
    char *resolved = NULL;
    cr_assert_eq(mf_config_to_yaml(&config, &resolved), MF_OK);
    cr_assert_eq(mf_config_load_point(&point, resolved, "r.yaml", 1), MF_OK, "%s",
                 mf_error_message());
    cr_expect_eq(point.venue.markets[0].tiers[0].mmr, 0.003);
    cr_expect_eq(point.venue.markets[0].depth_usd, 1e7);
    cr_expect_eq(point.venue.markets[0].n_tiers, 10);
    cr_expect_eq(point.venue.markets[1].tiers[0].mmr, 0.005);
    free(resolved);
    mf_config_free(&config);
}

Test(config, sweep_bad_point_names_the_point_and_its_values) {
    expect_fixture_error(FIXTURE("sweep_bad_point.yaml"),
                         "sweep_bad_point.yaml:7: sweep.parameters[0]: point 3 "
                         "(venue.max_leverage=0.5, venue.liquidation_fee=0.01): "
                         "venue.max_leverage: must be >= 1, got 0.5",
                         NULL);
    /* The failing key is not a swept one: the sweep is blamed, with the key that failed. */
    expect_fixture_error(FIXTURE("sweep_tier_order.yaml"),
                         "sweep_tier_order.yaml:6: sweep.parameters: point 1 "
                         "(venue.max_leverage=20, venue.markets.BTC.tiers.0.mmr=0.006): "
                         "venue.markets[0].tiers[1].mmr: maintenance rates must not decrease",
                         NULL);
    expect_fixture_error(FIXTURE("sweep_range_typo.yaml"),
                         "sweep_range_typo.yaml:4: sweep.parameters[0].linear.nun: unknown key "
                         "'nun'",
                         "did you mean 'num'?");
    expect_fixture_error(FIXTURE("sweep_unsweepable.yaml"),
                         "sweep_unsweepable.yaml:8: sweep.parameters[1].key: 'run.steps' cannot "
                         "be swept: run.*",
                         NULL);
}

Test(config, sweep_refusals_name_file_line_and_key) {
    static const struct {
        const char *text;
        const char *expected;
    } cases[] = {
        {"sweep:\n  parametres: []\n",
         "sweep.yaml:2: sweep.parametres: unknown key 'parametres' in sweep (did you mean "
         "'parameters'?)"},
        {"sweep:\n  mode: grid\n", "sweep.yaml:2: sweep.mode: expected one of product, zip"},
        {"sweep:\n  parameters: {key: venue.max_leverage}\n",
         "sweep.yaml:2: sweep.parameters: expected a list, got a mapping"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n      value: [1]\n",
         "sweep.yaml:4: sweep.parameters[0].value: unknown key 'value' in sweep.parameters[0] "
         "(did you mean 'values'?)"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n",
         "sweep.yaml:3: sweep.parameters[0]: give exactly one of 'values', 'linear' or 'log', "
         "got none"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n      values: [1]\n"
         "      linear: {start: 1, stop: 2, num: 2}\n",
         "sweep.yaml:3: sweep.parameters[0]: give exactly one of 'values', 'linear' or 'log', "
         "got values and linear"},
        {"sweep:\n  parameters:\n    - values: [1, 2]\n",
         "sweep.yaml:3: sweep.parameters[0]: missing key 'key'"},
        {"sweep:\n  parameters:\n    - key: \"\"\n      values: [1]\n",
         "sweep.yaml:3: sweep.parameters[0].key: empty"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n      values: []\n",
         "sweep.yaml:4: sweep.parameters[0].values: an empty list"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n      values: 10\n",
         "sweep.yaml:4: sweep.parameters[0].values: expected a list, got '10'"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n      values: [[10]]\n",
         "sweep.yaml:4: sweep.parameters[0].values[0]: expected a number or a string, got a list"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n"
         "      linear: {start: 1, stop: 2, nun: 3}\n",
         "sweep.yaml:4: sweep.parameters[0].linear.nun: unknown key 'nun'"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n      linear: {start: 1, num: 3}\n",
         "sweep.yaml:4: sweep.parameters[0].linear: missing key 'stop'"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n"
         "      linear: {start: 1, stop: 2, num: 0}\n",
         "sweep.yaml:4: sweep.parameters[0].linear.num: must be >= 1"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n"
         "      linear: {start: 1, stop: 2, num: 2.5}\n",
         "sweep.yaml:4: sweep.parameters[0].linear.num: expected an integer"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n"
         "      linear: {start: 1, stop: 2, num: 4097}\n",
         "sweep.yaml:4: sweep.parameters[0].linear.num: 4097 values, at most 4096"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n"
         "      linear: {start: 1, stop: .inf, num: 2}\n",
         "sweep.yaml:4: sweep.parameters[0].linear.stop: must be a finite number"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n"
         "      log: {start: .nan, stop: 2, num: 2}\n",
         "sweep.yaml:4: sweep.parameters[0].log.start: NaN is not a usable value"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n"
         "      log: {start: 0, stop: 100, num: 3}\n",
         "sweep.yaml:4: sweep.parameters[0].log.start: a log range needs start > 0 and stop > 0, "
         "got 0"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n"
         "      log: {start: 10, stop: -1, num: 3}\n",
         "sweep.yaml:4: sweep.parameters[0].log.stop: a log range needs start > 0"},
        {"sweep:\n  mode: zip\n  parameters:\n    - key: venue.max_leverage\n      values: [10, "
         "20]\n    - key: venue.liquidation_fee\n      values: [0.01, 0.02, 0.03]\n",
         "sweep.yaml:6: sweep.parameters[1]: mode zip walks the lists together, so they need the "
         "same length: 3 values here, 2 in sweep.parameters[0]"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n      values: [10]\n"
         "    - key: venue.max_leverage\n      values: [20]\n",
         "sweep.yaml:5: sweep.parameters[1].key: 'venue.max_leverage' is swept twice (also "
         "sweep.parameters[0]"},
        {"sweep:\n  parameters:\n    - key: venue.markets.ETH.depth_usd\n      values: [1e6]\n"
         "    - key: venue.markets.1.depth_usd\n      values: [2e6]\n",
         "sweep.yaml:5: sweep.parameters[1].key: 'venue.markets.1.depth_usd' is swept twice"},
        {"sweep:\n  parameters:\n    - key: market.stress.0\n      values: [1]\n"
         "    - key: market.stress.0.steps\n      values: [2]\n",
         "sweep.yaml:5: sweep.parameters[1].key: 'market.stress.0.steps' and 'market.stress.0' "
         "(sweep.parameters[0]) overlap"},
        {"sweep:\n  parameters:\n    - key: run.paths\n      values: [10, 20]\n",
         "sweep.yaml:3: sweep.parameters[0].key: 'run.paths' cannot be swept: run.* fixes the "
         "shape of the run"},
        {"sweep:\n  parameters:\n    - key: output.bins_per_decade\n      values: [10, 20]\n",
         "sweep.yaml:3: sweep.parameters[0].key: 'output.bins_per_decade' cannot be swept"},
        {"sweep:\n  parameters:\n    - key: output.quantiles\n      values: [0.5]\n",
         "sweep.yaml:3: sweep.parameters[0].key: 'output.quantiles' cannot be swept"},
        {"sweep:\n  parameters:\n    - key: sweep.mode\n      values: [zip]\n",
         "sweep.yaml:3: sweep.parameters[0].key: 'sweep.mode' cannot be swept"},
        {"sweep:\n  parameters:\n    - key: population.file\n      values: [a.h5, b.h5]\n",
         "sweep.yaml:3: sweep.parameters[0].key: 'population.file' cannot be swept: "
         "population.file fixes the accounts"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverag\n      values: [10]\n",
         "sweep.yaml:3: sweep.parameters[0]: point 0 (venue.max_leverag=10): unknown key "
         "'max_leverag' in venue (did you mean 'max_leverage'?)"},
        {"sweep:\n  parameters:\n    - key: venue.markets.XRP.depth_usd\n      values: [10]\n",
         "sweep.yaml:3: sweep.parameters[0]: point 0 (venue.markets.XRP.depth_usd=10): no entry "
         "named 'XRP' in venue.markets"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n      values: [10, high]\n",
         "sweep.yaml:3: sweep.parameters[0]: point 1 (venue.max_leverage=high): "
         "venue.max_leverage: expected a number, got 'high'"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n      values: [10, \"20\"]\n",
         "sweep.yaml:3: sweep.parameters[0]: point 1 (venue.max_leverage=\"20\"): "
         "venue.max_leverage: expected a number, got the quoted string \"20\""},
        {"sweep:\n  parameters:\n    - key: market.impact.law\n      values: [linear, cubic]\n",
         "sweep.yaml:3: sweep.parameters[0]: point 1 (market.impact.law=cubic): "
         "market.impact.law: expected one of linear, sqrt"},
        {"sweep:\n  parameters:\n    - key: venue.max_leverage\n      values: [10, 20]\n"
         "    - key: venue.markets.SOL.tiers.0.mmr\n      linear: {start: 0.01, stop: 0.03, "
         "num: 3}\n",
         "sweep.yaml:5: sweep.parameters[1]: point 2 (venue.max_leverage=10, "
         "venue.markets.SOL.tiers.0.mmr=0.03): venue.markets[2].tiers[0].mmr: 0.03 is not below "
         "the initial margin rate"},
        {"sweep:\n  parameters:\n    - key: market.stress.0.start_step\n      values: [1]\n",
         "sweep.yaml:3: sweep.parameters[0]: point 0 (market.stress.0.start_step=1): no entry 0 "
         "in market.stress (it has 0 entries)"},
        {"sweep:\n  parameters:\n    - key: venue.insurance_fund_usd\n"
         "      linear: {start: 1, stop: 2, num: 1000}\n    - key: venue.liquidation_fee\n"
         "      linear: {start: 0, stop: 0.1, num: 1001}\n",
         "sweep.yaml:2: sweep.parameters: too many points: 1000 x 1001 is over 1000000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mf_config config;
        memset(&config, 0, sizeof config);
        mf_error_clear();
        mf_status status = mf_config_load_string(&config, cases[i].text, "sweep.yaml", NULL, 0);
        cr_expect_eq(status, MF_ERR_CONFIG, "case %zu: status %d (%s)", i, status,
                     mf_error_message());
        cr_expect(strstr(mf_error_message(), cases[i].expected) != NULL,
                  "case %zu: '%s' not in: %s", i, cases[i].expected, mf_error_message());
        if (status == MF_OK) mf_config_free(&config);
    }
}

Test(config, sweep_size_limits) {
    /* Nine parameters. */
    char text[1 << 16] = "sweep:\n  parameters:\n";
    static const char *const keys[] = {
        "venue.max_leverage",         "venue.insurance_fund_usd",  "venue.liquidation_fee",
        "market.jumps.mean",          "market.jumps.stdev",        "market.garch.alpha",
        "market.depth_feedback.beta", "population.leverage.sigma", "population.entry_spread"};
    for (int p = 0; p < 9; p++) {
        size_t used = strlen(text);
        snprintf(text + used, sizeof text - used, "    - {key: %s, values: [1]}\n", keys[p]);
    }
    expect_sweep_error(text, NULL, 0, "sweep.yaml:2: sweep.parameters: 9 parameters, at most 8");

    /* Eight are fine: 2^8 points, zip of equal lengths. */
    snprintf(text, sizeof text, "sweep:\n  parameters:\n");
    for (int p = 0; p < 8; p++) {
        size_t used = strlen(text);
        snprintf(text + used, sizeof text - used, "    - {key: %s, values: [%s]}\n", keys[p],
                 p == 2 ? "0.01, 0.02" : (p == 5 ? "0.01, 0.02" : "1.5, 2"));
    }
    mf_config config;
    load_ok(&config, text, NULL, 0);
    cr_expect_eq(config.sweep.n_points, 256);
    mf_config_free(&config);

    /* 4097 explicit values. */
    snprintf(text, sizeof text,
             "sweep:\n  parameters:\n    - key: venue.insurance_fund_usd\n"
             "      values: [");
    for (int i = 0; i <= MF_MAX_SWEEP_VALUES; i++) {
        size_t used = strlen(text);
        snprintf(text + used, sizeof text - used, "%s%d", i ? "," : "", i);
    }
    strcat(text, "]\n");
    expect_sweep_error(text, NULL, 0,
                       "sweep.yaml:4: sweep.parameters[0].values: 4097 values, "
                       "at most 4096");

    /* Exactly 1000000 points is allowed (and every one of them is checked). */
    const char *million = "sweep:\n  parameters:\n"
                          "    - {key: venue.insurance_fund_usd, linear: {start: 0, stop: 1e9, "
                          "num: 1000}}\n"
                          "    - {key: venue.liquidation_fee, linear: {start: 0, stop: 0.1, "
                          "num: 1000}}\n";
    load_ok(&config, million, NULL, 0);
    cr_expect_eq(config.sweep.n_points, 1000000);
    cr_expect_eq(mf_sweep_point_value(&config, 999999, 1), 0.1);
    mf_config_free(&config);
}

Test(config, sweep_cap_tier0_fixture_loads) {
    mf_config config;
    mf_error_clear();
    cr_assert_eq(mf_config_load(&config, FIXTURE("sweep_cap_tier0.yaml"), NULL, 0), MF_OK, "%s",
                 mf_error_message());
    cr_expect_eq(config.sweep.n_params, 2);
    cr_expect_eq(config.sweep.mode, MF_SWEEP_PRODUCT);
    cr_assert_eq(config.sweep.n_points, 15);
    cr_expect_str_eq(config.sweep.keys[0], "venue.max_leverage");
    cr_expect_str_eq(config.sweep.keys[1], "venue.markets.BTC.tiers.0.mmr");
    cr_expect_eq(config.run.paths, 400);
    cr_expect_eq(config.population.accounts, 10000);
    cr_expect_eq(config.market.n_stress, 1);
    cr_expect_eq(config.market.stress[0].asset, -1);
    cr_expect_eq(config.market.stress[0].log_return, -0.10);
    cr_expect_eq(mf_sweep_point_value(&config, 0, 0), 10.0);
    cr_expect_eq(mf_sweep_point_value(&config, 0, 1), 0.002);
    cr_expect_eq(mf_sweep_point_value(&config, 14, 0), 125.0);
    cr_expect_eq(mf_sweep_point_value(&config, 14, 1), 0.004);
    char *resolved = NULL;
    cr_assert_eq(mf_config_to_yaml(&config, &resolved), MF_OK);
    for (int64_t point = 0; point < 15; point++) {
        mf_config at;
        cr_assert_eq(mf_config_load_point(&at, resolved, "resolved.yaml", point), MF_OK, "%s",
                     mf_error_message());
        cr_expect_eq(at.venue.max_leverage, mf_sweep_point_value(&config, point, 0));
        cr_expect_eq(at.venue.markets[0].tiers[0].mmr, mf_sweep_point_value(&config, point, 1));
        cr_expect_eq(at.sweep.n_params, 0);
        cr_expect_eq(mf_config_validate(&at), MF_OK, "%s", mf_error_message());
    }
    free(resolved);
    mf_config_free(&config);
}

/* The shipped sweep: median leverage x the whole margin ladder scaled, every point valid. */
Test(config, sweep_leverage_mmr_config_loads) {
    mf_config config;
    mf_error_clear();
    cr_assert_eq(mf_config_load(&config, MF_SOURCE_DIR "/configs/sweep-leverage-mmr.yaml", NULL, 0),
                 MF_OK, "%s", mf_error_message());
    cr_expect_eq(config.sweep.n_params, 2);
    cr_expect_eq(config.sweep.mode, MF_SWEEP_PRODUCT);
    cr_assert_eq(config.sweep.n_points, 20);
    cr_expect_str_eq(config.sweep.keys[0], "population.leverage.median");
    cr_expect_str_eq(config.sweep.keys[1], "venue.margin_scale");
    cr_expect_eq(mf_sweep_point_value(&config, 0, 0), 2.0);
    cr_expect_eq(mf_sweep_point_value(&config, 0, 1), 0.5);
    cr_expect_eq(mf_sweep_point_value(&config, 19, 0), 40.0);
    cr_expect_eq(mf_sweep_point_value(&config, 19, 1), 4.0);
    char *resolved = NULL;
    cr_assert_eq(mf_config_to_yaml(&config, &resolved), MF_OK);
    for (int64_t point = 0; point < 20; point++) {
        mf_config at;
        cr_assert_eq(mf_config_load_point(&at, resolved, "resolved.yaml", point), MF_OK, "%s",
                     mf_error_message());
        cr_expect_eq(at.population.leverage_median, mf_sweep_point_value(&config, point, 0));
        cr_expect_eq(at.venue.margin_scale, mf_sweep_point_value(&config, point, 1));
        cr_expect_eq(mf_config_validate(&at), MF_OK, "%s", mf_error_message());
    }
    free(resolved);
    mf_config_free(&config);
}

Test(config, validate_checks_a_sweep_struct) {
    mf_config config;
    mf_error_clear();
    cr_assert_eq(mf_config_load(&config, FIXTURE("sweep_cap_tier0.yaml"), NULL, 0), MF_OK, "%s",
                 mf_error_message());
    cr_expect_eq(mf_config_validate(&config), MF_OK, "%s", mf_error_message());
    config.sweep.mode = MF_SWEEP_ZIP; /* 5 and 3 values */
    cr_expect_eq(mf_config_validate(&config), MF_ERR_CONFIG);
    cr_expect(strstr(mf_error_message(), "sweep.parameters[1]: mode zip needs lists of the same "
                                         "length") != NULL,
              "%s", mf_error_message());
    config.sweep.mode = MF_SWEEP_PRODUCT;
    snprintf(config.sweep.keys[1], MF_PATH_LEN, "output.paths");
    cr_expect_eq(mf_config_validate(&config), MF_ERR_CONFIG);
    cr_expect(strstr(mf_error_message(), "'output.paths' cannot be swept") != NULL, "%s",
              mf_error_message());
    mf_config_free(&config);
}

/* ---- the schema ------------------------------------------------------------------------------
 * Every key is a row of the schema (src/config/config_schema.c). For every row with a value
 * (not a list or an entry's name): its example differs from the base value, loads through
 * --set, survives the resolved YAML (emit, reload) bit for bit, and every other key is equal
 * too, compared field by field through the schema. */

/* One stress shock, so that market.stress.0.* exists; otherwise the defaults. */
/* Margin-mode shares as tests/configs/small.yaml has them, which the examples of the three
 * shares (one needed key each) are written for, as tests/scripts/test_schema.py runs them. */
static const char schema_base_yaml[] =
    "market:\n  stress:\n    - {asset: all, start_step: 10, log_return: -0.05}\n"
    "population:\n  margin_modes: {isolated: 0.5, cross: 0.5}\n";

/* The struct a table's rows live in, for the entry its prefix names (index 0; tier 1). */
static const void *table_base(const mf_config *c, const mf_schema_table *t) {
    const char *n = t->name;
    if (!strcmp(n, "run")) return &c->run;
    if (!strcmp(n, "market")) return &c->market;
    if (!strcmp(n, "market.assets[]")) return &c->market.assets[0];
    if (!strcmp(n, "market.stress[]")) return &c->market.stress[0];
    if (!strcmp(n, "venue")) return &c->venue;
    if (!strcmp(n, "venue.markets[]")) return &c->venue.markets[0];
    if (!strcmp(n, "venue.markets[].tiers[]")) return &c->venue.markets[0].tiers[1];
    if (!strcmp(n, "population")) return &c->population;
    if (!strcmp(n, "population.assets[]")) return &c->population.assets[0];
    if (!strcmp(n, "cascade")) return &c->cascade;
    if (!strcmp(n, "output")) return &c->output;
    if (!strcmp(n, "sweep")) return &c->sweep;
    return NULL;
}

static int has_value(const mf_schema_row *row) {
    return row->type != MF_SCHEMA_NAME && row->type != MF_SCHEMA_LIST &&
           row->type != MF_SCHEMA_RANGE;
}

/* Every value row of every table entry the config has, byte for byte (strings up to their
 * terminator). Returns the number of differing fields; names them. */
static int schema_differences(const mf_config *a, const mf_config *b) {
    int differing = 0;
    for (size_t t = 0; t < mf_schema_n_tables; t++) {
        const mf_schema_table *table = &mf_schema_tables[t];
        if (!strcmp(table->name, "sweep.parameters[]")) continue;
        /* Every entry of list tables, not only the example's. */
        int entries = 1, tiers = 1;
        if (!strcmp(table->name, "market.assets[]") || !strcmp(table->name, "venue.markets[]") ||
            !strcmp(table->name, "population.assets[]") ||
            !strcmp(table->name, "venue.markets[].tiers[]"))
            entries = a->market.n_assets;
        if (!strcmp(table->name, "market.stress[]")) entries = a->market.n_stress;
        for (int e = 0; e < entries; e++) {
            if (!strcmp(table->name, "venue.markets[].tiers[]"))
                tiers = a->venue.markets[e].n_tiers;
            for (int tier = 0; tier < tiers; tier++) {
                const char *x = NULL, *y = NULL;
                if (!strcmp(table->name, "market.assets[]")) {
                    x = (const char *)&a->market.assets[e];
                    y = (const char *)&b->market.assets[e];
                } else if (!strcmp(table->name, "market.stress[]")) {
                    x = (const char *)&a->market.stress[e];
                    y = (const char *)&b->market.stress[e];
                } else if (!strcmp(table->name, "venue.markets[]")) {
                    x = (const char *)&a->venue.markets[e];
                    y = (const char *)&b->venue.markets[e];
                } else if (!strcmp(table->name, "venue.markets[].tiers[]")) {
                    x = (const char *)&a->venue.markets[e].tiers[tier];
                    y = (const char *)&b->venue.markets[e].tiers[tier];
                } else if (!strcmp(table->name, "population.assets[]")) {
                    x = (const char *)&a->population.assets[e];
                    y = (const char *)&b->population.assets[e];
                } else {
                    x = table_base(a, table);
                    y = table_base(b, table);
                }
                for (size_t r = 0; r < table->n_rows; r++) {
                    const mf_schema_row *row = &table->rows[r];
                    if (!has_value(row)) continue;
                    int same = row->type == MF_SCHEMA_STRING || row->type == MF_SCHEMA_PATH
                                   ? strncmp(x + row->offset, y + row->offset, row->size) == 0
                                   : memcmp(x + row->offset, y + row->offset, row->size) == 0;
                    if (!same) {
                        differing++;
                        cr_log_info("differs: %s[%d][%d].%s", table->name, e, tier, row->key);
                    }
                }
            }
        }
    }
    return differing;
}

Test(schema, every_key_round_trips_with_a_non_default_value) {
    int checked = 0;
    mf_config base;
    mf_error_clear();
    cr_assert_eq(mf_config_load_string(&base, schema_base_yaml, "base.yaml", NULL, 0), MF_OK, "%s",
                 mf_error_message());
    for (size_t t = 0; t < mf_schema_n_tables; t++) {
        const mf_schema_table *table = &mf_schema_tables[t];
        for (size_t r = 0; r < table->n_rows; r++) {
            const mf_schema_row *row = &table->rows[r];
            if (!has_value(row) || !table_base(&base, table)) continue;
            int n_names = 0;
            while (row->names && row->names[n_names])
                n_names++;
            if (row->type == MF_SCHEMA_ENUM && n_names == 1)
                continue; /* a one-name enum has no other value */
            cr_assert(row->example != NULL, "%s%s has no example value", table->prefix, row->key);
            char set[512], needs[512];
            snprintf(set, sizeof set, "%s%s=%s", table->prefix, row->key, row->example);
            snprintf(needs, sizeof needs, "%s%s", table->prefix,
                     row->example_needs ? row->example_needs : "");
            const char *overrides[2];
            int n = 0;
            if (row->example_needs) overrides[n++] = needs;
            overrides[n++] = set;
            mf_config changed, reloaded;
            mf_error_clear();
            cr_assert_eq(
                mf_config_load_string(&changed, schema_base_yaml, "base.yaml", overrides, n), MF_OK,
                "--set %s: %s", set, mf_error_message());
            /* The example is not the base value. */
            const char *x = (const char *)table_base(&base, table) + row->offset;
            const char *y = (const char *)table_base(&changed, table) + row->offset;
            cr_expect(memcmp(x, y, row->size) != 0, "--set %s leaves the value as it was", set);
            /* Through the resolved YAML and back: every key equal. */
            char *text = NULL;
            cr_assert_eq(mf_config_to_yaml(&changed, &text), MF_OK);
            mf_error_clear();
            cr_assert_eq(mf_config_load_string(&reloaded, text, "resolved.yaml", NULL, 0), MF_OK,
                         "--set %s: %s\n%s", set, mf_error_message(), text);
            cr_expect_eq(schema_differences(&changed, &reloaded), 0,
                         "--set %s does not survive the resolved YAML", set);
            expect_equal_configs(&changed, &reloaded);
            /* And as a point of a sweep built from that text. */
            mf_config point;
            cr_assert_eq(mf_config_load_point(&point, text, "resolved.yaml", 0), MF_OK, "%s",
                         mf_error_message());
            /* (A point has no sweep: sweep.mode is the base's only.) */
            if (strcmp(table->name, "sweep") != 0)
                cr_expect_eq(schema_differences(&changed, &point), 0, "--set %s: point 0 differs",
                             set);
            free(text);
            mf_config_free(&changed);
            mf_config_free(&reloaded);
            mf_config_free(&point);
            checked++;
        }
    }
    cr_expect_geq(checked, 55, "only %d keys checked", checked);
}

Test(schema, every_value_row_is_complete) {
    for (size_t t = 0; t < mf_schema_n_tables; t++) {
        const mf_schema_table *table = &mf_schema_tables[t];
        cr_expect(table->prefix && table->title, "%s", table->name);
        for (size_t r = 0; r < table->n_rows; r++) {
            const mf_schema_row *row = &table->rows[r];
            cr_expect(row->doc && row->doc[0], "%s.%s has no doc", table->name, row->key);
            cr_expect(row->source && row->source[0], "%s.%s has no source", table->name, row->key);
            cr_expect(row->unit != NULL, "%s.%s has no unit", table->name, row->key);
            if (row->type == MF_SCHEMA_ENUM) cr_expect(row->names && row->names[0]);
        }
    }
}

Test(schema, defaults_come_from_the_rows) {
    mf_config c;
    mf_config_set_defaults(&c);
    char *text = NULL;
    cr_assert_eq(mf_config_to_yaml(&c, &text), MF_OK);
    /* Enum keys are written with their names, from the schema. */
    cr_expect(strstr(text, "  deficit: uncovered\n") != NULL, "%s", text);
    cr_expect(strstr(text, "  margin_kernel: events\n") != NULL, "%s", text);
    free(text);
    cr_expect_eq(c.venue.max_rounds, 50);
    cr_expect_eq(c.run.margin_kernel, MF_MARGIN_KERNEL_EVENTS);
    cr_expect_str_eq(c.market.assets[2].replay_column, "close");
}

Test(schema, markdown_and_json) {
    char *markdown = NULL, *json = NULL;
    cr_assert_eq(mf_config_schema_text("markdown", &markdown), MF_OK);
    cr_assert_eq(mf_config_schema_text("json", &json), MF_OK);
    cr_expect(strstr(markdown, "<!-- schema:begin venue.markets[].tiers[] -->\n") != NULL);
    cr_expect(strstr(markdown, "| `venue.max_rounds` | int32 | rounds | 50 | in [1, 10000] |") !=
                  NULL,
              "%s", markdown);
    cr_expect(strstr(json, "\"key\": \"run.margin_kernel\"") != NULL);
    cr_expect_eq(mf_config_schema_text("yaml", &markdown), MF_ERR_USAGE);
    free(markdown);
    free(json);
}

/* output.quantiles is a list (read by its hook, not a schema value row): the every-key test
 * does not reach it, so its default, --set and the resolved YAML are checked here. */
Test(schema, output_quantiles_default_set_and_round_trip) {
    mf_config base, changed, reloaded;
    mf_error_clear();
    cr_assert_eq(mf_config_load_string(&base, "", "base.yaml", NULL, 0), MF_OK, "%s",
                 mf_error_message());
    static const double defaults[] = {0.5, 0.9, 0.95, 0.975, 0.99, 0.999};
    cr_assert_eq(base.output.n_quantiles, 6);
    for (int q = 0; q < 6; q++)
        cr_expect_eq(base.output.quantiles[q], defaults[q]);
    cr_expect_eq(base.output.path_values, 1);
    const mf_schema_row *row = NULL;
    const mf_schema_table *output = mf_schema_table_named("output");
    for (size_t r = 0; r < output->n_rows; r++)
        if (!strcmp(output->rows[r].key, "quantiles")) row = &output->rows[r];
    cr_assert_not_null(row);
    cr_assert_not_null(row->example);
    char set[128];
    snprintf(set, sizeof set, "output.quantiles=%s", row->example);
    const char *overrides[] = {set};
    cr_assert_eq(mf_config_load_string(&changed, "", "base.yaml", overrides, 1), MF_OK, "%s",
                 mf_error_message());
    cr_expect_neq(changed.output.n_quantiles, base.output.n_quantiles, "the example differs");
    char *text = NULL;
    cr_assert_eq(mf_config_to_yaml(&changed, &text), MF_OK);
    cr_assert_eq(mf_config_load_string(&reloaded, text, "resolved.yaml", NULL, 0), MF_OK, "%s\n%s",
                 mf_error_message(), text);
    expect_equal_configs(&changed, &reloaded);
    cr_expect_eq(memcmp(&changed.output, &reloaded.output, sizeof changed.output), 0);
    free(text);
    mf_config_free(&base);
    mf_config_free(&changed);
    mf_config_free(&reloaded);
}
