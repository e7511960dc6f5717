/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsing and building security.ima values.
 *
 * Layouts (multi-byte fields big-endian):
 *   0x01  digest (16 bytes MD5, 16 + 4 zero bytes MD5, or 20 bytes SHA-1)
 *   0x04  algorithm id, digest
 *   0x03, 0x05, 0x06  type, version, algorithm id, key id (4), length S (2),
 *                     S signature bytes
 *
 * Invariants:
 *  1. ima_xattr_parse() accepts a value only when every byte is accounted
 *     for: no trailing bytes after a digest or a signature, and an algorithm
 *     that hash.c can compute, so a parsed digest always has the size that
 *     hash_algo_size() gives for its algorithm.
 *  2. ima_xattr_hash_algo() follows the kernel's ima_get_hash_algo(): it
 *     only looks at the bytes the kernel looks at, so the measured digest
 *     uses the algorithm the kernel would use for the same value.
 *
 * Locking: none; no state.
 */
#include "core/ima_xattr.h"

#include <errno.h>
#include <string.h>

/* First kernel hash id after the table in hash.h (the kernel's HASH_ALGO__LAST). */
#define IMA_XATTR_ALGO_LIMIT HASH_ALGO__MAX

/* Lengths of the two legacy type 0x01 forms: MD5 alone or padded to 20 bytes. */
#define IMA_XATTR_MD5_LEN (1 + 16)
#define IMA_XATTR_SHA1_LEN (1 + 20)

static const char *const ima_xattr_error_names[IMA_XATTR_ERR__MAX] = {
	[IMA_XATTR_OK] = "ok",
	[IMA_XATTR_ERR_EMPTY] = "empty",
	[IMA_XATTR_ERR_UNKNOWN_TYPE] = "unknown-type",
	[IMA_XATTR_ERR_PORTABLE] = "portable-signature",
	[IMA_XATTR_ERR_DIGEST_LENGTH] = "bad-digest-length",
	[IMA_XATTR_ERR_UNKNOWN_ALGO] = "unknown-algorithm",
	[IMA_XATTR_ERR_UNSUPPORTED_ALGO] = "unsupported-algorithm",
	[IMA_XATTR_ERR_TRUNCATED] = "truncated-header",
	[IMA_XATTR_ERR_VERSION] = "bad-signature-version",
	[IMA_XATTR_ERR_SIG_LENGTH] = "signature-length-mismatch",
	[IMA_XATTR_ERR_EMPTY_SIG] = "empty-signature",
};

const char *ima_xattr_error_name(enum ima_xattr_error err)
{
	if ((unsigned int)err >= IMA_XATTR_ERR__MAX)
		return "invalid";
	return ima_xattr_error_names[err];
}

/* Check an algorithm id from a value: known to the kernel and computable here. */
static enum ima_xattr_error ima_xattr_check_algo(unsigned int id)
{
	if (id >= IMA_XATTR_ALGO_LIMIT)
		return IMA_XATTR_ERR_UNKNOWN_ALGO;
	if (hash_algo_size((enum hash_algo)id) == 0)
		return IMA_XATTR_ERR_UNSUPPORTED_ALGO;
	return IMA_XATTR_OK;
}

/*
 * The kernel distinguishes MD5 from SHA-1 by length alone: 17 bytes, or 21 bytes
 * whose last four are zero, is MD5. A SHA-1 digest that happens to end in
 * four zero bytes is read as padded MD5 there too.
 */
static enum ima_xattr_error ima_xattr_parse_digest(const uint8_t *value, size_t len,
						   struct ima_xattr *ret)
{
	static const uint8_t zero[4];

	if (len == IMA_XATTR_MD5_LEN ||
	    (len == IMA_XATTR_SHA1_LEN && !memcmp(value + 17, zero, sizeof(zero)))) {
		ret->algo = HASH_MD5;
		ret->digest_len = 16;
	} else if (len == IMA_XATTR_SHA1_LEN) {
		ret->algo = HASH_SHA1;
		ret->digest_len = 20;
	} else {
		return IMA_XATTR_ERR_DIGEST_LENGTH;
	}
	ret->type = IMA_XATTR_DIGEST;
	ret->digest = value + 1;
	return IMA_XATTR_OK;
}

static enum ima_xattr_error ima_xattr_parse_digest_ng(const uint8_t *value, size_t len,
						      struct ima_xattr *ret)
{
	enum ima_xattr_error err;

	if (len < 2)
		return IMA_XATTR_ERR_DIGEST_LENGTH;
	err = ima_xattr_check_algo(value[1]);
	if (err != IMA_XATTR_OK)
		return err;
	if (len - 2 != hash_algo_size((enum hash_algo)value[1]))
		return IMA_XATTR_ERR_DIGEST_LENGTH;
	ret->type = IMA_XATTR_DIGEST_NG;
	ret->algo = (enum hash_algo)value[1];
	ret->digest = value + 2;
	ret->digest_len = len - 2;
	return IMA_XATTR_OK;
}

static enum ima_xattr_error ima_xattr_parse_sig(const uint8_t *value, size_t len,
						struct ima_xattr *ret)
{
	enum ima_xattr_error err;
	size_t sig_len;

	if (len < IMA_XATTR_SIG_HEADER_SIZE)
		return IMA_XATTR_ERR_TRUNCATED;
	if (value[1] != 2 && value[1] != 3)
		return IMA_XATTR_ERR_VERSION;
	err = ima_xattr_check_algo(value[2]);
	if (err != IMA_XATTR_OK)
		return err;
	sig_len = (size_t)value[7] << 8 | value[8];
	if (sig_len == 0)
		return IMA_XATTR_ERR_EMPTY_SIG;
	if (sig_len != len - IMA_XATTR_SIG_HEADER_SIZE)
		return IMA_XATTR_ERR_SIG_LENGTH;

	ret->type = (enum ima_xattr_type)value[0];
	ret->algo = (enum hash_algo)value[2];
	ret->version = value[1];
	ret->keyid = (uint32_t)value[3] << 24 | (uint32_t)value[4] << 16 |
		     (uint32_t)value[5] << 8 | value[6];
	ret->sig = value + IMA_XATTR_SIG_HEADER_SIZE;
	ret->sig_len = sig_len;
	return IMA_XATTR_OK;
}

enum ima_xattr_error ima_xattr_parse(const uint8_t *value, size_t len, struct ima_xattr *ret)
{
	struct ima_xattr parsed = { 0 };
	enum ima_xattr_error err;

	if (len == 0)
		return IMA_XATTR_ERR_EMPTY;

	switch (value[0]) {
	case IMA_XATTR_DIGEST:
		err = ima_xattr_parse_digest(value, len, &parsed);
		break;
	case IMA_XATTR_DIGEST_NG:
		err = ima_xattr_parse_digest_ng(value, len, &parsed);
		break;
	case IMA_XATTR_DIGSIG:
	case IMA_XATTR_VERITY_DIGSIG:
		err = ima_xattr_parse_sig(value, len, &parsed);
		break;
	case IMA_XATTR_PORTABLE_SIG:
		/* An EVM portable signature covers EVM data, not the file alone. */
		err = IMA_XATTR_ERR_PORTABLE;
		break;
	default:
		err = IMA_XATTR_ERR_UNKNOWN_TYPE;
		break;
	}
	if (err == IMA_XATTR_OK)
		*ret = parsed;
	return err;
}

enum hash_algo ima_xattr_hash_algo(const uint8_t *value, size_t len, enum hash_algo default_algo)
{
	unsigned int id;

	if (!value || len < 2)
		return default_algo;

	switch (value[0]) {
	case IMA_XATTR_DIGSIG:
	case IMA_XATTR_VERITY_DIGSIG:
		/* The kernel reads the header only when some signature bytes follow it. */
		if (len <= IMA_XATTR_SIG_HEADER_SIZE)
			return default_algo;
		if (value[0] == IMA_XATTR_DIGSIG ? value[1] != 2 && value[1] != 3
						 : value[1] != 3)
			return default_algo;
		id = value[2];
		break;
	case IMA_XATTR_DIGEST_NG:
		id = value[1];
		break;
	case IMA_XATTR_DIGEST:
		if (len == IMA_XATTR_MD5_LEN)
			return HASH_MD5;
		if (len != IMA_XATTR_SHA1_LEN)
			return default_algo;
		if (value[17] == 0 && value[18] == 0 && value[19] == 0 && value[20] == 0)
			return HASH_MD5;
		return HASH_SHA1;
	default:
		return default_algo;
	}

	if (ima_xattr_check_algo(id) != IMA_XATTR_OK)
		return default_algo;
	return (enum hash_algo)id;
}

int ima_xattr_file_id_digest(enum ima_xattr_type type, const struct hash_digest *digest,
			     struct hash_digest *ret)
{
	uint8_t file_id[2 + HASH_MAX_DIGEST_SIZE];
	unsigned int size = hash_algo_size(digest->algo);

	if (size == 0 || digest->len != size)
		return -EINVAL;
	if (type != IMA_XATTR_DIGSIG && type != IMA_XATTR_VERITY_DIGSIG)
		return -EINVAL;

	/* Only the digest's own bytes are hashed, not the kernel's whole 64-byte array. */
	file_id[0] = (uint8_t)type;
	file_id[1] = (uint8_t)digest->algo;
	memcpy(file_id + 2, digest->bytes, size);
	return hash_buffer(digest->algo, file_id, 2 + (size_t)size, ret);
}

int ima_xattr_build_digest(const struct hash_digest *digest, uint8_t *buf, size_t size)
{
	unsigned int digest_size = hash_algo_size(digest->algo);
	size_t header;

	if (digest_size == 0 || digest->len != digest_size)
		return -EINVAL;
	if (digest->algo == HASH_MD4)
		return -EOPNOTSUPP;

	header = digest->algo == HASH_MD5 || digest->algo == HASH_SHA1 ? 1 : 2;
	if (size < header + digest_size)
		return -ENOBUFS;

	if (header == 1) {
		buf[0] = IMA_XATTR_DIGEST;
	} else {
		buf[0] = IMA_XATTR_DIGEST_NG;
		buf[1] = (uint8_t)digest->algo;
	}
	memcpy(buf + header, digest->bytes, digest_size);
	return (int)(header + digest_size);
}
