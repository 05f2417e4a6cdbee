/* The leaderboard, computed by one windowed query over the board index. */
#include "registry/reg_board.h"

#include <string.h>

#include "registry/reg_catalog.h"

/* k1 and k2 are the sort keys, smaller is better: the score itself when ascending, its
 * negation when descending. A submission without a secondary score ranks after those with
 * one at the same primary score. */
static const char sql_board[] =
    "WITH graded AS ("
    " SELECT id, participant_id, score, score_secondary, created_at,"
    "  (?3 AND has_secondary) AS has_secondary,"
    "  CASE WHEN ?2 = 1 THEN score ELSE -score END AS k1,"
    "  CASE WHEN NOT (?3 AND has_secondary) THEN NULL"
    "   WHEN ?4 = 1 THEN score_secondary ELSE -score_secondary END AS k2"
    " FROM submissions"
    " WHERE challenge_id = ?1 AND state = 2 AND (?5 = 0 OR round_number = ?5)),"
    " best AS ("
    " SELECT *, ROW_NUMBER() OVER (PARTITION BY participant_id"
    "   ORDER BY k1, k2 NULLS LAST, created_at, id) AS pick,"
    "  COUNT(*) OVER (PARTITION BY participant_id) AS graded_count"
    " FROM graded)"
    " SELECT b.participant_id, p.name, b.id, b.score, b.score_secondary, b.has_secondary,"
    "  b.graded_count, b.created_at"
    " FROM best b JOIN participants p ON p.id = b.participant_id"
    " WHERE b.pick = 1 ORDER BY b.k1, b.k2 NULLS LAST, b.created_at, b.id LIMIT ?6";

static void board_bind(sqlite3_stmt *st, const struct reg_challenge *c, int round_number, int limit)
{
    reg_store_bind_text(st, 1, c->id);
    sqlite3_bind_int(st, 2, c->primary_sort == REG_SORT_ASC);
    sqlite3_bind_int(st, 3, c->secondary_name[0] != '\0');
    sqlite3_bind_int(st, 4, c->secondary_sort == REG_SORT_ASC);
    sqlite3_bind_int(st, 5, round_number);
    sqlite3_bind_int(st, 6, limit > 0 ? limit : -1);
}

int reg_board_query(struct reg_store *s, const char *challenge_id, int round_number, int limit,
                    reg_board_fn fn, void *ud)
{
    struct reg_challenge c;
    int rc = reg_catalog_challenge_get(s, challenge_id, &c);
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = reg_store_stmt(s, sql_board);
    if (st == NULL)
        return REG_STORE_ERROR;
    board_bind(st, &c, round_number, limit);
    struct reg_leaderboard_row row;
    memset(&row, 0, sizeof(row));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        row.rank++;
        row.participant_id = sqlite3_column_int64(st, 0);
        row.participant_name = (const char *)sqlite3_column_text(st, 1);
        row.submission_id = sqlite3_column_int64(st, 2);
        row.score = sqlite3_column_double(st, 3);
        row.has_secondary = sqlite3_column_int(st, 5);
        row.score_secondary = row.has_secondary ? sqlite3_column_double(st, 4) : 0.0;
        row.submissions = sqlite3_column_int(st, 6);
        row.best_at = sqlite3_column_int64(st, 7);
        fn(ud, &row);
    }
    reg_store_done(st);
    return rc == SQLITE_DONE ? 0 : REG_STORE_ERROR;
}
