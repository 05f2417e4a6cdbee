/* The recording client; see client_fixture.h. */
#include "client_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop_util.h"

static void copy_text(char *dst, const char *src)
{
    snprintf(dst, FX_TEXT, "%s", src != NULL ? src : "");
}

static void copy_blobs(struct fx_blob *dst, size_t *n, const struct sioc_binary *src, size_t count)
{
    if (count > FX_MAX_ATT)
        test_fail(__FILE__, __LINE__, "too many attachments: %zu", count);
    for (size_t i = 0; i < count; i++) {
        dst[i].data = malloc(src[i].len + 1);
        memcpy(dst[i].data, src[i].data, src[i].len);
        dst[i].len = src[i].len;
    }
    *n = count;
}

/* ---- Client callbacks ---- */

static void on_open(struct sioc_client *c, void *ud)
{
    struct fx *fx = ud;
    (void)c;
    fx->opens++;
}

static void on_connect_error(struct sioc_client *c, const char *reason, const char *detail,
                             void *ud)
{
    struct fx *fx = ud;
    (void)c;
    fx->connect_errors++;
    fx->connect_error_reason = reason;
    copy_text(fx->connect_error_detail, detail);
}

static void on_disconnect(struct sioc_client *c, const char *reason, const char *detail, void *ud)
{
    struct fx *fx = ud;
    (void)c;
    fx->disconnects++;
    fx->disconnect_reason = reason;
    copy_text(fx->disconnect_detail, detail);
}

static void on_reconnecting(struct sioc_client *c, unsigned attempt, uint64_t delay, void *ud)
{
    struct fx *fx = ud;
    (void)c;
    if (fx->n_reconnecting < FX_MAX) {
        fx->attempts[fx->n_reconnecting] = attempt;
        fx->delays[fx->n_reconnecting] = delay;
    }
    fx->n_reconnecting++;
}

static void on_reconnect_failed(struct sioc_client *c, void *ud)
{
    struct fx *fx = ud;
    (void)c;
    fx->reconnect_failed++;
}

static const struct sioc_client_callbacks client_cbs = {
    on_open, on_connect_error, on_disconnect, on_reconnecting, on_reconnect_failed,
};

/* ---- Socket callbacks ---- */

static void on_sock_connect(struct sioc_socket *s, const char *sid, void *ud)
{
    struct fx_socket *fs = ud;
    (void)s;
    fs->connects++;
    copy_text(fs->sid, sid);
}

static void on_sock_connect_error(struct sioc_socket *s, const char *message, const char *data,
                                  void *ud)
{
    struct fx_socket *fs = ud;
    (void)s;
    fs->connect_errors++;
    copy_text(fs->error_message, message);
    copy_text(fs->error_data, data);
}

static void on_sock_disconnect(struct sioc_socket *s, const char *reason, void *ud)
{
    struct fx_socket *fs = ud;
    (void)s;
    fs->disconnects++;
    fs->disconnect_reason = reason;
}

static const struct sioc_socket_callbacks socket_cbs = {
    on_sock_connect,
    on_sock_connect_error,
    on_sock_disconnect,
};

static void on_any(struct sioc_socket *s, const struct sioc_event *ev, void *ud)
{
    struct fx_socket *fs = ud;
    (void)s;
    if (fs->n_events >= FX_MAX)
        test_fail(__FILE__, __LINE__, "too many events");
    struct fx_event *e = &fs->events[fs->n_events++];
    copy_text(e->name, ev->name);
    e->args = strdup(ev->msg.args);
    if (strlen(ev->msg.args) != ev->msg.args_len)
        test_fail(__FILE__, __LINE__, "args_len does not match the NUL-terminated text");
    copy_blobs(e->att, &e->n_att, ev->msg.attachments, ev->msg.n_attachments);
    e->ack = ev->ack;
}

/* ---- Set-up and teardown ---- */

void fx_init(struct fx *fx, const char *url, const struct sioc_options *opts)
{
    memset(fx, 0, sizeof(*fx));
    int rc = sioc_client_new(test_loop(), url, opts, &client_cbs, fx, &fx->c);
    if (rc != 0)
        test_fail(__FILE__, __LINE__, "sioc_client_new(%s): %s", url, sioc_strerror(rc));
}

const char *fx_url(int port)
{
    static char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    return url;
}

struct fx_socket *fx_socket(struct fx *fx, const char *nsp, const char *auth)
{
    if (fx->n_sockets >= FX_MAX_SOCKETS)
        test_fail(__FILE__, __LINE__, "too many sockets");
    struct fx_socket *fs = &fx->sockets[fx->n_sockets++];
    fs->fx = fx;
    fs->s = sioc_client_socket(fx->c, nsp);
    if (fs->s == NULL)
        test_fail(__FILE__, __LINE__, "sioc_client_socket(%s) failed", nsp);
    sioc_socket_set_callbacks(fs->s, &socket_cbs, fs);
    sioc_socket_on_any(fs->s, on_any, fs);
    int rc = sioc_socket_connect(fs->s, auth);
    if (rc != 0)
        test_fail(__FILE__, __LINE__, "sioc_socket_connect(%s): %s", nsp, sioc_strerror(rc));
    return fs;
}

static void on_closed(struct sioc_client *c, void *ud)
{
    struct fx *fx = ud;
    (void)c;
    fx->closed++;
}

void fx_free(struct fx *fx)
{
    sioc_client_close(fx->c, on_closed);
    RUN_UNTIL(fx->closed == 1, 5000);
    for (int i = 0; i < fx->n_sockets; i++) {
        struct fx_socket *fs = &fx->sockets[i];
        for (int j = 0; j < fs->n_events; j++) {
            free(fs->events[j].args);
            for (size_t k = 0; k < fs->events[j].n_att; k++)
                free(fs->events[j].att[k].data);
        }
    }
}

/* ---- Lookups ---- */

const struct fx_event *fx_event(const struct fx_socket *fs, const char *name, int nth)
{
    for (int i = 0; i < fs->n_events; i++) {
        if (strcmp(fs->events[i].name, name) == 0 && nth-- == 0)
            return &fs->events[i];
    }
    return NULL;
}

int fx_count(const struct fx_socket *fs, const char *name)
{
    int n = 0;
    for (int i = 0; i < fs->n_events; i++)
        n += strcmp(fs->events[i].name, name) == 0;
    return n;
}

/* ---- Acks ---- */

void fx_on_ack(struct sioc_socket *s, const char *err, const struct sioc_message *reply, void *ud)
{
    struct fx_ack *a = ud;
    (void)s;
    a->done++;
    a->err = err;
    if (reply != NULL) {
        a->args = strdup(reply->args);
        copy_blobs(a->att, &a->n_att, reply->attachments, reply->n_attachments);
    }
}

void fx_ack_release(struct fx_ack *a)
{
    free(a->args);
    for (size_t i = 0; i < a->n_att; i++)
        free(a->att[i].data);
    memset(a, 0, sizeof(*a));
}

void fx_call(struct fx_socket *fs, const char *name, const char *args,
             const struct sioc_binary *att, size_t n_att, struct fx_ack *out)
{
    memset(out, 0, sizeof(*out));
    int rc = sioc_socket_emit_ack(fs->s, name, args, att, n_att, 10000, fx_on_ack, out);
    if (rc != 0)
        test_fail(__FILE__, __LINE__, "emit_ack(%s): %s", name, sioc_strerror(rc));
    RUN_UNTIL(out->done == 1, 10000);
}
