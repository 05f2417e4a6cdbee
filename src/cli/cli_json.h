/* JSON for the command line: writing jansson values as compact text with numbers in their
 * shortest form that reads back exactly (0.66, not 0.66000000000000003), reading the first
 * argument of a Socket.IO message, and typed getters that tolerate missing members. */
#ifndef CLI_CLI_JSON_H
#define CLI_CLI_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Appends v as compact JSON to out. Returns 0, or -1 when out's cap is reached or v nests
 * deeper than 64. */
int cli_json_dump(struct buf *out, json_t *v);
/* A JSON number for d in the fewest digits that read back as d ("null" if not finite). */
void cli_json_number(double d, char out[32]);

/* The first argument of a Socket.IO message (args: the JSON array text) when it is an
 * object; NULL otherwise. The caller owns the result. */
json_t *cli_json_first_object(const char *args, size_t len);

/* The string member key of obj, or NULL when it is missing or not a string. */
const char *cli_json_str(json_t *obj, const char *key);
/* The integer member key of obj: 0 and *out set, or -1 when it is missing or not an integer. */
int cli_json_int(json_t *obj, const char *key, int64_t *out);
/* The number member key of obj: 0 and *out set, or -1 when it is missing or not a number. */
int cli_json_num(json_t *obj, const char *key, double *out);

#endif
