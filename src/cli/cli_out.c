/* Terminal text with a progress bar, or JSON lines; see cli_out.h. */
#include "cli/cli_out.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli_json.h"
#include "core/buf.h"

#define JSON_LINE_MAX (4u << 20) /* one JSON line at most: 4 MiB */

static int terminal_width(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *cols = getenv("COLUMNS");
    long n = cols != NULL ? strtol(cols, NULL, 10) : 0;
    return n > 0 && n < 1000 ? (int)n : 80;
}

void cli_out_init(struct cli_out *o, int want_json)
{
    memset(o, 0, sizeof(*o));
    o->json = want_json || !isatty(STDOUT_FILENO);
    o->width = o->json ? 80 : terminal_width();
    if (o->width < 20)
        o->width = 20;
    if (o->width > CLI_OUT_LINE_MAX / 4)
        o->width = CLI_OUT_LINE_MAX / 4;
}

void cli_out_json(struct cli_out *o, const char *kind, json_t *obj)
{
    struct buf b;
    if (!o->json)
        return;
    json_t *line = json_pack("{s:s}", "kind", kind);
    json_object_update(line, obj);
    buf_init(&b, JSON_LINE_MAX);
    if (cli_json_dump(&b, line) == 0 && buf_append_char(&b, '\n') == 0)
        fwrite(b.data, 1, b.len, stdout);
    else
        printf("{\"kind\":\"%s\",\"truncated\":true}\n", kind);
    fflush(stdout);
    buf_release(&b);
    json_decref(line);
}

/* Copies at most `columns` characters of text (UTF-8, counted as one column per code point)
 * into out, stopping at a newline; returns the columns used. */
static int fit(char *out, size_t cap, const char *text, int columns)
{
    size_t n = 0;
    int used = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0' && *p != '\n';) {
        size_t len = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
        if (used == columns || n + len + 1 > cap || strnlen((const char *)p, len) < len)
            break;
        memcpy(out + n, p, len);
        n += len;
        p += len;
        used++;
    }
    out[n] = '\0';
    return used;
}

/* Writes `line` over the last line of the terminal, blanking what was longer before. */
static void draw(struct cli_out *o, const char *line, int columns)
{
    int blank = o->bar_shown && o->bar_len > columns ? o->bar_len - columns : 0;
    printf("\r%s%*s", line, blank, "");
    if (blank > 0)
        printf("\r%s", line);
}

void cli_out_bar_clear(struct cli_out *o)
{
    if (o->json || !o->bar_shown)
        return;
    draw(o, "", 0);
    printf("\r");
    fflush(stdout);
    o->bar_shown = 0;
    o->bar_len = 0;
}

void cli_out_text(struct cli_out *o, const char *fmt, ...)
{
    char text[CLI_OUT_LINE_MAX];
    char line[CLI_OUT_LINE_MAX];
    va_list ap;
    if (o->json)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    /* Each line of the text over the bar's line, then the bar again below them. */
    int was_shown = o->bar_shown;
    for (const char *p = text;;) {
        int cols = fit(line, sizeof(line), p, o->width - 1);
        draw(o, line, cols);
        printf("\n");
        o->bar_shown = 0;
        const char *nl = strchr(p, '\n');
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    if (was_shown)
        cli_out_bar(o, o->bar_label, o->bar_percent, o->bar_detail);
    fflush(stdout);
}

void cli_out_bar(struct cli_out *o, const char *label, int percent, const char *detail)
{
    char bar[64];
    char text[CLI_OUT_LINE_MAX];
    char line[CLI_OUT_LINE_MAX];
    if (o->json)
        return;
    percent = percent < 0 ? 0 : percent > 100 ? 100 : percent;
    if (label != o->bar_label)
        snprintf(o->bar_label, sizeof(o->bar_label), "%s", label);
    if (detail != o->bar_detail)
        snprintf(o->bar_detail, sizeof(o->bar_detail), "%s", detail != NULL ? detail : "");
    o->bar_percent = percent;
    int width = o->width / 4;
    width = width < 10 ? 10 : width > 40 ? 40 : width;
    int filled = percent * width / 100;
    memset(bar, '#', (size_t)filled);
    memset(bar + filled, '-', (size_t)(width - filled));
    bar[width] = '\0';
    snprintf(text, sizeof(text), "%-9s [%s] %3d%%  %s", o->bar_label, bar, percent, o->bar_detail);
    int cols = fit(line, sizeof(line), text, o->width - 1);
    draw(o, line, cols);
    fflush(stdout);
    o->bar_shown = 1;
    o->bar_len = cols;
}

void cli_out_problem(struct cli_out *o, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    cli_out_bar_clear(o);
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    fprintf(stderr, "crowdai: %s\n", text);
    fflush(stderr);
}
