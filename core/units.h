/* Sizes and durations on input and output. Sizes take K/M/G suffixes as powers of two
 * (1K = 1024 bytes); bandwidth is GB/s = 1e9 bytes/s; latency is microseconds. */
#ifndef TB_CORE_UNITS_H
#define TB_CORE_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Parses "8", "64K", "4M", "1G" (case-insensitive, optional trailing B/iB). Rejects empty
 * strings, negative numbers, junk and values that overflow size_t. Logs nothing: the
 * caller names the option in its message. */
TB_NODISCARD tb_status_t tb_size_parse(const char *text, size_t *size_p);

/* Parses a duration: "30" (seconds), "500ms", "2s", "5m". Result in seconds. */
TB_NODISCARD tb_status_t tb_duration_parse(const char *text, double *seconds_p);

/* Formats a byte count the way users read it: exact powers of two as "4M", other values
 * as plain bytes. Returns buf. */
const char *tb_size_format(size_t size, char *buf, size_t len);

/* Bandwidth in GB/s (1e9 bytes/s) for `bytes` moved in `seconds`; 0 when seconds <= 0. */
double tb_gbps(double bytes, double seconds);

#endif
