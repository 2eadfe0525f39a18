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
    for (int i = 0; i < ma->n_assets; i++) {
        const mf_venue_market_config *x = &va->markets[i], *y = &vb->markets[i];
        EXPECT_SAME(x->depth_usd, y->depth_usd, "depth_usd");
        EXPECT_SAME(x->throughput_usd, y->throughput_usd, "throughput_usd");
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
    original.run.seed = UINT64_MAX;
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
        {"run:\n  steps: 0\n", "s.yaml:2: run.steps: must be >= 1"},
        {"run:\n  dt_seconds: 0\n", "s.yaml:2: run.dt_seconds"},
        {"run:\n  batch_paths: 17\n", "s.yaml:2: run.batch_paths: must be in 1..16"},
        {"run:\n  block_paths: 0\n", "s.yaml:2: run.block_paths"},
        {"run:\n  seed: -1\n", "s.yaml:2: run.seed: expected a non-negative integer"},
        {"run:\n  paths: 2.5\n", "s.yaml:2: run.paths: expected an integer"},
        {"run:\n  paths: \"10\"\n", "s.yaml:2: run.paths: expected an integer, got the quoted"},
        {"venue:\n  max_leverage: 0.5\n", "s.yaml:2: venue.max_leverage: must be >= 1"},
        {"venue:\n  liquidation_fee: 1\n", "s.yaml:2: venue.liquidation_fee"},
        {"venue:\n  insurance_fund_usd: -1\n", "s.yaml:2: venue.insurance_fund_usd"},
        {"venue:\n  deficit: adl\n", "s.yaml:2: venue.deficit: expected one of uncovered"},
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
    /* ETH: 75, 950, 10950, 235950 ... (FACTS.md). */
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
