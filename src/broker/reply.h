/* JSON helpers for the broker's own protocol: parsing the object a client sent as an event's
 * first argument, and answering acks as {"ok":true,...} or {"ok":false,"code":..,"message":..}.
 * Event arguments the broker only relays never go through here. */
#ifndef BROKER_REPLY_H
#define BROKER_REPLY_H

#include <jansson.h>
#include <stdint.h>

#include "socketio/sio_server.h"

/* The first argument as a JSON object (new reference), or NULL when it is missing, not an
 * object, or not JSON that jansson accepts. */
json_t *reply_first_object(const struct sio_event *ev);
/* A string member of at most max_len bytes, or NULL. */
const char *reply_string(json_t *obj, const char *key, size_t max_len);
/* An integer member, or def when absent; -1 through *ok when present but not an integer. */
int64_t reply_integer(json_t *obj, const char *key, int64_t def, int *ok);
/* Acks ack_id with obj plus "ok":true (steals obj). No-op when ack_id is SIO_NO_ACK. */
void reply_ok(struct sio_socket *sock, long long ack_id, json_t *obj);
/* Acks ack_id with {"ok":false,"code":code,"message":message} (+ extra's members, stolen). */
void reply_error(struct sio_socket *sock, long long ack_id, const char *code, const char *message,
                 json_t *extra);
/* ISO 8601 UTC of a Unix-ms time ("2026-11-26T02:10:00.123Z"). */
void reply_iso_time(int64_t ms, char out[32]);
/* An event object for rq: {"type","percent","message","data":null,"at"} (caller frees). */
char *reply_event(const char *type, int percent, const char *message, json_t *data);

#endif
