/* File-system helpers. */
#include "fs.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

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

