/* One-line structured logging to stderr: `ts level module message key=value ...`.
 * The level is tested before the arguments are evaluated. Never log secrets. */
#ifndef CORE_LOG_H
#define CORE_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern enum log_level log_threshold;

void log_set_level(enum log_level level);
/* Parses "error", "warn", "info" or "debug"; returns -1 for anything else. */
int log_level_parse(const char *name, enum log_level *out);
void log_write(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_at(level, mod, ...)                                                                    \
    do {                                                                                           \
        if ((level) <= log_threshold)                                                              \
            log_write((level), (mod), __VA_ARGS__);                                                \
    } while (0)
#define log_error(mod, ...) log_at(LOG_ERROR, mod, __VA_ARGS__)
#define log_warn(mod, ...)  log_at(LOG_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...)  log_at(LOG_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) log_at(LOG_DEBUG, mod, __VA_ARGS__)

#endif
