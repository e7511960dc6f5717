/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The integrity cache: one entry per file (device, inode) holding what is
 * known about the file's current version: its digests, the PCRs it was
 * measured into, its open writers, and room for the appraisal result.
 *
 * Thread safety: any thread. The table is split into shards, each with one
 * mutex and one condition variable. cache_lock() returns an entry with its
 * shard locked; the fields of struct cache_entry may only be read or written
 * while that shard is locked. A thread that finds BUSY set waits with
 * cache_wait() and rechecks; the thread that set BUSY clears it and calls
 * cache_wake(). Never call into the IMA log or the TPM with a shard locked.
 *
 * Ownership: entries live until cache_free(), so a pointer obtained from
 * cache_lock() stays valid after cache_unlock().
 */
#ifndef IMAFS_CORE_CACHE_H
#define IMAFS_CORE_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/hash.h"

struct cache_key {
	uint64_t dev;
	uint64_t ino;
};

/* Change evidence of one file version: the entry is valid while all of it is equal. */
struct cache_version {
	int64_t mtime_sec;
	int64_t ctime_sec;
	uint32_t mtime_nsec;
	uint32_t ctime_nsec;
	int64_t size;
};

struct cache_entry {
	struct cache_key key;
	struct cache_version version;
	struct cache_entry *next; /* hash chain */
	uint32_t measured_pcrs;   /* bit N: this version is in the list for PCR N */
	uint32_t writers;         /* opens for write through the mount */
	uint32_t readers;         /* opens without write access through the mount */
	bool tomtou_armed;        /* a measured reader is open: a write-open is a ToMToU */
	bool open_writers_reported; /* one open_writers violation per period of writers */
	bool busy;                /* a thread is hashing, appraising or logging this version */
	bool digest_valid;        /* DIGEST (and SHA1 when its len is set) hold for VERSION */
	bool opened;              /* VERSION was seen by an earlier open */
	bool modified;            /* written through the mount since the last writer opened */
	bool xattr_known;         /* XATTR is the IMA xattr of VERSION (NULL: none) */
	bool created;             /* created through the mount and not yet closed by its writers */
	bool update_xattr;        /* rewrite the hash xattr when the last writer closes */
	bool appraised;           /* APPRAISE_* fields hold for VERSION */
	bool audited;             /* the audit line of VERSION was written */
	bool appraise_passed;
	uint8_t appraise_cause;   /* enum appraise_cause */
	uint8_t report_cause;     /* cause of the last reported security event */
	uint16_t xattr_len;
	uint32_t appraise_flags;  /* the parameters APPRAISE_PASSED was decided with */
	uint32_t appraise_algos;
	uint32_t report_time;     /* monotonic seconds of the last report */
	uint32_t suppressed;      /* events not reported since then */
	uint8_t *xattr;           /* malloc'ed copy of the IMA xattr value, or NULL */
	struct hash_digest digest;
	struct hash_digest sha1;
};

struct cache;
struct cache_shard;

int cache_new(struct cache **ret);
struct cache *cache_free(struct cache *cache);

/* Fill *RET from ST (mtime, ctime, size). */
void cache_version_from_stat(const struct stat *st, struct cache_version *ret);
bool cache_version_equal(const struct cache_version *a, const struct cache_version *b);

/*
 * Find or create the entry of KEY and return it with its shard locked
 * (*RET_SHARD). A new entry has VERSION zeroed. Returns NULL (nothing locked)
 * when memory runs out.
 */
struct cache_entry *cache_lock(struct cache *cache, const struct cache_key *key,
			       struct cache_shard **ret_shard);
void cache_unlock(struct cache_shard *shard);

/* Wait for a change on SHARD (called with it locked; returns with it locked). */
void cache_wait(struct cache_shard *shard);
/* Wake every thread waiting on SHARD (called with it locked). */
void cache_wake(struct cache_shard *shard);

/*
 * Forget what ENTRY records about its version (called with its shard locked).
 * Per-inode state survives: open readers and writers, the violation bits,
 * CREATED, UPDATE_XATTR and the report rate limit.
 */
void cache_entry_reset(struct cache_entry *entry, const struct cache_version *version);

#endif
