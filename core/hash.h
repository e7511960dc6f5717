/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hash algorithms by their kernel ids (enum hash_algo of Linux, which are
 * part of the on-disk xattr and signature formats) and hashing of buffers and
 * files through OpenSSL EVP.
 *
 * Thread safety: all functions may be called from any thread.
 */
#ifndef IMAFS_CORE_HASH_H
#define IMAFS_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* NOTE: the numeric values are the kernel's and must never change. */
enum hash_algo {
	HASH_MD4 = 0,
	HASH_MD5 = 1,
	HASH_SHA1 = 2,
	HASH_RMD160 = 3,
	HASH_SHA256 = 4,
	HASH_SHA384 = 5,
	HASH_SHA512 = 6,
	HASH_SHA224 = 7,
	HASH_SM3 = 17,
	HASH_SHA3_256 = 20,
	HASH_SHA3_384 = 21,
	HASH_SHA3_512 = 22,
	HASH_ALGO__MAX = 23,
};

#define HASH_MAX_DIGEST_SIZE 64

/* A digest together with its algorithm; LEN bytes of BYTES are valid. */
struct hash_digest {
	enum hash_algo algo;
	unsigned int len;
	uint8_t bytes[HASH_MAX_DIGEST_SIZE];
};

/* Kernel name of ALGO ("sha256"), or NULL for an id we do not support. */
const char *hash_algo_name(enum hash_algo algo);

/* Digest size in bytes of ALGO, or 0 for an unsupported id. */
unsigned int hash_algo_size(enum hash_algo algo);

/* Look up a kernel name; accepts "sm3-256" and "sm3_256" as sm3. -EINVAL if unknown. */
int hash_algo_from_name(const char *name, enum hash_algo *ret_algo);

/* Hash LEN bytes of DATA. Returns 0 or a negative errno. */
int hash_buffer(enum hash_algo algo, const void *data, size_t len, struct hash_digest *ret);

/*
 * Hash the whole content of the regular file FD with pread() from offset 0,
 * in large chunks, without moving the file offset. Returns 0 or a negative
 * errno (-EIO when OpenSSL fails).
 */
int hash_fd(enum hash_algo algo, int fd, struct hash_digest *ret);

/* Write DIGEST as lowercase hex into BUF (at least 2 * len + 1 bytes). */
void hash_to_hex(const uint8_t *bytes, size_t len, char *buf);

#endif
