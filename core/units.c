/* Size and duration parsing and formatting. */
#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

tb_status_t tb_size_parse(const char *text, size_t *size_p)
{
    char *end = NULL;
    unsigned long long value, mult = 1;

    if (!text || !*text || !isdigit((unsigned char)text[0]))
        return TB_ERR_USAGE;
    errno = 0;
    value = strtoull(text, &end, 10);
    if (errno)
        return TB_ERR_USAGE;
    switch (toupper((unsigned char)*end)) {
    case 'K': mult = 1ULL << 10; end++; break;
    case 'M': mult = 1ULL << 20; end++; break;
    case 'G': mult = 1ULL << 30; end++; break;
    case 'T': mult = 1ULL << 40; end++; break;
    default: break;
    }
    if (mult > 1 && (*end == 'i' || *end == 'I'))
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end)
        return TB_ERR_USAGE;
    if (value > (unsigned long long)SIZE_MAX / mult)
        return TB_ERR_USAGE;
    *size_p = (size_t)(value * mult);
    return TB_OK;
}

tb_status_t tb_duration_parse(const char *text, double *seconds_p)
{
    char *end = NULL;
    double value, mult = 1.0;

    if (!text || !*text || !(isdigit((unsigned char)text[0]) || text[0] == '.'))
        return TB_ERR_USAGE;
    errno = 0;
    value = strtod(text, &end);
    if (errno || value < 0)
        return TB_ERR_USAGE;
    if (!strcasecmp(end, "ms"))
        mult = 1e-3;
    else if (!strcasecmp(end, "us"))
        mult = 1e-6;
    else if (!strcasecmp(end, "m") || !strcasecmp(end, "min"))
        mult = 60.0;
    else if (!strcasecmp(end, "h"))
        mult = 3600.0;
    else if (*end && strcasecmp(end, "s"))
        return TB_ERR_USAGE;
    *seconds_p = value * mult;
    return TB_OK;
}

const char *tb_size_format(size_t size, char *buf, size_t len)
{
    static const char suffix[] = "KMGT";
    int i = -1;
    size_t v = size;
    while (v >= 1024 && v % 1024 == 0 && i < 3) {
        v /= 1024;
        i++;
    }
    if (i < 0)
        snprintf(buf, len, "%zu", size);
    else
        snprintf(buf, len, "%zu%c", v, suffix[i]);
    return buf;
}

double tb_gbps(double bytes, double seconds)
{
    return seconds > 0 ? bytes / seconds / 1e9 : 0.0;
}
