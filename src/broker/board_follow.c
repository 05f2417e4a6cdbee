/* Live leaderboards: a page follows a challenge's leaderboard (room "leaderboard:<id>") and
 * is told `leaderboard_changed {challenge_id}` when a score lands in it, then asks for the
 * leaderboard again. Every broker hears every COMPLETE event (Pub/Sub); once a whole outbox
 * pass is over the score is in the registry, so the broker looks up the submission's
 * challenge and tells its own followers, at most once per BOARD_COALESCE_MS per challenge
 * (a busy challenge does not make every page reload its leaderboard per score). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/psess.h"
#include "broker/reply.h"
#include "core/xalloc.h"
#include "registry/reg_catalog.h"

#define BOARD_COALESCE_MS 500
#define BOARD_MAX_PASSES  5 /* the registry refused the score this often: give up */
#define BOARD_ROOM_PREFIX "leaderboard:"

struct board_note {
    struct broker *b;
    int64_t sub_id;
    int passes; /* outbox passes waited for so far */
};

static void board_room(const char *challenge_id, char room[96])
{
    snprintf(room, 96, "%s%s", BOARD_ROOM_PREFIX, challenge_id);
}

static void emit_changed(const char *challenge_id, void *value, void *ud)
{
    struct broker *b = ud;
    char room[96];
    (void)value;
    board_room(challenge_id, room);
    json_t *args = json_pack("{s:s}", "challenge_id", challenge_id);
    char *text = json_dumps(args, JSON_COMPACT);
    if (text != NULL)
        sio_room_emit(b->participants, room, "leaderboard_changed", text, strlen(text), NULL, 0);
    free(text);
    json_decref(args);
}

static void on_board_timer(uv_timer_t *t)
{
    struct broker *b = t->data;
    strmap_each(&b->board_pending, emit_changed, b);
    strmap_release(&b->board_pending);
    strmap_init(&b->board_pending);
}

static void on_outbox_pass(void *ud, int stopping);

static void on_scored_submission(void *ud, int found, const struct reg_submission *s)
{
    struct board_note *n = ud;
    struct broker *b = n->b;
    /* Not in the registry yet (it refused the score, or could not be read): the outbox tries
     * again at its next pass, and so does this, a few times. */
    int not_yet = !found || s->state == REG_SUB_QUEUED || s->state == REG_SUB_RUNNING;
    if (not_yet && !b->stopping && ++n->passes < BOARD_MAX_PASSES) {
        outbox_wait(b, on_outbox_pass, n);
        return;
    }
    if (found && !b->stopping && s->state == REG_SUB_COMPLETE) {
        strmap_put(&b->board_pending, s->challenge_id, b);
        if (!uv_is_active((uv_handle_t *)&b->board_timer))
            uv_timer_start(&b->board_timer, on_board_timer, BOARD_COALESCE_MS, 0);
    }
    free(n);
}

static void on_outbox_pass(void *ud, int stopping)
{
    struct board_note *n = ud;
    if (stopping) {
        free(n);
        return;
    }
    n->b->reg->ops->get_submission(n->b->reg, n->sub_id, on_scored_submission, n);
}

void board_note_complete(struct broker *b, int64_t sub_id)
{
    if (b->board_followers == 0 || b->stopping)
        return;
    struct board_note *n = xcalloc(1, sizeof(*n));
    n->b = b;
    n->sub_id = sub_id;
    outbox_wait(b, on_outbox_pass, n);
}

static void on_follow(struct sio_socket *sock, const struct sio_event *ev, void *ud)
{
    struct broker *b = ud;
    struct psess *ps = psess_of(sock);
    json_t *args = reply_first_object(ev);
    const char *challenge = args ? reply_string(args, "challenge_id", 63) : NULL;
    if (challenge == NULL || !reg_catalog_valid_id(challenge, strlen(challenge))) {
        reply_error(sock, ev->ack_id, "BAD_REQUEST", "leaderboard_follow needs {challenge_id}.",
                    NULL);
    } else {
        char room[96];
        if (ps->board[0] != '\0') {
            board_room(ps->board, room);
            sio_socket_leave(sock, room);
        } else {
            b->board_followers++;
        }
        snprintf(ps->board, sizeof(ps->board), "%s", challenge);
        board_room(challenge, room);
        sio_socket_join(sock, room);
        reply_ok(sock, ev->ack_id, json_pack("{s:s}", "challenge_id", challenge));
    }
    if (args != NULL)
        json_decref(args);
}

void board_forget(struct broker *b, struct psess *ps)
{
    if (ps->board[0] != '\0') {
        b->board_followers--;
        ps->board[0] = '\0';
    }
}

void board_install(struct broker *b)
{
    strmap_init(&b->board_pending);
    uv_timer_init(b->loop, &b->board_timer);
    b->board_timer.data = b;
    sio_namespace_on(b->participants, "leaderboard_follow", on_follow, b);
}

void board_stop(struct broker *b)
{
    uv_timer_stop(&b->board_timer);
    uv_close((uv_handle_t *)&b->board_timer, NULL);
}

void board_release(struct broker *b)
{
    strmap_release(&b->board_pending);
}
