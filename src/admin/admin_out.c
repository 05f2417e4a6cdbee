/* crowdai-admin: output as aligned plain-text tables or as JSON. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "core/xalloc.h"

static void table_push(struct admin_table *t, char *cell)
{
    if (t->ncells == t->alloc) {
        t->alloc = t->alloc ? t->alloc * 2 : 32;
        t->cells = xrealloc(t->cells, (size_t)t->alloc * sizeof(*t->cells));
    }
    t->cells[t->ncells++] = cell;
}

void admin_table_init(struct admin_table *t, int ncols, const char *const *headers)
{
    t->ncols = ncols;
    t->ncells = 0;
    t->alloc = 0;
    t->cells = NULL;
    for (int i = 0; i < ncols; i++)
        table_push(t, xstrdup(headers[i]));
}

void admin_table_cell(struct admin_table *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *cell = xmalloc(n > 0 ? (size_t)n + 1 : 1);
    va_start(ap, fmt);
    vsnprintf(cell, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
    va_end(ap);
    for (char *p = cell; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20)
            *p = ' '; /* one line per row */
    }
    table_push(t, cell);
}

/* Width on a terminal: UTF-8 continuation bytes take no column. */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s != '\0'; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

void admin_table_print(const struct admin_table *t, FILE *out)
{
    size_t *width = xcalloc((size_t)t->ncols, sizeof(*width));
    for (int i = 0; i < t->ncells; i++) {
        size_t w = text_width(t->cells[i]);
        if (w > width[i % t->ncols])
            width[i % t->ncols] = w;
    }
    for (int i = 0; i < t->ncells; i++) {
        int col = i % t->ncols;
        int last = col == t->ncols - 1 || i == t->ncells - 1;
        fputs(t->cells[i], out);
        if (last) {
            fputc('\n', out);
            continue;
        }
        for (size_t pad = text_width(t->cells[i]); pad < width[col] + 2; pad++)
            fputc(' ', out);
    }
    free(width);
}

void admin_table_release(struct admin_table *t)
{
    for (int i = 0; i < t->ncells; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->ncells = t->alloc = 0;
}

void admin_json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

void admin_json_num(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, "%.17g", v);
    else
        fputs("null", out);
}
