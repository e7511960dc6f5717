/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The security.ima extended attribute. This module parses a stored value
 * strictly into its type, hash algorithm, digest or signature header. It
 * also applies the kernel's rule for which hash algorithm a value selects,
 * computes the ima_file_id digest that format v3 signatures sign, and builds
 * the digest value that fix mode writes.
 *
 * Thread safety: every function may be called from any thread.
 *
 * Ownership: a parsed struct ima_xattr points into the caller's buffer and
 * is valid only while that buffer is.
 */
#ifndef IMAFS_CORE_IMA_XATTR_H
#define IMAFS_CORE_IMA_XATTR_H

#include <stddef.h>
#include <stdint.h>

#include "core/hash.h"

/* NOTE: first byte of the value; the numbers are the kernel's on-disk ones. */
enum ima_xattr_type {
	IMA_XATTR_DIGEST = 0x01,        /* MD5 or SHA-1 digest without an algorithm byte */
	IMA_XATTR_EVM_HMAC = 0x02,      /* EVM only, never valid in security.ima */
	IMA_XATTR_DIGSIG = 0x03,        /* file signature, format v2 (or v3) */
	IMA_XATTR_DIGEST_NG = 0x04,     /* algorithm byte, then the digest */
	IMA_XATTR_PORTABLE_SIG = 0x05,  /* EVM portable signature */
	IMA_XATTR_VERITY_DIGSIG = 0x06, /* fs-verity signature, format v3 */
};

/* Size of the signature header: type, version, algorithm, key id, length. */
#define IMA_XATTR_SIG_HEADER_SIZE 9

/* Largest value ima_xattr_build_digest() writes: type, algorithm, digest. */
#define IMA_XATTR_DIGEST_MAX_SIZE (2 + HASH_MAX_DIGEST_SIZE)

/* Parse failures; ima_xattr_error_name() gives the spelling for log lines. */
enum ima_xattr_error {
	IMA_XATTR_OK = 0,
	IMA_XATTR_ERR_EMPTY,             /* zero bytes long */
	IMA_XATTR_ERR_UNKNOWN_TYPE,      /* first byte is not 0x01, 0x03, 0x04, 0x05 or 0x06 */
	IMA_XATTR_ERR_PORTABLE,          /* type 0x05, which imafs cannot verify */
	IMA_XATTR_ERR_DIGEST_LENGTH,     /* digest length does not fit the algorithm */
	IMA_XATTR_ERR_UNKNOWN_ALGO,      /* algorithm id beyond the kernel's table */
	IMA_XATTR_ERR_UNSUPPORTED_ALGO,  /* kernel id that imafs cannot compute */
	IMA_XATTR_ERR_TRUNCATED,         /* shorter than the signature header */
	IMA_XATTR_ERR_VERSION,           /* signature format other than 2 or 3 */
	IMA_XATTR_ERR_SIG_LENGTH,        /* length field differs from the bytes present */
	IMA_XATTR_ERR_EMPTY_SIG,         /* length field is zero */
	IMA_XATTR_ERR__MAX,
};

/*
 * One parsed value. For the digest types (0x01, 0x04) DIGEST and DIGEST_LEN
 * are set; for the signature types (0x03, 0x06) VERSION, KEYID, SIG and
 * SIG_LEN are. ALGO is set for both.
 */
struct ima_xattr {
	enum ima_xattr_type type;
	enum hash_algo algo;
	const uint8_t *digest;
	size_t digest_len;
	unsigned int version;
	uint32_t keyid; /* the header's 4 bytes read big-endian */
	const uint8_t *sig;
	size_t sig_len;
};

/*
 * Parse LEN bytes of VALUE. Returns IMA_XATTR_OK and fills *RET, or the
 * first problem found (and leaves *RET untouched). Checks are strict. A type
 * 0x01 value is 17 bytes (MD5), 21 bytes ending in four zero bytes (padded
 * MD5) or 21 bytes (SHA-1). A type 0x04 value is exactly 2 bytes plus the
 * digest size of its algorithm. A signature's length field equals the number
 * of bytes that follow the header.
 */
enum ima_xattr_error ima_xattr_parse(const uint8_t *value, size_t len, struct ima_xattr *ret);

/* Short hyphenated name of ERR for log lines ("signature-length-mismatch"). */
const char *ima_xattr_error_name(enum ima_xattr_error err);

/*
 * Return the hash algorithm the kernel would measure and appraise a file
 * with, given its security.ima VALUE (NULL or LEN 0 when there is none).
 * That is the header's algorithm for a signature of type 0x03 (version 2 or
 * 3) or type 0x06 (version 3), the algorithm byte of a type 0x04 value, MD5
 * or SHA-1 by length for type 0x01, and DEFAULT_ALGO otherwise. Like the kernel, it takes a
 * signature's algorithm before checking the rest of the value. Unlike the
 * kernel it returns DEFAULT_ALGO for an id imafs cannot compute, so the
 * caller can always hash; appraisal of such a value then fails.
 * NOTE: type 0x03 version 3 follows the 2026 kernel patches; older kernels
 * use DEFAULT_ALGO for it.
 */
enum hash_algo ima_xattr_hash_algo(const uint8_t *value, size_t len, enum hash_algo default_algo);

/*
 * Compute the digest that a format v3 signature signs: the hash, with
 * DIGEST's algorithm, of the ima_file_id structure TYPE || algorithm id ||
 * digest bytes. TYPE is the xattr type the signature is stored under.
 * Returns 0 or a negative errno.
 */
int ima_xattr_file_id_digest(enum ima_xattr_type type, const struct hash_digest *digest,
			     struct hash_digest *ret);

/*
 * Write the digest form of security.ima for DIGEST into BUF (SIZE bytes;
 * IMA_XATTR_DIGEST_MAX_SIZE is always enough). The layout is the one the
 * kernel's fix mode and "evmctl ima_hash" write: type 0x01 and the bare
 * digest for MD5 and SHA-1, type 0x04 with the algorithm byte otherwise. Returns the number of
 * bytes written, -ENOBUFS if SIZE is too small, -EINVAL for a digest whose
 * length does not match its algorithm, or -EOPNOTSUPP for MD4, whose type
 * 0x01 form would read back as MD5.
 */
int ima_xattr_build_digest(const struct hash_digest *digest, uint8_t *buf, size_t size);

#endif
