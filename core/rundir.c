/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The default runtime directory of a mount: RUNDIR_BASE followed by the
 * mount point escaped as systemd-escape --path does, so that the daemon and
 * the tools find the same directory from the mount point alone.
 *
 * Locking: none; pure functions.
 */
#include "core/rundir.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

/*
 * Write PATH escaped as systemd-escape --path does into BUF: slashes between
 * components become '-', and every byte other than ASCII letters, digits,
 * ':', '_' and a non-leading '.' becomes \xHH. The root becomes "-".
 */
static int rundir_escape(const char *path, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	const char *p = path;
	size_t out = 0;

	while (*p == '/')
		p++;
	if (*p == '\0')
		return snprintf(buf, size, "-") < (int)size ? 0 : -ENAMETOOLONG;

	for (; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9') || ch == ':' || ch == '_' ||
			     (ch == '.' && out > 0);

		if (out + 5 > size)
			return -ENAMETOOLONG;
		if (ch == '/') {
			while (p[1] == '/')
				p++;
			if (p[1] == '\0')
				break; /* a trailing slash */
			buf[out++] = '-';
		} else if (plain) {
			buf[out++] = (char)ch;
		} else {
			buf[out++] = '\\';
			buf[out++] = 'x';
			buf[out++] = hex[ch >> 4];
			buf[out++] = hex[ch & 0xf];
		}
	}
	buf[out] = '\0';
	return 0;
}

int rundir_default(const char *mountpoint, char *buf, size_t size)
{
	char escaped[4096];
	int r;

	r = rundir_escape(mountpoint, escaped, sizeof(escaped));
	if (r < 0)
		return r;
	if (snprintf(buf, size, "%s/%s", RUNDIR_BASE, escaped) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}
