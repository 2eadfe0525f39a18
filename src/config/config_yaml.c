/* The config loader's YAML side: libyaml document -> located node tree, --set overrides
 * applied to that tree, and messages of the form "FILE:LINE: KEY: message". */
#include "config_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Limits that keep hostile input (deep nesting, alias bombs) from exhausting the stack or
 * memory. A real scenario has a few hundred nodes. */
#define MF_CFG_MAX_DEPTH 64
#define MF_CFG_MAX_NODES 200000

mf_status mf_cfg_fail(const mf_cfg_context *ctx, int origin, int line, const char *key,
                      const char *fmt, ...) {
    char message[1536];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    if (ctx && ctx->failure && !ctx->failure->set) {
        mf_cfg_failure *failure = ctx->failure;
        failure->set = 1;
        failure->origin = origin;
        failure->line = line;
        snprintf(failure->key, sizeof failure->key, "%s", key ? key : "");
        snprintf(failure->message, sizeof failure->message, "%s", message);
    }
    char where[1280];
    if (ctx && origin >= 0 && origin < ctx->n_overrides)
        snprintf(where, sizeof where, "--set %s", ctx->overrides[origin]);
    else
        snprintf(where, sizeof where, "%s:%d", (ctx && ctx->file) ? ctx->file : "config",
                 line > 0 ? line : 1);
    if (key && *key) return MF_FAIL(MF_ERR_CONFIG, "%s: %s: %s", where, key, message);
    return MF_FAIL(MF_ERR_CONFIG, "%s: %s", where, message);
}

mf_status mf_cfg_new_node(mf_cfg_kind kind, int origin, int line, mf_cfg_node **node) {
    mf_cfg_node *created = calloc(1, sizeof *created);
    if (!created) return MF_FAIL(MF_ERR_MEMORY, "out of memory for a config node");
    created->kind = kind;
    created->origin = origin;
    created->line = line;
    if (kind == MF_CFG_SCALAR) {
        created->text = strdup("");
        if (!created->text) {
            free(created);
            return MF_FAIL(MF_ERR_MEMORY, "out of memory for a config node");
        }
    }
    *node = created;
    return MF_OK;
}

void mf_cfg_free(mf_cfg_node *node) {
    if (!node) return;
    if (node->kind == MF_CFG_SEQUENCE) {
        for (size_t i = 0; i < node->count; i++)
            mf_cfg_free(node->items[i]);
    } else if (node->kind == MF_CFG_MAPPING) {
        for (size_t i = 0; i < node->count; i++) {
            mf_cfg_free(node->pairs[i].key);
            mf_cfg_free(node->pairs[i].value);
        }
    }
    free(node->items);
    free(node->pairs);
    free(node->text);
    free(node);
}

mf_cfg_pair *mf_cfg_get_pair(const mf_cfg_node *mapping, const char *key) {
    if (!mapping || mapping->kind != MF_CFG_MAPPING) return NULL;
    for (size_t i = 0; i < mapping->count; i++)
        if (strcmp(mapping->pairs[i].key->text, key) == 0) return &mapping->pairs[i];
    return NULL;
}

mf_cfg_node *mf_cfg_get(const mf_cfg_node *mapping, const char *key) {
    mf_cfg_pair *pair = mf_cfg_get_pair(mapping, key);
    return pair ? pair->value : NULL;
}

/* ---- libyaml document -> tree ------------------------------------------------------- */

typedef struct {
    const mf_cfg_context *ctx;
    yaml_document_t *document;
    int origin;
    size_t nodes_left;
} build_state;

static int node_line(const build_state *state, const yaml_node_t *node) {
    return state->origin == MF_CFG_FROM_FILE ? (int)node->start_mark.line + 1 : 1;
}

void mf_cfg_format(char *out, size_t size, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(out, size, fmt, args);
    va_end(args);
}

static void join_key(char *out, size_t size, const char *parent, const char *key) {
    if (parent[0])
        mf_cfg_format(out, size, "%s.%s", parent, key);
    else
        mf_cfg_format(out, size, "%s", key);
}

static mf_status append_pair(mf_cfg_node *mapping, mf_cfg_node *key, mf_cfg_node *value) {
    mf_cfg_pair *grown = realloc(mapping->pairs, (mapping->count + 1) * sizeof *grown);
    if (!grown) return MF_FAIL(MF_ERR_MEMORY, "out of memory for a config mapping");
    mapping->pairs = grown;
    mapping->pairs[mapping->count].key = key;
    mapping->pairs[mapping->count].value = value;
    mapping->count++;
    return MF_OK;
}

static mf_status append_item(mf_cfg_node *sequence, mf_cfg_node *item) {
    mf_cfg_node **grown = realloc(sequence->items, (sequence->count + 1) * sizeof *grown);
    if (!grown) return MF_FAIL(MF_ERR_MEMORY, "out of memory for a config list");
    sequence->items = grown;
    sequence->items[sequence->count++] = item;
    return MF_OK;
}

static mf_status build_node(build_state *state, yaml_node_t *source, int depth, const char *path,
                            mf_cfg_node **out) {
    *out = NULL;
    int line = node_line(state, source);
    if (depth > MF_CFG_MAX_DEPTH)
        return mf_cfg_fail(state->ctx, state->origin, line, path, "nested more than %d levels deep",
                           MF_CFG_MAX_DEPTH);
    if (state->nodes_left == 0)
        return mf_cfg_fail(state->ctx, state->origin, line, path,
                           "more than %d YAML nodes (runaway aliases?)", MF_CFG_MAX_NODES);
    state->nodes_left--;

    mf_cfg_node *node = NULL;
    mf_status status = MF_OK;
    switch (source->type) {
    case YAML_SCALAR_NODE: {
        const char *value = (const char *)source->data.scalar.value;
        size_t length = source->data.scalar.length;
        if (memchr(value, '\0', length))
            return mf_cfg_fail(state->ctx, state->origin, line, path,
                               "a value contains a NUL character");
        MF_CHECK(mf_cfg_new_node(MF_CFG_SCALAR, state->origin, line, &node));
        free(node->text);
        node->text = strndup(value, length);
        if (!node->text) {
            free(node);
            return MF_FAIL(MF_ERR_MEMORY, "out of memory for a config value");
        }
        node->quoted = source->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
                       source->data.scalar.style != YAML_ANY_SCALAR_STYLE;
        break;
    }
    case YAML_SEQUENCE_NODE: {
        MF_CHECK(mf_cfg_new_node(MF_CFG_SEQUENCE, state->origin, line, &node));
        size_t index = 0;
        for (yaml_node_item_t *item = source->data.sequence.items.start;
             item < source->data.sequence.items.top; item++, index++) {
            char child_path[MF_CFG_KEY_LEN];
            mf_cfg_format(child_path, sizeof child_path, "%s[%zu]", path, index);
            mf_cfg_node *child = NULL;
            MF_CHECK_GOTO(build_node(state, yaml_document_get_node(state->document, *item),
                                     depth + 1, child_path, &child),
                          status, fail);
            if ((status = append_item(node, child)) != MF_OK) {
                mf_cfg_free(child);
                goto fail;
            }
        }
        break;
    }
    case YAML_MAPPING_NODE: {
        MF_CHECK(mf_cfg_new_node(MF_CFG_MAPPING, state->origin, line, &node));
        for (yaml_node_pair_t *pair = source->data.mapping.pairs.start;
             pair < source->data.mapping.pairs.top; pair++) {
            yaml_node_t *key_source = yaml_document_get_node(state->document, pair->key);
            if (key_source->type != YAML_SCALAR_NODE) {
                status = mf_cfg_fail(state->ctx, state->origin, node_line(state, key_source), path,
                                     "a key must be a plain name, not a %s",
                                     key_source->type == YAML_MAPPING_NODE ? "mapping" : "list");
                goto fail;
            }
            mf_cfg_node *key = NULL;
            MF_CHECK_GOTO(build_node(state, key_source, depth + 1, path, &key), status, fail);
            char child_path[MF_CFG_KEY_LEN];
            join_key(child_path, sizeof child_path, path, key->text);
            mf_cfg_pair *first = mf_cfg_get_pair(node, key->text);
            if (first) {
                if (state->origin == MF_CFG_FROM_FILE)
                    status = mf_cfg_fail(state->ctx, state->origin, key->line, child_path,
                                         "duplicated key '%s' (first given at line %d)", key->text,
                                         first->key->line);
                else
                    status = mf_cfg_fail(state->ctx, state->origin, key->line, child_path,
                                         "duplicated key '%s'", key->text);
                mf_cfg_free(key);
                goto fail;
            }
            mf_cfg_node *value = NULL;
            status = build_node(state, yaml_document_get_node(state->document, pair->value),
                                depth + 1, child_path, &value);
            if (status != MF_OK) {
                mf_error_push_frame(__FILE__, __LINE__, __func__);
                mf_cfg_free(key);
                goto fail;
            }
            /* A value is located at its key: "assets:" rather than its first "-" line. */
            value->line = key->line;
            if ((status = append_pair(node, key, value)) != MF_OK) {
                mf_cfg_free(key);
                mf_cfg_free(value);
                goto fail;
            }
        }
        break;
    }
    case YAML_NO_NODE:
    default:
        return mf_cfg_fail(state->ctx, state->origin, line, path, "empty YAML node");
    }
    *out = node;
    return MF_OK;
fail:
    mf_cfg_free(node);
    return status;
}

static mf_status syntax_error(const mf_cfg_context *ctx, const yaml_parser_t *parser, int origin,
                              const char *text, size_t length) {
    if (parser->error == YAML_MEMORY_ERROR)
        return MF_FAIL(MF_ERR_MEMORY, "out of memory while parsing YAML");
    const char *problem = parser->problem ? parser->problem : "unknown error";
    size_t line = parser->problem_mark.line + 1;
    size_t column = parser->problem_mark.column + 1;
    char detail[256] = "";
    if (parser->error == YAML_READER_ERROR) {
        /* The reader reports a byte offset, not a mark: count the lines up to it. */
        line = 1;
        column = 1;
        for (size_t i = 0; i < parser->problem_offset && i < length; i++) {
            if (text[i] == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        if (parser->problem_value != -1)
            snprintf(detail, sizeof detail, " (byte 0x%02x)", (unsigned)parser->problem_value);
    } else if (parser->context) {
        snprintf(detail, sizeof detail, " (%s at line %zu)", parser->context,
                 parser->context_mark.line + 1);
    }
    /* libyaml says "found character that cannot start any token" for a tab: name it. */
    const size_t at = parser->problem_mark.index;
    if (parser->error != YAML_READER_ERROR && at < length && text[at] == '\t') {
        problem = "a tab character; YAML indents with spaces only (replace the tab with spaces)";
        detail[0] = '\0';
    }
    if (origin >= 0 && ctx && origin < ctx->n_overrides)
        return MF_FAIL(MF_ERR_CONFIG, "--set %s: YAML syntax: %s%s", ctx->overrides[origin],
                       problem, detail);
    return MF_FAIL(MF_ERR_CONFIG, "%s:%zu:%zu: YAML syntax: %s%s",
                   (ctx && ctx->file) ? ctx->file : "config", line, column, problem, detail);
}

mf_status mf_cfg_parse(const mf_cfg_context *ctx, const char *text, size_t length, int origin,
                       mf_cfg_node **root) {
    *root = NULL;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return MF_FAIL(MF_ERR_MEMORY, "out of memory initialising the YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, length);
    yaml_document_t document;
    if (!yaml_parser_load(&parser, &document)) {
        mf_status status = syntax_error(ctx, &parser, origin, text, length);
        yaml_parser_delete(&parser);
        return status;
    }
    mf_status status = MF_OK;
    yaml_node_t *top = yaml_document_get_root_node(&document);
    if (top) {
        build_state state = {ctx, &document, origin, MF_CFG_MAX_NODES};
        status = build_node(&state, top, 0, "", root);
        if (status == MF_OK) {
            /* A second document would be silently ignored by a plain load: refuse it. */
            yaml_document_t extra;
            if (!yaml_parser_load(&parser, &extra)) {
                status = syntax_error(ctx, &parser, origin, text, length);
            } else {
                yaml_node_t *extra_top = yaml_document_get_root_node(&extra);
                if (extra_top)
                    status = mf_cfg_fail(
                        ctx, origin,
                        origin == MF_CFG_FROM_FILE ? (int)extra_top->start_mark.line + 1 : 1, NULL,
                        "a second YAML document: a config is one document");
                yaml_document_delete(&extra);
            }
            if (status != MF_OK) {
                mf_cfg_free(*root);
                *root = NULL;
            }
        }
    }
    yaml_document_delete(&document);
    yaml_parser_delete(&parser);
    return status;
}

/* ---- --set overrides ------------------------------------------------------------------ */

static mf_status copy_tree(const mf_cfg_node *source, int origin, int line, mf_cfg_node **out) {
    *out = NULL;
    mf_cfg_node *node = NULL;
    MF_CHECK(mf_cfg_new_node(source->kind, origin, line, &node));
    mf_status status = MF_OK;
    if (source->kind == MF_CFG_SCALAR) {
        free(node->text);
        node->text = strdup(source->text);
        if (!node->text) {
            free(node);
            return MF_FAIL(MF_ERR_MEMORY, "out of memory copying a config value");
        }
        node->quoted = source->quoted;
    } else if (source->kind == MF_CFG_SEQUENCE) {
        for (size_t i = 0; i < source->count; i++) {
            mf_cfg_node *item = NULL;
            MF_CHECK_GOTO(copy_tree(source->items[i], origin, line, &item), status, fail);
            if ((status = append_item(node, item)) != MF_OK) {
                mf_cfg_free(item);
                goto fail;
            }
        }
    } else {
        for (size_t i = 0; i < source->count; i++) {
            mf_cfg_node *key = NULL, *value = NULL;
            MF_CHECK_GOTO(copy_tree(source->pairs[i].key, origin, line, &key), status, fail);
            status = copy_tree(source->pairs[i].value, origin, line, &value);
            if (status == MF_OK) status = append_pair(node, key, value);
            if (status != MF_OK) {
                mf_cfg_free(key);
                mf_cfg_free(value);
                goto fail;
            }
        }
    }
    *out = node;
    return MF_OK;
fail:
    mf_cfg_free(node);
    return status;
}

void mf_cfg_remove(mf_cfg_node *mapping, const char *key) {
    if (!mapping || mapping->kind != MF_CFG_MAPPING) return;
    for (size_t i = 0; i < mapping->count; i++) {
        if (strcmp(mapping->pairs[i].key->text, key) != 0) continue;
        mf_cfg_free(mapping->pairs[i].key);
        mf_cfg_free(mapping->pairs[i].value);
        memmove(&mapping->pairs[i], &mapping->pairs[i + 1],
                (mapping->count - i - 1) * sizeof mapping->pairs[0]);
        mapping->count--;
        return;
    }
}

static int is_index(const char *segment) {
    if (!*segment) return 0;
    for (const char *p = segment; *p; p++)
        if (*p < '0' || *p > '9') return 0;
    return 1;
}

/* An item of a list by position ("0") or by its name/asset ("BTC"); -1 when absent. */
static long find_item(const mf_cfg_node *sequence, const char *segment) {
    if (!sequence || sequence->kind != MF_CFG_SEQUENCE) return -1;
    if (is_index(segment)) {
        if (strlen(segment) > 9) return -1;
        long index = strtol(segment, NULL, 10);
        return index < (long)sequence->count ? index : -1;
    }
    for (size_t i = 0; i < sequence->count; i++) {
        const mf_cfg_node *name = mf_cfg_get(sequence->items[i], "name");
        if (!name) name = mf_cfg_get(sequence->items[i], "asset");
        if (name && name->kind == MF_CFG_SCALAR && strcmp(name->text, segment) == 0) return (long)i;
    }
    return -1;
}

static void describe_entries(const mf_cfg_node *sequence, char *out, size_t size) {
    size_t used = (size_t)snprintf(out, size, "%zu entr%s", sequence->count,
                                   sequence->count == 1 ? "y" : "ies");
    for (size_t i = 0; i < sequence->count && used < size; i++) {
        const mf_cfg_node *name = mf_cfg_get(sequence->items[i], "name");
        if (!name) name = mf_cfg_get(sequence->items[i], "asset");
        if (!name || name->kind != MF_CFG_SCALAR) continue;
        used += (size_t)snprintf(out + used, size - used, "%s%s", i == 0 ? ": " : ", ", name->text);
    }
}

void mf_cfg_canonical_key(const mf_cfg_node *root, const mf_cfg_node *defaults, const char *key,
                          char *out, size_t size) {
    char copy[MF_CFG_KEY_LEN];
    snprintf(copy, sizeof copy, "%s", key);
    out[0] = '\0';
    /* The walk of mf_cfg_apply_override: the tree where it gives the key, else the defaults. */
    const mf_cfg_node *current = root, *current_default = defaults;
    char *rest = copy;
    for (int first = 1; rest; first = 0) {
        char *segment = rest;
        char *dot = strchr(rest, '.');
        if (dot) *dot = '\0';
        rest = dot ? dot + 1 : NULL;
        char written[MF_CFG_KEY_LEN];
        snprintf(written, sizeof written, "%s", segment);
        const mf_cfg_node *list = NULL;
        if (current && current->kind == MF_CFG_SEQUENCE)
            list = current;
        else if (!current && current_default && current_default->kind == MF_CFG_SEQUENCE)
            list = current_default;
        if (list) {
            long item = find_item(list, segment);
            long default_item = find_item(current_default, segment);
            if (item >= 0) snprintf(written, sizeof written, "%ld", item);
            current = current && item >= 0 ? current->items[item] : NULL;
            current_default = default_item >= 0 ? current_default->items[default_item] : NULL;
        } else {
            current = mf_cfg_get(current, segment);
            current_default = mf_cfg_get(current_default, segment);
        }
        size_t used = strlen(out);
        if (used < size) snprintf(out + used, size - used, "%s%s", first ? "" : ".", written);
    }
}

mf_cfg_node *mf_cfg_lookup(mf_cfg_node *root, const char *key) {
    char copy[MF_CFG_KEY_LEN];
    if (strlen(key) >= sizeof copy) return NULL;
    snprintf(copy, sizeof copy, "%s", key);
    mf_cfg_node *current = root;
    char *rest = copy;
    while (rest && current) {
        char *segment = rest;
        char *dot = strchr(rest, '.');
        if (dot) *dot = '\0';
        rest = dot ? dot + 1 : NULL;
        if (current->kind == MF_CFG_MAPPING) {
            current = mf_cfg_get(current, segment);
        } else if (current->kind == MF_CFG_SEQUENCE) {
            long item = find_item(current, segment);
            current = item >= 0 ? current->items[item] : NULL;
        } else {
            current = NULL;
        }
    }
    return current;
}

mf_status mf_cfg_apply_override(const mf_cfg_context *ctx, mf_cfg_node *root, int index,
                                const mf_cfg_node *defaults) {
    const char *argument = ctx->overrides[index];
    const char *equals = argument ? strchr(argument, '=') : NULL;
    if (!equals || equals == argument)
        return mf_cfg_fail(ctx, index, 1, NULL,
                           "expected KEY=VALUE with a dotted key, e.g. run.paths=100");
    size_t key_length = (size_t)(equals - argument);
    if (key_length >= MF_CFG_KEY_LEN) return mf_cfg_fail(ctx, index, 1, NULL, "key too long");
    char key[MF_CFG_KEY_LEN];
    memcpy(key, argument, key_length);
    key[key_length] = '\0';

    char *segments[64];
    int n_segments = 0;
    for (char *start = key;;) {
        char *dot = strchr(start, '.');
        if (dot) *dot = '\0';
        if (!*start)
            return mf_cfg_fail(ctx, index, 1, NULL, "empty component in the key '%.*s'",
                               (int)key_length, argument);
        if (n_segments == 64) return mf_cfg_fail(ctx, index, 1, NULL, "key too deep");
        segments[n_segments++] = start;
        if (!dot) break;
        start = dot + 1;
    }

    mf_cfg_node *value = NULL;
    const char *value_text = equals + 1;
    MF_CHECK(mf_cfg_parse(ctx, value_text, strlen(value_text), index, &value));
    if (!value) MF_CHECK(mf_cfg_new_node(MF_CFG_SCALAR, index, 1, &value));

    mf_status status = MF_OK;
    mf_cfg_node *current = root;
    const mf_cfg_node *current_default = defaults;
    char walked[MF_CFG_KEY_LEN] = "";
    for (int s = 0; s < n_segments; s++) {
        const char *segment = segments[s];
        int last = s == n_segments - 1;
        if (current->kind == MF_CFG_MAPPING) {
            mf_cfg_pair *pair = mf_cfg_get_pair(current, segment);
            const mf_cfg_node *next_default = mf_cfg_get(current_default, segment);
            if (last) {
                if (pair) {
                    mf_cfg_free(pair->value);
                    pair->value = value;
                    value = NULL;
                } else {
                    mf_cfg_node *key_node = NULL;
                    MF_CHECK_GOTO(mf_cfg_new_node(MF_CFG_SCALAR, index, 1, &key_node), status,
                                  done);
                    free(key_node->text);
                    key_node->text = strdup(segment);
                    if (!key_node->text || (status = append_pair(current, key_node, value))) {
                        mf_cfg_free(key_node);
                        if (status == MF_OK)
                            status = MF_FAIL(MF_ERR_MEMORY, "out of memory for an override");
                        goto done;
                    }
                    value = NULL;
                }
                break;
            }
            if (pair) {
                current = pair->value;
            } else {
                /* Not in the file: a list is copied from the defaults (so its items can be
                 * addressed), anything else starts as an empty mapping; keys the schema
                 * does not know are refused when the tree is converted. */
                mf_cfg_node *child = NULL, *key_node = NULL;
                if (next_default && next_default->kind == MF_CFG_SEQUENCE)
                    status = copy_tree(next_default, MF_CFG_FROM_DEFAULTS, 1, &child);
                else
                    status = mf_cfg_new_node(MF_CFG_MAPPING, index, 1, &child);
                if (status == MF_OK) status = mf_cfg_new_node(MF_CFG_SCALAR, index, 1, &key_node);
                if (status == MF_OK) {
                    free(key_node->text);
                    key_node->text = strdup(segment);
                    if (!key_node->text)
                        status = MF_FAIL(MF_ERR_MEMORY, "out of memory for an override");
                }
                if (status == MF_OK) status = append_pair(current, key_node, child);
                if (status != MF_OK) {
                    mf_cfg_free(child);
                    mf_cfg_free(key_node);
                    goto done;
                }
                current = child;
            }
            current_default = next_default;
        } else if (current->kind == MF_CFG_SEQUENCE) {
            long item = find_item(current, segment);
            if (item < 0) {
                char entries[512];
                describe_entries(current, entries, sizeof entries);
                status = mf_cfg_fail(ctx, index, 1, NULL,
                                     is_index(segment) ? "no entry %s in %s (it has %s)"
                                                       : "no entry named '%s' in %s (it has %s)",
                                     segment, walked, entries);
                goto done;
            }
            long default_item = find_item(current_default, segment);
            const mf_cfg_node *next_default =
                default_item >= 0 ? current_default->items[default_item] : NULL;
            if (last) {
                mf_cfg_free(current->items[item]);
                current->items[item] = value;
                value = NULL;
                break;
            }
            current = current->items[item];
            current_default = next_default;
        } else {
            status = mf_cfg_fail(ctx, index, 1, NULL, "%s is a single value, it has no key '%s'",
                                 walked[0] ? walked : "the top level", segment);
            goto done;
        }
        char previous[MF_CFG_KEY_LEN];
        snprintf(previous, sizeof previous, "%s", walked);
        join_key(walked, sizeof walked, previous, segment);
    }
done:
    mf_cfg_free(value);
    return status;
}

/* ---- key locations -------------------------------------------------------------------- */

mf_status mf_cfg_remember(mf_cfg_context *ctx, const char *lookup, const char *display, int origin,
                          int line) {
    if (!ctx || ctx->skip_keys) return MF_OK;
    if (ctx->n_keys == ctx->cap_keys) {
        size_t capacity = ctx->cap_keys ? 2 * ctx->cap_keys : 256;
        mf_cfg_key_entry *grown = realloc(ctx->keys, capacity * sizeof *grown);
        if (!grown) return MF_FAIL(MF_ERR_MEMORY, "out of memory for the config key map");
        ctx->keys = grown;
        ctx->cap_keys = capacity;
    }
    mf_cfg_key_entry *entry = &ctx->keys[ctx->n_keys];
    entry->lookup = strdup(lookup);
    entry->display = strdup(display);
    if (!entry->lookup || !entry->display) {
        free(entry->lookup);
        free(entry->display);
        return MF_FAIL(MF_ERR_MEMORY, "out of memory for the config key map");
    }
    entry->origin = origin;
    entry->line = line;
    ctx->n_keys++;
    return MF_OK;
}

void mf_cfg_locate(const mf_cfg_context *ctx, const char *lookup, int *origin, int *line,
                   char *display, size_t display_size) {
    *origin = MF_CFG_FROM_FILE;
    *line = 1;
    snprintf(display, display_size, "%s", lookup);
    if (!ctx) return;
    char prefix[MF_CFG_KEY_LEN];
    snprintf(prefix, sizeof prefix, "%s", lookup);
    for (;;) {
        size_t prefix_length = strlen(prefix);
        for (size_t i = ctx->n_keys; i-- > 0;) {
            const mf_cfg_key_entry *entry = &ctx->keys[i];
            if (entry->origin == MF_CFG_FROM_DEFAULTS || strcmp(entry->lookup, prefix) != 0)
                continue;
            *origin = entry->origin;
            *line = entry->line;
            /* The user's spelling of the given ancestor, then the rest of the key. */
            snprintf(display, display_size, "%s%s", entry->display, lookup + prefix_length);
            return;
        }
        if (!prefix_length) return;
        char *cut = strrchr(prefix, '.');
        char *bracket = strrchr(prefix, '[');
        if (bracket && (!cut || bracket > cut)) cut = bracket;
        if (cut)
            *cut = '\0';
        else
            prefix[0] = '\0';
    }
}

void mf_cfg_context_free(mf_cfg_context *ctx) {
    for (size_t i = 0; i < ctx->n_keys; i++) {
        free(ctx->keys[i].lookup);
        free(ctx->keys[i].display);
    }
    free(ctx->keys);
    ctx->keys = NULL;
    ctx->n_keys = ctx->cap_keys = 0;
}

/* ---- hints ---------------------------------------------------------------------------- */

size_t mf_cfg_edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return (size_t)-1;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t best = diagonal + (a[i - 1] != b[j - 1]);
            if (above + 1 < best) best = above + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

const char *mf_cfg_suggest(const char *word, const char *const *known) {
    size_t length = strlen(word);
    size_t allowed = length <= 4 ? 1 : (length <= 8 ? 2 : 3);
    const char *best = NULL;
    size_t best_distance = allowed + 1;
    for (const char *const *candidate = known; *candidate; candidate++) {
        size_t distance = mf_cfg_edit_distance(word, *candidate);
        if (distance < best_distance) {
            best_distance = distance;
            best = *candidate;
        }
    }
    return best;
}
