/* The terminal table of an NCCL entry (backend "nccl"), column for column as nccl-tests
 * prints it (its src/util.cu: writeResultHeader, writeBenchmarkLine*, writeResultFooter),
 * so scripts that parse nccl-tests' output read topobench's: comment lines start with
 * '#', a result line is size, count, type, redop, root, then time, algbw, busbw, #wrong
 * out-of-place and the same in-place, and the footer's "# Avg bus bandwidth" averages
 * every line's busbw (both placements, every size), as nccl-tests does. topobench's own
 * additions (the spread of the batches) follow as '#' lines. Rendered from the document
 * only. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "table_nccl.h"

static const char *str_or(const json_t *obj, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : dflt;
}

static double num(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* nccl-tests' getFloatStr: the most decimals (2, 1, 0) that fit `width`, else an
 * exponent. */
void tb_report_nccl_float(double value, int width, char *str)
{
    if (snprintf(str, (size_t)width + 1, "%*.2f", width, value) <= width)
        return;
    if (snprintf(str, (size_t)width + 1, "%*.1f", width, value) <= width)
        return;
    if (snprintf(str, (size_t)width + 1, "%*.0f", width, value) <= width)
        return;
    snprintf(str, (size_t)width + 1, width >= 7 ? "%*.1e" : "%*.0e", width, value);
}

/* The in-place row matching an out-of-place one (same size, op and root), or the other
 * way round. */
static const json_t *partner(const json_t *results, const json_t *row)
{
    size_t i;
    const json_t *r;
    json_array_foreach(results, i, r) {
        if (r != row && json_equal(json_object_get(r, "size"), json_object_get(row, "size")) &&
            json_equal(json_object_get(r, "redop"), json_object_get(row, "redop")) &&
            json_equal(json_object_get(r, "root"), json_object_get(row, "root")) &&
            json_is_true(json_object_get(r, "in_place")) !=
                json_is_true(json_object_get(row, "in_place")))
            return r;
    }
    return NULL;
}

static void half(const json_t *row, FILE *out)
{
    char t[16], a[16], b[16];
    if (!row) {
        fprintf(out, "  %7s  %6s  %6s  %6s", "-", "-", "-", "-");
        return;
    }
    tb_report_nccl_float(num(json_object_get(row, "time_us"), "mean"), 7, t);
    tb_report_nccl_float(num(row, "algbw_gbps"), 6, a);
    tb_report_nccl_float(num(row, "busbw_gbps"), 6, b);
    if (json_is_false(json_object_get(row, "checked")))
        fprintf(out, "  %7s  %6s  %6s    N/A", t, a, b);
    else
        fprintf(out, "  %7s  %6s  %6s  %6g", t, a, b, num(row, "wrong"));
}

static void spread(const json_t *row, FILE *out)
{
    const json_t *t = row ? json_object_get(row, "time_us") : NULL;
    if (!row) {
        fprintf(out, "  %9s %9s %9s %6s", "-", "-", "-", "-");
        return;
    }
    fprintf(out, "  %9.2f %9.2f %9.2f %6.2f", num(t, "min"), num(t, "median"), num(t, "p99"),
            100 * num(t, "cv"));
}

void tb_report_nccl_table(const json_t *test, FILE *out)
{
    const json_t *params = json_object_get(test, "params");
    const json_t *results = json_object_get(test, "results"), *row;
    double bw_sum = 0;
    long bw_n = 0, bad_lines = 0, batches = 0, iters = 0;
    size_t i;

    fprintf(out, "# %s (%s): NCCL %s (%s), %lld ranks, one GPU per rank; nccl-tests' table\n",
            str_or(test, "name", "?"), str_or(test, "dtype", "?"),
            str_or(params, "nccl_version", "?"), str_or(params, "nccl_library", "?"),
            (long long)json_integer_value(json_object_get(params, "ranks")));
    fprintf(out, "#\n");
    fprintf(out, "# %10s  %12s  %8s  %6s  %6s           out-of-place                       "
                 "in-place          \n",
            "", "", "", "", "");
    fprintf(out, "# %10s  %12s  %8s  %6s  %6s  %7s  %6s  %6s  %6s  %7s  %6s  %6s  %6s %*s\n",
            "size", "count", "type", "redop", "root", "time", "algbw", "busbw", "#wrong", "time",
            "algbw", "busbw", "#wrong", 0, "");
    fprintf(out, "# %10s  %12s  %8s  %6s  %6s  %7s  %6s  %6s  %6s  %7s  %6s  %6s  %6s %*s\n",
            "(B)", "(elements)", "", "", "", "(us)", "(GB/s)", "(GB/s)", "", "(us)", "(GB/s)",
            "(GB/s)", "", 0, "");
    json_array_foreach(results, i, row) {
        const json_t *other = partner(results, row), *oop, *ip;
        int in_place = json_is_true(json_object_get(row, "in_place"));
        char root[16];
        /* One line per pair, printed at its out-of-place row. */
        if (in_place && other)
            continue;
        oop = in_place ? NULL : row;
        ip = in_place ? row : other;
        snprintf(root, sizeof(root), "%6lld", (long long)json_integer_value(json_object_get(row, "root")));
        fprintf(out, "%12lld  %12lld  %8s  %6s  %6s",
                (long long)json_integer_value(json_object_get(row, "size")),
                (long long)json_integer_value(json_object_get(row, "count")),
                str_or(row, "type", "?"), str_or(row, "redop", "?"), root);
        half(oop, out);
        half(ip, out);
        fputc('\n', out);
    }
    json_array_foreach(results, i, row) {
        double bw = num(row, "busbw_gbps");
        if (isfinite(bw)) {
            bw_sum += bw;
            bw_n++;
        }
        bad_lines += num(row, "wrong") > 0;
        batches = (long)num(row, "batches");
        iters = (long)num(row, "iterations");
    }
    fprintf(out, "# %-20s : %ld %s\n", "Out of bounds values", bad_lines,
            bad_lines ? "FAILED" : "OK");
    fprintf(out, "# %-20s : %g %s\n", "Avg bus bandwidth", bw_n ? bw_sum / (double)bw_n : 0.0,
            "");
    fprintf(out, "#\n");
    /* topobench's additions: the spread of the repeated batches behind each time. */
    fprintf(out, "# topobench: time = mean of %ld batches of %ld iterations; the batches' "
                 "time per iteration (us):\n",
            batches, iters);
    fprintf(out, "# %10s  %6s  %6s  %9s %9s %9s %6s  %9s %9s %9s %6s\n", "size", "redop", "root",
            "oop min", "median", "p99", "cv%", "ip min", "median", "p99", "cv%");
    json_array_foreach(results, i, row) {
        const json_t *other = partner(results, row), *oop, *ip;
        int in_place = json_is_true(json_object_get(row, "in_place"));
        if (in_place && other)
            continue;
        oop = in_place ? NULL : row;
        ip = in_place ? row : other;
        fprintf(out, "# %10lld  %6s  %6lld", (long long)json_integer_value(json_object_get(row, "size")),
                str_or(row, "redop", "?"), (long long)json_integer_value(json_object_get(row, "root")));
        spread(oop, out);
        spread(ip, out);
        fputc('\n', out);
    }
}
