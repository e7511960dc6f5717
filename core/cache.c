/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The integrity cache: a hash table of per-file entries keyed by
 * (st_dev, st_ino), hashed with XXH3 under a random per-process seed.
 *
 * Invariants:
 *  1. An entry's digests and measured PCRs describe VERSION only. A thread
 *     that finds a different version calls cache_entry_reset() before using
 *     them.
 *  2. At most one thread has BUSY set on an entry; only that thread hashes
 *     or logs the entry, so one file version is hashed once.
 *  3. Entries are never removed before cache_free(), so entry pointers stay
 *     valid without reference counts.
 *
 * Locking: CACHE_SHARDS shards, each a mutex, a condition variable and a
 * chained bucket array. A thread holds at most one shard lock at a time.
 *
 * NOTE: entries are not evicted, so memory grows with the number of
 * distinct files opened (about 200 bytes each).
 */
#include "core/cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define CACHE_SHARDS 64u
#define CACHE_INITIAL_BUCKETS 256u

struct cache_shard {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct cache_entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
};

struct cache {
	uint64_t seed;
	struct cache_shard shards[CACHE_SHARDS];
};

int cache_new(struct cache **ret)
{
	struct cache *cache;

	cache = calloc(1, sizeof(*cache));
	if (!cache)
		return -ENOMEM;
	if (getrandom(&cache->seed, sizeof(cache->seed), 0) != sizeof(cache->seed))
		cache->seed = (uint64_t)(uintptr_t)cache;

	for (unsigned int i = 0; i < CACHE_SHARDS; i++) {
		struct cache_shard *shard = &cache->shards[i];

		pthread_mutex_init(&shard->lock, NULL);
		pthread_cond_init(&shard->changed, NULL);
		shard->nbuckets = CACHE_INITIAL_BUCKETS;
		shard->buckets = calloc(shard->nbuckets, sizeof(*shard->buckets));
		if (!shard->buckets) {
			cache_free(cache);
			return -ENOMEM;
		}
	}
	*ret = cache;
	return 0;
}

struct cache *cache_free(struct cache *cache)
{
	if (!cache)
		return NULL;
	for (unsigned int i = 0; i < CACHE_SHARDS; i++) {
		struct cache_shard *shard = &cache->shards[i];

		for (size_t b = 0; shard->buckets && b < shard->nbuckets; b++) {
			struct cache_entry *e = shard->buckets[b];

			while (e) {
				struct cache_entry *next = e->next;

				free(e->xattr);
				free(e);
				e = next;
			}
		}
		free(shard->buckets);
		pthread_cond_destroy(&shard->changed);
		pthread_mutex_destroy(&shard->lock);
	}
	free(cache);
	return NULL;
}

void cache_version_from_stat(const struct stat *st, struct cache_version *ret)
{
	*ret = (struct cache_version){
		.mtime_sec = st->st_mtim.tv_sec,
		.mtime_nsec = (uint32_t)st->st_mtim.tv_nsec,
		.ctime_sec = st->st_ctim.tv_sec,
		.ctime_nsec = (uint32_t)st->st_ctim.tv_nsec,
		.size = st->st_size,
	};
}

bool cache_version_equal(const struct cache_version *a, const struct cache_version *b)
{
	return a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
	       a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec &&
	       a->size == b->size;
}

void cache_entry_reset(struct cache_entry *entry, const struct cache_version *version)
{
	entry->version = *version;
	entry->measured_pcrs = 0;
	entry->digest_valid = false;
	entry->opened = false;
	entry->modified = false;
	entry->xattr_known = false;
	entry->appraised = false;
	entry->audited = false;
	entry->appraise_passed = false;
	entry->appraise_cause = 0;
	entry->xattr_len = 0;
	free(entry->xattr);
	entry->xattr = NULL;
	memset(&entry->digest, 0, sizeof(entry->digest));
	memset(&entry->sha1, 0, sizeof(entry->sha1));
}

/* Double the bucket array of SHARD when it is full; on ENOMEM keep the old one. */
static void cache_grow(struct cache *cache, struct cache_shard *shard)
{
	size_t nbuckets = shard->nbuckets * 2;
	struct cache_entry **buckets;

	buckets = calloc(nbuckets, sizeof(*buckets));
	if (!buckets)
		return;
	for (size_t b = 0; b < shard->nbuckets; b++) {
		struct cache_entry *e = shard->buckets[b];

		while (e) {
			struct cache_entry *next = e->next;
			uint64_t h = XXH3_64bits_withSeed(&e->key, sizeof(e->key), cache->seed);
			size_t slot = (size_t)(h >> 6) & (nbuckets - 1);

			e->next = buckets[slot];
			buckets[slot] = e;
			e = next;
		}
	}
	free(shard->buckets);
	shard->buckets = buckets;
	shard->nbuckets = nbuckets;
}

struct cache_entry *cache_lock(struct cache *cache, const struct cache_key *key,
			       struct cache_shard **ret_shard)
{
	uint64_t h = XXH3_64bits_withSeed(key, sizeof(*key), cache->seed);
	struct cache_shard *shard = &cache->shards[h % CACHE_SHARDS];
	struct cache_entry *e;
	size_t slot;

	pthread_mutex_lock(&shard->lock);
	/* The low bits pick the shard; the bits above them pick the bucket. */
	slot = (size_t)(h >> 6) & (shard->nbuckets - 1);
	for (e = shard->buckets[slot]; e; e = e->next) {
		if (e->key.dev == key->dev && e->key.ino == key->ino)
			goto out_found;
	}

	e = calloc(1, sizeof(*e));
	if (!e) {
		pthread_mutex_unlock(&shard->lock);
		return NULL;
	}
	e->key = *key;
	if (shard->count >= shard->nbuckets) {
		cache_grow(cache, shard);
		slot = (size_t)(h >> 6) & (shard->nbuckets - 1);
	}
	e->next = shard->buckets[slot];
	shard->buckets[slot] = e;
	shard->count++;
out_found:
	*ret_shard = shard;
	return e;
}

void cache_unlock(struct cache_shard *shard)
{
	pthread_mutex_unlock(&shard->lock);
}

void cache_wait(struct cache_shard *shard)
{
	pthread_cond_wait(&shard->changed, &shard->lock);
}

void cache_wake(struct cache_shard *shard)
{
	pthread_cond_broadcast(&shard->changed);
}
