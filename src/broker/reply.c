/* JSON helpers for the broker's own protocol; see reply.h. */
#include "broker/reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/xalloc.h"

json_t *reply_first_object(const struct sio_event *ev)
{
    size_t len = ev->args_len + 2;
    char *text = xmalloc(len + 1);
    text[0] = '[';
    memcpy(text + 1, ev->args, ev->args_len);
    text[len - 1] = ']';
    text[len] = '\0';
    json_t *arr = json_loadb(text, len, 0, NULL);
    free(text);
    if (arr == NULL)
        return NULL;
    json_t *first = json_array_get(arr, 0);
    json_t *obj = json_is_object(first) ? json_incref(first) : NULL;
    json_decref(arr);
    return obj;
}

const char *reply_string(json_t *obj, const char *key, size_t max_len)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || json_string_length(v) > max_len)
        return NULL;
    const char *s = json_string_value(v);
    return strlen(s) == json_string_length(v) ? s : NULL; /* no embedded NUL */
}

int64_t reply_integer(json_t *obj, const char *key, int64_t def, int *ok)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return def;
    if (!json_is_integer(v)) {
        *ok = -1;
        return def;
    }
    return (int64_t)json_integer_value(v);
}

static void send_ack(struct sio_socket *sock, long long ack_id, json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    if (text != NULL)
        sio_socket_ack(sock, ack_id, text, strlen(text), NULL, 0);
    free(text);
}

void reply_ok(struct sio_socket *sock, long long ack_id, json_t *obj)
{
    json_t *out = json_pack("{s:b}", "ok", 1);
    json_object_update(out, obj);
    json_decref(obj);
    if (ack_id != SIO_NO_ACK)
        send_ack(sock, ack_id, out);
    json_decref(out);
}

void reply_error(struct sio_socket *sock, long long ack_id, const char *code, const char *message,
                 json_t *extra)
{
    json_t *out = json_pack("{s:b,s:s,s:s}", "ok", 0, "code", code, "message", message);
    if (extra != NULL) {
        json_object_update(out, extra);
        json_decref(extra);
    }
    if (ack_id != SIO_NO_ACK)
        send_ack(sock, ack_id, out);
    json_decref(out);
}

void reply_iso_time(int64_t ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

char *reply_event(const char *type, int percent, const char *message, json_t *data)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char at[32];
    reply_iso_time((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, at);
    json_t *ev = json_pack("{s:s,s:i,s:s,s:o,s:s}", "type", type, "percent", percent, "message",
                           message, "data", data != NULL ? data : json_null(), "at", at);
    char *text = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    return text;
}
