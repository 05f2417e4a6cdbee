/* ISO 8601 times in UTC for the registry's messages and the admin command line. */
#include "registry/reg_time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t reg_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if (a % b != 0 && (a < 0) != (b < 0))
        q--;
    return q;
}

void reg_time_format(int64_t ms, char out[REG_TIME_LEN])
{
    int64_t secs = floor_div(ms, 1000);
    int frac = (int)(ms - secs * 1000);
    time_t t = (time_t)secs;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL) {
        snprintf(out, REG_TIME_LEN, "(invalid time)");
        return;
    }
    int n = (int)strftime(out, REG_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac != 0)
        snprintf(out + n, (size_t)(REG_TIME_LEN - n), ".%03dZ", frac);
    else
        snprintf(out + n, (size_t)(REG_TIME_LEN - n), "Z");
}

void reg_time_format_ceil(int64_t ms, char out[REG_TIME_LEN])
{
    reg_time_format(floor_div(ms + 999, 1000) * 1000, out);
}

/* Reads exactly n decimal digits at *p. */
static int read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

static int parse_date(const char **p, struct tm *tm)
{
    int y, mo, d;
    if (read_digits(p, 4, &y) != 0 || *(*p)++ != '-' || read_digits(p, 2, &mo) != 0 ||
        *(*p)++ != '-' || read_digits(p, 2, &d) != 0)
        return -1;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -1;
    tm->tm_year = y - 1900;
    tm->tm_mon = mo - 1;
    tm->tm_mday = d;
    return 0;
}

/* HH:MM[:SS[.fff...]]; the fraction is kept to milliseconds. */
static int parse_clock(const char **p, struct tm *tm, int *millis)
{
    int h, mi, s = 0;
    if (read_digits(p, 2, &h) != 0 || *(*p)++ != ':' || read_digits(p, 2, &mi) != 0)
        return -1;
    if (**p == ':') {
        (*p)++;
        if (read_digits(p, 2, &s) != 0)
            return -1;
        if (**p == '.') {
            (*p)++;
            int scale = 100, digits = 0;
            for (; **p >= '0' && **p <= '9'; (*p)++, digits++) {
                *millis += (**p - '0') * scale;
                scale /= 10;
            }
            if (digits == 0)
                return -1;
        }
    }
    if (h > 23 || mi > 59 || s > 59)
        return -1;
    tm->tm_hour = h;
    tm->tm_min = mi;
    tm->tm_sec = s;
    return 0;
}

/* "Z" or "+HH:MM" / "-HH:MM" (also "+HHMM"): the zone's offset east of UTC in minutes. */
static int parse_zone(const char **p, int *offset_min)
{
    char c = **p;
    if (c == 'Z' || c == 'z') {
        (*p)++;
        *offset_min = 0;
        return 0;
    }
    if (c != '+' && c != '-')
        return -1;
    (*p)++;
    int h, m;
    if (read_digits(p, 2, &h) != 0)
        return -1;
    if (**p == ':')
        (*p)++;
    if (read_digits(p, 2, &m) != 0 || h > 23 || m > 59)
        return -1;
    *offset_min = (c == '-' ? -1 : 1) * (h * 60 + m);
    return 0;
}

int reg_time_parse(const char *s, int64_t *ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *p = s;
    int millis = 0, offset_min = 0;
    if (parse_date(&p, &tm) != 0)
        return -1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (parse_clock(&p, &tm, &millis) != 0 || parse_zone(&p, &offset_min) != 0)
            return -1;
    }
    if (*p != '\0')
        return -1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *ms = ((int64_t)t - (int64_t)offset_min * 60) * 1000 + millis;
    return 0;
}
