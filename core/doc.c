/* Results document skeleton, atomic writes and validated loading. */
#include "doc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

json_t *tb_doc_new(void)
{
    return json_pack("{s:s, s:i, s:b, s:s, s:{}, s:[], s:[], s:[], s:[]}",
                     "schema", TB_DOC_SCHEMA, "schema_version", TB_DOC_SCHEMA_VERSION,
                     "complete", 0, "status", "running", "run", "hosts", "ranks", "tests",
                     "findings");
}

tb_status_t tb_doc_write(const json_t *doc, const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return tb_error(TB_ERR_ENV, "output path too long: %s", path);
    if (json_dump_file(doc, tmp, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0) {
        int err = errno;
        unlink(tmp);
        return tb_error(TB_ERR_ENV, "cannot write %s: %s", path,
                        err ? strerror(err) : "write failed");
    }
    if (rename(tmp, path) != 0) {
        tb_status_t st = tb_error_errno(TB_ERR_ENV, path);
        unlink(tmp);
        return st;
    }
    return TB_OK;
}

static tb_status_t require(const json_t *obj, const char *key, json_type type,
                           const char *what, const char *where)
{
    static const char *names[] = {"object", "array",  "string", "integer",
                                  "real",   "true",   "false",  "null"};
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return tb_error(TB_ERR_INPUT, "%s: %s: missing field \"%s\"", what, where, key);
    if (json_typeof(v) == type)
        return TB_OK;
    if (type == JSON_REAL && json_is_integer(v))
        return TB_OK;
    if (type == JSON_TRUE && json_is_boolean(v))
        return TB_OK;
    return tb_error(TB_ERR_INPUT, "%s: %s: field \"%s\" should be a %s", what, where, key,
                    names[type]);
}

tb_status_t tb_doc_validate(const json_t *doc, const char *what)
{
    const json_t *tests, *v;
    size_t i;
    tb_status_t st;

    if (!json_is_object(doc))
        return tb_error(TB_ERR_INPUT, "%s: top level should be a JSON object", what);
    v = json_object_get(doc, "schema");
    if (!json_is_string(v) || strcmp(json_string_value(v), TB_DOC_SCHEMA) != 0)
        return tb_error(TB_ERR_INPUT, "%s: not a topobench results document "
                        "(field \"schema\" should be \"%s\")", what, TB_DOC_SCHEMA);
    if ((st = require(doc, "schema_version", JSON_INTEGER, what, "document")))
        return st;
    if (json_integer_value(json_object_get(doc, "schema_version")) > TB_DOC_SCHEMA_VERSION)
        return tb_error(TB_ERR_INPUT, "%s: schema_version %lld is newer than this topobench "
                        "understands (%d); use a newer topobench", what,
                        (long long)json_integer_value(json_object_get(doc, "schema_version")),
                        TB_DOC_SCHEMA_VERSION);
    if ((st = require(doc, "run", JSON_OBJECT, what, "document")) ||
        (st = require(doc, "hosts", JSON_ARRAY, what, "document")) ||
        (st = require(doc, "ranks", JSON_ARRAY, what, "document")) ||
        (st = require(doc, "tests", JSON_ARRAY, what, "document")))
        return st;
    tests = json_object_get(doc, "tests");
    json_array_foreach(tests, i, v) {
        char where[64];
        const json_t *results, *r;
        size_t j;
        snprintf(where, sizeof(where), "tests[%zu]", i);
        if (!json_is_object(v))
            return tb_error(TB_ERR_INPUT, "%s: %s should be an object", what, where);
        if ((st = require(v, "name", JSON_STRING, what, where)) ||
            (st = require(v, "kind", JSON_STRING, what, where)) ||
            (st = require(v, "results", JSON_ARRAY, what, where)))
            return st;
        results = json_object_get(v, "results");
        json_array_foreach(results, j, r) {
            char rwhere[96];
            snprintf(rwhere, sizeof(rwhere), "tests[%zu] (%s) results[%zu]", i,
                     json_string_value(json_object_get(v, "name")), j);
            if (!json_is_object(r))
                return tb_error(TB_ERR_INPUT, "%s: %s should be an object", what, rwhere);
            if ((st = require(r, "size", JSON_INTEGER, what, rwhere)) ||
                (st = require(r, "time_us", JSON_OBJECT, what, rwhere)))
                return st;
        }
    }
    return TB_OK;
}

tb_status_t tb_doc_load(const char *path, json_t **doc_p)
{
    json_error_t err;
    json_t *doc;
    tb_status_t st;
    FILE *f = fopen(path, "r");

    if (!f)
        return tb_error(errno == ENOENT ? TB_ERR_USAGE : TB_ERR_ENV, "cannot open %s: %s",
                        path, strerror(errno));
    doc = json_loadf(f, 0, &err);
    fclose(f);
    if (!doc)
        return tb_error(TB_ERR_INPUT, "%s:%d:%d: malformed JSON: %s", path, err.line,
                        err.column, err.text);
    st = tb_doc_validate(doc, path);
    if (st) {
        json_decref(doc);
        return st;
    }
    *doc_p = doc;
    return TB_OK;
}

json_t *tb_doc_stats_us(const tb_stats_t *s)
{
    return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f}", "min", s->min * 1e6, "median",
                     s->median * 1e6, "p99", s->p99 * 1e6, "mean", s->mean * 1e6, "max",
                     s->max * 1e6, "cv", s->cv);
}

void tb_doc_timestamp(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
