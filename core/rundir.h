/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The default runtime directory of a mount point, shared by the daemon and
 * the tools. Thread safety: any thread.
 */
#ifndef IMAFS_CORE_RUNDIR_H
#define IMAFS_CORE_RUNDIR_H

#include <stddef.h>

#define RUNDIR_BASE "/run/imafs"

/*
 * Write RUNDIR_BASE "/" and MOUNTPOINT (absolute) escaped as systemd-escape
 * --path does into BUF. Returns 0 or -ENAMETOOLONG.
 */
int rundir_default(const char *mountpoint, char *buf, size_t size);

#endif
