/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Appraisal: the verdict on one file version from its security.ima value,
 * its digest, the rule's flags, the keyring and the optional allow- and
 * blocklists, with the failure causes the kernel writes in its audit records.
 *
 * The caller reads the xattr, gets the algorithm to hash the file with from
 * appraise_hash_algo(), hashes the file and calls appraise_decide(). Modes (enforce,
 * log, fix, off) are the caller's business: appraise_decide() only judges.
 *
 * Thread safety: every function may be called from any thread; the keyring
 * and lists passed in must be fully loaded (they are then read-only).
 */
#ifndef IMAFS_CORE_APPRAISE_H
#define IMAFS_CORE_APPRAISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/allowlist.h"
#include "core/hash.h"
#include "core/ima_xattr.h"
#include "core/keys.h"

/*
 * Appraisal failure causes. The names (appraise_cause_name()) are the kernel's
 * audit "cause=" spellings, except for the three marked imafs, which split
 * faults the kernel reports under a broader cause.
 */
enum appraise_cause {
	APPRAISE_CAUSE_NONE = 0,               /* "none": passed */
	APPRAISE_CAUSE_UNKNOWN,                /* "unknown": an internal error */
	APPRAISE_CAUSE_MISSING_HASH,           /* "missing-hash" */
	APPRAISE_CAUSE_SIG_REQUIRED,           /* "IMA-signature-required" */
	APPRAISE_CAUSE_VERITY_SIG_REQUIRED,    /* "verity-signature-required" (not produced) */
	APPRAISE_CAUSE_INVALID_HASH,           /* "invalid-hash" */
	APPRAISE_CAUSE_INVALID_SIG,            /* "invalid-signature" */
	APPRAISE_CAUSE_INVALID_SIG_VERSION,    /* "invalid-signature-version" */
	APPRAISE_CAUSE_INVALID_VERITY_SIG,     /* "invalid-verity-signature" */
	APPRAISE_CAUSE_SIGV3_HASHING_ERROR,    /* "sigv3-hashing-error" */
	APPRAISE_CAUSE_UNKNOWN_IMA_DATA,       /* "unknown-ima-data": unknown type byte */
	APPRAISE_CAUSE_MISSING_HMAC,           /* "missing-HMAC" (EVM, not produced) */
	APPRAISE_CAUSE_INVALID_HMAC,           /* "invalid-HMAC" (EVM, not produced) */
	APPRAISE_CAUSE_INVALID_FAIL_IMMUTABLE, /* "invalid-fail-immutable" (EVM, not produced) */
	APPRAISE_CAUSE_UNVERIFIABLE_SIG,       /* "unverifiable-signature" (not produced) */
	APPRAISE_CAUSE_DENIED_HASH_ALGO,       /* "denied-hash-algorithm": appraise_algos */
	/* "unavailable-hash-algorithm": the xattr names an algorithm imafs cannot compute */
	APPRAISE_CAUSE_UNAVAILABLE_HASH_ALGO,
	APPRAISE_CAUSE_BLACKLISTED_HASH,       /* "blacklisted-hash": blocklisted digest */
	/* imafs "unknown-key": no key with the signature's key id (kernel: invalid-signature) */
	APPRAISE_CAUSE_UNKNOWN_KEY,
	/* imafs "invalid-xattr": malformed value (kernel: invalid-hash or invalid-signature) */
	APPRAISE_CAUSE_INVALID_XATTR,
	/* imafs "portable-signature-unsupported": type 0x05 (kernel: unknown-ima-data) */
	APPRAISE_CAUSE_PORTABLE_SIG,
	APPRAISE_CAUSE__MAX,
};

/* Appraisal modes, as "ima_appraise=" and the daemon's option name them. */
enum appraise_mode {
	APPRAISE_MODE_ENFORCE, /* a failure denies access with EACCES */
	APPRAISE_MODE_LOG,     /* a failure is logged only */
	APPRAISE_MODE_FIX,     /* a failure is logged and a hash xattr rewritten */
	APPRAISE_MODE_OFF,     /* appraise rules are ignored */
};

/* Flags of the deciding appraise rule. */
#define APPRAISE_SIG_REQUIRED 0x1u   /* appraise_type=imasig: a hash xattr fails */
#define APPRAISE_CHECK_BLOCKLIST 0x2u /* look the digest up in the blocklist */
/*
 * Accept format v3 signatures under type 0x03. Mainline kernels before the
 * 2026 sigv3 patches reject them with invalid-signature-version.
 */
#define APPRAISE_SIGV3_ALLOWED 0x4u
/* appraise_type=sigv3 (2026 patches): only a format v3 signature passes. */
#define APPRAISE_SIGV3_REQUIRED 0x8u

struct appraise_params {
	unsigned int flags;                  /* APPRAISE_* bits */
	uint32_t allowed_algos;              /* appraise_algos: bit n = kernel id n; 0 = any */
	const struct keyring *keys;          /* NULL: no key, so every signature is unknown-key */
	const struct allowlist *allowlist;   /* digests that pass without an xattr, or NULL */
	const struct allowlist *blocklist;   /* digests that always fail, or NULL */
};

struct appraise_result {
	bool passed;
	enum appraise_cause cause;        /* APPRAISE_CAUSE_NONE when passed */
	enum ima_xattr_error xattr_error; /* detail for APPRAISE_CAUSE_INVALID_XATTR and others */
	bool allowlisted;                 /* passed through the allowlist, not the xattr */
	/*
	 * The "sig" template field: the whole xattr when its type is 0x03 or
	 * 0x06 (valid or not), else NULL. Points into the caller's buffer.
	 */
	const uint8_t *sig;
	size_t sig_len;
	bool has_keyid;
	uint32_t keyid; /* key id of a parsed signature */
};

/* Kernel spelling of CAUSE ("invalid-signature"), or "invalid" for a bad value. */
const char *appraise_cause_name(enum appraise_cause cause);

/* Look a cause up by its name. Returns 0 or -EINVAL. */
int appraise_cause_from_name(const char *name, enum appraise_cause *ret);

/* Parse "enforce", "log", "fix" or "off" (exact match). Returns 0 or -EINVAL. */
int appraise_mode_from_name(const char *name, enum appraise_mode *ret);

/* Name of MODE, or NULL for a bad value. */
const char *appraise_mode_name(enum appraise_mode mode);

/*
 * Return the algorithm to hash the file with before appraise_decide(): the
 * one its XATTR (LEN bytes, NULL or 0 for none) selects, else DEFAULT_ALGO.
 * See ima_xattr_hash_algo().
 */
enum hash_algo appraise_hash_algo(const uint8_t *xattr, size_t len, enum hash_algo default_algo);

/*
 * Judge one file version. XATTR is the raw security.ima value, NULL or LEN 0
 * when the file has none (an empty value counts as none, as in the kernel).
 * DIGEST is the file's digest with appraise_hash_algo()'s algorithm.
 *
 * Order of checks: blocklist (with APPRAISE_CHECK_BLOCKLIST), missing xattr
 * (the allowlist can pass it unless a signature is required), type byte,
 * signature requirement, strict parse, digest comparison or signature
 * verification, then allowed_algos on a passing result. The allowlist is
 * consulted only when the xattr is missing, and both lists match only
 * digests in DIGEST's algorithm.
 *
 * *RET is always written, failure included, so a caller that ignores the
 * return value still sees passed = false. Returns 0 when a verdict was
 * reached (pass or fail), or a negative errno when it could not be (then
 * cause is "unknown", or -EINVAL when DIGEST's algorithm is not the one the
 * xattr selects, which is a caller bug).
 */
int appraise_decide(const uint8_t *xattr, size_t len, const struct hash_digest *digest,
		    const struct appraise_params *params, struct appraise_result *ret);

#endif
