/* The scenario config: defaults, YAML tree -> struct conversion, validation, the resolved
 * YAML emitter and the Cholesky factor of the correlation matrix. Scalar keys are rows of the
 * schema (config_schema.c): their defaults, conversion, bounds checks and emission walk the
 * rows; lists and cross-field rules are one hook per section here. The YAML node tree,
 * overrides and located messages live in config_yaml.c. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_internal.h"

/* ---- defaults --------------------------------------------------------------------------- */

typedef struct {
    double floor_usd, mmr, max_leverage;
} tier_row;

/* Binance USD-M BTCUSDT leverage brackets, API snapshot (docs/model.md [R11], [P-ish]). */
static const tier_row btc_tiers[] = {
    {0, 0.004, 125}, {50e3, 0.005, 100}, {250e3, 0.01, 50}, {3e6, 0.025, 20}, {20e6, 0.05, 10},
    {40e6, 0.10, 5}, {100e6, 0.125, 4},  {120e6, 0.15, 3},  {200e6, 0.25, 2}, {300e6, 0.5, 1},
};
/* ETHUSDT brackets: an unofficial copy of Binance's, unverified (docs/model.md [R17], [W]). */
static const tier_row eth_tiers[] = {
    {0, 0.005, 100},   {50e3, 0.0065, 75}, {250e3, 0.01, 50}, {1e6, 0.02, 25},  {7.5e6, 0.05, 10},
    {22.5e6, 0.10, 5}, {75e6, 0.125, 4},   {150e6, 0.15, 3},  {225e6, 0.25, 2}, {375e6, 0.5, 1},
};
/* SOLUSDT brackets (the same copy, docs/model.md [R17], [W]), maintenance rates as published.
 * The copy's 100k and 250k rows pair 20x with 5% and 10x with 10% (MM would equal IM), so they
 * take the next lower step of Binance's leverage ladder (10x, 5x); the 500k and 1M rows are one
 * step lower than the copy too (4x, 3x for 5x, 4x), the project's chosen default
 * (docs/config.md). */
static const tier_row sol_tiers[] = {
    {0, 0.01, 50},     {25e3, 0.025, 25}, {100e3, 0.05, 10}, {250e3, 0.10, 5},
    {500e3, 0.125, 4}, {1e6, 0.15, 3},    {2e6, 0.25, 2},
};

static void apply_row_defaults(const mf_schema_table *t, void *base);

static void copy_name(char *out, size_t size, const char *text) {
    memset(out, 0, size);
    snprintf(out, size, "%s", text);
}

static void derive_cum(mf_venue_market_config *market) {
    for (int t = 0; t < market->n_tiers && t < MF_MAX_TIERS; t++) {
        mf_tier_config *tier = &market->tiers[t];
        tier->cum_usd = t == 0 ? 0.0
                               : tier->floor_usd * (tier->mmr - market->tiers[t - 1].mmr) +
                                     market->tiers[t - 1].cum_usd;
    }
}

static void set_default_asset(mf_config *c, int i, const char *name, double price,
                              double volatility, double jump_beta, double depth_usd,
                              const tier_row *tiers, int n_tiers, double open_interest_usd) {
    mf_asset_config *asset = &c->market.assets[i];
    apply_row_defaults(mf_schema_table_named("market.assets[]"), asset);
    copy_name(asset->name, sizeof asset->name, name);
    asset->price = price;
    asset->volatility = volatility;
    asset->jump_beta = jump_beta;

    mf_venue_market_config *market = &c->venue.markets[i];
    apply_row_defaults(mf_schema_table_named("venue.markets[]"), market); /* contract, expiry */
    market->depth_usd = depth_usd;
    market->throughput_usd = 0.5 * depth_usd;
    market->n_tiers = n_tiers;
    for (int t = 0; t < n_tiers; t++) {
        market->tiers[t].floor_usd = tiers[t].floor_usd;
        market->tiers[t].mmr = tiers[t].mmr;
        market->tiers[t].max_leverage = tiers[t].max_leverage;
    }
    derive_cum(market);

    c->population.assets[i].open_interest_usd = open_interest_usd;
    c->population.assets[i].long_share = 0.55;
}

void mf_config_set_defaults(mf_config *c) {
    memset(c, 0, sizeof *c);
    /* Every scalar key's default is its schema row's (config_schema.c). */
    apply_row_defaults(mf_schema_table_named("run"), &c->run);
    apply_row_defaults(mf_schema_table_named("market"), &c->market);
    apply_row_defaults(mf_schema_table_named("venue"), &c->venue);
    apply_row_defaults(mf_schema_table_named("population"), &c->population);
    apply_row_defaults(mf_schema_table_named("cascade"), &c->cascade);
    apply_row_defaults(mf_schema_table_named("output"), &c->output);
    apply_row_defaults(mf_schema_table_named("sweep"), &c->sweep);

    /* The default assets: data tables (the rows document them as "default_doc"). */
    mf_market_config *m = &c->market;
    m->n_assets = 3;
    set_default_asset(c, 0, "BTC", 100000.0, 0.53, 1.0, 20e6, btc_tiers,
                      (int)(sizeof btc_tiers / sizeof btc_tiers[0]), 12e9);
    set_default_asset(c, 1, "ETH", 3500.0, 0.64, 1.2, 8e6, eth_tiers,
                      (int)(sizeof eth_tiers / sizeof eth_tiers[0]), 8e9);
    set_default_asset(c, 2, "SOL", 180.0, 0.92, 1.5, 2.5e6, sol_tiers,
                      (int)(sizeof sol_tiers / sizeof sol_tiers[0]), 2.5e9);
    static const double correlation[3][3] = {
        {1.0, 0.85, 0.80}, {0.85, 1.0, 0.80}, {0.80, 0.80, 1.0}};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            m->correlation[i][j] = correlation[i][j];
    m->n_stress = 0;
    /* output.quantiles (the row documents them as "default_doc"). */
    static const double levels[] = {0.5, 0.9, 0.95, 0.975, 0.99, 0.999};
    c->output.n_quantiles = (int)(sizeof levels / sizeof levels[0]);
    for (int q = 0; q < c->output.n_quantiles; q++)
        c->output.quantiles[q] = levels[q];
    c->sweep.n_points = 1; /* no sweep: one point, the config itself */
}

void mf_config_free(mf_config *config) {
    if (!config) return;
    mf_sweep_config *s = &config->sweep;
    for (int p = 0; p < MF_MAX_SWEEP_PARAMS; p++) {
        free(s->values[p]);
        free(s->numbers[p]);
    }
    memset(s, 0, sizeof *s);
    s->n_points = 1;
}

/* ---- the schema's words ------------------------------------------------------------------
 * Every scalar key is a row of the schema (config_schema.c). Only the sweep's own entries
 * (a parameter and its range), which are not scenario keys, are listed here. */

static const char *const sweep_parameter_keys[] = {"key", "values", "linear", "log", NULL};
static const char *const sweep_range_keys[] = {"start", "stop", "num", NULL};

/* The table called `name` (a handful of names, looked up for every sweep point: the last
 * few answers are kept). */
static const mf_schema_table *table(const char *name) {
    enum { CACHED = 16 };
    static const char *names[CACHED];
    static const mf_schema_table *tables[CACHED];
    for (int i = 0; i < CACHED && names[i]; i++)
        if (names[i] == name) return tables[i]; /* the same string literal */
    const mf_schema_table *found = mf_schema_table_named(name);
    for (int i = 0; i < CACHED; i++) {
        if (!names[i]) {
            tables[i] = found;
            names[i] = name;
            break;
        }
    }
    return found;
}

static void *field_of(void *base, const mf_schema_row *row) {
    return (char *)base + row->offset;
}
static const void *const_field_of(const void *base, const mf_schema_row *row) {
    return (const char *)base + row->offset;
}
static int row_is_value(const mf_schema_row *row) {
    return row->type != MF_SCHEMA_NAME && row->type != MF_SCHEMA_LIST &&
           row->type != MF_SCHEMA_RANGE;
}

static void format_double(double value, char *out, size_t size);

/* ---- scalars ------------------------------------------------------------------------------ */

static void describe_node(const mf_cfg_node *node, char *out, size_t size) {
    if (node->kind == MF_CFG_SEQUENCE)
        snprintf(out, size, "a list");
    else if (node->kind == MF_CFG_MAPPING)
        snprintf(out, size, "a mapping");
    else if (!node->quoted && !node->text[0])
        snprintf(out, size, "an empty value");
    else if (node->quoted)
        snprintf(out, size, "the quoted string \"%.60s\"", node->text);
    else
        snprintf(out, size, "'%.60s'", node->text);
}

static mf_status node_fail_type(const mf_cfg_context *ctx, const mf_cfg_node *node, const char *key,
                                const char *expected) {
    char got[96];
    describe_node(node, got, sizeof got);
    return mf_cfg_fail(ctx, node->origin, node->line, key, "expected %s, got %s", expected, got);
}

/* YAML floats as the core schema writes them: [-+]?(digits[.digits]|.digits)([eE][-+]?digits)?,
 * plus .inf / .nan. Returns 0 for a finite number, 1 not a number, 2 infinite, 3 NaN,
 * 4 overflow. */
static int parse_number(const char *text, double *out) {
    const char *p = text;
    int negative = 0;
    if (*p == '+' || *p == '-') negative = *p++ == '-';
    if (strcmp(p, ".inf") == 0 || strcmp(p, ".Inf") == 0 || strcmp(p, ".INF") == 0) {
        *out = negative ? -INFINITY : INFINITY;
        return 2;
    }
    if (p == text && (strcmp(p, ".nan") == 0 || strcmp(p, ".NaN") == 0 || strcmp(p, ".NAN") == 0))
        return 3;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
        p++;
        digits++;
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            p++;
            digits++;
        }
    }
    if (!digits) return 1;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return 1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p) return 1;
    errno = 0;
    double value = strtod(text, NULL);
    if (!isfinite(value)) return 4;
    *out = value;
    return 0;
}

static int is_null_scalar(const mf_cfg_node *node) {
    return node->kind == MF_CFG_SCALAR && !node->quoted &&
           (!node->text[0] || strcmp(node->text, "~") == 0 || strcmp(node->text, "null") == 0 ||
            strcmp(node->text, "Null") == 0 || strcmp(node->text, "NULL") == 0);
}

static mf_status read_double(const mf_cfg_context *ctx, const mf_cfg_node *node, const char *key,
                             int allow_inf, double *out) {
    if (node->kind != MF_CFG_SCALAR || node->quoted || is_null_scalar(node))
        return node_fail_type(ctx, node, key, "a number");
    double value = 0.0;
    switch (parse_number(node->text, &value)) {
    case 0:
        break;
    case 2:
        if (!allow_inf)
            return mf_cfg_fail(ctx, node->origin, node->line, key,
                               "must be a finite number, got '%s'", node->text);
        break;
    case 3:
        return mf_cfg_fail(ctx, node->origin, node->line, key, "NaN is not a usable value");
    case 4:
        return mf_cfg_fail(ctx, node->origin, node->line, key,
                           "'%s' is out of the range of a double", node->text);
    default:
        return node_fail_type(ctx, node, key, "a number");
    }
    *out = value;
    return MF_OK;
}

static mf_status read_integer(const mf_cfg_context *ctx, const mf_cfg_node *node, const char *key,
                              long long min, long long max, long long *out) {
    if (node->kind != MF_CFG_SCALAR || node->quoted || is_null_scalar(node))
        return node_fail_type(ctx, node, key, "an integer");
    const char *p = node->text;
    if (*p == '+' || *p == '-') p++;
    int plain_digits = *p != '\0';
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9') plain_digits = 0;
    long long value = 0;
    if (plain_digits) {
        errno = 0;
        value = strtoll(node->text, NULL, 10);
        if (errno == ERANGE)
            return mf_cfg_fail(ctx, node->origin, node->line, key, "'%s' is out of range",
                               node->text);
    } else {
        /* 1e6 is an integer too; 1.5 is not. */
        double number = 0.0;
        if (parse_number(node->text, &number) != 0 || floor(number) != number ||
            fabs(number) > 9007199254740992.0)
            return node_fail_type(ctx, node, key, "an integer");
        value = (long long)number;
    }
    if (value < min || value > max)
        return mf_cfg_fail(ctx, node->origin, node->line, key, "%s is out of range (%lld to %lld)",
                           node->text, min, max);
    *out = value;
    return MF_OK;
}

static mf_status read_u64(const mf_cfg_context *ctx, const mf_cfg_node *node, const char *key,
                          uint64_t *out) {
    if (node->kind != MF_CFG_SCALAR || node->quoted || is_null_scalar(node))
        return node_fail_type(ctx, node, key, "a non-negative integer");
    const char *p = node->text;
    if (*p == '+') p++;
    if (!*p) return node_fail_type(ctx, node, key, "a non-negative integer");
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9') return node_fail_type(ctx, node, key, "a non-negative integer");
    errno = 0;
    unsigned long long value = strtoull(p, NULL, 10);
    if (errno == ERANGE || value > UINT64_MAX)
        return mf_cfg_fail(ctx, node->origin, node->line, key, "'%s' does not fit in 64 bits",
                           node->text);
    *out = (uint64_t)value;
    return MF_OK;
}

static mf_status read_bool(const mf_cfg_context *ctx, const mf_cfg_node *node, const char *key,
                           int *out) {
    if (node->kind == MF_CFG_SCALAR && !node->quoted) {
        const char *t = node->text;
        if (!strcmp(t, "true") || !strcmp(t, "True") || !strcmp(t, "TRUE")) {
            *out = 1;
            return MF_OK;
        }
        if (!strcmp(t, "false") || !strcmp(t, "False") || !strcmp(t, "FALSE")) {
            *out = 0;
            return MF_OK;
        }
    }
    return node_fail_type(ctx, node, key, "true or false");
}

static mf_status read_string(const mf_cfg_context *ctx, const mf_cfg_node *node, const char *key,
                             char *out, size_t size) {
    if (node->kind != MF_CFG_SCALAR) return node_fail_type(ctx, node, key, "a string");
    const char *text = is_null_scalar(node) ? "" : node->text;
    size_t length = strlen(text);
    if (length >= size)
        return mf_cfg_fail(ctx, node->origin, node->line, key,
                           "too long: %zu characters, at most %zu", length, size - 1);
    copy_name(out, size, text);
    return MF_OK;
}

/* A relative file name in a config file is relative to that file's folder (resolved where the
 * file is opened); one given with --set is relative to the current directory, as on any command
 * line, so it is made absolute here and the resolved config records the file meant. */
static mf_status resolve_command_line_path(const mf_cfg_context *ctx, const mf_cfg_node *node,
                                           const char *key, char *path, size_t size) {
    const int from_command_line = node->origin >= 0 && node->origin < ctx->n_overrides;
    if (!from_command_line || !path[0] || path[0] == '/') return MF_OK;
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return mf_cfg_fail(ctx, node->origin, node->line, key,
                           "cannot resolve '%s' against the current directory: %s", path,
                           strerror(errno));
    const size_t needed = strlen(cwd) + 1 + strlen(path) + 1;
    if (needed > size)
        return mf_cfg_fail(ctx, node->origin, node->line, key,
                           "too long once made absolute (%s/%s): %zu characters, at most %zu", cwd,
                           path, needed - 1, size - 1);
    char relative[4096];
    snprintf(relative, sizeof relative, "%s", path);
    snprintf(path, size, "%s/%s", cwd, relative);
    return MF_OK;
}

static mf_status read_enum(const mf_cfg_context *ctx, const mf_cfg_node *node, const char *key,
                           const char *const *names, int *out) {
    char expected[128] = "one of";
    for (int i = 0; names[i]; i++) {
        size_t used = strlen(expected);
        snprintf(expected + used, sizeof expected - used, "%s %s", i ? "," : "", names[i]);
    }
    if (node->kind != MF_CFG_SCALAR) return node_fail_type(ctx, node, key, expected);
    for (int i = 0; names[i]; i++) {
        if (strcmp(node->text, names[i]) == 0) {
            *out = i;
            return MF_OK;
        }
    }
    const char *hint = mf_cfg_suggest(node->text, names);
    char got[96];
    describe_node(node, got, sizeof got);
    return mf_cfg_fail(ctx, node->origin, node->line, key, "expected %s, got %s%s%s%s", expected,
                       got, hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
}

/* ---- mapping views --------------------------------------------------------------------------
 * A view is one YAML mapping being converted: its dotted path as the user wrote it (display,
 * YAML list indices) and as the struct stores it (lookup, struct indices). Keys absent from
 * the mapping keep the value already in the struct. */

typedef struct {
    mf_cfg_context *ctx;
    const mf_cfg_node *node; /* NULL: the mapping is absent */
    char path[MF_CFG_KEY_LEN];
    char lookup[MF_CFG_KEY_LEN];
} view;

static void join(char *out, size_t size, const char *parent, const char *key) {
    if (parent[0])
        mf_cfg_format(out, size, "%s.%s", parent, key);
    else
        mf_cfg_format(out, size, "%s", key);
}

static mf_status open_view(mf_cfg_context *ctx, const mf_cfg_node *node, const char *path,
                           const char *lookup, const char *const *known, view *out) {
    out->ctx = ctx;
    out->node = node;
    if (ctx->skip_keys) {
        out->path[0] = out->lookup[0] = '\0';
    } else {
        snprintf(out->path, sizeof out->path, "%s", path);
        snprintf(out->lookup, sizeof out->lookup, "%s", lookup);
    }
    if (!node) return MF_OK;
    if (node->kind != MF_CFG_MAPPING)
        return node_fail_type(ctx, node, path[0] ? path : "(top level)",
                              "a mapping (key: value lines)");
    MF_CHECK(mf_cfg_remember(ctx, lookup, path, node->origin, node->line));
    for (size_t i = 0; i < node->count; i++) {
        const mf_cfg_node *key = node->pairs[i].key;
        int known_key = 0;
        for (const char *const *name = known; *name && !known_key; name++)
            known_key = strcmp(*name, key->text) == 0;
        if (known_key) continue;
        const char *hint = mf_cfg_suggest(key->text, known);
        char where[MF_CFG_KEY_LEN + 8];
        if (path[0])
            snprintf(where, sizeof where, "in %s", path);
        else
            snprintf(where, sizeof where, "at the top level");
        char full[MF_CFG_KEY_LEN];
        join(full, sizeof full, path, key->text);
        /* An override's message already shows the key it wrote. */
        return mf_cfg_fail(ctx, key->origin, key->line, key->origin >= 0 ? NULL : full,
                           "unknown key '%s' %s%s%s%s", key->text, where,
                           hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
    }
    return MF_OK;
}

static mf_status child_view(const view *parent, const char *key, const char *const *known,
                            view *out) {
    char path[MF_CFG_KEY_LEN] = "", lookup[MF_CFG_KEY_LEN] = "";
    if (!parent->ctx->skip_keys) {
        join(path, sizeof path, parent->path, key);
        join(lookup, sizeof lookup, parent->lookup, key);
    }
    return open_view(parent->ctx, mf_cfg_get(parent->node, key), path, lookup, known, out);
}

/* The node of `key` (NULL when absent), its display key, and a note of where it came from. */
static const mf_cfg_node *view_key(const view *v, const char *key, char *path, mf_status *status) {
    *status = MF_OK;
    const mf_cfg_node *node = mf_cfg_get(v->node, key);
    if (!node) return NULL;
    if (v->ctx->skip_keys) {
        /* A dry run: messages are discarded, so no key texts either (they are most of the
         * cost of checking a sweep point). */
        path[0] = '\0';
        return node;
    }
    char lookup[MF_CFG_KEY_LEN];
    join(path, MF_CFG_KEY_LEN, v->path, key);
    join(lookup, sizeof lookup, v->lookup, key);
    *status = mf_cfg_remember(v->ctx, lookup, path, node->origin, node->line);
    return node;
}

static mf_status view_double(const view *v, const char *key, int allow_inf, double *out) {
    char path[MF_CFG_KEY_LEN];
    mf_status status;
    const mf_cfg_node *node = view_key(v, key, path, &status);
    MF_CHECK(status);
    return node ? read_double(v->ctx, node, path, allow_inf, out) : MF_OK;
}

static mf_status require_keys(const view *v, const char *what, const char *const *keys,
                              const double *values) {
    for (int i = 0; keys[i]; i++)
        if (isnan(values[i]))
            return mf_cfg_fail(v->ctx, v->node->origin, v->node->line, v->path,
                               "missing key '%s' (%s)", keys[i], what);
    return MF_OK;
}

/* ---- schema rows ---------------------------------------------------------------------------- */

_Static_assert(sizeof(mf_impact_law) == sizeof(int) && sizeof(mf_margin_kernel) == sizeof(int),
               "enum keys are stored as int");

/* Read one row's value from its node into the row's field of `base`. */
static mf_status read_row(const mf_cfg_context *ctx, const mf_cfg_node *node, const char *path,
                          const mf_schema_row *row, void *base) {
    void *field = field_of(base, row);
    long long integer = 0;
    switch (row->type) {
    case MF_SCHEMA_INT32: {
        MF_CHECK(read_integer(ctx, node, path, INT32_MIN, INT32_MAX, &integer));
        int32_t value = (int32_t)integer;
        memcpy(field, &value, sizeof value);
        return MF_OK;
    }
    case MF_SCHEMA_INT64: {
        MF_CHECK(read_integer(ctx, node, path, INT64_MIN, INT64_MAX, &integer));
        int64_t value = (int64_t)integer;
        memcpy(field, &value, sizeof value);
        return MF_OK;
    }
    case MF_SCHEMA_UINT64: {
        uint64_t value = 0;
        MF_CHECK(read_u64(ctx, node, path, &value));
        memcpy(field, &value, sizeof value);
        return MF_OK;
    }
    case MF_SCHEMA_DOUBLE: {
        double value = 0.0;
        MF_CHECK(read_double(ctx, node, path, row->allow_inf, &value));
        memcpy(field, &value, sizeof value);
        return MF_OK;
    }
    case MF_SCHEMA_BOOL: {
        int value = 0;
        MF_CHECK(read_bool(ctx, node, path, &value));
        memcpy(field, &value, sizeof value);
        return MF_OK;
    }
    case MF_SCHEMA_STRING:
        return read_string(ctx, node, path, (char *)field, row->size);
    case MF_SCHEMA_PATH:
        MF_CHECK(read_string(ctx, node, path, (char *)field, row->size));
        return resolve_command_line_path(ctx, node, path, (char *)field, row->size);
    case MF_SCHEMA_ENUM: {
        int value = 0;
        memcpy(&value, field, sizeof value);
        MF_CHECK(read_enum(ctx, node, path, row->names, &value));
        memcpy(field, &value, sizeof value);
        return MF_OK;
    }
    case MF_SCHEMA_NAME:
    case MF_SCHEMA_LIST:
    case MF_SCHEMA_RANGE:
    default:
        return MF_FAIL(MF_ERR_INTERNAL, "schema row %s is read by its section's hook", row->key);
    }
}

/* The defaults of a table's rows (a new list entry's, for list tables): default_text read
 * like a YAML value; a number without a default is NaN (required: the hook checks it). */
static void apply_row_defaults(const mf_schema_table *t, void *base) {
    mf_cfg_context ctx = {"(schema defaults)", NULL, 0, NULL, 0, 0, NULL, 1};
    for (size_t r = 0; r < t->n_rows; r++) {
        const mf_schema_row *row = &t->rows[r];
        if (!row_is_value(row)) continue;
        if (!row->default_text) {
            if (row->type == MF_SCHEMA_DOUBLE) {
                double nan_value = NAN;
                memcpy(field_of(base, row), &nan_value, sizeof nan_value);
            }
            continue;
        }
        mf_cfg_node node;
        memset(&node, 0, sizeof node);
        node.kind = MF_CFG_SCALAR;
        node.origin = MF_CFG_FROM_DEFAULTS;
        node.line = 1;
        node.text = (char *)(uintptr_t)row->default_text;
        if (read_row(&ctx, &node, row->key, row, base) != MF_OK) mf_error_clear();
    }
}

/* The view of a section (run, market, ...): its known keys are the schema table's. */
static mf_status section_view(const view *root, const char *name, view *out) {
    static const char *const none[] = {NULL};
    if (!mf_cfg_get(root->node, name)) return child_view(root, name, none, out); /* absent */
    mf_schema_keys known;
    mf_schema_known_keys(table(name), "", &known);
    return child_view(root, name, known.keys, out);
}

/* The view of a list entry, its known keys from the entry's table. */
static mf_status item_view(mf_cfg_context *ctx, const mf_cfg_node *node, const char *path,
                           const char *lookup, const char *table_name, view *out) {
    mf_schema_keys known;
    mf_schema_known_keys(table(table_name), "", &known);
    return open_view(ctx, node, path, lookup, known.keys, out);
}

/* Read every value row of table `t` present in the mapping `v` into `base` (keys absent keep
 * what base holds). Rows nested one level (garch.alpha) are read through a child view. */
static mf_status convert_rows(const view *v, const mf_schema_table *t, void *base) {
    view sub;
    char sub_prefix[64] = "";
    int sub_open = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        const mf_schema_row *row = &t->rows[r];
        if (!row_is_value(row)) continue;
        const char *dot = strchr(row->key, '.');
        const view *at = v;
        const char *leaf = row->key;
        if (dot) {
            size_t n = (size_t)(dot - row->key);
            if (!sub_open || strlen(sub_prefix) != n || strncmp(sub_prefix, row->key, n) != 0) {
                if (n >= sizeof sub_prefix - 1)
                    return MF_FAIL(MF_ERR_INTERNAL, "schema key %s is too long", row->key);
                memcpy(sub_prefix, row->key, n);
                sub_prefix[n] = '\0';
                mf_schema_keys known;
                known.keys[0] = NULL; /* an absent mapping has no keys to check */
                if (mf_cfg_get(v->node, sub_prefix)) {
                    char known_prefix[sizeof sub_prefix + 1];
                    memcpy(known_prefix, row->key, n + 1); /* "garch." */
                    known_prefix[n + 1] = '\0';
                    mf_schema_known_keys(t, known_prefix, &known);
                }
                MF_CHECK(child_view(v, sub_prefix, known.keys, &sub));
                sub_open = 1;
            }
            at = &sub;
            leaf = dot + 1;
        }
        char path[MF_CFG_KEY_LEN];
        mf_status status;
        const mf_cfg_node *node = view_key(at, leaf, path, &status);
        MF_CHECK(status);
        if (node) MF_CHECK(read_row(v->ctx, node, path, row, base));
    }
    return MF_OK;
}

/* ---- tree -> struct ----------------------------------------------------------------------- */

/* Where the sweep's entries are, for messages about its points. */
typedef struct {
    int origin, line; /* sweep.parameters */
    int param_origin[MF_MAX_SWEEP_PARAMS];
    int param_line[MF_MAX_SWEEP_PARAMS];
} sweep_places;

typedef struct {
    mf_cfg_context *ctx;
    const mf_config *defaults;
    const mf_cfg_node *tree;          /* the whole document (overrides applied) */
    const mf_cfg_node *defaults_tree; /* the defaults as a tree; may be NULL */
    sweep_places *places;             /* filled by the sweep's conversion; may be NULL */
    /* The YAML replaced the default asset list, so the per-asset sections must be given. */
    int assets_given;
    int assets_origin;
    int assets_line;
} conversion;

static int default_asset_index(const mf_config *defaults, const char *name) {
    for (int i = 0; i < defaults->market.n_assets; i++)
        if (strcmp(defaults->market.assets[i].name, name) == 0) return i;
    return -1;
}

static int asset_index(const mf_config *c, const char *name) {
    for (int i = 0; i < c->market.n_assets; i++)
        if (strcmp(c->market.assets[i].name, name) == 0) return i;
    return -1;
}

static void asset_list(const mf_config *c, char *out, size_t size) {
    out[0] = '\0';
    for (int i = 0; i < c->market.n_assets; i++) {
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", i ? ", " : "", c->market.assets[i].name);
    }
}

static mf_status expect_list(const mf_cfg_context *ctx, const mf_cfg_node *node, const char *path) {
    if (node->kind != MF_CFG_SEQUENCE) return node_fail_type(ctx, node, path, "a list");
    return MF_OK;
}

static mf_status convert_run(conversion *cv, const view *root, mf_config *c) {
    view v;
    MF_CHECK(section_view(root, "run", &v));
    (void)cv;
    return convert_rows(&v, table("run"), &c->run);
}

static mf_status convert_assets(conversion *cv, const view *market, mf_config *c) {
    char path[MF_CFG_KEY_LEN];
    mf_status status;
    const mf_cfg_node *list = view_key(market, "assets", path, &status);
    MF_CHECK(status);
    if (!list) return MF_OK;
    MF_CHECK(expect_list(cv->ctx, list, path));
    if (list->count == 0)
        return mf_cfg_fail(cv->ctx, list->origin, list->line, path, "needs at least one asset");
    if (list->count > MF_MAX_ASSETS)
        return mf_cfg_fail(cv->ctx, list->origin, list->line, path,
                           "%zu assets, at most %d (MF_MAX_ASSETS)", list->count, MF_MAX_ASSETS);

    mf_asset_config assets[MF_MAX_ASSETS];
    memset(assets, 0, sizeof assets);
    int names_changed = (int)list->count != cv->defaults->market.n_assets;
    for (size_t j = 0; j < list->count; j++) {
        char item_path[MF_CFG_KEY_LEN];
        snprintf(item_path, sizeof item_path, "market.assets[%zu]", j);
        view item;
        MF_CHECK(
            item_view(cv->ctx, list->items[j], item_path, item_path, "market.assets[]", &item));
        char name_path[MF_CFG_KEY_LEN];
        const mf_cfg_node *name_node = view_key(&item, "name", name_path, &status);
        MF_CHECK(status);
        if (!name_node)
            return mf_cfg_fail(cv->ctx, item.node->origin, item.node->line, item_path,
                               "missing key 'name'");
        char name[MF_NAME_LEN];
        MF_CHECK(read_string(cv->ctx, name_node, name_path, name, sizeof name));
        for (size_t k = 0; k < j; k++)
            if (strcmp(assets[k].name, name) == 0)
                return mf_cfg_fail(cv->ctx, name_node->origin, name_node->line, name_path,
                                   "asset '%s' is listed twice (also market.assets[%zu])", name, k);

        /* An asset the defaults know starts from its default; a new one must give the
         * values nothing could guess. */
        mf_asset_config *asset = &assets[j];
        int d = default_asset_index(cv->defaults, name);
        if (d >= 0) {
            *asset = cv->defaults->market.assets[d];
        } else {
            apply_row_defaults(table("market.assets[]"), asset); /* price, volatility: NaN */
        }
        if (d != (int)j) names_changed = 1;
        copy_name(asset->name, sizeof asset->name, name);
        MF_CHECK(convert_rows(&item, table("market.assets[]"), asset));
        static const char *const required[] = {"price", "volatility", NULL};
        const double values[] = {asset->price, asset->volatility};
        MF_CHECK(require_keys(&item, "an asset not in the defaults needs it", required, values));
    }
    c->market.n_assets = (int)list->count;
    memcpy(c->market.assets, assets, sizeof assets);
    /* Copied from the defaults by an override (market.assets.0.volatility=...) and still the
     * default assets: the per-asset sections keep their defaults. */
    cv->assets_given = list->origin != MF_CFG_FROM_DEFAULTS || names_changed;
    cv->assets_origin = list->origin;
    cv->assets_line = list->line;
    if (list->origin == MF_CFG_FROM_DEFAULTS) {
        /* A --set renamed a default asset: blame it, not the defaults. */
        for (size_t j = 0; j < list->count; j++) {
            const mf_cfg_node *name_node = mf_cfg_get(list->items[j], "name");
            if (name_node && name_node->origin != MF_CFG_FROM_DEFAULTS) {
                cv->assets_origin = name_node->origin;
                cv->assets_line = name_node->line;
                break;
            }
        }
    }
    if (cv->assets_given) {
        memset(c->market.correlation, 0, sizeof c->market.correlation);
        memset(c->venue.markets, 0, sizeof c->venue.markets);
        memset(c->population.assets, 0, sizeof c->population.assets);
        c->market.n_stress = 0;
        memset(c->market.stress, 0, sizeof c->market.stress);
    }
    return MF_OK;
}

static mf_status missing_per_asset(const conversion *cv, const mf_config *c, const char *key) {
    char names[MF_MAX_ASSETS * (MF_NAME_LEN + 2)];
    asset_list(c, names, sizeof names);
    int k = c->market.n_assets;
    if (strcmp(key, "market.correlation") == 0)
        return mf_cfg_fail(cv->ctx, cv->assets_origin, cv->assets_line, key,
                           "missing: market.assets is given, so market.correlation must be given "
                           "too (a %dx%d matrix, rows and columns in the order %s)",
                           k, k, names);
    return mf_cfg_fail(cv->ctx, cv->assets_origin, cv->assets_line, key,
                       "missing: market.assets is given, so %s must be given too (one entry per "
                       "asset: %s)",
                       key, names);
}

static mf_status convert_correlation(conversion *cv, const view *market, mf_config *c) {
    char path[MF_CFG_KEY_LEN];
    mf_status status;
    const mf_cfg_node *rows = view_key(market, "correlation", path, &status);
    MF_CHECK(status);
    int k = c->market.n_assets;
    if (!rows || (cv->assets_given && rows->origin == MF_CFG_FROM_DEFAULTS)) {
        if (cv->assets_given) return missing_per_asset(cv, c, "market.correlation");
        return MF_OK;
    }
    if (rows->kind != MF_CFG_SEQUENCE || (int)rows->count != k)
        return mf_cfg_fail(cv->ctx, rows->origin, rows->line, path,
                           "expected a %dx%d matrix (a list of %d rows, one per asset in "
                           "market.assets), got %s%zu%s",
                           k, k, k, rows->kind == MF_CFG_SEQUENCE ? "" : "not a list",
                           rows->kind == MF_CFG_SEQUENCE ? rows->count : 0,
                           rows->kind == MF_CFG_SEQUENCE ? " rows" : "");
    double matrix[MF_MAX_ASSETS][MF_MAX_ASSETS];
    memset(matrix, 0, sizeof matrix);
    for (int r = 0; r < k; r++) {
        const mf_cfg_node *row = rows->items[r];
        char row_path[MF_CFG_KEY_LEN];
        snprintf(row_path, sizeof row_path, "market.correlation[%d]", r);
        if (row->kind != MF_CFG_SEQUENCE || (int)row->count != k)
            return mf_cfg_fail(cv->ctx, row->origin, row->line, row_path,
                               "expected a row of %d numbers, got %s%zu%s", k,
                               row->kind == MF_CFG_SEQUENCE ? "" : "not a list",
                               row->kind == MF_CFG_SEQUENCE ? row->count : 0,
                               row->kind == MF_CFG_SEQUENCE ? " numbers" : "");
        MF_CHECK(mf_cfg_remember(cv->ctx, row_path, row_path, row->origin, row->line));
        for (int col = 0; col < k; col++) {
            char cell[MF_CFG_KEY_LEN];
            snprintf(cell, sizeof cell, "market.correlation[%d][%d]", r, col);
            const mf_cfg_node *entry = row->items[col];
            MF_CHECK(mf_cfg_remember(cv->ctx, cell, cell, entry->origin, entry->line));
            MF_CHECK(read_double(cv->ctx, entry, cell, 0, &matrix[r][col]));
        }
    }
    memcpy(c->market.correlation, matrix, sizeof matrix);
    return MF_OK;
}

/* A flow list of numbers under `key` of `section` (output.quantiles, output.traces): min_count
 * to max_count items, each remembered for its line and read as a double or, with integers, as
 * an integer >= 0; *count stays as it is when the key is absent. Ranges and order are checked
 * with the section's other rules. */
static mf_status convert_number_list(conversion *cv, const view *section, const char *key,
                                     size_t min_count, size_t max_count, const char *what,
                                     int integers, double *numbers, int64_t *whole, int *count) {
    char path[MF_CFG_KEY_LEN];
    mf_status status;
    const mf_cfg_node *list = view_key(section, key, path, &status);
    MF_CHECK(status);
    if (!list) return MF_OK;
    MF_CHECK(expect_list(cv->ctx, list, path));
    if (list->count < min_count || list->count > max_count)
        return mf_cfg_fail(cv->ctx, list->origin, list->line, path, "%zu %s: give %zu to %zu",
                           list->count, what, min_count, max_count);
    for (size_t i = 0; i < list->count; i++) {
        char item[MF_CFG_KEY_LEN];
        mf_cfg_format(item, sizeof item, "%s.%s[%zu]", section->path, key, i);
        const mf_cfg_node *entry = list->items[i];
        if (!cv->ctx->skip_keys)
            MF_CHECK(mf_cfg_remember(cv->ctx, item, item, entry->origin, entry->line));
        if (integers) {
            long long value = 0;
            MF_CHECK(read_integer(cv->ctx, entry, item, 0, INT64_MAX, &value));
            whole[i] = (int64_t)value;
        } else {
            MF_CHECK(read_double(cv->ctx, entry, item, 0, &numbers[i]));
        }
    }
    *count = (int)list->count;
    return MF_OK;
}

/* output.quantiles (1..MF_MAX_QUANTILES levels) and output.traces (0..MF_MAX_TRACES paths). */
static mf_status convert_output_lists(conversion *cv, const view *output, mf_config *c) {
    MF_CHECK(convert_number_list(cv, output, "quantiles", 1, MF_MAX_QUANTILES,
                                 "levels (MF_MAX_QUANTILES)", 0, c->output.quantiles, NULL,
                                 &c->output.n_quantiles));
    return convert_number_list(cv, output, "traces", 0, MF_MAX_TRACES, "paths (MF_MAX_TRACES)", 1,
                               NULL, c->output.traces, &c->output.n_traces);
}

static mf_status convert_stress(conversion *cv, const view *market, mf_config *c) {
    char path[MF_CFG_KEY_LEN];
    mf_status status;
    const mf_cfg_node *list = view_key(market, "stress", path, &status);
    MF_CHECK(status);
    if (!list) return MF_OK;
    MF_CHECK(expect_list(cv->ctx, list, path));
    if (list->count > MF_MAX_STRESS)
        return mf_cfg_fail(cv->ctx, list->origin, list->line, path,
                           "%zu shocks, at most %d (MF_MAX_STRESS)", list->count, MF_MAX_STRESS);
    mf_stress_config stress[MF_MAX_STRESS];
    memset(stress, 0, sizeof stress);
    for (size_t j = 0; j < list->count; j++) {
        char item_path[MF_CFG_KEY_LEN];
        snprintf(item_path, sizeof item_path, "market.stress[%zu]", j);
        view item;
        MF_CHECK(
            item_view(cv->ctx, list->items[j], item_path, item_path, "market.stress[]", &item));
        char name_path[MF_CFG_KEY_LEN];
        const mf_cfg_node *name_node = view_key(&item, "asset", name_path, &status);
        MF_CHECK(status);
        if (!name_node)
            return mf_cfg_fail(cv->ctx, item.node->origin, item.node->line, item_path,
                               "missing key 'asset' (an asset name or 'all')");
        char name[MF_NAME_LEN];
        MF_CHECK(read_string(cv->ctx, name_node, name_path, name, sizeof name));
        mf_stress_config *shock = &stress[j];
        if (strcmp(name, "all") == 0) {
            shock->asset = -1;
        } else {
            shock->asset = asset_index(c, name);
            if (shock->asset < 0) {
                char names[MF_MAX_ASSETS * (MF_NAME_LEN + 2)];
                asset_list(c, names, sizeof names);
                return mf_cfg_fail(cv->ctx, name_node->origin, name_node->line, name_path,
                                   "unknown asset '%s' (market.assets has %s; 'all' shocks "
                                   "every asset)",
                                   name, names);
            }
        }
        apply_row_defaults(table("market.stress[]"), shock); /* steps 1, log_return NaN */
        const double start = mf_cfg_get(item.node, "start_step") ? 0.0 : NAN;
        MF_CHECK(convert_rows(&item, table("market.stress[]"), shock));
        static const char *const required[] = {"start_step", "log_return", NULL};
        const double values[] = {start, shock->log_return};
        MF_CHECK(require_keys(&item, "every shock needs it", required, values));
    }
    c->market.n_stress = (int)list->count;
    memcpy(c->market.stress, stress, sizeof stress);
    return MF_OK;
}

static mf_status convert_market(conversion *cv, const view *root, mf_config *c) {
    view v;
    MF_CHECK(section_view(root, "market", &v));
    mf_market_config *m = &c->market;
    /* The asset list first: every other per-asset key is read against it. */
    MF_CHECK(convert_assets(cv, &v, c));
    MF_CHECK(convert_correlation(cv, &v, c));
    MF_CHECK(convert_rows(&v, table("market"), m));

    MF_CHECK(convert_stress(cv, &v, c));
    return MF_OK;
}

/* Match a per-asset list (venue.markets, population.assets) to market.assets by name.
 * items[i] / yaml_index[i] receive the entry of asset i. */
static mf_status match_assets(conversion *cv, const mf_cfg_node *list, const char *path,
                              const char *table_name, const mf_config *c,
                              const mf_cfg_node *items[MF_MAX_ASSETS],
                              size_t yaml_index[MF_MAX_ASSETS]) {
    MF_CHECK(expect_list(cv->ctx, list, path));
    char names[MF_MAX_ASSETS * (MF_NAME_LEN + 2)];
    asset_list(c, names, sizeof names);
    for (int i = 0; i < MF_MAX_ASSETS; i++)
        items[i] = NULL;
    for (size_t j = 0; j < list->count; j++) {
        char item_path[MF_CFG_KEY_LEN];
        mf_cfg_format(item_path, sizeof item_path, "%s[%zu]", path, j);
        view item;
        MF_CHECK(item_view(cv->ctx, list->items[j], item_path, item_path, table_name, &item));
        const mf_cfg_node *name_node = mf_cfg_get(item.node, "asset");
        if (!name_node)
            return mf_cfg_fail(cv->ctx, item.node->origin, item.node->line, item_path,
                               "missing key 'asset' (one of %s)", names);
        char name_path[MF_CFG_KEY_LEN];
        mf_cfg_format(name_path, sizeof name_path, "%s.asset", item_path);
        char name[MF_NAME_LEN];
        MF_CHECK(read_string(cv->ctx, name_node, name_path, name, sizeof name));
        int i = asset_index(c, name);
        if (i < 0)
            return mf_cfg_fail(cv->ctx, name_node->origin, name_node->line, name_path,
                               "unknown asset '%s' (market.assets has %s)", name, names);
        if (items[i])
            return mf_cfg_fail(cv->ctx, name_node->origin, name_node->line, name_path,
                               "a second entry for asset '%s' (the first is %s[%zu])", name, path,
                               yaml_index[i]);
        items[i] = list->items[j];
        yaml_index[i] = j;
    }
    for (int i = 0; i < c->market.n_assets; i++)
        if (!items[i])
            return mf_cfg_fail(cv->ctx, list->origin, list->line, path,
                               "no entry for asset '%s' (every asset in market.assets needs "
                               "exactly one)",
                               c->market.assets[i].name);
    return MF_OK;
}

static mf_status convert_tiers(conversion *cv, const view *item, int asset,
                               mf_venue_market_config *market) {
    char path[MF_CFG_KEY_LEN];
    mf_status status;
    const mf_cfg_node *list = view_key(item, "tiers", path, &status);
    MF_CHECK(status);
    if (!list) return MF_OK;
    MF_CHECK(expect_list(cv->ctx, list, path));
    if (list->count == 0 || list->count > MF_MAX_TIERS)
        return mf_cfg_fail(cv->ctx, list->origin, list->line, path,
                           "%zu tiers, expected 1 to %d (MF_MAX_TIERS)", list->count, MF_MAX_TIERS);
    mf_tier_config tiers[MF_MAX_TIERS];
    memset(tiers, 0, sizeof tiers);
    for (size_t t = 0; t < list->count; t++) {
        char tier_path[MF_CFG_KEY_LEN], tier_lookup[MF_CFG_KEY_LEN];
        mf_cfg_format(tier_path, sizeof tier_path, "%s[%zu]", path, t);
        snprintf(tier_lookup, sizeof tier_lookup, "venue.markets[%d].tiers[%zu]", asset, t);
        view tier;
        MF_CHECK(item_view(cv->ctx, list->items[t], tier_path, tier_lookup,
                           "venue.markets[].tiers[]", &tier));
        apply_row_defaults(table("venue.markets[].tiers[]"), &tiers[t]); /* all NaN: required */
        MF_CHECK(convert_rows(&tier, table("venue.markets[].tiers[]"), &tiers[t]));
        static const char *const tier_keys[] = {"floor_usd", "mmr", "max_leverage", NULL};
        const double values[] = {tiers[t].floor_usd, tiers[t].mmr, tiers[t].max_leverage};
        MF_CHECK(require_keys(&tier, "every tier gives floor_usd, mmr and max_leverage", tier_keys,
                              values));
    }
    market->n_tiers = (int)list->count;
    memcpy(market->tiers, tiers, sizeof tiers);
    return MF_OK;
}

static mf_status convert_venue(conversion *cv, const view *root, mf_config *c) {
    view v;
    MF_CHECK(section_view(root, "venue", &v));
    mf_venue_config *venue = &c->venue;
    MF_CHECK(convert_rows(&v, table("venue"), venue));

    char path[MF_CFG_KEY_LEN];
    mf_status status;
    const mf_cfg_node *list = view_key(&v, "markets", path, &status);
    MF_CHECK(status);
    if (!list || (cv->assets_given && list->origin == MF_CFG_FROM_DEFAULTS)) {
        if (cv->assets_given) return missing_per_asset(cv, c, "venue.markets");
        return MF_OK;
    }
    const mf_cfg_node *items[MF_MAX_ASSETS];
    size_t yaml_index[MF_MAX_ASSETS];
    MF_CHECK(match_assets(cv, list, path, "venue.markets[]", c, items, yaml_index));
    for (int i = 0; i < c->market.n_assets; i++) {
        char item_path[MF_CFG_KEY_LEN], item_lookup[MF_CFG_KEY_LEN];
        snprintf(item_path, sizeof item_path, "venue.markets[%zu]", yaml_index[i]);
        snprintf(item_lookup, sizeof item_lookup, "venue.markets[%d]", i);
        view item;
        MF_CHECK(item_view(cv->ctx, items[i], item_path, item_lookup, "venue.markets[]", &item));
        mf_venue_market_config market;
        int d = default_asset_index(cv->defaults, c->market.assets[i].name);
        if (d >= 0) {
            market = cv->defaults->venue.markets[d];
        } else {
            memset(&market, 0, sizeof market);
            apply_row_defaults(table("venue.markets[]"), &market); /* required: NaN */
        }
        MF_CHECK(convert_rows(&item, table("venue.markets[]"), &market));
        MF_CHECK(convert_tiers(cv, &item, i, &market));
        static const char *const required[] = {"depth_usd", "liquidation_throughput_usd", "tiers",
                                               NULL};
        const double values[] = {market.depth_usd, market.throughput_usd,
                                 market.n_tiers > 0 ? 0.0 : NAN};
        MF_CHECK(require_keys(&item, "an asset not in the defaults needs it", required, values));
        venue->markets[i] = market;
    }
    return MF_OK;
}

static mf_status convert_population(conversion *cv, const view *root, mf_config *c) {
    view v;
    MF_CHECK(section_view(root, "population", &v));
    mf_population_config *p = &c->population;
    MF_CHECK(convert_rows(&v, table("population"), p));

    char path[MF_CFG_KEY_LEN];
    mf_status status;
    const mf_cfg_node *list = view_key(&v, "assets", path, &status);
    MF_CHECK(status);
    if (!list || (cv->assets_given && list->origin == MF_CFG_FROM_DEFAULTS)) {
        if (cv->assets_given) return missing_per_asset(cv, c, "population.assets");
        return MF_OK;
    }
    const mf_cfg_node *items[MF_MAX_ASSETS];
    size_t yaml_index[MF_MAX_ASSETS];
    MF_CHECK(match_assets(cv, list, path, "population.assets[]", c, items, yaml_index));
    for (int i = 0; i < c->market.n_assets; i++) {
        char item_path[MF_CFG_KEY_LEN], item_lookup[MF_CFG_KEY_LEN];
        snprintf(item_path, sizeof item_path, "population.assets[%zu]", yaml_index[i]);
        snprintf(item_lookup, sizeof item_lookup, "population.assets[%d]", i);
        view item;
        MF_CHECK(
            item_view(cv->ctx, items[i], item_path, item_lookup, "population.assets[]", &item));
        mf_population_asset_config asset;
        int d = default_asset_index(cv->defaults, c->market.assets[i].name);
        if (d >= 0) {
            asset = cv->defaults->population.assets[d];
        } else {
            apply_row_defaults(table("population.assets[]"), &asset); /* required: NaN */
        }
        MF_CHECK(convert_rows(&item, table("population.assets[]"), &asset));
        static const char *const required[] = {"open_interest_usd", "long_share", NULL};
        const double values[] = {asset.open_interest_usd, asset.long_share};
        MF_CHECK(require_keys(&item, "an asset not in the defaults needs it", required, values));
        p->assets[i] = asset;
    }
    return MF_OK;
}

/* ---- sweep -------------------------------------------------------------------------------- */

/* Characters a plain scalar may hold and still read back the same inside a flow list
 * ([a, b]) and as a --set value. Anything else is written double-quoted. */
static int plain_safe(const char *text) {
    if (!text[0] || strcmp(text, "-") == 0) return 0;
    for (const char *p = text; *p; p++) {
        char ch = *p;
        int ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                 ch == '.' || ch == '_' || ch == '+' || ch == '-' || ch == '~' || ch == '/';
        if (!ok) return 0;
    }
    return 1;
}

/* A sweep value as YAML text that reads back as the same scalar: plain when that is safe,
 * else double-quoted (a plain scalar that needs quotes is a string either way, so quoting
 * it keeps its meaning). An empty plain value is written ~ (null, the same meaning). Writes
 * to out when it is not NULL; returns the length. */
static size_t scalar_yaml(const mf_cfg_node *node, char *out) {
    const char *text = node->text;
    if (!node->quoted) {
        if (!text[0]) text = "~";
        if (plain_safe(text)) {
            size_t length = strlen(text);
            if (out) memcpy(out, text, length);
            return length;
        }
    }
    size_t n = 0;
    if (out) out[n] = '"';
    n++;
    char piece[8];
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\')
            snprintf(piece, sizeof piece, "\\%c", *p);
        else if (*p == '\n')
            snprintf(piece, sizeof piece, "\\n");
        else if (*p == '\t')
            snprintf(piece, sizeof piece, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            snprintf(piece, sizeof piece, "\\x%02x", *p);
        else
            snprintf(piece, sizeof piece, "%c", *p);
        size_t length = strlen(piece);
        if (out) memcpy(out + n, piece, length);
        n += length;
    }
    if (out) out[n] = '"';
    return n + 1;
}

/* Value i of a range, exactly as documented (deterministic on every rank). */
static double range_value(mf_sweep_kind kind, double start, double stop, int num, int i) {
    if (num <= 1) return start;
    if (kind == MF_SWEEP_LOG) return start * pow(stop / start, (double)i / (double)(num - 1));
    return start + (stop - start) * (double)i / (double)(num - 1);
}

/* Room for n values of parameter p: the pointer block (pointers, then text_bytes of text)
 * and the numbers. Freed by mf_config_free, also after a failure half way. */
static mf_status allocate_values(mf_sweep_config *s, int p, int n, size_t text_bytes) {
    s->values[p] = malloc((size_t)n * sizeof *s->values[p] + text_bytes);
    s->numbers[p] = malloc((size_t)n * sizeof *s->numbers[p]);
    if (!s->values[p] || !s->numbers[p])
        return MF_FAIL(MF_ERR_MEMORY, "out of memory for %d sweep values", n);
    s->n_values[p] = n;
    return MF_OK;
}

static mf_status convert_sweep_list(conversion *cv, const mf_cfg_node *list, const char *path,
                                    int p, mf_sweep_config *s) {
    MF_CHECK(expect_list(cv->ctx, list, path));
    if (list->count == 0)
        return mf_cfg_fail(cv->ctx, list->origin, list->line, path,
                           "an empty list: give at least one value");
    if (list->count > MF_MAX_SWEEP_VALUES)
        return mf_cfg_fail(cv->ctx, list->origin, list->line, path,
                           "%zu values, at most %d (MF_MAX_SWEEP_VALUES)", list->count,
                           MF_MAX_SWEEP_VALUES);
    size_t text_bytes = 0;
    for (size_t i = 0; i < list->count; i++) {
        const mf_cfg_node *item = list->items[i];
        if (item->kind != MF_CFG_SCALAR) {
            char item_path[MF_CFG_KEY_LEN];
            mf_cfg_format(item_path, sizeof item_path, "%s[%zu]", path, i);
            return node_fail_type(cv->ctx, item, item_path, "a number or a string");
        }
        text_bytes += scalar_yaml(item, NULL) + 1;
    }
    int n = (int)list->count;
    MF_CHECK(allocate_values(s, p, n, text_bytes));
    char *at = (char *)(s->values[p] + n);
    for (int i = 0; i < n; i++) {
        const mf_cfg_node *item = list->items[i];
        size_t length = scalar_yaml(item, at);
        at[length] = '\0';
        s->values[p][i] = at;
        at += length + 1;
        double number = NAN;
        if (item->quoted || parse_number(item->text, &number) > 2) number = NAN;
        s->numbers[p][i] = number;
    }
    s->kind[p] = MF_SWEEP_VALUES;
    return MF_OK;
}

static mf_status convert_sweep_range(conversion *cv, const view *item, const char *field, int p,
                                     mf_sweep_config *s) {
    view range;
    MF_CHECK(child_view(item, field, sweep_range_keys, &range));
    if (!range.node) return MF_OK;
    double start = NAN, stop = NAN, num_given = NAN;
    MF_CHECK(view_double(&range, "start", 0, &start));
    MF_CHECK(view_double(&range, "stop", 0, &stop));
    char path[MF_CFG_KEY_LEN];
    mf_status status;
    const mf_cfg_node *num_node = view_key(&range, "num", path, &status);
    MF_CHECK(status);
    long long num = 0;
    if (num_node) {
        MF_CHECK(read_integer(cv->ctx, num_node, path, LLONG_MIN, LLONG_MAX, &num));
        num_given = 0.0;
        if (num < 1)
            return mf_cfg_fail(cv->ctx, num_node->origin, num_node->line, path,
                               "must be >= 1 (the number of values, stop included), got %lld", num);
        if (num > MF_MAX_SWEEP_VALUES)
            return mf_cfg_fail(cv->ctx, num_node->origin, num_node->line, path,
                               "%lld values, at most %d (MF_MAX_SWEEP_VALUES)", num,
                               MF_MAX_SWEEP_VALUES);
    }
    const double values[] = {start, stop, num_given};
    MF_CHECK(require_keys(&range, "a range gives start, stop and num", sweep_range_keys, values));
    mf_sweep_kind kind = strcmp(field, "log") == 0 ? MF_SWEEP_LOG : MF_SWEEP_LINEAR;
    if (kind == MF_SWEEP_LOG) {
        const char *bad = !(start > 0.0) ? "start" : (!(stop > 0.0) ? "stop" : NULL);
        if (bad) {
            const mf_cfg_node *node = mf_cfg_get(range.node, bad);
            char bad_path[MF_CFG_KEY_LEN];
            mf_cfg_format(bad_path, sizeof bad_path, "%s.%s", range.path, bad);
            return mf_cfg_fail(cv->ctx, node->origin, node->line, bad_path,
                               "a log range needs start > 0 and stop > 0, got %g",
                               strcmp(bad, "start") == 0 ? start : stop);
        }
    }
    char text[48];
    size_t text_bytes = 0;
    for (int i = 0; i < (int)num; i++) {
        format_double(range_value(kind, start, stop, (int)num, i), text, sizeof text);
        text_bytes += strlen(text) + 1;
    }
    MF_CHECK(allocate_values(s, p, (int)num, text_bytes));
    char *at = (char *)(s->values[p] + num);
    for (int i = 0; i < (int)num; i++) {
        double value = range_value(kind, start, stop, (int)num, i);
        format_double(value, text, sizeof text);
        size_t length = strlen(text);
        memcpy(at, text, length + 1);
        s->values[p][i] = at;
        at += length + 1;
        s->numbers[p][i] = value;
    }
    s->kind[p] = kind;
    s->start[p] = start;
    s->stop[p] = stop;
    return MF_OK;
}

/* Keys a sweep may not change, and why; NULL when the key may be swept. */
static const char *unsweepable(const char *key) {
    size_t first = strcspn(key, ".");
    if (first == 3 && strncmp(key, "run", 3) == 0)
        return "run.* fixes the shape of the run (paths, steps, step length, seed, blocks), "
               "which every point shares so that points are comparable path by path";
    if (first == 6 && strncmp(key, "output", 6) == 0)
        return "output.* fixes what the run writes, one layout for every point";
    if (first == 5 && strncmp(key, "sweep", 5) == 0)
        return "a sweep cannot change its own settings";
    if (strcmp(key, "population.file") == 0 || strncmp(key, "population.file.", 16) == 0)
        return "population.file fixes the accounts, which every point shares (sweep the "
               "generator's keys instead)";
    return NULL;
}

static mf_status convert_sweep_parameter(conversion *cv, const mf_cfg_node *node, int p,
                                         mf_sweep_config *s) {
    char item_path[MF_CFG_KEY_LEN];
    mf_cfg_format(item_path, sizeof item_path, "sweep.parameters[%d]", p);
    view item;
    MF_CHECK(open_view(cv->ctx, node, item_path, item_path, sweep_parameter_keys, &item));
    if (cv->places) {
        cv->places->param_origin[p] = node->origin;
        cv->places->param_line[p] = node->line;
    }
    char key_path[MF_CFG_KEY_LEN];
    mf_status status;
    const mf_cfg_node *key_node = view_key(&item, "key", key_path, &status);
    MF_CHECK(status);
    if (!key_node)
        return mf_cfg_fail(cv->ctx, node->origin, node->line, item_path,
                           "missing key 'key' (the config key to sweep, in --set syntax, e.g. "
                           "venue.max_leverage)");
    char *key = s->keys[p];
    MF_CHECK(read_string(cv->ctx, key_node, key_path, key, MF_PATH_LEN));
    if (!key[0])
        return mf_cfg_fail(cv->ctx, key_node->origin, key_node->line, key_path,
                           "empty: give a config key in --set syntax, e.g. venue.max_leverage");
    if (strlen(key) >= MF_CFG_KEY_LEN)
        return mf_cfg_fail(cv->ctx, key_node->origin, key_node->line, key_path,
                           "too long: %zu characters, at most %d", strlen(key), MF_CFG_KEY_LEN - 1);
    if (strchr(key, '='))
        return mf_cfg_fail(cv->ctx, key_node->origin, key_node->line, key_path,
                           "'%s' is not a key: a key has no '='", key);
    const char *why = unsweepable(key);
    if (why)
        return mf_cfg_fail(cv->ctx, key_node->origin, key_node->line, key_path,
                           "'%s' cannot be swept: %s", key, why);

    const char *given[3];
    int n_given = 0;
    for (int f = 1; f <= 3; f++)
        if (mf_cfg_get(item.node, sweep_parameter_keys[f]))
            given[n_given++] = sweep_parameter_keys[f];
    if (n_given != 1)
        return mf_cfg_fail(cv->ctx, node->origin, node->line, item_path,
                           "give exactly one of 'values', 'linear' or 'log', got %s%s%s%s%s",
                           n_given ? given[0] : "none", n_given > 1 ? " and " : "",
                           n_given > 1 ? given[1] : "", n_given > 2 ? " and " : "",
                           n_given > 2 ? given[2] : "");
    const mf_cfg_node *values_node = mf_cfg_get(item.node, given[0]);
    if (cv->places && values_node->origin >= 0) {
        /* The values came from a --set: a bad point is that argument's doing. */
        cv->places->param_origin[p] = values_node->origin;
        cv->places->param_line[p] = values_node->line;
    }
    if (strcmp(given[0], "values") == 0) {
        char path[MF_CFG_KEY_LEN];
        const mf_cfg_node *list = view_key(&item, "values", path, &status);
        MF_CHECK(status);
        MF_CHECK(convert_sweep_list(cv, list, path, p, s));
    } else {
        MF_CHECK(convert_sweep_range(cv, &item, given[0], p, s));
    }

    /* The same value twice (maybe spelled differently: BTC or 0 for the first market). */
    char canonical[MF_CFG_KEY_LEN], other[MF_CFG_KEY_LEN];
    mf_cfg_canonical_key(cv->tree, cv->defaults_tree, key, canonical, sizeof canonical);
    for (int q = 0; q < p; q++) {
        mf_cfg_canonical_key(cv->tree, cv->defaults_tree, s->keys[q], other, sizeof other);
        if (strcmp(canonical, other) == 0)
            return mf_cfg_fail(cv->ctx, key_node->origin, key_node->line, key_path,
                               "'%s' is swept twice (also sweep.parameters[%d], '%s')", key, q,
                               s->keys[q]);
        size_t a = strlen(canonical), b = strlen(other);
        if ((a < b && strncmp(canonical, other, a) == 0 && other[a] == '.') ||
            (b < a && strncmp(canonical, other, b) == 0 && canonical[b] == '.'))
            return mf_cfg_fail(cv->ctx, key_node->origin, key_node->line, key_path,
                               "'%s' and '%s' (sweep.parameters[%d]) overlap: one lies inside "
                               "the other",
                               key, s->keys[q], q);
    }
    return MF_OK;
}

/* The number of points, or -1 above MF_MAX_SWEEP_POINTS; `why` says how it was counted. */
static int64_t count_points(const mf_sweep_config *s, char *why, size_t why_size) {
    if (why) why[0] = '\0';
    if (s->n_params <= 0) return 1;
    if (s->mode == MF_SWEEP_ZIP) return s->n_values[0];
    int64_t points = 1;
    int over = 0;
    for (int p = 0; p < s->n_params; p++) {
        if (why) {
            size_t used = strlen(why);
            snprintf(why + used, why_size - used, "%s%d", p ? " x " : "", s->n_values[p]);
        }
        if (!over) points *= s->n_values[p];
        if (points > MF_MAX_SWEEP_POINTS) over = 1;
    }
    return over ? -1 : points;
}

static mf_status convert_sweep(conversion *cv, const view *root, mf_config *c) {
    view v;
    MF_CHECK(section_view(root, "sweep", &v));
    mf_sweep_config *s = &c->sweep;
    MF_CHECK(convert_rows(&v, table("sweep"), s));
    char path[MF_CFG_KEY_LEN];
    mf_status status;
    const mf_cfg_node *list = view_key(&v, "parameters", path, &status);
    MF_CHECK(status);
    if (!list) return MF_OK;
    MF_CHECK(expect_list(cv->ctx, list, path));
    if (cv->places) {
        cv->places->origin = list->origin;
        cv->places->line = list->line;
    }
    if (list->count > MF_MAX_SWEEP_PARAMS)
        return mf_cfg_fail(cv->ctx, list->origin, list->line, path,
                           "%zu parameters, at most %d (MF_MAX_SWEEP_PARAMS)", list->count,
                           MF_MAX_SWEEP_PARAMS);
    for (size_t p = 0; p < list->count; p++) {
        /* Counted first, so that a failure half way frees what was stored. */
        s->n_params = (int)p + 1;
        MF_CHECK(convert_sweep_parameter(cv, list->items[p], (int)p, s));
        if (s->mode == MF_SWEEP_ZIP && s->n_values[p] != s->n_values[0]) {
            const mf_cfg_node *item = list->items[p];
            char item_path[MF_CFG_KEY_LEN];
            mf_cfg_format(item_path, sizeof item_path, "sweep.parameters[%zu]", p);
            return mf_cfg_fail(cv->ctx, item->origin, item->line, item_path,
                               "mode zip walks the lists together, so they need the same "
                               "length: %d values here, %d in sweep.parameters[0] (%s)",
                               s->n_values[p], s->n_values[0], s->keys[0]);
        }
    }
    char why[256];
    s->n_points = count_points(s, why, sizeof why);
    if (s->n_points < 0)
        return mf_cfg_fail(cv->ctx, list->origin, list->line, path,
                           "too many points: %s is over %d, the most one sweep may have (fewer "
                           "values, or mode zip)",
                           why, MF_MAX_SWEEP_POINTS);
    return MF_OK;
}

static mf_status convert(mf_cfg_context *ctx, const mf_cfg_node *tree, const mf_config *defaults,
                         const mf_cfg_node *defaults_tree, sweep_places *places, mf_config *c) {
    conversion cv = {ctx, defaults, tree, defaults_tree, places, 0, MF_CFG_FROM_FILE, 1};
    view root;
    const char *top_keys[24];
    size_t n_top = 0;
    for (size_t t = 0; t < mf_schema_n_tables && n_top + 1 < 24; t++)
        if (!strchr(mf_schema_tables[t].name, '.')) top_keys[n_top++] = mf_schema_tables[t].name;
    top_keys[n_top] = NULL;
    MF_CHECK(open_view(ctx, tree, "", "", top_keys, &root));
    MF_CHECK(convert_run(&cv, &root, c));
    MF_CHECK(convert_market(&cv, &root, c));
    MF_CHECK(convert_venue(&cv, &root, c));
    MF_CHECK(convert_population(&cv, &root, c));
    view cascade, output;
    MF_CHECK(section_view(&root, "cascade", &cascade));
    MF_CHECK(convert_rows(&cascade, table("cascade"), &c->cascade));
    MF_CHECK(section_view(&root, "output", &output));
    MF_CHECK(convert_rows(&output, table("output"), &c->output));
    MF_CHECK(convert_output_lists(&cv, &output, c));
    MF_CHECK(convert_sweep(&cv, &root, c));
    return MF_OK;
}

/* ---- Cholesky ------------------------------------------------------------------------------ */

/* Lower factor L with L L^T = A, reading only A's lower triangle (so lower may alias matrix).
 * Returns the 0-based failing pivot (its value in *pivot_value), or -1 on success. */
static int cholesky(const double *a, int k, double *lower, double *pivot_value) {
    for (int j = 0; j < k; j++) {
        double diagonal = a[j * k + j];
        for (int p = 0; p < j; p++)
            diagonal -= lower[j * k + p] * lower[j * k + p];
        if (!(diagonal > 0.0) || !isfinite(diagonal)) {
            *pivot_value = diagonal;
            return j;
        }
        double root = sqrt(diagonal);
        for (int i = j + 1; i < k; i++) {
            double sum = a[i * k + j];
            for (int p = 0; p < j; p++)
                sum -= lower[i * k + p] * lower[j * k + p];
            lower[i * k + j] = sum / root;
        }
        lower[j * k + j] = root;
        for (int i = 0; i < j; i++)
            lower[i * k + j] = 0.0;
    }
    return -1;
}

mf_status mf_cholesky(const double *matrix, int k, double *lower) {
    if (!matrix || !lower || k < 1)
        return MF_FAIL(MF_ERR_INTERNAL, "mf_cholesky: bad arguments (k = %d)", k);
    double pivot = 0.0;
    int failed = cholesky(matrix, k, lower, &pivot);
    if (failed >= 0)
        return MF_FAIL(MF_ERR_CONFIG,
                       "matrix is not positive definite: Cholesky pivot %d of %d (row %d) is "
                       "%.6g, must be > 0",
                       failed + 1, k, failed + 1, pivot);
    return MF_OK;
}

/* ---- validation ------------------------------------------------------------------------- */

typedef struct {
    const mf_cfg_context *ctx;
    const mf_config *c;
    char key[MF_CFG_KEY_LEN];
} checker;

static const char *key_of(checker *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *key_of(checker *k, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(k->key, sizeof k->key, fmt, args);
    va_end(args);
    return k->key;
}

static mf_status refuse(const checker *k, const char *lookup, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static mf_status refuse(const checker *k, const char *lookup, const char *fmt, ...) {
    char message[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    if (!k->ctx) {
        const char *source = k->c->source_file[0] ? k->c->source_file : "config";
        return MF_FAIL(MF_ERR_CONFIG, "%s: %s: %s", source, lookup, message);
    }
    int origin, line;
    char display[MF_CFG_KEY_LEN];
    mf_cfg_locate(k->ctx, lookup, &origin, &line, display, sizeof display);
    return mf_cfg_fail(k->ctx, origin, line, display, "%s", message);
}

static int terminated(const char *text, size_t size) {
    return memchr(text, '\0', size) != NULL;
}

static int valid_name(const char *name) {
    if (!name[0] || strcmp(name, "all") == 0) return 0;
    int all_digits = 1;
    for (const char *p = name; *p; p++) {
        char ch = *p;
        int ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                 ch == '_' || ch == '-';
        if (!ok) return 0;
        if (ch < '0' || ch > '9') all_digits = 0;
    }
    return !all_digits;
}

/* A row's value as a double (numbers), for the generic bounds check. */
static double row_number(const mf_schema_row *row, const void *base) {
    const void *field = const_field_of(base, row);
    switch (row->type) {
    case MF_SCHEMA_INT32: {
        int32_t value;
        memcpy(&value, field, sizeof value);
        return (double)value;
    }
    case MF_SCHEMA_INT64: {
        int64_t value;
        memcpy(&value, field, sizeof value);
        return (double)value;
    }
    case MF_SCHEMA_UINT64: {
        uint64_t value;
        memcpy(&value, field, sizeof value);
        return (double)value;
    }
    case MF_SCHEMA_DOUBLE:
    case MF_SCHEMA_BOOL:
    case MF_SCHEMA_STRING:
    case MF_SCHEMA_PATH:
    case MF_SCHEMA_ENUM:
    case MF_SCHEMA_NAME:
    case MF_SCHEMA_LIST:
    case MF_SCHEMA_RANGE:
    default: {
        double value;
        memcpy(&value, field, sizeof value);
        return value;
    }
    }
}

/* The row's value as text for a message: integers in digits, doubles as %g. */
static void row_value_text(const mf_schema_row *row, const void *base, char *out, size_t size) {
    const void *field = const_field_of(base, row);
    if (row->type == MF_SCHEMA_INT32) {
        int32_t value;
        memcpy(&value, field, sizeof value);
        snprintf(out, size, "%" PRId32, value);
    } else if (row->type == MF_SCHEMA_INT64) {
        int64_t value;
        memcpy(&value, field, sizeof value);
        snprintf(out, size, "%" PRId64, value);
    } else if (row->type == MF_SCHEMA_UINT64) {
        uint64_t value;
        memcpy(&value, field, sizeof value);
        snprintf(out, size, "%" PRIu64, value);
    } else {
        snprintf(out, size, "%g", row_number(row, base));
    }
}

static int within_bounds(const mf_schema_row *row, double value) {
    if (isnan(value)) return 0;
    if (isinf(value) && !(row->allow_inf && value > 0)) return 0;
    if (row->lo_kind == MF_BOUND_CLOSED && !(value >= row->lo)) return 0;
    if (row->lo_kind == MF_BOUND_OPEN && !(value > row->lo)) return 0;
    if (isinf(value)) return 1; /* .inf where allowed passes an upper bound */
    if (row->hi_kind == MF_BOUND_CLOSED && !(value <= row->hi)) return 0;
    if (row->hi_kind == MF_BOUND_OPEN && !(value < row->hi)) return 0;
    return 1;
}

/* The generic checks of every value row of table `t` in `base`: bounds of numbers, booleans
 * 0 or 1, enum values in range, terminated strings. The struct's key prefix ("run",
 * "market.assets[2]") is `lookup` formatted with the entry indices a and b, only for a
 * message (every sweep point is checked: no text is built on the way). */
static mf_status check_rows(checker *k, const mf_schema_table *t, const void *base,
                            const char *lookup, int a, int b) {
    for (size_t r = 0; r < t->n_rows; r++) {
        const mf_schema_row *row = &t->rows[r];
        if (!row_is_value(row)) continue;
        const void *field = const_field_of(base, row);
        int value = 0, n = 2;
        switch (row->type) {
        case MF_SCHEMA_BOOL:
        case MF_SCHEMA_ENUM:
            memcpy(&value, field, sizeof value);
            if (row->type == MF_SCHEMA_ENUM)
                for (n = 0; row->names[n]; n++) {
                }
            if (value >= 0 && value < n) continue;
            break;
        case MF_SCHEMA_STRING:
        case MF_SCHEMA_PATH:
            if (terminated((const char *)field, row->size)) continue;
            break;
        case MF_SCHEMA_INT32:
        case MF_SCHEMA_INT64:
        case MF_SCHEMA_UINT64:
        case MF_SCHEMA_DOUBLE:
        case MF_SCHEMA_NAME:
        case MF_SCHEMA_LIST:
        case MF_SCHEMA_RANGE:
        default:
            if (within_bounds(row, row_number(row, base))) continue;
            break;
        }
        /* A failure: now the key's text. */
        char prefix[MF_CFG_KEY_LEN];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(prefix, sizeof prefix, lookup, a, b);
#pragma GCC diagnostic pop
        const char *key = key_of(k, "%s.%s", prefix, row->key);
        if (row->type == MF_SCHEMA_BOOL) return refuse(k, key, "must be true or false");
        if (row->type == MF_SCHEMA_ENUM) return refuse(k, key, "unknown value %d", value);
        if (row->type == MF_SCHEMA_STRING || row->type == MF_SCHEMA_PATH)
            return refuse(k, key, "unterminated string");
        char got[48], bounds[96];
        row_value_text(row, base, got, sizeof got);
        if (row->bound_text) return refuse(k, key, "%s, got %s", row->bound_text, got);
        if (!row->lo_kind && !row->hi_kind)
            return refuse(k, key, "must be a finite number, got %s", got);
        mf_schema_row bare = *row;
        bare.bound_doc = NULL;
        mf_schema_bounds_text(&bare, bounds, sizeof bounds);
        return refuse(k, key, "must be %s, got %s", bounds, got);
    }
    return MF_OK;
}

static mf_status check_run(checker *k) {
    /* Every run key has a row; no cross-field rule. */
    return check_rows(k, table("run"), &k->c->run, "run", 0, 0);
}

static mf_status check_market(checker *k) {
    const mf_market_config *m = &k->c->market;
    int n = m->n_assets;
    if (n < 1 || n > MF_MAX_ASSETS)
        return refuse(k, "market.assets", "%d assets, expected 1 to %d (MF_MAX_ASSETS)", n,
                      MF_MAX_ASSETS);
    for (int i = 0; i < n; i++) {
        const mf_asset_config *a = &m->assets[i];
        if (!terminated(a->name, sizeof a->name) || !valid_name(a->name))
            return refuse(k, key_of(k, "market.assets[%d].name", i),
                          "'%.*s' is not a usable asset name (letters, digits, '_' and '-', not "
                          "only digits, not 'all')",
                          (int)sizeof a->name, a->name);
        for (int j = 0; j < i; j++)
            if (strcmp(m->assets[j].name, a->name) == 0)
                return refuse(k, key_of(k, "market.assets[%d].name", i),
                              "asset '%s' is listed twice", a->name);
        MF_CHECK(check_rows(k, table("market.assets[]"), a, "market.assets[%d]", i, 0));
        switch (a->replay_format) {
        case MF_REPLAY_NONE:
            if (a->replay_file[0])
                return refuse(k, key_of(k, "market.assets[%d].replay.format", i),
                              "replay.file is set but the format is none (csv or hdf5?)");
            break;
        case MF_REPLAY_CSV:
        case MF_REPLAY_HDF5:
            if (!a->replay_file[0])
                return refuse(k, key_of(k, "market.assets[%d].replay.file", i),
                              "replay.format is %s but no replay.file is given",
                              mf_replay_format_names[a->replay_format]);
            if (a->replay_format == MF_REPLAY_CSV && !a->replay_column[0])
                return refuse(k, key_of(k, "market.assets[%d].replay.column", i),
                              "a CSV replay needs the column of the price");
            if (a->replay_format == MF_REPLAY_HDF5 && !a->replay_dataset[0])
                return refuse(k, key_of(k, "market.assets[%d].replay.dataset", i),
                              "an HDF5 replay needs the dataset path");
            break;
        default:
            return refuse(k, key_of(k, "market.assets[%d].replay.format", i),
                          "unknown replay format %d", (int)a->replay_format);
        }
    }

    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            double value = m->correlation[i][j];
            if (!(value >= -1.0 && value <= 1.0))
                return refuse(k, key_of(k, "market.correlation[%d][%d]", i, j),
                              "must be in [-1, 1], got %g", value);
        }
        if (m->correlation[i][i] != 1.0)
            return refuse(k, key_of(k, "market.correlation[%d][%d]", i, i),
                          "the diagonal must be 1, got %g", m->correlation[i][i]);
        for (int j = 0; j < i; j++)
            if (fabs(m->correlation[i][j] - m->correlation[j][i]) > 1e-12)
                return refuse(k, key_of(k, "market.correlation[%d][%d]", i, j),
                              "not symmetric: %g here but %g at [%d][%d] (%s-%s)",
                              m->correlation[i][j], m->correlation[j][i], j, i, m->assets[i].name,
                              m->assets[j].name);
    }
    double packed[MF_MAX_ASSETS * MF_MAX_ASSETS], lower[MF_MAX_ASSETS * MF_MAX_ASSETS];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            packed[i * n + j] = m->correlation[i][j];
    double pivot = 0.0;
    int failed = cholesky(packed, n, lower, &pivot);
    if (failed >= 0)
        return refuse(k, "market.correlation",
                      "not positive definite: Cholesky pivot %d of %d (asset %s) is %.6g, "
                      "must be > 0 (the correlations contradict each other)",
                      failed + 1, n, m->assets[failed].name, pivot);

    MF_CHECK(check_rows(k, table("market"), m, "market", 0, 0));
    if (!(m->garch_alpha + m->garch_beta < 1.0))
        return refuse(k, "market.garch.beta",
                      "alpha + beta must be < 1 (stationary variance), got %g + %g = %g",
                      m->garch_alpha, m->garch_beta, m->garch_alpha + m->garch_beta);

    if (m->n_stress < 0 || m->n_stress > MF_MAX_STRESS)
        return refuse(k, "market.stress", "%d shocks, at most %d (MF_MAX_STRESS)", m->n_stress,
                      MF_MAX_STRESS);
    for (int s = 0; s < m->n_stress; s++) {
        const mf_stress_config *shock = &m->stress[s];
        if (shock->asset < -1 || shock->asset >= n)
            return refuse(k, key_of(k, "market.stress[%d].asset", s), "unknown asset index %d",
                          shock->asset);
        MF_CHECK(check_rows(k, table("market.stress[]"), shock, "market.stress[%d]", s, 0));
        if (shock->start_step < 0 || shock->start_step >= k->c->run.steps)
            return refuse(k, key_of(k, "market.stress[%d].start_step", s),
                          "must be a step in 0..%" PRId32 " (run.steps = %" PRId32
                          "), got %" PRId32,
                          k->c->run.steps - 1, k->c->run.steps, shock->start_step);
    }
    return MF_OK;
}

/* venue.margin_scale keeps maintenance below initial margin on ladders whose leverage caps do
 * not rise with notional (every published one); any other ladder is checked here. */
static mf_status check_scaled_ladder(checker *k, int i, const mf_venue_market_config *market) {
    const double scale = k->c->venue.margin_scale;
    if (scale == 1.0) return MF_OK;
    mf_tier_table ladder;
    memset(&ladder, 0, sizeof ladder);
    ladder.n_tiers[0] = market->n_tiers;
    for (int t = 0; t < market->n_tiers; t++) {
        ladder.floor_usd[0][t] = market->tiers[t].floor_usd;
        ladder.mmr[0][t] = market->tiers[t].mmr;
        ladder.max_leverage[0][t] = market->tiers[t].max_leverage;
    }
    mf_tier_ladder_scale(&ladder, 0, scale);
    for (int t = 0; t < market->n_tiers; t++)
        if (!(ladder.mmr[0][t] < 1.0 / ladder.max_leverage[0][t]))
            return refuse(k, key_of(k, "venue.margin_scale"),
                          "%g scales venue.markets[%d].tiers[%d] to maintenance %g, not below its "
                          "initial margin rate %g (its leverage cap rises from the bracket "
                          "before)",
                          scale, i, t, ladder.mmr[0][t], 1.0 / ladder.max_leverage[0][t]);
    return MF_OK;
}

static mf_status check_tiers(checker *k, int i, mf_venue_market_config *market) {
    if (market->n_tiers < 1 || market->n_tiers > MF_MAX_TIERS)
        return refuse(k, key_of(k, "venue.markets[%d].tiers", i),
                      "%d tiers, expected 1 to %d (MF_MAX_TIERS)", market->n_tiers, MF_MAX_TIERS);
    for (int t = 0; t < market->n_tiers; t++) {
        const mf_tier_config *tier = &market->tiers[t];
        const mf_tier_config *before = t ? &market->tiers[t - 1] : NULL;
        MF_CHECK(check_rows(k, table("venue.markets[].tiers[]"), tier,
                            "venue.markets[%d].tiers[%d]", i, t));
        if (!before && tier->floor_usd != 0.0)
            return refuse(k, key_of(k, "venue.markets[%d].tiers[%d].floor_usd", i, t),
                          "the first tier must start at floor_usd 0, got %g", tier->floor_usd);
        if (before && !(tier->floor_usd > before->floor_usd && isfinite(tier->floor_usd)))
            return refuse(k, key_of(k, "venue.markets[%d].tiers[%d].floor_usd", i, t),
                          "tier floors must be strictly ascending: %g after %g", tier->floor_usd,
                          before->floor_usd);
        if (before && tier->mmr < before->mmr)
            return refuse(k, key_of(k, "venue.markets[%d].tiers[%d].mmr", i, t),
                          "maintenance rates must not decrease from tier to tier: %g after %g",
                          tier->mmr, before->mmr);
        if (!(tier->mmr < 1.0 / tier->max_leverage))
            return refuse(k, key_of(k, "venue.markets[%d].tiers[%d].mmr", i, t),
                          "%g is not below the initial margin rate 1/max_leverage = 1/%g = %g "
                          "(maintenance margin must be below initial margin)",
                          tier->mmr, tier->max_leverage, 1.0 / tier->max_leverage);
    }
    derive_cum(market);
    return check_scaled_ladder(k, i, market);
}

static mf_status check_venue(checker *k, mf_venue_config *v) {
    MF_CHECK(check_rows(k, table("venue"), v, "venue", 0, 0));
    if (v->portfolio_points % 2 == 0)
        return refuse(k, "venue.portfolio_margin.points",
                      "%d is even: give an odd number so that the move 0 is a scenario",
                      (int)v->portfolio_points);
    for (int i = 0; i < k->c->market.n_assets; i++) {
        mf_venue_market_config *market = &v->markets[i];
        MF_CHECK(check_rows(k, table("venue.markets[]"), market, "venue.markets[%d]", i, 0));
        MF_CHECK(check_tiers(k, i, market));
    }
    return MF_OK;
}

static mf_status check_population(checker *k) {
    const mf_population_config *p = &k->c->population;
    MF_CHECK(check_rows(k, table("population"), p, "population", 0, 0));
    if (p->accounts < (p->file[0] ? 0 : 1))
        return refuse(k, "population.accounts", "must be >= 1, got %" PRId64, p->accounts);
    const double shares = p->isolated_share + p->cross_share + p->portfolio_share;
    if (fabs(shares - 1.0) > 1e-9)
        return refuse(k, "population.margin_modes",
                      "the shares must sum to 1, got isolated %g + cross %g + portfolio %g = %.12g",
                      p->isolated_share, p->cross_share, p->portfolio_share, shares);
    for (int i = 0; i < k->c->market.n_assets; i++) {
        MF_CHECK(check_rows(k, table("population.assets[]"), &p->assets[i], "population.assets[%d]",
                            i, 0));
    }
    return MF_OK;
}

/* The sweep's shape (the loaders also build and check every point, which needs the source). */
static mf_status check_output(checker *k, const mf_output_config *o) {
    MF_CHECK(check_rows(k, table("output"), o, "output", 0, 0));
    if (o->n_quantiles < 1 || o->n_quantiles > MF_MAX_QUANTILES)
        return refuse(k, "output.quantiles", "%d levels: give 1 to %d (MF_MAX_QUANTILES)",
                      o->n_quantiles, MF_MAX_QUANTILES);
    for (int q = 0; q < o->n_quantiles; q++) {
        const double level = o->quantiles[q];
        if (!(level > 0.0 && level < 1.0))
            return refuse(k, key_of(k, "output.quantiles[%d]", q),
                          "a quantile level must be in (0, 1) (0.99 for the 99%% quantile), "
                          "got %g",
                          level);
        if (q > 0 && !(level > o->quantiles[q - 1]))
            return refuse(k, key_of(k, "output.quantiles[%d]", q),
                          "the levels must be strictly increasing, got %g after %g", level,
                          o->quantiles[q - 1]);
    }
    if (o->n_traces < 0 || o->n_traces > MF_MAX_TRACES)
        return refuse(k, "output.traces", "%d paths: give at most %d (MF_MAX_TRACES)", o->n_traces,
                      MF_MAX_TRACES);
    for (int i = 0; i < o->n_traces; i++) {
        if (o->traces[i] < 0 || o->traces[i] >= k->c->run.paths)
            return refuse(k, key_of(k, "output.traces[%d]", i),
                          "path %lld does not exist: paths are 0 to run.paths - 1 = %lld",
                          (long long)o->traces[i], (long long)k->c->run.paths - 1);
        if (i > 0 && !(o->traces[i] > o->traces[i - 1]))
            return refuse(k, key_of(k, "output.traces[%d]", i),
                          "the paths must be strictly increasing, got %lld after %lld",
                          (long long)o->traces[i], (long long)o->traces[i - 1]);
    }
    if (o->traces_worst > 0 && !o->path_values)
        return refuse(k, "output.traces_worst",
                      "the worst paths are found from the path values: set output.path_values "
                      "to true, or list the paths in output.traces");
    return MF_OK;
}

static mf_status check_sweep(checker *k, mf_sweep_config *s) {
    if (s->n_params < 0 || s->n_params > MF_MAX_SWEEP_PARAMS)
        return refuse(k, "sweep.parameters",
                      "%d parameters, expected 0 to %d (MF_MAX_SWEEP_PARAMS)", s->n_params,
                      MF_MAX_SWEEP_PARAMS);
    MF_CHECK(check_rows(k, table("sweep"), s, "sweep", 0, 0));
    for (int p = 0; p < s->n_params; p++) {
        const char *key = key_of(k, "sweep.parameters[%d]", p);
        if (!terminated(s->keys[p], sizeof s->keys[p]) || !s->keys[p][0])
            return refuse(k, key, "the key is empty or unterminated");
        const char *why = unsweepable(s->keys[p]);
        if (why) return refuse(k, key, "'%s' cannot be swept: %s", s->keys[p], why);
        if (s->n_values[p] < 1 || s->n_values[p] > MF_MAX_SWEEP_VALUES)
            return refuse(k, key, "%d values, expected 1 to %d (MF_MAX_SWEEP_VALUES)",
                          s->n_values[p], MF_MAX_SWEEP_VALUES);
        if (!s->values[p] || !s->numbers[p]) return refuse(k, key, "the values are missing");
        if (s->kind[p] != MF_SWEEP_VALUES && s->kind[p] != MF_SWEEP_LINEAR &&
            s->kind[p] != MF_SWEEP_LOG)
            return refuse(k, key, "unknown kind of values %d", (int)s->kind[p]);
        if (s->mode == MF_SWEEP_ZIP && s->n_values[p] != s->n_values[0])
            return refuse(k, key,
                          "mode zip needs lists of the same length: %d values here, %d in "
                          "sweep.parameters[0]",
                          s->n_values[p], s->n_values[0]);
    }
    char why[256];
    int64_t points = count_points(s, why, sizeof why);
    if (points < 0)
        return refuse(k, "sweep.parameters", "too many points: %s is over %d", why,
                      MF_MAX_SWEEP_POINTS);
    s->n_points = points;
    return MF_OK;
}

static mf_status validate(mf_config *c, const mf_cfg_context *ctx) {
    checker k = {ctx, c, ""};
    if (!terminated(c->source_file, sizeof c->source_file))
        return MF_FAIL(MF_ERR_CONFIG, "config: source_file is not a terminated string");
    MF_CHECK(check_run(&k));
    MF_CHECK(check_market(&k));
    MF_CHECK(check_venue(&k, &c->venue));
    MF_CHECK(check_population(&k));
    MF_CHECK(check_rows(&k, table("cascade"), &c->cascade, "cascade", 0, 0));
    MF_CHECK(check_output(&k, &c->output));
    MF_CHECK(check_sweep(&k, &c->sweep));
    return MF_OK;
}

mf_status mf_config_validate(mf_config *config) {
    if (!config) return MF_FAIL(MF_ERR_INTERNAL, "mf_config_validate: NULL config");
    return validate(config, NULL);
}

/* ---- emitter ------------------------------------------------------------------------------ */

typedef struct {
    char *data;
    size_t length;
    size_t capacity;
    int failed;
} text_buffer;

static void emit(text_buffer *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(text_buffer *b, const char *fmt, ...) {
    if (b->failed) return;
    for (;;) {
        va_list args;
        va_start(args, fmt);
        int needed = vsnprintf(b->data + b->length, b->capacity - b->length, fmt, args);
        va_end(args);
        if (needed < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)needed < b->capacity - b->length) {
            b->length += (size_t)needed;
            return;
        }
        size_t capacity = 2 * b->capacity + (size_t)needed + 1;
        char *grown = realloc(b->data, capacity);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->data = grown;
        b->capacity = capacity;
    }
}

/* The shortest %g text that reads back as the same double (%.17g at most): exact round trip
 * without 0.53000000000000003 noise. */
void mf_cfg_format_double(double value, char *out, size_t size) {
    format_double(value, out, size);
}

static void format_double(double value, char *out, size_t size) {
    if (isnan(value)) {
        snprintf(out, size, ".nan");
        return;
    }
    if (isinf(value)) {
        snprintf(out, size, value > 0 ? ".inf" : "-.inf");
        return;
    }
    if (value == floor(value) && fabs(value) < 1e15) {
        snprintf(out, size, "%.0f", value); /* 20000000, not 2e+07 */
        return;
    }
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(out, size, "%.*g", precision, value);
        if (strtod(out, NULL) == value) return;
    }
}

static void emit_double(text_buffer *b, double value) {
    char text[40];
    format_double(value, text, sizeof text);
    emit(b, "%s", text);
}

static void emit_string(text_buffer *b, const char *text) {
    emit(b, "\"");
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\')
            emit(b, "\\%c", *p);
        else if (*p == '\n')
            emit(b, "\\n");
        else if (*p == '\t')
            emit(b, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            emit(b, "\\x%02x", *p);
        else
            emit(b, "%c", *p);
    }
    emit(b, "\"");
}

/* A string field of `size` bytes, quoted (an unterminated one is cut at its size). */
static void emit_field_string(text_buffer *b, const char *field, size_t size) {
    char text[MF_PATH_LEN + 1];
    size_t length = strnlen(field, size < sizeof text ? size : sizeof text - 1);
    memcpy(text, field, length);
    text[length] = '\0';
    emit_string(b, text);
}

/* One row's value as YAML. */
static void emit_row_value(text_buffer *b, const mf_schema_row *row, const void *base) {
    const void *field = const_field_of(base, row);
    switch (row->type) {
    case MF_SCHEMA_INT32:
    case MF_SCHEMA_INT64:
    case MF_SCHEMA_UINT64: {
        char text[48];
        row_value_text(row, base, text, sizeof text);
        emit(b, "%s", text);
        break;
    }
    case MF_SCHEMA_DOUBLE:
        emit_double(b, row_number(row, base));
        break;
    case MF_SCHEMA_BOOL: {
        int value;
        memcpy(&value, field, sizeof value);
        emit(b, "%s", value ? "true" : "false");
        break;
    }
    case MF_SCHEMA_STRING:
    case MF_SCHEMA_PATH:
        emit_field_string(b, (const char *)field, row->size);
        break;
    case MF_SCHEMA_ENUM: {
        int value, n = 0;
        memcpy(&value, field, sizeof value);
        while (row->names[n])
            n++;
        /* The names table is the only spelling; a value outside it cannot be read back. */
        emit(b, "%s", value >= 0 && value < n ? row->names[value] : "invalid");
        break;
    }
    case MF_SCHEMA_NAME:
    case MF_SCHEMA_LIST:
    case MF_SCHEMA_RANGE:
    default:
        break;
    }
}

typedef struct {
    const mf_config *config;
    int item;             /* the list entry being written (its asset, tier, shock) */
    const char *identity; /* a NAME row's value: the entry's asset name (or all) */
} emit_context;

static void emit_list(text_buffer *b, const emit_context *e, const mf_schema_table *t,
                      const char *key, int indent);

/* The rows of table `t` under `prefix` as a block mapping at `indent` spaces; the first line
 * starts with `first` instead when given (a list entry's "- "). Lists are written by
 * emit_list where their row stands, so no key can be left out. */
static void emit_rows(text_buffer *b, const emit_context *e, const mf_schema_table *t,
                      const void *base, const char *prefix, int indent, const char *first) {
    size_t length = strlen(prefix);
    for (size_t r = 0; r < t->n_rows; r++) {
        const mf_schema_row *row = &t->rows[r];
        if (strncmp(row->key, prefix, length) != 0) continue;
        const char *rest = row->key + length;
        const char *dot = strchr(rest, '.');
        if (dot) {
            /* A nested mapping, written once where its first row stands. */
            size_t segment = (size_t)(dot - rest);
            int seen = 0;
            for (size_t q = 0; q < r && !seen; q++)
                seen = strncmp(t->rows[q].key, row->key, length + segment + 1) == 0;
            if (seen) continue;
        }
        if (first) {
            emit(b, "%s", first);
            first = NULL;
        } else {
            emit(b, "%*s", indent, "");
        }
        if (dot) {
            char sub[MF_CFG_KEY_LEN];
            mf_cfg_format(sub, sizeof sub, "%.*s", (int)(dot - row->key) + 1, row->key);
            emit(b, "%.*s:\n", (int)(dot - rest), rest);
            emit_rows(b, e, t, base, sub, indent + 2, NULL);
            continue;
        }
        emit(b, "%s:", rest);
        if (row->type == MF_SCHEMA_LIST) {
            emit_list(b, e, t, row->key, indent);
            continue;
        }
        emit(b, " ");
        if (row->type == MF_SCHEMA_NAME)
            emit_string(b, e->identity ? e->identity : "");
        else
            emit_row_value(b, row, base);
        emit(b, "\n");
    }
}

static int clamp_count(int n, int max) {
    return n < 0 ? 0 : (n > max ? max : n);
}

/* The sweep's parameters: keys quoted, values as given (lists) or as ranges. */
static void emit_sweep_parameters(text_buffer *b, const mf_sweep_config *sw, int indent) {
    int n_params = clamp_count(sw->n_params, MF_MAX_SWEEP_PARAMS);
    emit(b, "%s\n", n_params ? "" : " []");
    for (int q = 0; q < n_params; q++) {
        emit(b, "%*s- key: ", indent + 2, "");
        if (terminated(sw->keys[q], sizeof sw->keys[q]))
            emit_string(b, sw->keys[q]);
        else
            emit(b, "\"\"");
        emit(b, "\n");
        if (sw->kind[q] == MF_SWEEP_LINEAR || sw->kind[q] == MF_SWEEP_LOG) {
            emit(b, "%*s%s: {start: ", indent + 4, "",
                 sw->kind[q] == MF_SWEEP_LOG ? "log" : "linear");
            emit_double(b, sw->start[q]);
            emit(b, ", stop: ");
            emit_double(b, sw->stop[q]);
            emit(b, ", num: %d}\n", sw->n_values[q]);
        } else {
            emit(b, "%*svalues: [", indent + 4, "");
            for (int i = 0; sw->values[q] && i < sw->n_values[q]; i++)
                emit(b, "%s%s", i ? ", " : "", sw->values[q][i]);
            emit(b, "]\n");
        }
    }
}

/* The hook of the list rows: market.assets, market.correlation, market.stress,
 * venue.markets (and their tiers), population.assets, sweep.parameters. */
static void emit_list(text_buffer *b, const emit_context *e, const mf_schema_table *t,
                      const char *key, int indent) {
    const mf_config *c = e->config;
    const mf_market_config *m = &c->market;
    int n = clamp_count(m->n_assets, MF_MAX_ASSETS);
    char dash[32];
    snprintf(dash, sizeof dash, "%*s- ", indent + 2, "");
    const char *name = t->name;
    if (strcmp(name, "market") == 0 && strcmp(key, "assets") == 0) {
        emit(b, "\n");
        for (int i = 0; i < n; i++) {
            char asset_name[MF_NAME_LEN + 1];
            snprintf(asset_name, sizeof asset_name, "%.*s", MF_NAME_LEN, m->assets[i].name);
            emit_context item = {c, i, asset_name};
            emit_rows(b, &item, table("market.assets[]"), &m->assets[i], "", indent + 4, dash);
        }
    } else if (strcmp(name, "market") == 0 && strcmp(key, "correlation") == 0) {
        emit(b, "\n");
        for (int i = 0; i < n; i++) {
            emit(b, "%s[", dash);
            for (int j = 0; j < n; j++) {
                if (j) emit(b, ", ");
                emit_double(b, m->correlation[i][j]);
            }
            emit(b, "]\n");
        }
    } else if (strcmp(name, "market") == 0 && strcmp(key, "stress") == 0) {
        int n_stress = clamp_count(m->n_stress, MF_MAX_STRESS);
        emit(b, "%s\n", n_stress ? "" : " []");
        for (int s = 0; s < n_stress; s++) {
            const mf_stress_config *shock = &m->stress[s];
            char asset_name[MF_NAME_LEN + 1] = "all";
            if (shock->asset >= 0 && shock->asset < n)
                snprintf(asset_name, sizeof asset_name, "%.*s", MF_NAME_LEN,
                         m->assets[shock->asset].name);
            emit_context item = {c, s, asset_name};
            emit_rows(b, &item, table("market.stress[]"), shock, "", indent + 4, dash);
        }
    } else if (strcmp(name, "venue") == 0 && strcmp(key, "markets") == 0) {
        emit(b, "\n");
        for (int i = 0; i < n; i++) {
            char asset_name[MF_NAME_LEN + 1];
            snprintf(asset_name, sizeof asset_name, "%.*s", MF_NAME_LEN, m->assets[i].name);
            emit_context item = {c, i, asset_name};
            emit_rows(b, &item, table("venue.markets[]"), &c->venue.markets[i], "", indent + 4,
                      dash);
        }
    } else if (strcmp(name, "venue.markets[]") == 0 && strcmp(key, "tiers") == 0) {
        const mf_venue_market_config *market = &c->venue.markets[e->item];
        int n_tiers = clamp_count(market->n_tiers, MF_MAX_TIERS);
        emit(b, "\n");
        for (int i = 0; i < n_tiers; i++) {
            /* One line per tier (flow style), as the configs write them. */
            emit(b, "%s{", dash);
            const mf_schema_table *tiers = table("venue.markets[].tiers[]");
            for (size_t r = 0; r < tiers->n_rows; r++) {
                emit(b, "%s%s: ", r ? ", " : "", tiers->rows[r].key);
                emit_row_value(b, &tiers->rows[r], &market->tiers[i]);
            }
            emit(b, "}  # cum_usd %.10g\n", market->tiers[i].cum_usd); /* derived */
        }
    } else if (strcmp(name, "population") == 0 && strcmp(key, "assets") == 0) {
        emit(b, "\n");
        for (int i = 0; i < n; i++) {
            char asset_name[MF_NAME_LEN + 1];
            snprintf(asset_name, sizeof asset_name, "%.*s", MF_NAME_LEN, m->assets[i].name);
            emit_context item = {c, i, asset_name};
            emit_rows(b, &item, table("population.assets[]"), &c->population.assets[i], "",
                      indent + 4, dash);
        }
    } else if (strcmp(name, "sweep") == 0 && strcmp(key, "parameters") == 0) {
        emit_sweep_parameters(b, &c->sweep, indent);
    } else if (strcmp(name, "output") == 0 && strcmp(key, "traces") == 0) {
        emit(b, " [");
        for (int i = 0; i < clamp_count(c->output.n_traces, MF_MAX_TRACES); i++) {
            char number[32];
            snprintf(number, sizeof number, "%s%lld", i ? ", " : "",
                     (long long)c->output.traces[i]);
            emit(b, "%s", number);
        }
        emit(b, "]\n");
    } else if (strcmp(name, "output") == 0 && strcmp(key, "quantiles") == 0) {
        emit(b, " [");
        for (int q = 0; q < clamp_count(c->output.n_quantiles, MF_MAX_QUANTILES); q++) {
            if (q) emit(b, ", ");
            emit_double(b, c->output.quantiles[q]);
        }
        emit(b, "]\n");
    } else {
        emit(b, " ~  # no writer for this list\n");
        b->failed = 2;
    }
}

/* The struct of a section table. */
static const void *section_base(const mf_config *c, const char *name) {
    if (strcmp(name, "run") == 0) return &c->run;
    if (strcmp(name, "market") == 0) return &c->market;
    if (strcmp(name, "venue") == 0) return &c->venue;
    if (strcmp(name, "population") == 0) return &c->population;
    if (strcmp(name, "cascade") == 0) return &c->cascade;
    if (strcmp(name, "output") == 0) return &c->output;
    if (strcmp(name, "sweep") == 0) return &c->sweep;
    return NULL;
}

mf_status mf_config_to_yaml(const mf_config *config, char **yaml_text) {
    if (!config || !yaml_text) return MF_FAIL(MF_ERR_INTERNAL, "mf_config_to_yaml: NULL argument");
    *yaml_text = NULL;
    text_buffer b = {NULL, 0, 0, 0};
    b.data = malloc(4096);
    if (!b.data) return MF_FAIL(MF_ERR_MEMORY, "out of memory for the resolved config");
    b.capacity = 4096;
    b.data[0] = '\0';

    /* Every section and key in schema order: the emitter walks the schema's rows. */
    emit(&b, "# marginfall resolved configuration (every key; docs/config.md)\n");
    for (size_t t = 0; t < mf_schema_n_tables; t++) {
        const mf_schema_table *section = &mf_schema_tables[t];
        if (strchr(section->name, '.')) continue; /* list entries: written by their lists */
        const void *base = section_base(config, section->name);
        if (!base) {
            b.failed = 2;
            break;
        }
        emit_context e = {config, 0, NULL};
        emit(&b, "%s:\n", section->name);
        emit_rows(&b, &e, section, base, "", 2, NULL);
    }

    if (b.failed) {
        free(b.data);
        if (b.failed == 2)
            return MF_FAIL(MF_ERR_INTERNAL, "the resolved config has no writer for a schema list");
        return MF_FAIL(MF_ERR_MEMORY, "out of memory writing the resolved config");
    }
    *yaml_text = b.data;
    return MF_OK;
}

/* ---- sweep points ------------------------------------------------------------------------ */

/* The points of a sweep (1 without one; 0 when the struct is not a usable sweep). */
static int64_t sweep_points(const mf_sweep_config *s) {
    if (s->n_params == 0) return 1;
    if (s->n_params < 0 || s->n_params > MF_MAX_SWEEP_PARAMS) return 0;
    for (int p = 0; p < s->n_params; p++)
        if (s->n_values[p] < 1 || !s->values[p] || !s->numbers[p]) return 0;
    int64_t points = count_points(s, NULL, 0);
    return points < 0 ? 0 : points;
}

static int value_index(const mf_sweep_config *s, int64_t point, int param) {
    if (param < 0 || param >= s->n_params || point < 0 || point >= sweep_points(s)) return -1;
    if (s->mode == MF_SWEEP_ZIP) return (int)point;
    int64_t stride = 1; /* row-major: the last parameter varies fastest */
    for (int q = s->n_params - 1; q > param; q--)
        stride *= s->n_values[q];
    return (int)((point / stride) % s->n_values[param]);
}

int mf_sweep_value_index(const mf_config *config, int64_t point, int param) {
    return config ? value_index(&config->sweep, point, param) : -1;
}

double mf_sweep_point_value(const mf_config *config, int64_t point, int param) {
    int i = mf_sweep_value_index(config, point, param);
    return i < 0 ? NAN : config->sweep.numbers[param][i];
}

const char *mf_sweep_point_text(const mf_config *config, int64_t point, int param) {
    int i = mf_sweep_value_index(config, point, param);
    return i < 0 ? NULL : config->sweep.values[param][i];
}

void mf_sweep_free_overrides(char **overrides, int n) {
    if (!overrides) return;
    for (int i = 0; i < n; i++)
        free(overrides[i]);
    free(overrides);
}

static mf_status point_overrides(const mf_sweep_config *s, int64_t point, char ***overrides_out,
                                 int *n_out) {
    *overrides_out = NULL;
    *n_out = 0;
    int64_t points = sweep_points(s);
    if (point < 0 || point >= points)
        return MF_FAIL(MF_ERR_INTERNAL, "sweep point %lld out of range (the sweep has %lld)",
                       (long long)point, (long long)points);
    if (s->n_params == 0) return MF_OK;
    char **overrides = calloc((size_t)s->n_params, sizeof *overrides);
    if (!overrides) return MF_FAIL(MF_ERR_MEMORY, "out of memory for sweep overrides");
    for (int p = 0; p < s->n_params; p++) {
        const char *text = s->values[p][value_index(s, point, p)];
        size_t size = strlen(s->keys[p]) + strlen(text) + 2;
        overrides[p] = malloc(size);
        if (!overrides[p]) {
            mf_sweep_free_overrides(overrides, p);
            return MF_FAIL(MF_ERR_MEMORY, "out of memory for sweep overrides");
        }
        snprintf(overrides[p], size, "%s=%s", s->keys[p], text);
    }
    *overrides_out = overrides;
    *n_out = s->n_params;
    return MF_OK;
}

mf_status mf_sweep_point_overrides(const mf_config *config, int64_t point, char ***overrides_out,
                                   int *n_out) {
    if (!config || !overrides_out || !n_out)
        return MF_FAIL(MF_ERR_INTERNAL, "mf_sweep_point_overrides: NULL argument");
    MF_CHECK(point_overrides(&config->sweep, point, overrides_out, n_out));
    return MF_OK;
}

/* What every point of one base config shares. */
typedef struct {
    const mf_cfg_context *ctx;        /* the base's: file name and the user's overrides */
    mf_cfg_node *tree;                /* the base document, overrides applied, sweep removed */
    const mf_cfg_node *defaults_tree; /* for lists the document does not give */
    const mf_config *defaults;
    const sweep_places *places;
    const mf_sweep_config *sweep;
} point_source;

/* The user's overrides followed by the point's: origins n_user + p are parameter p's. */
typedef struct {
    char **point_set;
    int n_point;
    const char **all;
    int n_all;
} point_overrides_list;

static void free_point_list(point_overrides_list *list) {
    mf_sweep_free_overrides(list->point_set, list->n_point);
    free(list->all);
    memset(list, 0, sizeof *list);
}

static mf_status make_point_list(const point_source *source, int64_t point,
                                 point_overrides_list *list) {
    memset(list, 0, sizeof *list);
    MF_CHECK(point_overrides(source->sweep, point, &list->point_set, &list->n_point));
    const int n_user = source->ctx->n_overrides;
    list->all = calloc((size_t)(n_user + list->n_point) + 1, sizeof *list->all);
    if (!list->all) {
        free_point_list(list);
        return MF_FAIL(MF_ERR_MEMORY, "out of memory for sweep overrides");
    }
    for (int i = 0; i < n_user; i++)
        list->all[i] = source->ctx->overrides[i];
    for (int p = 0; p < list->n_point; p++)
        list->all[n_user + p] = list->point_set[p];
    list->n_all = n_user + list->n_point;
    return MF_OK;
}

/* Convert and validate the tree (the point's values already in it) into *out. */
static mf_status convert_point(const point_source *source, const point_overrides_list *list,
                               mf_cfg_failure *failure, int skip_keys, mf_config *out) {
    mf_cfg_context ctx = {source->ctx->file, list->all, list->n_all, NULL, 0, 0,
                          failure,           skip_keys};
    *out = *source->defaults;
    mf_status status = MF_OK;
    MF_CHECK_GOTO(mf_cfg_remember(&ctx, "", "", MF_CFG_FROM_FILE, 1), status, done);
    MF_CHECK_GOTO(convert(&ctx, source->tree, source->defaults, source->defaults_tree, NULL, out),
                  status, done);
    copy_name(out->source_file, sizeof out->source_file, source->ctx->file);
    MF_CHECK_GOTO(validate(out, &ctx), status, done);
done:
    mf_cfg_context_free(&ctx);
    return status;
}

/* A point's failure, reported at the sweep parameter whose value caused it (or at
 * sweep.parameters when the failing key is not swept), with the point, its values and the
 * message of the key that failed. */
static mf_status point_failure(const point_source *source, int64_t point,
                               const point_overrides_list *list, const mf_cfg_failure *failure) {
    const int n_user = source->ctx->n_overrides;
    int param = -1;
    if (failure->set && failure->origin >= n_user && failure->origin < list->n_all)
        param = failure->origin - n_user;
    char inner[1280];
    if (!failure->set) {
        snprintf(inner, sizeof inner, "%s", mf_error_message());
    } else {
        char where[320] = "";
        /* A key the user's --set gave says so; a key of the file or the defaults is named
         * by the key alone (its line could be an ancestor's, which would mislead here). */
        if (param < 0 && failure->origin >= 0 && failure->origin < n_user)
            snprintf(where, sizeof where, "--set %.280s: ", list->all[failure->origin]);
        /* A message too long for the buffer is cut: fine for a one-line error. */
        const int length = snprintf(inner, sizeof inner, "%s%s%s%.1000s", where, failure->key,
                                    failure->key[0] ? ": " : "", failure->message);
        (void)length;
    }
    char values[640] = "";
    for (int p = 0; p < list->n_point; p++) {
        size_t used = strlen(values);
        if (used + 1 < sizeof values)
            snprintf(values + used, sizeof values - used, "%s%.200s", p ? ", " : "",
                     list->point_set[p]);
    }
    char key[64];
    int origin = source->places->origin, line = source->places->line;
    if (param >= 0) {
        snprintf(key, sizeof key, "sweep.parameters[%d]", param);
        origin = source->places->param_origin[param];
        line = source->places->param_line[param];
    } else {
        snprintf(key, sizeof key, "sweep.parameters");
    }
    mf_error_clear();
    return mf_cfg_fail(source->ctx, origin, line, key, "point %lld (%s): %s", (long long)point,
                       values, inner);
}

/* Apply a point's overrides to the tree (the --set path). */
static mf_status apply_point(const point_source *source, const point_overrides_list *list,
                             mf_cfg_failure *failure) {
    mf_cfg_context ctx = {source->ctx->file, list->all, list->n_all, NULL, 0, 0, failure, 1};
    for (int i = source->ctx->n_overrides; i < list->n_all; i++)
        MF_CHECK(mf_cfg_apply_override(&ctx, source->tree, i, source->defaults_tree));
    return MF_OK;
}

/* Point `point` as a validated config in *out, the tree edited by its overrides. */
static mf_status build_point(const point_source *source, int64_t point, mf_config *out) {
    *out = *source->defaults;
    point_overrides_list list;
    MF_CHECK(make_point_list(source, point, &list));
    mf_cfg_failure failure;
    memset(&failure, 0, sizeof failure);
    mf_status status = apply_point(source, &list, &failure);
    if (status == MF_OK) status = convert_point(source, &list, &failure, 0, out);
    if (status == MF_ERR_CONFIG) status = point_failure(source, point, &list, &failure);
    free_point_list(&list);
    return status;
}

/* Build and validate every point, so that a sweep is refused before any work when one of its
 * points is bad. The overrides of point 0 go through the --set path; they leave every swept
 * key a scalar node in the tree, and the later points only change those nodes' values (the
 * same tree the --set path would give, without copying the tree a million times). A point
 * is checked without recording key locations; a failing one is checked again with them. */
static mf_status check_points(const point_source *source) {
    const mf_sweep_config *s = source->sweep;
    const int n_user = source->ctx->n_overrides;
    mf_config *point_config = malloc(sizeof *point_config);
    mf_cfg_node **parsed[MF_MAX_SWEEP_PARAMS] = {NULL};
    mf_cfg_node *targets[MF_MAX_SWEEP_PARAMS] = {NULL};
    int current[MF_MAX_SWEEP_PARAMS];
    point_overrides_list list;
    memset(&list, 0, sizeof list);
    mf_cfg_failure failure;
    memset(&failure, 0, sizeof failure);
    mf_status status = MF_OK;
    if (!point_config) {
        status = MF_FAIL(MF_ERR_MEMORY, "out of memory for a sweep point");
        goto done;
    }
    /* Point 0 through the --set path. */
    MF_CHECK_GOTO(make_point_list(source, 0, &list), status, done);
    status = apply_point(source, &list, &failure);
    if (status == MF_ERR_CONFIG) status = point_failure(source, 0, &list, &failure);
    if (status != MF_OK) goto done;
    /* Every value as the node --set would make of it. */
    mf_cfg_context ctx = {source->ctx->file, list.all, list.n_all, NULL, 0, 0, NULL, 1};
    for (int p = 0; p < s->n_params; p++) {
        targets[p] = mf_cfg_lookup(source->tree, s->keys[p]);
        if (!targets[p] || targets[p]->kind != MF_CFG_SCALAR) {
            status = MF_FAIL(MF_ERR_INTERNAL, "sweep key %s is not a value after its override",
                             s->keys[p]);
            goto done;
        }
        current[p] = value_index(s, 0, p);
        parsed[p] = calloc((size_t)s->n_values[p], sizeof *parsed[p]);
        if (!parsed[p]) {
            status = MF_FAIL(MF_ERR_MEMORY, "out of memory for sweep values");
            goto done;
        }
        for (int i = 0; i < s->n_values[p]; i++) {
            const char *text = s->values[p][i];
            MF_CHECK_GOTO(mf_cfg_parse(&ctx, text, strlen(text), n_user + p, &parsed[p][i]), status,
                          done);
            if (!parsed[p][i] || parsed[p][i]->kind != MF_CFG_SCALAR) {
                status = MF_FAIL(MF_ERR_INTERNAL, "sweep value '%s' is not a scalar", text);
                goto done;
            }
        }
    }
    int64_t points = sweep_points(s);
    for (int64_t point = 0; point < points; point++) {
        for (int p = 0; p < s->n_params; p++) {
            int i = value_index(s, point, p);
            if (point > 0 && i == current[p]) continue;
            char *text = strdup(parsed[p][i]->text);
            if (!text) {
                status = MF_FAIL(MF_ERR_MEMORY, "out of memory for a sweep value");
                goto done;
            }
            free(targets[p]->text);
            targets[p]->text = text;
            targets[p]->quoted = parsed[p][i]->quoted;
            targets[p]->origin = n_user + p;
            targets[p]->line = 1;
            current[p] = i;
        }
        status = convert_point(source, &list, NULL, 1, point_config);
        if (status == MF_OK) continue;
        if (status != MF_ERR_CONFIG) goto done;
        /* Again with key locations and this point's overrides, for the message. */
        free_point_list(&list);
        MF_CHECK_GOTO(make_point_list(source, point, &list), status, done);
        memset(&failure, 0, sizeof failure);
        mf_error_clear();
        status = convert_point(source, &list, &failure, 0, point_config);
        if (status == MF_OK)
            status =
                MF_FAIL(MF_ERR_INTERNAL, "sweep point %lld failed once only", (long long)point);
        else if (status == MF_ERR_CONFIG)
            status = point_failure(source, point, &list, &failure);
        goto done;
    }
done:
    for (int p = 0; p < MF_MAX_SWEEP_PARAMS; p++) {
        for (int i = 0; parsed[p] && i < s->n_values[p]; i++)
            mf_cfg_free(parsed[p][i]);
        free(parsed[p]);
    }
    free_point_list(&list);
    free(point_config);
    return status;
}

/* ---- loading ------------------------------------------------------------------------------ */

/* point < 0: the config of the text and overrides, its sweep checked point by point.
 * point >= 0: that point of the sweep, validated, without a sweep. */
static mf_status load_text(mf_config *config, const char *text, size_t length, const char *name,
                           const char *const *overrides, int n_overrides, int64_t point) {
    if (!config) return MF_FAIL(MF_ERR_INTERNAL, "mf_config_load: NULL config");
    if (n_overrides < 0 || (n_overrides > 0 && !overrides))
        return MF_FAIL(MF_ERR_INTERNAL, "mf_config_load: bad override list (%d)", n_overrides);
    if (strlen(name) >= MF_PATH_LEN)
        return MF_FAIL(MF_ERR_CONFIG, "%.64s...: config path longer than %d characters", name,
                       MF_PATH_LEN - 1);
    mf_cfg_context ctx = {name, overrides, n_overrides, NULL, 0, 0, NULL, 0};
    mf_cfg_node *tree = NULL, *defaults_tree = NULL;
    char *defaults_text = NULL;
    mf_config *defaults = calloc(1, sizeof *defaults);
    mf_config *result = calloc(1, sizeof *result);
    mf_config *point_result = NULL;
    mf_status status = MF_OK;
    if (!defaults || !result) {
        status = MF_FAIL(MF_ERR_MEMORY, "out of memory for a config");
        goto done;
    }
    mf_config_set_defaults(defaults);
    MF_CHECK_GOTO(mf_cfg_parse(&ctx, text, length, MF_CFG_FROM_FILE, &tree), status, done);
    if (!tree)
        MF_CHECK_GOTO(mf_cfg_new_node(MF_CFG_MAPPING, MF_CFG_FROM_FILE, 1, &tree), status, done);
    if (n_overrides > 0 || mf_cfg_get(tree, "sweep")) {
        /* Lists an override (or a sweep point) reaches into but the file does not give are
         * copied from here. */
        MF_CHECK_GOTO(mf_config_to_yaml(defaults, &defaults_text), status, done);
        MF_CHECK_GOTO(mf_cfg_parse(&ctx, defaults_text, strlen(defaults_text), MF_CFG_FROM_DEFAULTS,
                                   &defaults_tree),
                      status, done);
        for (int i = 0; i < n_overrides; i++)
            MF_CHECK_GOTO(mf_cfg_apply_override(&ctx, tree, i, defaults_tree), status, done);
    }
    MF_CHECK_GOTO(mf_cfg_remember(&ctx, "", "", MF_CFG_FROM_FILE, 1), status, done);
    *result = *defaults;
    sweep_places places;
    memset(&places, 0, sizeof places);
    places.origin = MF_CFG_FROM_FILE;
    places.line = 1;
    MF_CHECK_GOTO(convert(&ctx, tree, defaults, defaults_tree, &places, result), status, done);
    copy_name(result->source_file, sizeof result->source_file, name);
    MF_CHECK_GOTO(validate(result, &ctx), status, done);
    if (result->sweep.n_params > 0 || point >= 0) {
        mf_cfg_remove(tree, "sweep");
        point_source source = {&ctx, tree, defaults_tree, defaults, &places, &result->sweep};
        if (point < 0) {
            MF_CHECK_GOTO(check_points(&source), status, done);
        } else {
            point_result = malloc(sizeof *point_result);
            if (!point_result) {
                status = MF_FAIL(MF_ERR_MEMORY, "out of memory for a config");
                goto done;
            }
            MF_CHECK_GOTO(build_point(&source, point, point_result), status, done);
            mf_config_free(result);
            *result = *point_result;
        }
    }
    *config = *result; /* the sweep's memory moves with it */
    memset(&result->sweep, 0, sizeof result->sweep);
done:
    mf_config_free(result);
    mf_cfg_free(tree);
    mf_cfg_free(defaults_tree);
    free(defaults_text);
    free(defaults);
    free(result);
    free(point_result);
    mf_cfg_context_free(&ctx);
    return status;
}

mf_status mf_config_load_point(mf_config *out, const char *yaml_text, const char *name,
                               int64_t point) {
    if (!yaml_text) yaml_text = "";
    if (point < 0)
        return MF_FAIL(MF_ERR_INTERNAL, "mf_config_load_point: point %lld < 0", (long long)point);
    MF_CHECK(
        load_text(out, yaml_text, strlen(yaml_text), name ? name : "<string>", NULL, 0, point));
    return MF_OK;
}

mf_status mf_config_load_string(mf_config *config, const char *yaml_text, const char *name,
                                const char *const *overrides, int n_overrides) {
    if (!yaml_text) yaml_text = "";
    return load_text(config, yaml_text, strlen(yaml_text), name ? name : "<string>", overrides,
                     n_overrides, -1);
}

/* 1 when the text holds anything but blank lines, comments and YAML document markers: an
 * empty file is a mistake (a truncated copy, the wrong path), not a request for the defaults. */
static int has_content(const char *text, size_t length) {
    size_t i = 0;
    while (i < length) {
        size_t end = i;
        while (end < length && text[end] != '\n')
            end++;
        size_t start = i;
        while (start < end && (text[start] == ' ' || text[start] == '\t' || text[start] == '\r'))
            start++;
        size_t stop = end;
        while (stop > start &&
               (text[stop - 1] == ' ' || text[stop - 1] == '\t' || text[stop - 1] == '\r'))
            stop--;
        const size_t n = stop - start;
        const int marker =
            n == 3 && (!strncmp(text + start, "---", 3) || !strncmp(text + start, "...", 3));
        if (n > 0 && text[start] != '#' && !marker) return 1;
        i = end + 1;
    }
    return 0;
}

mf_status mf_config_load(mf_config *config, const char *path, const char *const *overrides,
                         int n_overrides) {
    if (!path) {
        /* No file: the defaults plus the overrides (source_file stays empty). */
        MF_CHECK(load_text(config, "", 0, "(defaults)", overrides, n_overrides, -1));
        memset(config->source_file, 0, sizeof config->source_file);
        return MF_OK;
    }
    FILE *file = fopen(path, "rb");
    if (!file)
        return MF_FAIL(MF_ERR_CONFIG, "%s: cannot open the config file: %s", path, strerror(errno));
    size_t capacity = 8192, length = 0;
    char *text = malloc(capacity);
    if (!text) {
        fclose(file);
        return MF_FAIL(MF_ERR_MEMORY, "out of memory reading %s", path);
    }
    for (;;) {
        if (length == capacity) {
            if (capacity > ((size_t)64 << 20)) {
                free(text);
                fclose(file);
                return MF_FAIL(MF_ERR_CONFIG, "%s: larger than 64 MiB: not a config file", path);
            }
            char *grown = realloc(text, capacity * 2);
            if (!grown) {
                free(text);
                fclose(file);
                return MF_FAIL(MF_ERR_MEMORY, "out of memory reading %s", path);
            }
            text = grown;
            capacity *= 2;
        }
        size_t got = fread(text + length, 1, capacity - length, file);
        length += got;
        if (got == 0) break;
    }
    int read_error = ferror(file);
    int saved_errno = errno;
    fclose(file);
    if (read_error) {
        free(text);
        return MF_FAIL(MF_ERR_CONFIG, "%s: cannot read the config file: %s", path,
                       strerror(saved_errno));
    }
    if (!has_content(text, length)) {
        free(text);
        return MF_FAIL(MF_ERR_CONFIG,
                       "%s:1: the config file is empty (no sections): a scenario needs at least "
                       "one section; configs/default.yaml is a complete example (docs/config.md)",
                       path);
    }
    mf_status status = load_text(config, text, length, path, overrides, n_overrides, -1);
    free(text);
    if (status != MF_OK) mf_error_push_frame(__FILE__, __LINE__, __func__);
    return status;
}
