/* Internals of the config loader, shared by config.c (schema, defaults, validation, emitter)
 * and config_yaml.c (YAML node tree, --set overrides, located error messages).
 *
 * The loader does not convert libyaml's document straight into the struct: it first copies
 * it into a small tree of its own whose nodes remember where they came from (the file and a
 * line, one --set argument, or the built-in defaults). Overrides edit that tree, so a value
 * given with --set goes through exactly the same type and range checks as one in the file,
 * and every message can name its origin. */
#ifndef MF_CONFIG_INTERNAL_H
#define MF_CONFIG_INTERNAL_H

#include <stddef.h>

#include "config.h"
#include "mf_error.h"

/* Node origins: >= 0 is the index of the --set argument that created the node. */
enum { MF_CFG_FROM_FILE = -1, MF_CFG_FROM_DEFAULTS = -2 };

typedef enum { MF_CFG_SCALAR = 0, MF_CFG_SEQUENCE = 1, MF_CFG_MAPPING = 2 } mf_cfg_kind;

typedef struct mf_cfg_node mf_cfg_node;

typedef struct {
    mf_cfg_node *key; /* always a scalar */
    mf_cfg_node *value;
} mf_cfg_pair;

struct mf_cfg_node {
    mf_cfg_kind kind;
    int origin; /* MF_CFG_FROM_FILE, MF_CFG_FROM_DEFAULTS or a --set index */
    int line;   /* 1-based line in the file (origin MF_CFG_FROM_FILE) */
    char *text; /* scalar value, NUL-terminated */
    int quoted; /* scalar written quoted or as a block scalar: always a string */
    size_t count;
    mf_cfg_node **items; /* sequence items (count) */
    mf_cfg_pair *pairs;  /* mapping pairs (count), in document order */
};

/* Where a resolved key came from, so checks made after parsing can still name a line. */
typedef struct {
    char *lookup;  /* key with struct indices: venue.markets[2].depth_usd (asset 2) */
    char *display; /* key with YAML indices:   venue.markets[0].depth_usd (first entry) */
    int origin;
    int line;
} mf_cfg_key_entry;

#define MF_CFG_KEY_LEN 256

/* The parts of a failure, kept when a caller wants to reword it (a sweep point's check
 * reports the point and its values around the message of the key that failed). */
typedef struct {
    int set; /* 1 once mf_cfg_fail recorded a failure here */
    int origin;
    int line;
    char key[MF_CFG_KEY_LEN];
    char message[1536];
} mf_cfg_failure;

typedef struct {
    const char *file; /* name used in messages */
    const char *const *overrides;
    int n_overrides;
    mf_cfg_key_entry *keys;
    size_t n_keys;
    size_t cap_keys;
    mf_cfg_failure *failure; /* not NULL: mf_cfg_fail also records its parts here */
    int skip_keys; /* 1: a dry run (one sweep point of many): mf_cfg_remember records nothing
                      and the conversion builds no key texts, so messages lack their keys; a
                      failure is redone without it for its message */
} mf_cfg_context;

/* Parse YAML text into a tree whose nodes all get `origin`. An empty document gives NULL.
 * Syntax errors name ctx->file and line:column (origin FILE) or the --set argument. */
mf_status mf_cfg_parse(const mf_cfg_context *ctx, const char *text, size_t length, int origin,
                       mf_cfg_node **root);
void mf_cfg_free(mf_cfg_node *node);
mf_status mf_cfg_new_node(mf_cfg_kind kind, int origin, int line, mf_cfg_node **node);
/* Remove `key` (and its value) from a mapping node; nothing happens when it is absent. */
void mf_cfg_remove(mf_cfg_node *mapping, const char *key);

/* Value of `key` in a mapping node, or NULL (also when node is NULL or not a mapping). */
mf_cfg_node *mf_cfg_get(const mf_cfg_node *mapping, const char *key);
/* The pair holding `key` in a mapping node, or NULL. */
mf_cfg_pair *mf_cfg_get_pair(const mf_cfg_node *mapping, const char *key);

/* Apply ctx->overrides[index] ("dotted.key=value") to the tree. `defaults` is the tree of the
 * built-in defaults: a list the file does not give is copied from it before an item of it is
 * changed (market.assets.0.volatility=0.8 then edits the default BTC). */
mf_status mf_cfg_apply_override(const mf_cfg_context *ctx, mf_cfg_node *root, int index,
                                const mf_cfg_node *defaults);

/* A dotted --set key with list items named by position: venue.markets.BTC.tiers.0.mmr becomes
 * venue.markets.0.tiers.0.mmr when BTC is the first entry of venue.markets in `root` (or, for
 * a list `root` does not give, in `defaults`), and index 007 becomes 7. Segments that name
 * nothing are kept as written. Two keys that address the same value give the same text. */
void mf_cfg_canonical_key(const mf_cfg_node *root, const mf_cfg_node *defaults, const char *key,
                          char *out, size_t size);

/* The node a dotted --set key addresses in the tree (list items by position or name), or NULL
 * when the tree does not give it. */
mf_cfg_node *mf_cfg_lookup(mf_cfg_node *root, const char *key);

/* Record an error "LOCATION: KEY: message" (MF_ERR_CONFIG). LOCATION is FILE:LINE for the
 * file and defaults, "--set ARG" for an override; KEY is left out when NULL or empty. */
mf_status mf_cfg_fail(const mf_cfg_context *ctx, int origin, int line, const char *key,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Remember where a key came from (copies both strings). */
mf_status mf_cfg_remember(mf_cfg_context *ctx, const char *lookup, const char *display, int origin,
                          int line);
/* Find where a lookup key (or its nearest given ancestor) came from. display receives the
 * key as the user wrote it. Keys nobody gave fall back to line 1 of the file. */
void mf_cfg_locate(const mf_cfg_context *ctx, const char *lookup, int *origin, int *line,
                   char *display, size_t display_size);
void mf_cfg_context_free(mf_cfg_context *ctx);

/* snprintf for key paths, where cutting a pathological key short is fine. */
void mf_cfg_format(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Levenshtein distance (for "did you mean" hints). */
size_t mf_cfg_edit_distance(const char *a, const char *b);
/* The known name closest to `word` if it is a plausible typo, else NULL. */
const char *mf_cfg_suggest(const char *word, const char *const *known);

/* ---- the schema (config_schema.c) -----------------------------------------------------------
 * One table per section and per list of mappings (market.assets[], venue.markets[].tiers[],
 * ...). A row is one key: where it lives in the table's struct, its type, unit, default,
 * bounds, allowed names, one-line doc, source and a non-default example. Defaults, the
 * conversion of scalar keys, their bounds checks, the known-key lists (did-you-mean), the
 * resolved-YAML emitter and docs/config.md's key tables all walk these rows; list-level and
 * cross-field rules are one hook per section in config.c. */

typedef enum {
    MF_SCHEMA_INT32 = 0,
    MF_SCHEMA_INT64,
    MF_SCHEMA_UINT64,
    MF_SCHEMA_DOUBLE,
    MF_SCHEMA_BOOL,   /* an int, 0 or 1 */
    MF_SCHEMA_STRING, /* a char array of `size` bytes */
    MF_SCHEMA_PATH,   /* the same, a file name */
    MF_SCHEMA_ENUM,   /* an enum stored as int; `names` in value order */
    MF_SCHEMA_NAME,   /* a list entry's identity (asset name): the section hook reads it */
    MF_SCHEMA_LIST,   /* a list or matrix (its items have their own table): the hook */
    MF_SCHEMA_RANGE   /* a {start, stop, num} mapping (sweep ranges): the hook */
} mf_schema_type;

enum { MF_BOUND_NONE = 0, MF_BOUND_CLOSED = 1, MF_BOUND_OPEN = 2 };

typedef struct {
    const char *key; /* dotted, within the table: "garch.alpha" */
    mf_schema_type type;
    size_t offset; /* into the table's struct */
    size_t size;   /* of the field (a string's capacity) */
    const char *unit;
    const char *default_text;       /* YAML text of the default (of a new list entry); NULL: none */
    const char *default_doc;        /* the docs' default when it is not default_text (per asset) */
    unsigned char lo_kind, hi_kind; /* MF_BOUND_*: the generic bounds check */
    unsigned char allow_inf;        /* .inf is accepted (and passes an upper bound) */
    double lo, hi;
    const char *const *names; /* enum names, value order, NULL-terminated */
    const char *bound_text;   /* message when out of bounds ("must be ..."); NULL: generic */
    const char *bound_doc;    /* docs' bounds when the hook checks them; NULL: generic */
    const char *doc;
    const char *source;
    const char *example;       /* a valid non-default value (tests); NULL: hook-read keys */
    const char *example_needs; /* "key=value" (relative to the table) the example needs */
} mf_schema_row;

typedef struct {
    const char *name;   /* "run", "market.assets[]", "venue.markets[].tiers[]" */
    const char *title;  /* one line for the docs */
    const char *prefix; /* --set prefix of the entry the tests change: "venue.markets.0.tiers.1." */
    const mf_schema_row *rows;
    size_t n_rows;
} mf_schema_table;

extern const mf_schema_table mf_schema_tables[];
extern const size_t mf_schema_n_tables;
const mf_schema_table *mf_schema_table_named(const char *name);

extern const char *const mf_replay_format_names[];

/* The keys of the mapping at `prefix` ("" or "garch.") of a table: the next segment of every
 * row under it, in row order, without repeats; keys[] is NULL-terminated. */
#define MF_SCHEMA_MAX_KEYS 48
typedef struct {
    const char *keys[MF_SCHEMA_MAX_KEYS + 1];
    char text[MF_SCHEMA_MAX_KEYS][64];
} mf_schema_keys;
void mf_schema_known_keys(const mf_schema_table *table, const char *prefix, mf_schema_keys *out);
/* A row's docs text for its bounds ("in [0, 1]", "> 0 or .inf", "" for none). */
void mf_schema_bounds_text(const mf_schema_row *row, char *out, size_t size);

/* The shortest %g text that reads back as the same double. */
void mf_cfg_format_double(double value, char *out, size_t size);

#endif
