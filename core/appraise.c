/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Appraisal decisions, following the kernel's ima_appraise_measurement() and
 * xattr_verify() for what passes and which cause a failure gets, with
 * stricter parsing of the xattr (see ima_xattr.c) and finer causes where
 * the kernel reports one cause for several faults.
 *
 * Invariants:
 *  1. Fail closed: RESULT.passed becomes true only on a path that compared
 *     the digest, verified a signature or found the digest in the
 *     allowlist. Every error path leaves it false.
 *  2. The blocklist check comes first, so a blocked digest fails whatever
 *     the xattr contains. The allowed-algorithm check comes last and applies
 *     to every pass, the allowlist's included.
 *  3. Digest comparison is constant-time (CRYPTO_memcmp) and requires equal
 *     lengths, because ima_xattr_parse() already rejected extra bytes.
 *
 * Locking: none; no state. The keyring and lists are read-only.
 */
#include "core/appraise.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/log.h"

static const char *const appraise_cause_names[APPRAISE_CAUSE__MAX] = {
	[APPRAISE_CAUSE_NONE] = "none",
	[APPRAISE_CAUSE_UNKNOWN] = "unknown",
	[APPRAISE_CAUSE_MISSING_HASH] = "missing-hash",
	[APPRAISE_CAUSE_SIG_REQUIRED] = "IMA-signature-required",
	[APPRAISE_CAUSE_VERITY_SIG_REQUIRED] = "verity-signature-required",
	[APPRAISE_CAUSE_INVALID_HASH] = "invalid-hash",
	[APPRAISE_CAUSE_INVALID_SIG] = "invalid-signature",
	[APPRAISE_CAUSE_INVALID_SIG_VERSION] = "invalid-signature-version",
	[APPRAISE_CAUSE_INVALID_VERITY_SIG] = "invalid-verity-signature",
	[APPRAISE_CAUSE_SIGV3_HASHING_ERROR] = "sigv3-hashing-error",
	[APPRAISE_CAUSE_UNKNOWN_IMA_DATA] = "unknown-ima-data",
	[APPRAISE_CAUSE_MISSING_HMAC] = "missing-HMAC",
	[APPRAISE_CAUSE_INVALID_HMAC] = "invalid-HMAC",
	[APPRAISE_CAUSE_INVALID_FAIL_IMMUTABLE] = "invalid-fail-immutable",
	[APPRAISE_CAUSE_UNVERIFIABLE_SIG] = "unverifiable-signature",
	[APPRAISE_CAUSE_DENIED_HASH_ALGO] = "denied-hash-algorithm",
	[APPRAISE_CAUSE_UNAVAILABLE_HASH_ALGO] = "unavailable-hash-algorithm",
	[APPRAISE_CAUSE_BLACKLISTED_HASH] = "blacklisted-hash",
	[APPRAISE_CAUSE_UNKNOWN_KEY] = "unknown-key",
	[APPRAISE_CAUSE_INVALID_XATTR] = "invalid-xattr",
	[APPRAISE_CAUSE_PORTABLE_SIG] = "portable-signature-unsupported",
};

static const char *const appraise_mode_names[] = {
	[APPRAISE_MODE_ENFORCE] = "enforce",
	[APPRAISE_MODE_LOG] = "log",
	[APPRAISE_MODE_FIX] = "fix",
	[APPRAISE_MODE_OFF] = "off",
};

#define APPRAISE_MODE_COUNT (sizeof(appraise_mode_names) / sizeof(appraise_mode_names[0]))

const char *appraise_cause_name(enum appraise_cause cause)
{
	if ((unsigned int)cause >= APPRAISE_CAUSE__MAX)
		return "invalid";
	return appraise_cause_names[cause];
}

int appraise_cause_from_name(const char *name, enum appraise_cause *ret)
{
	for (unsigned int i = 0; i < APPRAISE_CAUSE__MAX; i++) {
		if (!strcmp(appraise_cause_names[i], name)) {
			*ret = (enum appraise_cause)i;
			return 0;
		}
	}
	return -EINVAL;
}

int appraise_mode_from_name(const char *name, enum appraise_mode *ret)
{
	/* The kernel matches ima_appraise= by prefix; an option of ours need not. */
	for (unsigned int i = 0; i < APPRAISE_MODE_COUNT; i++) {
		if (!strcmp(appraise_mode_names[i], name)) {
			*ret = (enum appraise_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *appraise_mode_name(enum appraise_mode mode)
{
	if ((unsigned int)mode >= APPRAISE_MODE_COUNT)
		return NULL;
	return appraise_mode_names[mode];
}

enum hash_algo appraise_hash_algo(const uint8_t *xattr, size_t len, enum hash_algo default_algo)
{
	return ima_xattr_hash_algo(xattr, len, default_algo);
}

static void appraise_fail(struct appraise_result *ret, enum appraise_cause cause)
{
	ret->passed = false;
	ret->cause = cause;
}

static void appraise_pass(struct appraise_result *ret)
{
	ret->passed = true;
	ret->cause = APPRAISE_CAUSE_NONE;
}

static bool appraise_sig_required(const struct appraise_params *params)
{
	return params->flags & (APPRAISE_SIG_REQUIRED | APPRAISE_SIGV3_REQUIRED);
}

/* No xattr: only the allowlist can pass the file, and only without a signature rule. */
static void appraise_missing(const struct hash_digest *digest,
			     const struct appraise_params *params, struct appraise_result *ret)
{
	if (appraise_sig_required(params)) {
		appraise_fail(ret, APPRAISE_CAUSE_SIG_REQUIRED);
		return;
	}
	if (allowlist_contains(params->allowlist, digest->algo, digest->bytes, digest->len)) {
		ret->allowlisted = true;
		appraise_pass(ret);
		return;
	}
	appraise_fail(ret, APPRAISE_CAUSE_MISSING_HASH);
}

/*
 * Checks that need only the type byte, in the kernel's order: a rule that
 * requires a signature fails a hash xattr (and, without verity support, an
 * fs-verity signature) before the value itself is looked at. Returns true
 * when it decided.
 */
static bool appraise_check_type(uint8_t type, const struct appraise_params *params,
				struct appraise_result *ret)
{
	switch (type) {
	case IMA_XATTR_DIGEST:
	case IMA_XATTR_DIGEST_NG:
	case IMA_XATTR_VERITY_DIGSIG:
		if (!appraise_sig_required(params))
			return false;
		appraise_fail(ret, APPRAISE_CAUSE_SIG_REQUIRED);
		return true;
	case IMA_XATTR_DIGSIG:
		return false;
	case IMA_XATTR_PORTABLE_SIG:
		ret->xattr_error = IMA_XATTR_ERR_PORTABLE;
		appraise_fail(ret, APPRAISE_CAUSE_PORTABLE_SIG);
		return true;
	default:
		ret->xattr_error = IMA_XATTR_ERR_UNKNOWN_TYPE;
		appraise_fail(ret, APPRAISE_CAUSE_UNKNOWN_IMA_DATA);
		return true;
	}
}

static enum appraise_cause appraise_parse_cause(enum ima_xattr_error err)
{
	switch (err) {
	case IMA_XATTR_ERR_VERSION:
		return APPRAISE_CAUSE_INVALID_SIG_VERSION;
	case IMA_XATTR_ERR_UNSUPPORTED_ALGO:
		return APPRAISE_CAUSE_UNAVAILABLE_HASH_ALGO;
	case IMA_XATTR_ERR_PORTABLE:
		return APPRAISE_CAUSE_PORTABLE_SIG;
	case IMA_XATTR_ERR_UNKNOWN_TYPE:
		return APPRAISE_CAUSE_UNKNOWN_IMA_DATA;
	default:
		return APPRAISE_CAUSE_INVALID_XATTR;
	}
}

/* Whether the rule accepts a signature of this type and format version. */
static bool appraise_sig_version_ok(const struct ima_xattr *sig,
				    const struct appraise_params *params)
{
	if (sig->type == IMA_XATTR_VERITY_DIGSIG)
		return sig->version == 3;
	if (sig->version == 2)
		return !(params->flags & APPRAISE_SIGV3_REQUIRED);
	return params->flags & (APPRAISE_SIGV3_ALLOWED | APPRAISE_SIGV3_REQUIRED);
}

/* Verify a parsed signature value. Returns 0, or a negative errno for an internal error. */
static int appraise_check_sig(const struct ima_xattr *sig, const struct hash_digest *digest,
			      const struct appraise_params *params, struct appraise_result *ret)
{
	const struct hash_digest *signed_digest = digest;
	struct hash_digest file_id;
	int r;

	if (!appraise_sig_version_ok(sig, params)) {
		appraise_fail(ret, APPRAISE_CAUSE_INVALID_SIG_VERSION);
		return 0;
	}
	if (sig->version == 3) {
		r = ima_xattr_file_id_digest(sig->type, digest, &file_id);
		if (r < 0) {
			appraise_fail(ret, APPRAISE_CAUSE_SIGV3_HASHING_ERROR);
			return r;
		}
		signed_digest = &file_id;
	}

	r = keys_verify(params->keys, sig->keyid, sig->algo, signed_digest->bytes,
			signed_digest->len, sig->sig, sig->sig_len);
	switch (r) {
	case 0:
		appraise_pass(ret);
		return 0;
	case -ENOKEY:
		appraise_fail(ret, APPRAISE_CAUSE_UNKNOWN_KEY);
		return 0;
	case -EBADMSG:
		appraise_fail(ret, sig->type == IMA_XATTR_VERITY_DIGSIG
					   ? APPRAISE_CAUSE_INVALID_VERITY_SIG
					   : APPRAISE_CAUSE_INVALID_SIG);
		return 0;
	default:
		appraise_fail(ret, APPRAISE_CAUSE_UNKNOWN);
		return r;
	}
}

/* Judge a value that has passed the type checks; returns as appraise_decide(). */
static int appraise_check_value(const uint8_t *xattr, size_t len, const struct hash_digest *digest,
				const struct appraise_params *params, struct appraise_result *ret)
{
	struct ima_xattr parsed;
	enum ima_xattr_error err;

	err = ima_xattr_parse(xattr, len, &parsed);
	if (err != IMA_XATTR_OK) {
		ret->xattr_error = err;
		appraise_fail(ret, appraise_parse_cause(err));
		return 0;
	}
	if (parsed.type == IMA_XATTR_DIGSIG || parsed.type == IMA_XATTR_VERITY_DIGSIG) {
		ret->has_keyid = true;
		ret->keyid = parsed.keyid;
	}
	if (digest->algo != parsed.algo) {
		log_debug("op=appraise digest_algo=%s xattr_algo=%s: the caller hashed with the "
			  "wrong algorithm",
			  hash_algo_name(digest->algo), hash_algo_name(parsed.algo));
		appraise_fail(ret, APPRAISE_CAUSE_UNKNOWN);
		return -EINVAL;
	}

	if (parsed.type == IMA_XATTR_DIGEST || parsed.type == IMA_XATTR_DIGEST_NG) {
		if (parsed.digest_len == digest->len &&
		    CRYPTO_memcmp(parsed.digest, digest->bytes, digest->len) == 0)
			appraise_pass(ret);
		else
			appraise_fail(ret, APPRAISE_CAUSE_INVALID_HASH);
		return 0;
	}
	return appraise_check_sig(&parsed, digest, params, ret);
}

int appraise_decide(const uint8_t *xattr, size_t len, const struct hash_digest *digest,
		    const struct appraise_params *params, struct appraise_result *ret)
{
	int r;

	memset(ret, 0, sizeof(*ret));
	appraise_fail(ret, APPRAISE_CAUSE_UNKNOWN);
	if (!digest || !params || digest->len == 0 || digest->len != hash_algo_size(digest->algo))
		return -EINVAL;
	if (!xattr)
		len = 0;

	/* The kernel records a signature value in the measurement even when it fails. */
	if (len > 0 && (xattr[0] == IMA_XATTR_DIGSIG || xattr[0] == IMA_XATTR_VERITY_DIGSIG)) {
		ret->sig = xattr;
		ret->sig_len = len;
	}

	if ((params->flags & APPRAISE_CHECK_BLOCKLIST) &&
	    allowlist_contains(params->blocklist, digest->algo, digest->bytes, digest->len)) {
		appraise_fail(ret, APPRAISE_CAUSE_BLACKLISTED_HASH);
		return 0;
	}

	if (len == 0) {
		appraise_missing(digest, params, ret);
		r = 0;
	} else if (appraise_check_type(xattr[0], params, ret)) {
		r = 0;
	} else {
		r = appraise_check_value(xattr, len, digest, params, ret);
	}

	if (ret->passed && params->allowed_algos &&
	    !(params->allowed_algos & (1u << digest->algo)))
		appraise_fail(ret, APPRAISE_CAUSE_DENIED_HASH_ALGO);
	return r;
}
