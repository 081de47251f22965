/* CPU sets in hwloc's list syntax ("0-3,8"), as ranks[].cpuset and the topology's NUMA
 * nodes write them, and the two hexadecimal forms the recommendation files need. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void tb_cpumask_parse(const char *s, tb_cpumask_t *m)
{
    memset(m, 0, sizeof(*m));
    while (s && *s) {
        char *end;
        long a = strtol(s, &end, 10), b;
        if (end == s || a < 0)
            break;
        b = a;
        s = end;
        if (*s == '-') {
            b = strtol(s + 1, &end, 10);
            if (end == s + 1 || b < a)
                break;
            s = end;
        }
        for (long c = a; c <= b && c < TB_CPU_WORDS * 64; c++)
            m->w[c / 64] |= 1ull << (c % 64), m->any = 1;
        if (b >= TB_CPU_WORDS * 64)
            m->beyond = 1;
        if (*s != ',')
            break;
        s++;
    }
}

int tb_cpumask_within(const tb_cpumask_t *a, const tb_cpumask_t *b)
{
    if (!a->any)
        return 0;
    for (int i = 0; i < TB_CPU_WORDS; i++)
        if (a->w[i] & ~b->w[i])
            return 0;
    return 1;
}

int tb_cpumask_count(const tb_cpumask_t *m)
{
    int n = 0;
    for (int i = 0; i < TB_CPU_WORDS; i++)
        n += __builtin_popcountll(m->w[i]);
    return n;
}

/* The highest 32-bit group holding a CPU (0 for an empty set). */
static int top_group(const tb_cpumask_t *m)
{
    for (int g = TB_CPU_WORDS * 2 - 1; g > 0; g--)
        if ((m->w[g / 2] >> (32 * (g % 2))) & 0xffffffffu)
            return g;
    return 0;
}

void tb_cpumask_groups(const tb_cpumask_t *m, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = 0;
    for (int g = top_group(m); g >= 0 && n < len; g--)
        n += (size_t)snprintf(buf + n, len - n, "%s%08x", n ? "," : "",
                              (unsigned)((m->w[g / 2] >> (32 * (g % 2))) & 0xffffffffu));
}

void tb_cpumask_hex(const tb_cpumask_t *m, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "0x");
    int g = top_group(m), first = 1;
    for (; g >= 0 && n < len; g--) {
        unsigned v = (unsigned)((m->w[g / 2] >> (32 * (g % 2))) & 0xffffffffu);
        n += (size_t)snprintf(buf + n, len - n, first ? "%x" : "%08x", v);
        first = 0;
    }
}
