/* File-system helpers shared by the commands that write output directories. */
#ifndef TB_CORE_FS_H
#define TB_CORE_FS_H

#include <stdio.h>

#include "status.h"

/* mkdir -p: creates every missing component of `dir`, then checks it is a directory.
 * TB_ERR_ENV, logged with the directory, when it cannot. */
TB_NODISCARD tb_status_t tb_mkdir_p(const char *dir);

/* Reads the whole file into a new NUL-terminated buffer (*text_p, free() it; *len_p bytes
 * before the NUL). TB_ERR_USAGE when it does not exist (a mistyped name on the command
 * line), TB_ERR_ENV when it cannot be read; both logged with the path. */
TB_NODISCARD tb_status_t tb_file_read(const char *path, char **text_p, size_t *len_p);

/* The directory part of `path` into buf ("." when it has none, "/" for "/x"): where a
 * document's side files are. */
void tb_path_dir(const char *path, char *buf, size_t len);

/* A file written atomically: the text goes to "<path>.tmp.<pid>", and commit renames it over
 * `path`, so a reader (or a run killed midway) never sees half a file. */
typedef struct tb_afile {
    FILE *f;
    char path[4096];
    char tmp[4096 + 32];
} tb_afile_t;

/* Opens the temporary file for writing. TB_ERR_ENV, logged with `path`, when it cannot. */
TB_NODISCARD tb_status_t tb_afile_open(tb_afile_t *a, const char *path);
/* Closes and renames into place. On any write error (full disk included) the temporary
 * file is removed, `path` keeps its previous content, and TB_ERR_ENV is logged with the
 * path. Always closes. */
TB_NODISCARD tb_status_t tb_afile_commit(tb_afile_t *a);
/* Gives up: closes and removes the temporary file; `path` is untouched. */
void tb_afile_abort(tb_afile_t *a);

#endif
