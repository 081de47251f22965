/* libFuzzer target for the CI gate's readers (topo/analysis/gate_*.c): a baseline as
 * nccl-tests output, a baseline JSON or a results document (sniffed as `check --baseline`
 * does), an expectation file, and then the comparison and its three renderings
 * (report/gate.c) when the input is also a results document.
 *
 * Input: the baseline text, optionally followed by "\n--expect--\n" and an expectation
 * file. Only crashes, leaks and sanitizer reports matter; rejected inputs are expected. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "gate.h"
#include "log.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char sep[] = "\n--expect--\n";
    static FILE *devnull;
    const char *text = (const char *)data, *exp = NULL;
    size_t blen = size, elen = 0;
    json_t *b = NULL, *ex = NULL, *doc = NULL, *result = NULL;
    tb_gate_import_opts_t io;
    tb_gate_opts_t go;
    json_error_t err;

    if (!devnull) {
        tb_log_set_level((tb_log_level_t)(TB_LOG_ERROR + 1));
        devnull = fopen("/dev/null", "w");
    }
    for (size_t i = 0; i + sizeof(sep) - 1 <= size; i++)
        if (!memcmp(data + i, sep, sizeof(sep) - 1)) {
            blen = i;
            exp = text + i + sizeof(sep) - 1;
            elen = size - i - (sizeof(sep) - 1);
            break;
        }
    tb_gate_import_opts_default(&io);
    tb_gate_opts_default(&go);
    /* Side files of a results document are looked up in a directory that has none. */
    (void)!tb_gate_baseline_parse(text, blen, "fuzz", "/nonexistent", &io, &b);
    if (exp)
        (void)!tb_gate_expect_parse(exp, elen, "fuzz.expect", &ex);
    doc = json_loadb(text, blen, 0, &err);
    if (doc && (tb_doc_upgrade(doc, "fuzz") || tb_doc_validate(doc, "fuzz"))) {
        json_decref(doc);
        doc = NULL;
    }
    if (doc && (b || ex) &&
        tb_gate_check(doc, "/nonexistent", b, ex, &go, &result) == TB_OK && devnull) {
        tb_report_check_print(result, 0, devnull);
        tb_report_check_junit(result, devnull);
        tb_report_check_markdown(result, devnull);
    }
    json_decref(result);
    json_decref(doc);
    json_decref(ex);
    json_decref(b);
    return 0;
}
