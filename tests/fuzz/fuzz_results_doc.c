/* libFuzzer target for the results-document reader (core/doc.c: tb_doc_load, the version
 * 1 upgrade, validation, matrices inline and in NPY side files) and for everything that
 * `topobench report` renders from an accepted document (CSV files, terminal tables).
 *
 * Input: the document, optionally followed by "\n--npy--\n" and the bytes of a side file,
 * which is written as "m.npy" beside the document (seeds reference it), so the NPY reader
 * sees arbitrary headers and lengths too. Only crashes, leaks and sanitizer reports
 * matter; rejected inputs are expected and kept quiet. */
#include <dirent.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doc.h"
#include "log.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Empties the output directory, so files named after fuzzed entries do not pile up. */
static void clear_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
}

static int write_all(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f && (n == 0 || fwrite(p, 1, n, f) == n);
    if (f && fclose(f) != 0)
        ok = 0;
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char sep[] = "\n--npy--\n";
    static char dir[64];
    static FILE *devnull;
    char doc_path[128], npy_path[128], out[128];
    const uint8_t *npy = NULL;
    size_t doc_len = size;
    json_t *doc = NULL;

    if (!dir[0]) {
        tb_log_set_level((tb_log_level_t)(TB_LOG_ERROR + 1));
        devnull = fopen("/dev/null", "w");
        snprintf(dir, sizeof(dir), "/tmp/tb_fuzz_doc_XXXXXX");
        if (!mkdtemp(dir))
            return 0;
    }
    for (size_t i = 0; i + sizeof(sep) - 1 <= size; i++)
        if (!memcmp(data + i, sep, sizeof(sep) - 1)) {
            doc_len = i;
            npy = data + i + sizeof(sep) - 1;
            break;
        }
    snprintf(doc_path, sizeof(doc_path), "%s/results.json", dir);
    snprintf(npy_path, sizeof(npy_path), "%s/m.npy", dir);
    snprintf(out, sizeof(out), "%s/out", dir);
    unlink(npy_path);
    if (!write_all(doc_path, data, doc_len) ||
        (npy && !write_all(npy_path, npy, size - (size_t)(npy - data))))
        return 0;
    if (tb_doc_load(doc_path, &doc) == TB_OK) {
        const json_t *t;
        size_t i;
        /* What report does with it: every CSV file and every table. */
        if (mkdir(out, 0777) == 0 || access(out, W_OK) == 0)
            (void)!tb_report_csv_write(doc, dir, out);
        json_array_foreach(json_object_get(doc, "tests"), i, t) {
            if (devnull)
                tb_report_table_print(t, dir, devnull);
        }
        json_decref(doc);
        clear_dir(out);
    }
    return 0;
}
