#include "checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mf_version.h"
#include "wire.h"

/* Format 3: a header, each item's block in the wire format of wire.h (ledgers included), and
 * a trailer: the 64-bit FNV-1a hash of every byte before it. FNV-1a maps any change of a single
 * byte to another hash (each step is a bijection of the running state), so one flipped byte
 * anywhere is always refused. Formats 1 and 2 (no checksum) are refused. */
#define CHECKPOINT_MAGIC "MFCKPT03"
#define FNV_OFFSET 1469598103934665603ull
#define FNV_PRIME 1099511628211ull
#define TRAILER_BYTES ((int64_t)sizeof(uint64_t))

typedef struct {
    char magic[8];
    char engine_version[32];
    char git_commit[32];
    mf_checkpoint_identity identity;
    int64_t n_items;
} file_header;

typedef struct {
    int64_t point, block;
    int64_t bytes; /* of the block's wire form that follows */
} item_header;

uint64_t mf_hash_text(const char *text) {
    uint64_t hash = 1469598103934665603ull; /* FNV-1a, 64 bit */
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        hash ^= *c;
        hash *= 1099511628211ull;
    }
    return hash;
}

void mf_checkpoint_dir(const char *output_path, char *dir, size_t size) {
    snprintf(dir, size, "%s.checkpoint", output_path);
}

int mf_checkpoint_exists(const char *dir) {
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

static void fill_header(file_header *header, const mf_checkpoint_identity *identity,
                        int64_t n_items) {
    memset(header, 0, sizeof *header);
    memcpy(header->magic, CHECKPOINT_MAGIC, 8);
    snprintf(header->engine_version, sizeof header->engine_version, "%s", MF_VERSION_STRING);
    snprintf(header->git_commit, sizeof header->git_commit, "%s", MF_GIT_COMMIT);
    header->identity = *identity;
    header->n_items = n_items;
}

static uint64_t hash_bytes(uint64_t hash, const void *data, size_t bytes) {
    const unsigned char *c = data;
    for (size_t i = 0; i < bytes; i++) {
        hash ^= c[i];
        hash *= FNV_PRIME;
    }
    return hash;
}

/* Writes and hashes what it writes (the trailer's checksum). */
typedef struct {
    FILE *file;
    uint64_t hash;
} hashed_writer;

static int write_all(hashed_writer *out, const void *data, size_t bytes) {
    out->hash = hash_bytes(out->hash, data, bytes);
    return bytes == 0 || fwrite(data, 1, bytes, out->file) == bytes;
}

mf_status mf_checkpoint_write(const char *dir, int rank, const mf_checkpoint_identity *identity,
                              const mf_work_result *items, const uint8_t *done, int64_t n_items) {
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return MF_FAIL(MF_ERR_OUTPUT, "cannot create checkpoint directory '%s': %s", dir,
                       strerror(errno));
    char path[4200], temp[4300];
    snprintf(path, sizeof path, "%s/rank-%d.ckpt", dir, rank);
    /* The process id keeps two runs that share an output name off each other's temporary. */
    snprintf(temp, sizeof temp, "%s.%ld.tmp", path, (long)getpid());
    FILE *file = fopen(temp, "wb");
    if (!file)
        return MF_FAIL(MF_ERR_OUTPUT, "cannot write checkpoint '%s': %s", temp, strerror(errno));
    int64_t count = 0;
    for (int64_t i = 0; i < n_items; i++)
        count += done[i] != 0;
    file_header header;
    fill_header(&header, identity, count);
    hashed_writer out = {file, FNV_OFFSET};
    int ok = write_all(&out, &header, sizeof header);
    unsigned char *wire = NULL;
    size_t wire_capacity = 0;
    for (int64_t i = 0; i < n_items && ok; i++) {
        if (!done[i]) continue;
        const mf_block_result *block = &items[i].result;
        const size_t bytes = mf_block_wire_size(block);
        if (bytes > wire_capacity) {
            unsigned char *grown = realloc(wire, bytes);
            if (!grown) {
                ok = 0;
                errno = ENOMEM;
                break;
            }
            wire = grown;
            wire_capacity = bytes;
        }
        mf_block_wire_pack(block, wire);
        const item_header item = {items[i].point, items[i].block, (int64_t)bytes};
        ok = write_all(&out, &item, sizeof item) && write_all(&out, wire, bytes);
    }
    free(wire);
    const uint64_t checksum = out.hash;
    ok = ok && write_all(&out, &checksum, sizeof checksum);
    ok = ok && fflush(file) == 0 && fsync(fileno(file)) == 0;
    const int closed = fclose(file) == 0;
    if (!ok || !closed) {
        const int saved = errno;
        unlink(temp);
        return MF_FAIL(MF_ERR_OUTPUT, "cannot write checkpoint '%s': %s", temp, strerror(saved));
    }
    if (rename(temp, path) != 0) {
        const int saved = errno;
        unlink(temp);
        return MF_FAIL(MF_ERR_OUTPUT, "cannot publish checkpoint '%s': %s", path, strerror(saved));
    }
    return MF_OK;
}

static int read_all(FILE *file, void *data, size_t bytes) {
    return bytes == 0 || fread(data, 1, bytes, file) == bytes;
}

/* The trailer's checksum against a hash of every byte before it (read in chunks). */
static int checksum_matches(FILE *file, int64_t file_bytes) {
    if (file_bytes < (int64_t)sizeof(file_header) + TRAILER_BYTES) return 0;
    unsigned char chunk[65536];
    uint64_t hash = FNV_OFFSET;
    int64_t left = file_bytes - TRAILER_BYTES;
    while (left > 0) {
        const size_t want = left < (int64_t)sizeof chunk ? (size_t)left : sizeof chunk;
        if (!read_all(file, chunk, want)) return 0;
        hash = hash_bytes(hash, chunk, want);
        left -= (int64_t)want;
    }
    uint64_t stored;
    if (!read_all(file, &stored, sizeof stored)) return 0;
    return stored == hash && fseek(file, 0, SEEK_SET) == 0;
}

/* Every value a block carries is a finite number and every count is in range; a checkpoint
 * whose checksum was recomputed after an edit is still refused here. */
static mf_status check_block(const char *path, const mf_work_result *item, int64_t block_paths) {
    const mf_block_result *block = &item->result;
    if (block->n_paths < 1 || block->first_path != item->block * block_paths ||
        block->n_paths > block_paths)
        return MF_FAIL(MF_ERR_INPUT,
                       "checkpoint '%s': block %lld of point %lld claims paths %lld..%lld "
                       "(blocks hold %lld paths)",
                       path, (long long)item->block, (long long)item->point,
                       (long long)block->first_path,
                       (long long)(block->first_path + block->n_paths - 1), (long long)block_paths);
    for (int64_t i = 0; i < block->n_paths; i++) {
        const mf_path_row *row = &block->rows[i];
        if (row->path_index != block->first_path + i || row->liquidated_accounts < 0 ||
            row->cascades < 0 || row->max_rounds < 0)
            return MF_FAIL(MF_ERR_INPUT, "checkpoint '%s': path %lld of block %lld is corrupt",
                           path, (long long)(block->first_path + i), (long long)item->block);
        for (int c = 0; c < mf_path_column_count(); c++) {
            const mf_path_column *column = mf_path_column_describe(c);
            if (column->type != MF_COLUMN_F64) continue;
            double value;
            memcpy(&value, mf_path_column_value(column, row, &block->ledgers[i]), sizeof value);
            if (!isfinite(value))
                return MF_FAIL(MF_ERR_INPUT, "checkpoint '%s': path %lld has %s = %g", path,
                               (long long)(block->first_path + i), column->name, value);
        }
    }
    for (int64_t j = 0; j < block->n_cascades * MF_CASCADE_FIELDS; j++)
        if (!isfinite(block->cascades[j]) || block->cascades[j] < 0)
            return MF_FAIL(MF_ERR_INPUT, "checkpoint '%s': block %lld has a corrupt cascade", path,
                           (long long)item->block);
    for (int64_t j = 0; j < (int64_t)MF_PROFILE_SERIES * block->n_steps; j++)
        if (!isfinite(block->profile[j]))
            return MF_FAIL(MF_ERR_INPUT, "checkpoint '%s': block %lld has a corrupt profile", path,
                           (long long)item->block);
    return MF_OK;
}

static mf_status load_file(const char *path, const mf_checkpoint_identity *identity,
                           mf_work_result **items, int64_t *n_items, int64_t *capacity) {
    FILE *file = fopen(path, "rb");
    if (!file)
        return MF_FAIL(MF_ERR_INPUT, "cannot read checkpoint '%s': %s", path, strerror(errno));
    struct stat st;
    const int64_t file_bytes =
        fstat(fileno(file), &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
    file_header header;
    mf_status status = MF_OK;
    char magic[8] = {0};
    const int has_magic = read_all(file, magic, sizeof magic) && fseek(file, 0, SEEK_SET) == 0;
    if (has_magic && memcmp(magic, CHECKPOINT_MAGIC, 8) == 0 &&
        !checksum_matches(file, file_bytes)) {
        fclose(file);
        return MF_FAIL(MF_ERR_INPUT,
                       "checkpoint '%s' is corrupt (its checksum does not match): rerun without "
                       "--resume, or with --force, to start again",
                       path);
    }
    const int readable = read_all(file, &header, sizeof header);
    if (readable && memcmp(header.magic, "MFCKPT", 6) == 0 &&
        memcmp(header.magic, CHECKPOINT_MAGIC, 8) != 0)
        status = MF_FAIL(MF_ERR_INPUT,
                         "checkpoint '%s' has format %.2s, this marginfall reads %.2s: it cannot "
                         "be resumed; remove it or use --force",
                         path, header.magic + 6, CHECKPOINT_MAGIC + 6);
    else if (!readable || memcmp(header.magic, CHECKPOINT_MAGIC, 8) != 0)
        status = MF_FAIL(MF_ERR_INPUT, "'%s' is not a marginfall checkpoint", path);
    else if (strncmp(header.engine_version, MF_VERSION_STRING, sizeof header.engine_version) != 0 ||
             strncmp(header.git_commit, MF_GIT_COMMIT, sizeof header.git_commit) != 0)
        status = MF_FAIL(MF_ERR_INPUT,
                         "checkpoint '%s' was written by marginfall %.32s (commit %.32s), not "
                         "this %s (commit %s): it cannot be resumed; remove it or use --force",
                         path, header.engine_version, header.git_commit, MF_VERSION_STRING,
                         MF_GIT_COMMIT);
    else if (header.identity.config_hash != identity->config_hash)
        status = MF_FAIL(MF_ERR_INPUT,
                         "checkpoint '%s' belongs to a different configuration (seed, paths, "
                         "sweep or any other key differ): it cannot be resumed with this one",
                         path);
    else if (header.identity.point_first != identity->point_first ||
             header.identity.point_stop != identity->point_stop ||
             header.identity.blocks_per_point != identity->blocks_per_point ||
             header.identity.steps != identity->steps)
        status = MF_FAIL(MF_ERR_INPUT,
                         "checkpoint '%s' covers points %lld:%lld, this run %lld:%lld: resume "
                         "with the same --points",
                         path, (long long)header.identity.point_first,
                         (long long)header.identity.point_stop, (long long)identity->point_first,
                         (long long)identity->point_stop);
    /* No item can be longer than what is left of the file before its trailer. */
    const int64_t payload_bytes = file_bytes - TRAILER_BYTES;
    if (status == MF_OK && header.n_items < 0)
        status = MF_FAIL(MF_ERR_INPUT, "checkpoint '%s' is corrupt: %lld items", path,
                         (long long)header.n_items);
    unsigned char *wire = NULL;
    size_t wire_capacity = 0;
    for (int64_t i = 0; i < header.n_items && status == MF_OK; i++) {
        item_header item;
        /* The largest block a run makes bounds the item's length before any allocation. */
        const int64_t largest = MF_BLOCK_WIRE_HEADER_BYTES +
                                MF_BLOCK_WIRE_MAX_PATHS * 8 * (int64_t)mf_path_column_count() +
                                MF_BLOCK_WIRE_MAX_CASCADES * MF_CASCADE_FIELDS * 8 +
                                (int64_t)MF_PROFILE_SERIES * identity->steps * 8;
        const long position = ftell(file);
        if (!read_all(file, &item, sizeof item) || item.bytes < MF_BLOCK_WIRE_HEADER_BYTES ||
            item.bytes > largest || position < 0 ||
            item.bytes > payload_bytes - (int64_t)position - (int64_t)sizeof item ||
            item.point < identity->point_first || item.point >= identity->point_stop ||
            item.block < 0 || item.block >= identity->blocks_per_point) {
            status = MF_FAIL(MF_ERR_INPUT, "checkpoint '%s' is truncated or corrupt", path);
            break;
        }
        if ((size_t)item.bytes > wire_capacity) {
            unsigned char *grown = realloc(wire, (size_t)item.bytes);
            if (!grown) {
                status = MF_FAIL(MF_ERR_MEMORY, "out of memory loading checkpoint '%s'", path);
                break;
            }
            wire = grown;
            wire_capacity = (size_t)item.bytes;
        }
        if (!read_all(file, wire, (size_t)item.bytes)) {
            status = MF_FAIL(MF_ERR_INPUT, "checkpoint '%s' is truncated", path);
            break;
        }
        if (*n_items == *capacity) {
            const int64_t grown_capacity = *capacity ? 2 * *capacity : 64;
            mf_work_result *grown = realloc(*items, (size_t)grown_capacity * sizeof *grown);
            if (!grown) {
                status = MF_FAIL(MF_ERR_MEMORY, "out of memory loading checkpoint '%s'", path);
                break;
            }
            *items = grown;
            *capacity = grown_capacity;
        }
        mf_work_result *result = &(*items)[*n_items];
        memset(result, 0, sizeof *result);
        result->point = item.point;
        result->block = item.block;
        size_t used = 0;
        status =
            mf_block_wire_unpack(wire, (size_t)item.bytes, identity->steps, &result->result, &used);
        if (status == MF_OK && used != (size_t)item.bytes) {
            mf_block_result_free(&result->result);
            status =
                MF_FAIL(MF_ERR_INPUT, "checkpoint '%s': item %lld has %lld bytes, its block %zu",
                        path, (long long)i, (long long)item.bytes, used);
        } else if (status != MF_OK) {
            char reason[1024];
            snprintf(reason, sizeof reason, "%s", mf_error_message());
            status = MF_FAIL(MF_ERR_INPUT, "checkpoint '%s' is corrupt: %s", path, reason);
        }
        if (status == MF_OK) {
            status = check_block(path, result, identity->block_paths);
            if (status != MF_OK) mf_block_result_free(&result->result);
        }
        if (status == MF_OK) (*n_items)++;
    }
    if (status == MF_OK && ftell(file) != payload_bytes)
        status =
            MF_FAIL(MF_ERR_INPUT, "checkpoint '%s' is corrupt: bytes after its last item", path);
    free(wire);
    fclose(file);
    return status;
}

static int compare_items(const void *a, const void *b) {
    const mf_work_result *x = a, *y = b;
    if (x->point != y->point) return x->point < y->point ? -1 : 1;
    return (x->block > y->block) - (x->block < y->block);
}

mf_status mf_checkpoint_load(const char *dir, const mf_checkpoint_identity *identity,
                             mf_work_result **items, int64_t *n_items) {
    *items = NULL;
    *n_items = 0;
    DIR *listing = opendir(dir);
    if (!listing) {
        if (errno == ENOENT) return MF_OK;
        return MF_FAIL(MF_ERR_INPUT, "cannot read checkpoint directory '%s': %s", dir,
                       strerror(errno));
    }
    int64_t capacity = 0;
    mf_status status = MF_OK;
    struct dirent *entry;
    while (status == MF_OK && (entry = readdir(listing)) != NULL) {
        const size_t length = strlen(entry->d_name);
        if (length < 5 || strcmp(entry->d_name + length - 5, ".ckpt") != 0) continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
        status = load_file(path, identity, items, n_items, &capacity);
    }
    closedir(listing);
    if (status == MF_OK && *n_items > 1) {
        /* Files overlap after a resume on another rank count: keep one copy of each item. */
        qsort(*items, (size_t)*n_items, sizeof **items, compare_items);
        int64_t kept = 1;
        for (int64_t i = 1; i < *n_items; i++) {
            if (compare_items(&(*items)[i], &(*items)[kept - 1]) == 0)
                mf_block_result_free(&(*items)[i].result);
            else
                (*items)[kept++] = (*items)[i];
        }
        *n_items = kept;
    }
    if (status == MF_ERR_INPUT && !strstr(mf_error_message(), "--force")) {
        /* Every refusal says how to go on. */
        char reason[1536];
        snprintf(reason, sizeof reason, "%s", mf_error_message());
        status = MF_FAIL(MF_ERR_INPUT,
                         "%s; rerun without --resume, or with --force, to start again", reason);
    }
    if (status != MF_OK) {
        for (int64_t i = 0; i < *n_items; i++)
            mf_block_result_free(&(*items)[i].result);
        free(*items);
        *items = NULL;
        *n_items = 0;
        mf_error_push_frame(__FILE__, __LINE__, __func__);
    }
    return status;
}

mf_status mf_checkpoint_remove(const char *dir) {
    DIR *listing = opendir(dir);
    if (!listing) return MF_OK;
    struct dirent *entry;
    while ((entry = readdir(listing)) != NULL) {
        const size_t length = strlen(entry->d_name);
        const int ours = (length > 5 && strcmp(entry->d_name + length - 5, ".ckpt") == 0) ||
                         (length > 9 && strcmp(entry->d_name + length - 9, ".ckpt.tmp") == 0);
        if (!ours) continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
        unlink(path);
    }
    closedir(listing);
    if (rmdir(dir) != 0 && errno != ENOENT)
        return MF_FAIL(MF_ERR_OUTPUT, "cannot remove checkpoint directory '%s': %s", dir,
                       strerror(errno));
    return MF_OK;
}
