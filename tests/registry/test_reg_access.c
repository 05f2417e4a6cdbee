/* Registry tests: API keys (random, hashed, rotated, revoked), authentication outcomes and
 * grader keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reg_fixture.h"
#include "test.h"

static void one_round(struct fx *f, const char *challenge, int64_t start, int64_t end, int late)
{
    struct reg_round r = fx_round_def(challenge, 1, start, end);
    r.accept_late = late;
    fx_round_add(f, &r);
}

TEST(keys_are_random_hex)
{
    char a[REG_ACCESS_KEY_LEN + 1], b[REG_ACCESS_KEY_LEN + 1];
    reg_access_key_new(a);
    reg_access_key_new(b);
    ASSERT_EQ(strlen(a), 64);
    ASSERT_EQ(strspn(a, "0123456789abcdef"), 64);
    ASSERT_TRUE(strcmp(a, b) != 0);
    char hash[REG_ACCESS_KEY_LEN + 1];
    reg_access_key_hash("abc", hash);
    ASSERT_STR_EQ(hash, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* Reads the database file and its WAL and reports whether text occurs in either. */
static int file_contains(const char *path, const char *text)
{
    char wal[160];
    const char *paths[2] = {path, wal};
    snprintf(wal, sizeof(wal), "%s-wal", path);
    for (int i = 0; i < 2; i++) {
        FILE *fp = fopen(paths[i], "rb");
        if (fp == NULL)
            continue;
        static char data[1 << 20];
        size_t n = fread(data, 1, sizeof(data), fp);
        fclose(fp);
        if (memmem(data, n, text, strlen(text)) != NULL)
            return 1;
    }
    return 0;
}

TEST(api_key_is_stored_only_as_its_hash)
{
    struct fx f;
    char key[REG_ACCESS_KEY_LEN + 1], hash[REG_ACCESS_KEY_LEN + 1];
    fx_open(&f);
    fx_participant(&f, "alice", key);
    reg_access_key_hash(key, hash);
    ASSERT_TRUE(strcmp(key, hash) != 0);
    ASSERT_EQ(file_contains(f.path, key), 0);
    ASSERT_EQ(file_contains(f.path, hash), 1);
    fx_close(&f);
}

TEST(auth_ok_gives_participant_and_challenge)
{
    struct fx f;
    struct fx_auth a;
    char key[REG_ACCESS_KEY_LEN + 1];
    fx_open(&f);
    fx_challenge(&f, "c", REG_SORT_DESC, -1);
    one_round(&f, "c", T0, T0 + DAY, 0);
    int64_t id = fx_participant(&f, "alice", key);
    fx_auth(&f, key, "c", &a);
    ASSERT_EQ(a.result, REG_AUTH_OK);
    ASSERT_TRUE(a.has_p && a.has_c);
    ASSERT_EQ(a.p.id, id);
    ASSERT_STR_EQ(a.p.name, "alice");
    ASSERT_STR_EQ(a.c.id, "c");
    ASSERT_STR_EQ(a.c.primary_name, "score");
    fx_close(&f);
}

TEST(auth_bad_key_and_unknown_challenge)
{
    struct fx f;
    struct fx_auth a;
    char key[REG_ACCESS_KEY_LEN + 1], other[REG_ACCESS_KEY_LEN + 1];
    fx_open(&f);
    fx_challenge(&f, "c", REG_SORT_DESC, -1);
    fx_participant(&f, "alice", key);
    reg_access_key_new(other);
    fx_auth(&f, other, "c", &a);
    ASSERT_EQ(a.result, REG_AUTH_BAD_KEY);
    ASSERT_TRUE(!a.has_p && !a.has_c);
    fx_auth(&f, "", "c", &a);
    ASSERT_EQ(a.result, REG_AUTH_BAD_KEY);
    fx_auth(&f, NULL, "c", &a);
    ASSERT_EQ(a.result, REG_AUTH_BAD_KEY);
    /* The hash itself is not a key. */
    char hash[REG_ACCESS_KEY_LEN + 1];
    reg_access_key_hash(key, hash);
    fx_auth(&f, hash, "c", &a);
    ASSERT_EQ(a.result, REG_AUTH_BAD_KEY);
    fx_auth(&f, key, "nope", &a);
    ASSERT_EQ(a.result, REG_AUTH_UNKNOWN_CHALLENGE);
    ASSERT_TRUE(a.has_p && !a.has_c);
    fx_close(&f);
}

TEST(auth_closed_challenge_at_the_end_of_its_last_round)
{
    struct fx f;
    struct fx_auth a;
    char key[REG_ACCESS_KEY_LEN + 1];
    fx_open(&f);
    fx_challenge(&f, "c", REG_SORT_DESC, -1);
    fx_challenge(&f, "late", REG_SORT_DESC, -1);
    fx_challenge(&f, "empty", REG_SORT_DESC, -1);
    one_round(&f, "c", T0, T0 + DAY, 0);
    struct reg_round r2 = fx_round_def("c", 2, T0 + 2 * DAY, T0 + 3 * DAY);
    fx_round_add(&f, &r2);
    one_round(&f, "late", T0, T0 + DAY, 1);
    fx_participant(&f, "alice", key);
    f.clock = T0 + 2 * DAY; /* between the rounds: not closed */
    fx_auth(&f, key, "c", &a);
    ASSERT_EQ(a.result, REG_AUTH_OK);
    f.clock = T0 + 3 * DAY - 1;
    fx_auth(&f, key, "c", &a);
    ASSERT_EQ(a.result, REG_AUTH_OK);
    f.clock = T0 + 3 * DAY;
    fx_auth(&f, key, "c", &a);
    ASSERT_EQ(a.result, REG_AUTH_CHALLENGE_CLOSED);
    ASSERT_TRUE(a.has_p && a.has_c);
    fx_auth(&f, key, "late", &a);
    ASSERT_EQ(a.result, REG_AUTH_OK);
    fx_auth(&f, key, "empty", &a);
    ASSERT_EQ(a.result, REG_AUTH_OK);
    fx_close(&f);
}

TEST(key_rotation_replaces_the_key)
{
    struct fx f;
    struct fx_auth a;
    char key[REG_ACCESS_KEY_LEN + 1], fresh[REG_ACCESS_KEY_LEN + 1];
    fx_open(&f);
    fx_challenge(&f, "c", REG_SORT_DESC, -1);
    int64_t id = fx_participant(&f, "alice", key);
    ASSERT_EQ(reg_access_key_rotate(f.store, id, T0, fresh), 0);
    ASSERT_TRUE(strcmp(key, fresh) != 0);
    fx_auth(&f, key, "c", &a);
    ASSERT_EQ(a.result, REG_AUTH_BAD_KEY);
    fx_auth(&f, fresh, "c", &a);
    ASSERT_EQ(a.result, REG_AUTH_OK);
    ASSERT_EQ(a.p.id, id);
    ASSERT_EQ(reg_access_key_rotate(f.store, id + 100, T0, fresh), REG_STORE_NOT_FOUND);
    fx_close(&f);
}

TEST(key_revocation_locks_the_participant_out)
{
    struct fx f;
    struct fx_auth a;
    char key[REG_ACCESS_KEY_LEN + 1], bob_key[REG_ACCESS_KEY_LEN + 1];
    fx_open(&f);
    fx_challenge(&f, "c", REG_SORT_DESC, -1);
    int64_t id = fx_participant(&f, "alice", key);
    fx_participant(&f, "bob", bob_key);
    ASSERT_EQ(reg_access_key_revoke(f.store, id, T0), 1);
    fx_auth(&f, key, "c", &a);
    ASSERT_EQ(a.result, REG_AUTH_BAD_KEY);
    fx_auth(&f, bob_key, "c", &a);
    ASSERT_EQ(a.result, REG_AUTH_OK);
    ASSERT_EQ(reg_access_key_revoke(f.store, id, T0), 0);
    ASSERT_EQ(reg_access_key_revoke(f.store, 999, T0), REG_STORE_NOT_FOUND);
    fx_close(&f);
}

TEST(sessions_end_when_the_key_is_rotated_or_revoked)
{
    struct fx f;
    char key[REG_ACCESS_KEY_LEN + 1], bob_key[REG_ACCESS_KEY_LEN + 1];
    fx_open(&f);
    int64_t id = fx_participant(&f, "alice", key);
    int64_t bob = fx_participant(&f, "bob", bob_key);
    ASSERT_EQ(reg_access_session_valid(f.store, id, T0 - 5000), 1);
    ASSERT_EQ(reg_access_key_rotate(f.store, id, T0, key), 0);
    ASSERT_EQ(reg_access_session_valid(f.store, id, T0 - 1), 0);
    ASSERT_EQ(reg_access_session_valid(f.store, id, T0), 0); /* the same millisecond */
    ASSERT_EQ(reg_access_session_valid(f.store, id, T0 + 1), 1);
    ASSERT_EQ(reg_access_session_valid(f.store, bob, T0 - 1), 1); /* others untouched */
    ASSERT_EQ(reg_access_key_revoke(f.store, id, T0 + 100), 1);
    ASSERT_EQ(reg_access_session_valid(f.store, id, T0 + 1), 0);
    ASSERT_EQ(reg_access_session_valid(f.store, id, T0 + 101), 1);
    ASSERT_EQ(reg_access_session_valid(f.store, 999, T0), 0); /* no such participant */
    fx_close(&f);
}

TEST(participant_names_are_unique)
{
    struct fx f;
    char key[REG_ACCESS_KEY_LEN + 1];
    int64_t id;
    fx_open(&f);
    fx_participant(&f, "alice", NULL);
    ASSERT_EQ(reg_access_participant_add(f.store, "alice", T0, &id, key), REG_STORE_EXISTS);
    ASSERT_EQ(reg_access_name_check(""), -1);
    ASSERT_EQ(reg_access_name_check("tab\there"), -1);
    ASSERT_EQ(reg_access_name_check("Zoë Q."), 0);
    fx_close(&f);
}

TEST(grader_keys_check_revoke_and_reissue)
{
    struct fx f;
    char key[REG_ACCESS_KEY_LEN + 1], again[REG_ACCESS_KEY_LEN + 1], name[64];
    fx_open(&f);
    ASSERT_EQ(reg_access_grader_add(f.store, "gpu-1", T0, key), 0);
    ASSERT_EQ(fx_grader(&f, key, name), 1);
    ASSERT_STR_EQ(name, "gpu-1");
    ASSERT_EQ(fx_grader(&f, "0000", name), 0);
    ASSERT_STR_EQ(name, "");
    ASSERT_EQ(fx_grader(&f, "", name), 0);
    ASSERT_EQ(reg_access_grader_add(f.store, "gpu-1", T0, again), REG_STORE_EXISTS);
    ASSERT_EQ(reg_access_grader_revoke(f.store, "gpu-1", T0), 0);
    ASSERT_EQ(fx_grader(&f, key, name), 0);
    ASSERT_EQ(reg_access_grader_revoke(f.store, "gpu-1", T0), REG_STORE_NOT_FOUND);
    ASSERT_EQ(reg_access_grader_add(f.store, "gpu-1", T0, again), 0);
    ASSERT_EQ(fx_grader(&f, again, name), 1);
    ASSERT_EQ(fx_grader(&f, key, name), 0);
    ASSERT_EQ(file_contains(f.path, again), 0);
    fx_close(&f);
}

TEST(get_challenge_found_and_not)
{
    struct fx f;
    struct reg_challenge c;
    fx_open(&f);
    fx_challenge(&f, "c", REG_SORT_ASC, REG_SORT_DESC);
    ASSERT_EQ(fx_get_challenge(&f, "c", &c), 1);
    ASSERT_STR_EQ(c.title, "Challenge c");
    ASSERT_EQ(c.primary_sort, REG_SORT_ASC);
    ASSERT_STR_EQ(c.secondary_name, "time");
    ASSERT_EQ(c.secondary_sort, REG_SORT_DESC);
    ASSERT_EQ(c.max_attempts, 3);
    ASSERT_EQ(fx_get_challenge(&f, "d", &c), 0);
    fx_close(&f);
}
