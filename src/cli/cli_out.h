/* What the command line prints. On a terminal: lines of text and one progress bar kept on
 * the last line (lines are printed above it, the bar is redrawn under them). Not on a
 * terminal, or with --json: one JSON object per line on stdout, flushed at once. Problems
 * always go to stderr in plain words, whatever the mode. */
#ifndef CLI_CLI_OUT_H
#define CLI_CLI_OUT_H

#include <jansson.h>

#define CLI_OUT_LINE_MAX 1024 /* longest line drawn on a terminal, bytes */

struct cli_out {
    int json;      /* JSON lines instead of text and bars */
    int bar_shown; /* a bar is on the terminal's last line */
    int bar_len;   /* its length in columns, to blank it out */
    int width;     /* terminal columns */
    char bar_label[32];
    int bar_percent;
    char bar_detail[256];
};

/* JSON when want_json is set or stdout is not a terminal. */
void cli_out_init(struct cli_out *o, int want_json);

/* Prints obj as one JSON line with "kind" first (obj is not consumed; JSON mode only). */
void cli_out_json(struct cli_out *o, const char *kind, json_t *obj);
/* Prints a line of text above the bar (text mode only). */
void cli_out_text(struct cli_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Draws the bar: "LABEL [#####-----]  45%  DETAIL", cut to the terminal's width. */
void cli_out_bar(struct cli_out *o, const char *label, int percent, const char *detail);
/* Removes the bar, if any. */
void cli_out_bar_clear(struct cli_out *o);
/* Prints a problem on stderr (after removing the bar), as "crowdai: ..." lines. */
void cli_out_problem(struct cli_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
