/* File-system helpers. */
#include "fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

tb_status_t tb_mkdir_p(const char *dir)
{
    char path[4096];
    size_t len = strlen(dir);
    struct stat sb;

    if (len >= sizeof(path))
        return tb_error(TB_ERR_ENV, "output directory name too long: %s", dir);
    memcpy(path, dir, len + 1);
    for (char *p = path + 1; p <= path + len; p++) {
        char c = *p;
        if (c != '/' && c != '\0')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return tb_error(TB_ERR_ENV, "cannot create output directory %s: %s", dir,
                            strerror(errno));
        *p = c;
    }
    if (stat(dir, &sb) != 0)
        return tb_error(TB_ERR_ENV, "cannot create output directory %s: %s", dir,
                        strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return tb_error(TB_ERR_ENV, "output directory %s exists and is not a directory", dir);
    return TB_OK;
}

void tb_path_dir(const char *path, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(buf, len, ".");
    else
        snprintf(buf, len, "%.*s", (int)(slash == path ? 1 : slash - path), path);
}

tb_status_t tb_file_read(const char *path, char **text_p, size_t *len_p)
{
    struct stat sb;
    char *text;
    size_t len;
    int e;
    FILE *f = fopen(path, "r");

    if (!f)
        return tb_error(errno == ENOENT ? TB_ERR_USAGE : TB_ERR_ENV, "cannot open %s: %s",
                        path, strerror(errno));
    /* One read of the whole file: jansson's json_loadf takes a file a character at a
     * time, a third of the load of a 30 MB document. */
    if (fstat(fileno(f), &sb) != 0 || sb.st_size < 0 ||
        !(text = malloc((size_t)sb.st_size + 1))) {
        e = errno ? errno : ENOMEM;
        fclose(f);
        return tb_error(TB_ERR_ENV, "cannot read %s: %s", path, strerror(e));
    }
    len = fread(text, 1, (size_t)sb.st_size, f);
    if (ferror(f)) {
        e = errno;
        free(text);
        fclose(f);
        return tb_error(TB_ERR_ENV, "cannot read %s: %s", path, strerror(e));
    }
    fclose(f);
    text[len] = '\0';
    *text_p = text;
    *len_p = len;
    return TB_OK;
}

tb_status_t tb_afile_open(tb_afile_t *a, const char *path)
{
    a->f = NULL;
    if (snprintf(a->path, sizeof(a->path), "%s", path) >= (int)sizeof(a->path) ||
        snprintf(a->tmp, sizeof(a->tmp), "%s.tmp.%ld", path, (long)getpid()) >=
            (int)sizeof(a->tmp))
        return tb_error(TB_ERR_ENV, "output path too long: %s", path);
    a->f = fopen(a->tmp, "w");
    if (!a->f)
        return tb_error(TB_ERR_ENV, "cannot write %s: %s", path, strerror(errno));
    return TB_OK;
}

tb_status_t tb_afile_commit(tb_afile_t *a)
{
    int bad, err;
    errno = 0;
    bad = fflush(a->f) != 0 || ferror(a->f);
    err = errno;
    if (fclose(a->f) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    a->f = NULL;
    if (!bad && rename(a->tmp, a->path) != 0) {
        bad = 1;
        err = errno;
    }
    if (bad) {
        unlink(a->tmp);
        return tb_error(TB_ERR_ENV, "cannot write %s: %s", a->path,
                        err ? strerror(err) : "write failed");
    }
    return TB_OK;
}

void tb_afile_abort(tb_afile_t *a)
{
    if (a->f)
        fclose(a->f);
    a->f = NULL;
    unlink(a->tmp);
}
