/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The passthrough file system that imafs mounts: libfuse low-level handlers
 * that serve a source directory and route every open of a regular file
 * through measure_open().
 *
 * Thread safety: fs_new() and fs_free() run before the session starts and
 * after it ends; the handlers run on any number of FUSE threads at once.
 *
 * Ownership: fs_new() takes ownership of CONFIG->source_fd on success (and
 * only then). It borrows CONFIG->measure and the strings, which must outlive
 * the struct fs. fs_free() accepts NULL and returns NULL.
 */
#ifndef IMAFS_FS_FS_H
#define IMAFS_FS_FS_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314
#endif

#include <fuse_lowlevel.h>
#include <stdbool.h>

struct measure_ctx;
struct fs;

struct fs_config {
	int source_fd;               /* the source directory, opened O_PATH before mounting */
	const char *source;          /* its absolute path */
	const char *mountpoint;      /* absolute; denial messages name files below it */
	struct measure_ctx *measure; /* verdicts for opens */
	double entry_timeout;        /* seconds the kernel may cache names */
	double attr_timeout;         /* seconds the kernel may cache attributes */
};

int fs_new(const struct fs_config *config, struct fs **ret);
struct fs *fs_free(struct fs *fs);

/* The handler table to pass to fuse_session_new() with the struct fs as userdata. */
const struct fuse_lowlevel_ops *fs_operations(void);

#endif
