/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Diagnostic logging: one line per call on stderr, prefixed with the syslog
 * priority in angle brackets ("<5>op=open ...") so journald files each line
 * at its level.
 *
 * Invariants:
 *  1. A line is written with one write(2) call, so lines from different
 *     threads never interleave within a line.
 *  2. log_quote() output contains no control byte, no quote and no
 *     backslash except in \xHH escapes, so a file name cannot forge a line.
 *
 * Locking: none. The maximum level and the sink are atomics, set at start-up.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static atomic_int log_max_level = LOG_INFO;
static atomic_bool log_to_syslog;

void log_use_syslog(const char *ident)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&log_to_syslog, true);
}

void log_set_max_level(int level)
{
	atomic_store_explicit(&log_max_level, level, memory_order_relaxed);
}

int log_get_max_level(void)
{
	return atomic_load_explicit(&log_max_level, memory_order_relaxed);
}

void log_msg(int level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int prefix, body;
	size_t len;

	if (!log_enabled(level))
		return;

	if (atomic_load_explicit(&log_to_syslog, memory_order_relaxed)) {
		va_start(ap, fmt);
		vsyslog(level, fmt, ap);
		va_end(ap);
		return;
	}

	prefix = snprintf(line, sizeof(line), "<%d>", level & LOG_PRIMASK);
	va_start(ap, fmt);
	body = vsnprintf(line + prefix, sizeof(line) - (size_t)prefix - 1, fmt, ap);
	va_end(ap);
	if (body < 0)
		return;

	len = strnlen(line, sizeof(line) - 1);
	line[len++] = '\n';
	(void)!write(STDERR_FILENO, line, len);
}

char *log_quote(const char *name, char *buf, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t out = 0;

	if (n < 6) {
		if (n > 0)
			buf[0] = '\0';
		return buf;
	}

	buf[out++] = '\'';
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		bool plain = *p >= 0x20 && *p < 0x7f && *p != '\'' && *p != '\\';
		size_t need = plain ? 1 : 4;

		/* Room for this character, the closing quote, "..." and NUL. */
		if (out + need + 5 > n) {
			memcpy(buf + out, "...", 3);
			out += 3;
			break;
		}
		if (plain) {
			buf[out++] = (char)*p;
			continue;
		}
		buf[out++] = '\\';
		buf[out++] = 'x';
		buf[out++] = hex[*p >> 4];
		buf[out++] = hex[*p & 0xf];
	}
	buf[out++] = '\'';
	buf[out] = '\0';
	return buf;
}
