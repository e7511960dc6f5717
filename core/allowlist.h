/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A set of file digests read from a list in the format that sha256sum,
 * sha1sum, sha384sum and sha512sum print: "<hex digest>  <name>" or
 * "<hex digest> *<name>". As an allowlist, a listed digest replaces a missing
 * security.ima hash. As a blocklist, a listed digest fails appraisal.
 *
 * The algorithm of each line follows from its digest length: 40 hex digits
 * SHA-1, 64 SHA-256, 96 SHA-384, 128 SHA-512. Names are checked for presence
 * but not kept: lookups are by digest. Blank lines and lines whose first
 * non-blank character is '#' are skipped, and CRLF line ends are accepted.
 *
 * Thread safety: a loaded set is immutable, so any number of threads may
 * call the lookup functions on it at once.
 *
 * Ownership: the loaders return a set that the caller frees with
 * allowlist_free(), which accepts NULL and returns NULL.
 */
#ifndef IMAFS_CORE_ALLOWLIST_H
#define IMAFS_CORE_ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hash.h"

/* Largest list file read; about 500,000 lines of SHA-256 and a typical path. */
#define ALLOWLIST_MAX_FILE_SIZE (64u << 20)
/* Maximum line length: a 128-digit digest, the separator and a PATH_MAX name. */
#define ALLOWLIST_MAX_LINE 4300u

/* Location and reason of a failed load. */
struct allowlist_error {
	char origin[512];   /* file name, or the origin given to allowlist_parse() */
	unsigned int line;  /* 1-based; 0 when the failure is not about one line */
	char message[512];  /* names the offending text and the fix */
};

struct allowlist;

/*
 * Parse LEN bytes of TEXT, named ORIGIN in messages. All or nothing: on the
 * first bad line nothing is returned and *RETERR gives the line number and
 * the offending text. Returns 0, -EINVAL or -ENOMEM.
 */
int allowlist_parse(const char *text, size_t len, const char *origin, struct allowlist **ret,
		    struct allowlist_error *reterr);

/*
 * Read and parse the file at PATH. Returns as allowlist_parse(), -E2BIG for
 * a file over ALLOWLIST_MAX_FILE_SIZE, or the -errno of open/read.
 */
int allowlist_load_file(const char *path, struct allowlist **ret, struct allowlist_error *reterr);

struct allowlist *allowlist_free(struct allowlist *list);

/* Number of distinct digests in LIST. */
size_t allowlist_count(const struct allowlist *list);

/* Set of algorithms present in LIST: bit n is kernel hash id n. */
uint32_t allowlist_algos(const struct allowlist *list);

/*
 * Whether LIST (NULL counts as empty) contains DIGEST (LEN bytes) with ALGO.
 * A digest listed for another algorithm never matches.
 */
bool allowlist_contains(const struct allowlist *list, enum hash_algo algo, const uint8_t *digest,
			size_t len);

#endif
