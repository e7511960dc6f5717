/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The appraisal keyring: X.509 certificates (RSA or ECDSA public keys)
 * loaded from files, looked up by the 4-byte key id of IMA signatures, and
 * verification of those signatures with OpenSSL.
 *
 * Thread safety: keys_new() and keys_add_path() build the keyring from one
 * thread. Once loading is finished the keyring is read-only, and any number
 * of threads may call keys_count(), keys_has() and the verify functions on it
 * at once.
 *
 * Ownership: keys_new() returns a keyring that the caller frees with
 * keys_free(), which accepts NULL and returns NULL.
 */
#ifndef IMAFS_CORE_KEYS_H
#define IMAFS_CORE_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hash.h"
#include "core/ima_xattr.h"

/* Limits on what loading reads, so a wrong path cannot make us allocate without bound. */
#define KEYS_MAX_FILE_SIZE (1u << 20) /* bytes per certificate file */
#define KEYS_MAX_KEYS 1024u           /* keys per keyring */
#define KEYS_MAX_DIR_ENTRIES 4096u    /* entries per directory */

/* Location and reason of a failed load. */
struct keys_error {
	char origin[512];  /* the file or directory that failed */
	char message[512]; /* names the value, the reason and the fix */
};

struct keyring;

/* Create an empty keyring. Returns 0 or -ENOMEM. */
int keys_new(struct keyring **ret);

struct keyring *keys_free(struct keyring *ring);

/*
 * Add the certificates at PATH: one file, or every regular file in a
 * directory whose name does not start with '.', in name order. A file contains
 * one DER certificate or one or more PEM certificates. Each certificate must
 * carry a Subject Key Identifier of at least 4 bytes, whose last 4 bytes are
 * the key id. Its key must be RSA of at least 2048 bits or ECDSA on P-256,
 * P-384 or P-521. A key usage extension, if present, must allow
 * digitalSignature.
 * All or nothing: on any error no key of PATH is added, *RETERR names the
 * file and the fix, and the return is -EINVAL (unusable certificate, key id
 * already in the keyring, a private key in the file), -ENOENT (a directory
 * without certificates), -E2BIG (a limit above), -ENOMEM or the -errno of
 * open/read.
 */
int keys_add_path(struct keyring *ring, const char *path, struct keys_error *reterr);

/* Number of keys in RING. */
size_t keys_count(const struct keyring *ring);

/* Whether RING has a key with KEYID. */
bool keys_has(const struct keyring *ring, uint32_t keyid);

/*
 * Verify SIG (SIG_LEN bytes) made by key KEYID over DIGEST (DIGEST_LEN bytes,
 * a hash with ALGO): RSA PKCS#1 v1.5 with the DigestInfo of ALGO, or a DER
 * ECDSA signature. Returns 0 when it verifies, -ENOKEY when RING has no key
 * KEYID, -EBADMSG when the signature is invalid, -EINVAL for a digest whose
 * length is not ALGO's, -EOPNOTSUPP when OpenSSL lacks ALGO, -ENOMEM.
 */
int keys_verify(const struct keyring *ring, uint32_t keyid, enum hash_algo algo,
		const uint8_t *digest, size_t digest_len, const uint8_t *sig, size_t sig_len);

/*
 * Verify the signature in SIG (a parsed type 0x03 or 0x06 value) against
 * FILE_DIGEST, the file's hash with SIG's algorithm. Format v2 signs the file
 * digest, format v3 the digest of the ima_file_id structure (see
 * ima_xattr_file_id_digest()). Returns as keys_verify(), and -EINVAL when
 * FILE_DIGEST's algorithm is not SIG's.
 */
int keys_verify_xattr(const struct keyring *ring, const struct ima_xattr *sig,
		      const struct hash_digest *file_digest);

#endif
