/* File-system helpers shared by the commands that write output directories. */
#ifndef TB_CORE_FS_H
#define TB_CORE_FS_H

#include "status.h"

/* mkdir -p: creates every missing component of `dir`, then checks it is a directory.
 * TB_ERR_ENV, logged with the directory, when it cannot. */
TB_NODISCARD tb_status_t tb_mkdir_p(const char *dir);

#endif
