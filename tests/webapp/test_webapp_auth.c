/* Webapp backend tests: API keys checked with GET /api/external_graders/<key> under the
 * broker's token, the cache of valid keys, local participants for webapp participants, and
 * sessions (which need the key in memory). */
#include <stdio.h>
#include <string.h>

#include "registry/reg_access.h"
#include "test.h"
#include "webapp_fixture.h"

TEST(auth_valid_key_makes_a_local_participant)
{
    struct wf f;
    struct wf_auth a;
    wf_open(&f, NULL);
    wf_auth(&f, "key-alice", "demo", &a);
    ASSERT_EQ(a.result, REG_AUTH_OK);
    ASSERT_TRUE(a.has_p && a.has_c);
    ASSERT_TRUE(a.p.id > 0);
    /* The documented key check gives no name: a made-up one until the webapp tells it. */
    ASSERT_STR_EQ(a.p.name, "crowdai-501");
    ASSERT_STR_EQ(a.c.id, "demo");
    ASSERT_EQ(wf_count(&f, "GET", "/api/external_graders/key-alice", NULL, 200), 1);
    /* The same webapp participant is the same local one, also after a restart. */
    wf_reopen(&f, NULL);
    struct wf_auth again;
    wf_auth(&f, "key-alice", "demo", &again);
    ASSERT_EQ(again.result, REG_AUTH_OK);
    ASSERT_EQ(again.p.id, a.p.id);
    wf_close(&f);
}

TEST(auth_takes_the_name_when_the_webapp_gives_it)
{
    struct wf f;
    struct wf_auth a;
    wf_open(&f, NULL);
    wf_auth(&f, "key-bob", "demo", &a);
    ASSERT_EQ(a.result, REG_AUTH_OK);
    ASSERT_STR_EQ(a.p.name, "bob");
    wf_close(&f);
}

TEST(auth_unknown_key_is_bad_key)
{
    struct wf f;
    struct wf_auth a;
    wf_open(&f, NULL);
    wf_auth(&f, "key-nobody", "demo", &a);
    ASSERT_EQ(a.result, REG_AUTH_BAD_KEY);
    ASSERT_FALSE(a.has_p);
    ASSERT_EQ(wf_count(&f, "GET", "/api/external_graders/key-nobody", NULL, 404), 1);
    wf_auth(&f, "", "demo", &a); /* no request for an empty key */
    ASSERT_EQ(a.result, REG_AUTH_BAD_KEY);
    ASSERT_EQ(wf_count(&f, "GET", "/api/external_graders/", NULL, 0), 1);
    wf_close(&f);
}

TEST(auth_escapes_the_key_in_the_path)
{
    struct wf f;
    struct wf_auth a;
    wf_open(&f, NULL);
    wf_auth(&f, "a/b?c d", "demo", &a);
    ASSERT_EQ(a.result, REG_AUTH_BAD_KEY);
    ASSERT_EQ(wf_count(&f, "GET", "/api/external_graders/a%2Fb%3Fc%20d", NULL, 404), 1);
    wf_close(&f);
}

TEST(auth_unknown_or_closed_challenge_is_the_local_catalogs_answer)
{
    struct wf f;
    struct wf_auth a;
    wf_open(&f, NULL);
    wf_auth(&f, "key-alice", "nope", &a);
    ASSERT_EQ(a.result, REG_AUTH_UNKNOWN_CHALLENGE);
    ASSERT_TRUE(a.has_p);
    ASSERT_FALSE(a.has_c);
    f.clock += 31 * WF_DAY; /* the local round 1 of demo has ended */
    wf_auth(&f, "key-alice", "demo", &a);
    ASSERT_EQ(a.result, REG_AUTH_CHALLENGE_CLOSED);
    wf_close(&f);
}

TEST(auth_caches_a_valid_key_for_key_cache_ms)
{
    struct wf f;
    struct wf_auth a, b, c;
    struct wf_opts o = {NULL, 0, 60000, 0};
    wf_open(&f, &o);
    wf_auth(&f, "key-alice", "demo", &a);
    f.clock += 59999;
    wf_auth(&f, "key-alice", "demo", &b);
    ASSERT_EQ(b.result, REG_AUTH_OK);
    ASSERT_EQ(b.p.id, a.p.id);
    ASSERT_EQ(wf_count(&f, "GET", "/api/external_graders/key-alice", NULL, 0), 1);
    f.clock += 1;
    wf_auth(&f, "key-alice", "demo", &c);
    ASSERT_EQ(c.result, REG_AUTH_OK);
    ASSERT_EQ(wf_count(&f, "GET", "/api/external_graders/key-alice", NULL, 0), 2);
    /* A key the webapp no longer knows is refused once the cache has run out. */
    wf_world(&f, "{\"participants\":[],\"challenges\":[]}");
    f.clock += 60000;
    wf_auth(&f, "key-alice", "demo", &c);
    ASSERT_EQ(c.result, REG_AUTH_BAD_KEY);
    wf_close(&f);
}

TEST(auth_without_cache_asks_every_time)
{
    struct wf f;
    struct wf_auth a;
    struct wf_opts o = {NULL, 0, -1, 0};
    wf_open(&f, &o);
    wf_auth(&f, "key-alice", "demo", &a);
    wf_auth(&f, "key-alice", "demo", &a);
    ASSERT_EQ(a.result, REG_AUTH_OK);
    ASSERT_EQ(wf_count(&f, "GET", "/api/external_graders/key-alice", NULL, 0), 2);
    wf_close(&f);
}

TEST(auth_with_a_wrong_broker_token_is_internal_not_bad_key)
{
    struct wf f;
    struct wf_auth a;
    struct wf_opts o = {"not-the-token", 0, 0, 0};
    wf_open(&f, &o);
    wf_auth(&f, "key-alice", "demo", &a);
    ASSERT_EQ(a.result, REG_AUTH_INTERNAL);
    ASSERT_EQ(wf_count(&f, "GET", "/api/external_graders/key-alice", NULL, 401), 1);
    wf_close(&f);
}

TEST(auth_when_the_webapp_fails_is_internal)
{
    struct wf f;
    struct wf_auth a;
    wf_open(&f, NULL);
    wf_control(&f, "/__fault", "{\"fail\":1,\"status\":503}");
    wf_auth(&f, "key-alice", "demo", &a);
    ASSERT_EQ(a.result, REG_AUTH_INTERNAL);
    wf_auth(&f, "key-alice", "demo", &a);
    ASSERT_EQ(a.result, REG_AUTH_OK);
    ASSERT_EQ(wf_count(&f, "GET", "/api/external_graders/key-alice", NULL, 503), 1);
    wf_close(&f);
}

TEST(auth_when_the_webapp_hangs_times_out)
{
    struct wf f;
    struct wf_auth a;
    struct wf_opts o = {NULL, 1000, 0, 0};
    wf_open(&f, &o);
    wf_control(&f, "/__fault", "{\"hang\":1}");
    wf_auth(&f, "key-alice", "demo", &a);
    ASSERT_EQ(a.result, REG_AUTH_INTERNAL);
    wf_auth(&f, "key-alice", "demo", &a);
    ASSERT_EQ(a.result, REG_AUTH_OK);
    wf_close(&f);
}

TEST(auth_answer_over_the_cap_is_a_failure)
{
    struct wf f;
    struct wf_auth a;
    struct wf_opts o = {NULL, 0, 0, 16}; /* the key check's answer is longer than 16 bytes */
    wf_open(&f, &o);
    wf_auth(&f, "key-alice", "demo", &a);
    ASSERT_EQ(a.result, REG_AUTH_INTERNAL);
    ASSERT_EQ(wf_count(&f, "GET", "/api/external_graders/key-alice", NULL, 200), 1);
    wf_close(&f);
}

TEST(session_stands_while_the_key_is_held)
{
    struct wf f;
    wf_open(&f, NULL);
    int64_t pid = wf_login(&f, "key-alice");
    ASSERT_EQ(wf_session(&f, pid, f.clock), 1);
    /* After a restart the key is gone from memory: the participant must authenticate again. */
    wf_reopen(&f, NULL);
    ASSERT_EQ(wf_session(&f, pid, f.clock), 0);
    ASSERT_EQ(wf_login(&f, "key-alice"), pid);
    ASSERT_EQ(wf_session(&f, pid, f.clock), 1);
    /* The local rule stands too: a session issued before a key rotation ends. */
    char key[REG_ACCESS_KEY_LEN + 1];
    ASSERT_EQ(reg_access_key_rotate(f.store, pid, f.clock + 5, key), 0);
    ASSERT_EQ(wf_session(&f, pid, f.clock), 0);
    wf_close(&f);
}
