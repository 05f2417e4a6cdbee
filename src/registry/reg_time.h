/* Times of the registry: Unix milliseconds, shown and read as ISO 8601 in UTC. Pure
 * functions apart from reg_time_now. */
#ifndef REGISTRY_REG_TIME_H
#define REGISTRY_REG_TIME_H

#include <stddef.h>
#include <stdint.h>

#define REG_TIME_MS_PER_DAY ((int64_t)24 * 3600 * 1000)
/* "2026-11-26T14:03:00.250Z" plus NUL fits. */
#define REG_TIME_LEN 32

/* Wall-clock time in Unix milliseconds. */
int64_t reg_time_now(void);
/* Writes ms as "YYYY-MM-DDTHH:MM:SSZ", with ".mmm" before the Z when ms is not a whole
 * second. */
void reg_time_format(int64_t ms, char out[REG_TIME_LEN]);
/* The same, rounded up to the next whole second: for telling a person when to come back. */
void reg_time_format_ceil(int64_t ms, char out[REG_TIME_LEN]);
/* Parses "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM[:SS[.fff]]" followed by "Z" or an
 * offset "+HH:MM" / "-HH:MM" ("T" may be a space). Returns 0, or -1 if s is anything else. */
int reg_time_parse(const char *s, int64_t *ms);

#endif
