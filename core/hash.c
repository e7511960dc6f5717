/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hash algorithm table (kernel ids, kernel names, OpenSSL names, sizes) and
 * hashing of buffers and files with OpenSSL EVP.
 *
 * Invariants:
 *  1. hash_algo_table is indexed by the kernel's enum hash_algo value; an
 *     entry with a NULL name is an id imafs does not support.
 *  2. hash_fd() never moves the file offset of FD (it uses pread), so the
 *     caller can serve reads from the same descriptor.
 *
 * Locking: none; the table is read-only. OpenSSL 3 digests are thread-safe.
 */
#include "core/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

struct hash_algo_info {
	const char *name;     /* kernel name */
	const char *evp_name; /* OpenSSL name */
	unsigned int size;
};

static const struct hash_algo_info hash_algo_table[HASH_ALGO__MAX] = {
	[HASH_MD4] = { "md4", "MD4", 16 },
	[HASH_MD5] = { "md5", "MD5", 16 },
	[HASH_SHA1] = { "sha1", "SHA1", 20 },
	[HASH_RMD160] = { "rmd160", "RIPEMD160", 20 },
	[HASH_SHA256] = { "sha256", "SHA256", 32 },
	[HASH_SHA384] = { "sha384", "SHA384", 48 },
	[HASH_SHA512] = { "sha512", "SHA512", 64 },
	[HASH_SHA224] = { "sha224", "SHA224", 28 },
	[HASH_SM3] = { "sm3", "SM3", 32 },
	[HASH_SHA3_256] = { "sha3-256", "SHA3-256", 32 },
	[HASH_SHA3_384] = { "sha3-384", "SHA3-384", 48 },
	[HASH_SHA3_512] = { "sha3-512", "SHA3-512", 64 },
};

/* Read size for hashing files: large, so a 1 GiB file takes 256 reads. */
#define HASH_READ_CHUNK (4u << 20)

static const struct hash_algo_info *hash_info(enum hash_algo algo)
{
	if ((unsigned int)algo >= HASH_ALGO__MAX || !hash_algo_table[algo].name)
		return NULL;
	return &hash_algo_table[algo];
}

const char *hash_algo_name(enum hash_algo algo)
{
	const struct hash_algo_info *info = hash_info(algo);

	return info ? info->name : NULL;
}

unsigned int hash_algo_size(enum hash_algo algo)
{
	const struct hash_algo_info *info = hash_info(algo);

	return info ? info->size : 0;
}

int hash_algo_from_name(const char *name, enum hash_algo *ret_algo)
{
	if (!strcmp(name, "sm3-256") || !strcmp(name, "sm3_256")) {
		*ret_algo = HASH_SM3;
		return 0;
	}
	for (unsigned int i = 0; i < HASH_ALGO__MAX; i++) {
		if (hash_algo_table[i].name && !strcmp(hash_algo_table[i].name, name)) {
			*ret_algo = (enum hash_algo)i;
			return 0;
		}
	}
	return -EINVAL;
}

static EVP_MD *hash_fetch(enum hash_algo algo)
{
	const struct hash_algo_info *info = hash_info(algo);

	if (!info)
		return NULL;
	return EVP_MD_fetch(NULL, info->evp_name, NULL);
}

int hash_buffer(enum hash_algo algo, const void *data, size_t len, struct hash_digest *ret)
{
	unsigned int out_len = 0;
	EVP_MD *md;
	int r = 0;

	md = hash_fetch(algo);
	if (!md)
		return -EOPNOTSUPP;
	if (EVP_Digest(data, len, ret->bytes, &out_len, md, NULL) != 1) {
		r = -EIO;
		goto out_free_md;
	}
	ret->algo = algo;
	ret->len = out_len;
out_free_md:
	EVP_MD_free(md);
	return r;
}

int hash_fd(enum hash_algo algo, int fd, struct hash_digest *ret)
{
	struct hash_digest digest = { .algo = algo };
	EVP_MD_CTX *ctx = NULL;
	uint8_t *buf = NULL;
	off_t offset = 0;
	EVP_MD *md;
	int r = 0;

	md = hash_fetch(algo);
	if (!md)
		return -EOPNOTSUPP;
	ctx = EVP_MD_CTX_new();
	buf = malloc(HASH_READ_CHUNK);
	if (!ctx || !buf) {
		r = -ENOMEM;
		goto out_free;
	}
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1) {
		r = -EIO;
		goto out_free;
	}

	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (;;) {
		ssize_t n = pread(fd, buf, HASH_READ_CHUNK, offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out_free;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			r = -EIO;
			goto out_free;
		}
		offset += n;
	}

	if (EVP_DigestFinal_ex(ctx, digest.bytes, &digest.len) != 1) {
		r = -EIO;
		goto out_free;
	}
	*ret = digest;
out_free:
	free(buf);
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
	return r;
}

void hash_to_hex(const uint8_t *bytes, size_t len, char *buf)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		buf[2 * i] = hex[bytes[i] >> 4];
		buf[2 * i + 1] = hex[bytes[i] & 0xf];
	}
	buf[2 * len] = '\0';
}
