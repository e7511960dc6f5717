/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Diagnostic logging for the daemon and its modules.
 *
 * Lines go to stderr with a "<N>" syslog priority prefix, which journald
 * understands, or to syslog(3) once the daemon has detached. Core modules log at DEBUG only; the boundary (an fs/ handler,
 * main) logs once at a higher level. Security events are one line of
 * key=value fields (see log_event()).
 *
 * Thread safety: every function may be called from any thread. The level is
 * set once at start-up, before threads exist.
 */
#ifndef IMAFS_CORE_LOG_H
#define IMAFS_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

void log_set_max_level(int level);

/*
 * Send later lines to syslog(3) with IDENT instead of stderr. Called once
 * after the daemon detached from its terminal, before threads start.
 */
void log_use_syslog(const char *ident);
int log_get_max_level(void);

static inline bool log_enabled(int level)
{
	return level <= log_get_max_level();
}

/* Write one diagnostic line at the syslog LEVEL (LOG_ERR ... LOG_DEBUG). */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Log at DEBUG, formatting only when DEBUG is enabled. */
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_enabled(LOG_DEBUG))                                                        \
			log_msg(LOG_DEBUG, __VA_ARGS__);                                           \
	} while (0)

/*
 * Copy NAME into BUF (size N) as a single-quoted string with control bytes,
 * backslashes and quotes escaped as \xHH, so a file name cannot forge a log
 * line. Truncates with "..." when BUF is too small. Returns BUF.
 */
char *log_quote(const char *name, char *buf, size_t n);

#endif
