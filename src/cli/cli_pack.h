/* The code sent with a submission: a directory packed as a .tar.gz by the `tar` program
 * (`tar -C DIR -czf FILE .`, run with posix_spawnp, no shell) into a private temporary
 * directory, then removed once uploaded. Symbolic links are packed as links (the broker
 * decides what it accepts); an unchanged directory packs to the same bytes. */
#ifndef CLI_CLI_PACK_H
#define CLI_CLI_PACK_H

#include <stddef.h>

struct cli_pack {
    char dir[4096];  /* the private temporary directory */
    char path[4160]; /* DIR/code.tar.gz inside it */
    char problem[1024];
};

/* Packs directory src into p->path. Returns 0, or CLI_EXIT_LOCAL with p->problem set (and
 * nothing left behind). */
int cli_pack_dir(struct cli_pack *p, const char *src);
/* Removes the archive and its temporary directory (safe to call twice). */
void cli_pack_remove(struct cli_pack *p);

#endif
