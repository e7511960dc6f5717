/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inode table for the FUSE low-level API. Every file the kernel has looked up
 * is one struct inode holding an O_PATH descriptor of the backing file, so
 * later requests reach the file by descriptor and never by a path name that
 * a rename could have changed. Holding the descriptor also pins the backing
 * inode: its (st_dev, st_ino) cannot be reused while the entry exists.
 *
 * Invariants:
 *  1. There is at most one entry per backing (st_dev, st_ino). A second
 *     lookup of the same file, through a hard link or after a rename, raises
 *     the count of the existing entry.
 *  2. An entry is in the hash exactly while its lookup count is above zero.
 *     The root is inserted with one extra reference that no forget drops, so
 *     it lives until inode_table_free().
 *  3. The node id of the root is INODE_ROOT_ID; every other node id is the
 *     address of its struct inode, which the kernel hands back unchanged.
 *
 * Locking: table->lock guards the buckets, the entry count and every
 * nlookup. The fields fd, dev, ino and type never change after insertion and
 * are read without the lock. Descriptors are closed and entries freed after
 * the lock is dropped.
 *
 * Ownership: the table owns all entries and their descriptors.
 */
#include "fs/inode.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/log.h"

_Static_assert(sizeof(uintptr_t) <= sizeof(uint64_t), "a pointer must fit in a FUSE node id");

#define INODE_BUCKETS_MIN 1024u

struct inode {
	struct inode *next; /* hash chain; table->lock */
	uint64_t nlookup;   /* table->lock */
	uint64_t id;
	int fd;
	dev_t dev;
	ino_t ino;
	mode_t type;
};

struct inode_table {
	pthread_mutex_t lock;
	struct inode **buckets; /* lock */
	size_t nbuckets;        /* lock; a power of two */
	size_t count;           /* lock */
	struct inode *root;
};

/* Mix (dev, ino) so that consecutive inode numbers spread over the buckets. */
static size_t inode_hash(dev_t dev, ino_t ino)
{
	uint64_t x = (uint64_t)ino ^ ((uint64_t)dev * 0x9e3779b97f4a7c15u);

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdu;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53u;
	x ^= x >> 33;
	return (size_t)x;
}

static struct inode **inode_slot(struct inode_table *table, dev_t dev, ino_t ino)
{
	return &table->buckets[inode_hash(dev, ino) & (table->nbuckets - 1)];
}

static struct inode *inode_find_locked(struct inode_table *table, dev_t dev, ino_t ino)
{
	struct inode *inode;

	for (inode = *inode_slot(table, dev, ino); inode; inode = inode->next) {
		if (inode->dev == dev && inode->ino == ino)
			return inode;
	}
	return NULL;
}

/* Double the bucket array. On allocation failure the table keeps working, only slower. */
static void inode_grow_locked(struct inode_table *table)
{
	struct inode **old = table->buckets;
	size_t old_n = table->nbuckets;
	size_t i;

	table->buckets = calloc(old_n * 2, sizeof(*table->buckets));
	if (!table->buckets) {
		table->buckets = old;
		return;
	}
	table->nbuckets = old_n * 2;

	for (i = 0; i < old_n; i++) {
		struct inode *inode = old[i];

		while (inode) {
			struct inode *next = inode->next;
			struct inode **slot = inode_slot(table, inode->dev, inode->ino);

			inode->next = *slot;
			*slot = inode;
			inode = next;
		}
	}
	free(old);
}

static void inode_link_locked(struct inode_table *table, struct inode *inode)
{
	struct inode **slot;

	if (table->count >= table->nbuckets)
		inode_grow_locked(table);
	slot = inode_slot(table, inode->dev, inode->ino);
	inode->next = *slot;
	*slot = inode;
	table->count++;
}

static void inode_unlink_locked(struct inode_table *table, struct inode *inode)
{
	struct inode **p = inode_slot(table, inode->dev, inode->ino);

	while (*p && *p != inode)
		p = &(*p)->next;
	if (*p) {
		*p = inode->next;
		table->count--;
	}
}

int inode_table_new(int root_fd, struct inode_table **ret)
{
	struct inode_table *table;
	struct stat st;
	int r;

	if (fstat(root_fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;

	table = calloc(1, sizeof(*table));
	if (!table)
		return -ENOMEM;
	table->nbuckets = INODE_BUCKETS_MIN;
	table->buckets = calloc(table->nbuckets, sizeof(*table->buckets));
	if (!table->buckets) {
		r = -ENOMEM;
		goto out_free_table;
	}
	table->root = calloc(1, sizeof(*table->root));
	if (!table->root) {
		r = -ENOMEM;
		goto out_free_buckets;
	}
	r = pthread_mutex_init(&table->lock, NULL);
	if (r != 0) {
		r = -r;
		goto out_free_root;
	}

	table->root->fd = root_fd;
	table->root->dev = st.st_dev;
	table->root->ino = st.st_ino;
	table->root->type = st.st_mode & S_IFMT;
	table->root->id = INODE_ROOT_ID;
	table->root->nlookup = 1;
	inode_link_locked(table, table->root);

	*ret = table;
	return 0;

out_free_root:
	free(table->root);
out_free_buckets:
	free(table->buckets);
out_free_table:
	free(table);
	return r;
}

struct inode_table *inode_table_free(struct inode_table *table)
{
	size_t i;

	if (!table)
		return NULL;

	for (i = 0; i < table->nbuckets; i++) {
		struct inode *inode = table->buckets[i];

		while (inode) {
			struct inode *next = inode->next;

			(void)close(inode->fd);
			free(inode);
			inode = next;
		}
	}
	free(table->buckets);
	pthread_mutex_destroy(&table->lock);
	free(table);
	return NULL;
}

struct inode *inode_table_get(struct inode_table *table, uint64_t id)
{
	if (id == INODE_ROOT_ID)
		return table->root;
	return (struct inode *)(uintptr_t)id;
}

int inode_table_insert(struct inode_table *table, int fd, const struct stat *st,
		       struct inode **ret)
{
	struct inode *fresh;
	struct inode *inode;

	/* Allocated before locking: most lookups of a new file need it, and malloc may block. */
	fresh = calloc(1, sizeof(*fresh));
	if (!fresh) {
		(void)close(fd);
		return -ENOMEM;
	}

	pthread_mutex_lock(&table->lock);
	inode = inode_find_locked(table, st->st_dev, st->st_ino);
	if (inode) {
		inode->nlookup++;
	} else {
		inode = fresh;
		inode->fd = fd;
		inode->dev = st->st_dev;
		inode->ino = st->st_ino;
		inode->type = st->st_mode & S_IFMT;
		inode->id = (uint64_t)(uintptr_t)inode;
		inode->nlookup = 1;
		inode_link_locked(table, inode);
		fresh = NULL;
	}
	pthread_mutex_unlock(&table->lock);

	if (fresh) {
		free(fresh);
		(void)close(fd);
	}
	*ret = inode;
	return 0;
}

void inode_table_forget(struct inode_table *table, struct inode *inode, uint64_t nlookup)
{
	bool drop = false;

	pthread_mutex_lock(&table->lock);
	if (nlookup > inode->nlookup) {
		/* The kernel never forgets more than it looked up; stay safe if it does. */
		log_debug("inode: forget of %llu lookups on inode %llu with only %llu",
			  (unsigned long long)nlookup, (unsigned long long)inode->ino,
			  (unsigned long long)inode->nlookup);
		nlookup = inode->nlookup;
	}
	inode->nlookup -= nlookup;
	if (inode->nlookup == 0 && inode != table->root) {
		inode_unlink_locked(table, inode);
		drop = true;
	}
	if (inode == table->root && inode->nlookup == 0)
		inode->nlookup = 1;
	pthread_mutex_unlock(&table->lock);

	if (drop) {
		(void)close(inode->fd);
		free(inode);
	}
}

uint64_t inode_id(const struct inode *inode)
{
	return inode->id;
}

int inode_fd(const struct inode *inode)
{
	return inode->fd;
}

mode_t inode_type(const struct inode *inode)
{
	return inode->type;
}

size_t inode_table_count(struct inode_table *table)
{
	size_t count;

	pthread_mutex_lock(&table->lock);
	count = table->count;
	pthread_mutex_unlock(&table->lock);
	return count;
}
