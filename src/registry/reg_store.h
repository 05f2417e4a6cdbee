/* The registry's synchronous SQLite core: opening the database (WAL, foreign keys), the
 * versioned schema and its migrations, a cache of prepared statements and transactions.
 * reg_sqlite.c runs it on the broker's loop thread; crowdai-admin calls it directly. */
#ifndef REGISTRY_REG_STORE_H
#define REGISTRY_REG_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct reg_store;

/* Results of store functions: 0 is success, negative values say why not. */
enum reg_store_status {
    REG_STORE_OK = 0,
    REG_STORE_ERROR = -1,     /* SQLite failed (already logged); retrying may help */
    REG_STORE_NOT_FOUND = -2, /* the row named does not exist */
    REG_STORE_EXISTS = -3,    /* a row with that id or name exists already */
};

/* Schema version written by this program (PRAGMA user_version). */
#define REG_STORE_SCHEMA_VERSION 5

/* Opens (creating it if missing) the database file at path and migrates its schema to
 * REG_STORE_SCHEMA_VERSION. Returns NULL and a message in err on failure. */
struct reg_store *reg_store_open(const char *path, char *err, size_t errlen);
void reg_store_close(struct reg_store *s);
sqlite3 *reg_store_db(struct reg_store *s);

/* The prepared statement for sql, prepared on first use and cached by the address of sql
 * (pass a static array, never a temporary string). It comes back reset with no bindings;
 * call reg_store_done when finished with it so it releases its read snapshot. NULL (logged)
 * on error. */
sqlite3_stmt *reg_store_stmt(struct reg_store *s, const char *sql);
void reg_store_done(sqlite3_stmt *st);
/* Steps st, a statement that returns no rows: returns 0 or REG_STORE_ERROR (logged); resets
 * st. A UNIQUE or PRIMARY KEY violation returns REG_STORE_EXISTS without logging. */
int reg_store_run(struct reg_store *s, sqlite3_stmt *st);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Return 0 or REG_STORE_ERROR (logged). */
int reg_store_begin(struct reg_store *s);
int reg_store_commit(struct reg_store *s);
void reg_store_rollback(struct reg_store *s);

/* Copies text column col of the current row into dst (truncated to dstlen - 1 bytes;
 * NULL becomes ""). */
void reg_store_column_text(sqlite3_stmt *st, int col, char *dst, size_t dstlen);
/* Binds s as text (NULL binds SQL NULL). */
int reg_store_bind_text(sqlite3_stmt *st, int idx, const char *s);

#endif
