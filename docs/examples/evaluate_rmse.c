/* An example crowdAI evaluator in C (plain libc and libm): the root mean squared error of a
 * prediction CSV against an answer CSV, both "id,value" with that header line; the mean
 * absolute error is score_secondary. It follows docs/evaluator.md: progress and info lines
 * on stdout, the result as one JSON object on fd CROWDAI_RESULT_FD (3), errors on stderr
 * with exit status 1. Run by hand (no fd 3), it prints the result as its last stdout line.
 *
 * Build: cc -std=c11 -O2 -Wall -o evaluate_rmse evaluate_rmse.c -lm   (or: make)
 * Usage: evaluate_rmse [PREDICTIONS ANSWERS]
 *        (the files default to $CROWDAI_SUBMISSION_FILE and $CROWDAI_ANSWER_FILE) */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

struct row {
    char *id;
    double value;
};

struct table {
    struct row *rows;
    size_t count, alloc;
};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
    va_list ap;
    fputs("error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void *grow(void *p, size_t size)
{
    p = realloc(p, size);
    if (p == NULL)
        fail("out of memory");
    return p;
}

static void add_row(struct table *t, const char *id, double value)
{
    if (t->count == t->alloc) {
        t->alloc = t->alloc ? 2 * t->alloc : 64;
        t->rows = grow(t->rows, t->alloc * sizeof(*t->rows));
    }
    t->rows[t->count].id = strdup(id);
    if (t->rows[t->count].id == NULL)
        fail("out of memory");
    t->rows[t->count].value = value;
    t->count++;
}

/* Removes the line end and surrounding spaces in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static void read_table(const char *path, const char *what, struct table *t)
{
    char line[LINE_MAX_BYTES];
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail("cannot read the %s file: %s", what, strerror(errno));
    if (fgets(line, sizeof(line), f) == NULL || strcmp(trim(line), "id,value") != 0)
        fail("the %s file must start with the header line id,value", what);
    for (long n = 2; fgets(line, sizeof(line), f) != NULL; n++) {
        char *text = trim(line);
        if (text[0] == '\0')
            continue;
        char *comma = strchr(text, ',');
        if (comma == NULL)
            fail("the %s file, line %ld: expected id,value", what, n);
        *comma = '\0';
        char *end;
        errno = 0;
        double value = strtod(comma + 1, &end);
        if (end == comma + 1 || *trim(end) != '\0' || errno == ERANGE || !isfinite(value))
            fail("the %s file, line %ld: the value for id %s is not a number", what, n, trim(text));
        add_row(t, trim(text), value);
    }
    fclose(f);
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const struct row *)a)->id, ((const struct row *)b)->id);
}

/* Sorts by id and refuses duplicates. */
static void index_table(struct table *t, const char *what)
{
    qsort(t->rows, t->count, sizeof(*t->rows), by_id);
    for (size_t i = 1; i < t->count; i++) {
        if (strcmp(t->rows[i - 1].id, t->rows[i].id) == 0)
            fail("the %s file has id %s twice", what, t->rows[i].id);
    }
}

static void progress(int percent, const char *message)
{
    printf("progress %d %s\n", percent, message);
    fflush(stdout);
}

/* Writes the result to fd CROWDAI_RESULT_FD if it is open, else prints it on stdout. */
static void write_result(double rmse, double mae, size_t rows)
{
    const char *env = getenv("CROWDAI_RESULT_FD");
    int fd = env != NULL ? atoi(env) : 3;
    char text[256];
    snprintf(text, sizeof(text),
             "{\"score\": %.17g, \"score_secondary\": %.17g, \"metric\": \"rmse\", "
             "\"rows\": %zu}\n",
             rmse, mae, rows);
    if (fd >= 0 && fcntl(fd, F_GETFD) != -1) {
        if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
            fail("cannot write the result: %s", strerror(errno));
    } else {
        fputs(text, stdout);
    }
}

int main(int argc, char **argv)
{
    const char *predictions = argc > 2 ? argv[1] : getenv("CROWDAI_SUBMISSION_FILE");
    const char *answers = argc > 2 ? argv[2] : getenv("CROWDAI_ANSWER_FILE");
    struct table pred = {NULL, 0, 0}, ans = {NULL, 0, 0};
    if (predictions == NULL || answers == NULL || !predictions[0] || !answers[0])
        fail("usage: evaluate_rmse PREDICTIONS ANSWERS");

    progress(0, "reading the files");
    read_table(answers, "answer", &ans);
    read_table(predictions, "prediction", &pred);
    printf("info read %zu predictions for %zu answers\n", pred.count, ans.count);
    progress(10, "files read");
    if (ans.count == 0)
        fail("the answer file has no rows");
    index_table(&ans, "answer");
    index_table(&pred, "prediction");

    double squares = 0.0, absolute = 0.0;
    size_t step = ans.count / 4 > 0 ? ans.count / 4 : 1;
    for (size_t i = 0; i < ans.count; i++) {
        /* Both are sorted by id: row i must match row i. */
        if (i >= pred.count || strcmp(pred.rows[i].id, ans.rows[i].id) > 0)
            fail("the predictions lack id %s", ans.rows[i].id);
        if (strcmp(pred.rows[i].id, ans.rows[i].id) < 0)
            fail("the predictions have an unknown id %s", pred.rows[i].id);
        double error = pred.rows[i].value - ans.rows[i].value;
        squares += error * error;
        absolute += fabs(error);
        if ((i + 1) % step == 0 || i + 1 == ans.count) {
            char message[64];
            snprintf(message, sizeof(message), "scored %zu of %zu rows", i + 1, ans.count);
            progress((int)(10 + 80 * (i + 1) / ans.count), message);
        }
    }
    if (pred.count > ans.count)
        fail("the predictions have an unknown id %s", pred.rows[ans.count].id);
    progress(100, "done");
    write_result(sqrt(squares / (double)ans.count), absolute / (double)ans.count, ans.count);

    for (size_t i = 0; i < ans.count; i++)
        free(ans.rows[i].id);
    for (size_t i = 0; i < pred.count; i++)
        free(pred.rows[i].id);
    free(ans.rows);
    free(pred.rows);
    return 0;
}
