/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The inode table of the FUSE low-level API: maps the node ids handed to the
 * kernel to backing files held open as O_PATH descriptors, with the lookup
 * count that the kernel settles through forget.
 *
 * Thread safety: every function may be called from any FUSE thread. One
 * table mutex guards the hash and all lookup counts; it is never held while
 * calling out of this module.
 *
 * Ownership: the table owns every struct inode and its descriptor. A pointer
 * returned by inode_table_get() or inode_table_insert() stays valid while the
 * kernel keeps a lookup reference on it, which it does for the whole of any
 * request that names the node.
 */
#ifndef IMAFS_FS_INODE_H
#define IMAFS_FS_INODE_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* NOTE: must equal FUSE_ROOT_ID of <fuse_lowlevel.h>; fs.c asserts it. */
#define INODE_ROOT_ID 1

struct inode;
struct inode_table;

/*
 * Create a table whose root is the directory ROOT_FD (an O_PATH or ordinary
 * descriptor). Takes ownership of ROOT_FD on success only. Returns 0,
 * -ENOTDIR, -ENOMEM or the -errno of fstat.
 */
int inode_table_new(int root_fd, struct inode_table **ret);

/* Close every descriptor and free the table. Accepts NULL; returns NULL. */
struct inode_table *inode_table_free(struct inode_table *table);

/* The inode behind node id ID, which the kernel got from this table. */
struct inode *inode_table_get(struct inode_table *table, uint64_t id);

/*
 * Take one lookup reference on the backing file FD (an O_PATH descriptor)
 * whose fstat is ST: an existing inode with the same (st_dev, st_ino) gets
 * its count raised and FD is closed, otherwise a new inode keeps FD.
 * Consumes FD in every case. Returns 0 or -ENOMEM.
 */
int inode_table_insert(struct inode_table *table, int fd, const struct stat *st,
		       struct inode **ret);

/*
 * Drop NLOOKUP lookup references on INODE; at zero the inode leaves the table
 * and its descriptor is closed. The root is never freed here.
 */
void inode_table_forget(struct inode_table *table, struct inode *inode, uint64_t nlookup);

/* Node id to hand to the kernel for INODE. */
uint64_t inode_id(const struct inode *inode);

/* The O_PATH descriptor of INODE; valid while INODE is. */
int inode_fd(const struct inode *inode);

/* File type bits (S_IFMT part of st_mode) of INODE, fixed for its lifetime. */
mode_t inode_type(const struct inode *inode);

/* Number of inodes in the table, the root included (for debug output). */
size_t inode_table_count(struct inode_table *table);

#endif
