/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TPM as IMA uses it: extend one PCR in every active bank, read PCRs,
 * and compute the boot aggregate. Hides tpm2-tss ESYS so that a real TPM
 * (or swtpm through a TCTI) and the in-process software bank are
 * interchangeable for callers.
 *
 * Thread safety: every function may be called from any thread; one internal
 * mutex is held across each TPM command (an ESYS context is not thread-safe).
 * Callers may hold their own locks while calling in (the IMA log holds its
 * append lock across tpm_extend()); this module takes no other lock.
 *
 * Ownership: tpm_open() returns an object that the caller frees with
 * tpm_close(), which accepts NULL and returns NULL.
 */
#ifndef IMAFS_CORE_TPM_H
#define IMAFS_CORE_TPM_H

#include <stdbool.h>

#include "core/hash.h"

/* PCR banks imafs knows. The software bank has SHA1 and SHA256. */
enum tpm_bank {
	TPM_BANK_SHA1,
	TPM_BANK_SHA256,
	TPM_BANK_SHA384,
	TPM_BANK_SHA512,
	TPM_BANK__MAX,
};

#define TPM_PCR_COUNT 24

struct tpm;

/*
 * Open the TPM named by TCTI, a tpm2-tss TCTI string such as
 * "device:/dev/tpmrm0" or "swtpm:host=127.0.0.1,port=2321". "none" selects
 * the in-process software bank. NULL selects "device:/dev/tpmrm0" when that
 * device exists and the software bank otherwise.
 * Returns 0 or a negative errno; on failure *RETERR_MSG (if not NULL) points
 * to a static description such as the tpm2-tss error text.
 */
int tpm_open(const char *tcti, struct tpm **ret, const char **reterr_msg);
struct tpm *tpm_close(struct tpm *tpm);

/* True for the in-process software bank. */
bool tpm_is_software(const struct tpm *tpm);

/* Human-readable description: "software PCR bank" or the TCTI string. */
const char *tpm_describe(const struct tpm *tpm);

/* True when BANK is allocated on this TPM (for PCR reads and extends). */
bool tpm_has_bank(const struct tpm *tpm, enum tpm_bank bank);

/* Hash algorithm of BANK (HASH_SHA1 for TPM_BANK_SHA1, ...). */
enum hash_algo tpm_bank_algo(enum tpm_bank bank);

/* Name of BANK as in file names and tpm2-tools ("sha1", "sha256", ...). */
const char *tpm_bank_name(enum tpm_bank bank);

/*
 * Extend PCR in every active bank with that bank's digest DIGESTS[bank]
 * (which must have the bank's size). Banks that are not active are skipped.
 * Returns 0 or a negative errno (-EIO for a TPM error).
 */
int tpm_extend(struct tpm *tpm, unsigned int pcr, const struct hash_digest digests[TPM_BANK__MAX]);

/* Read PCR of BANK into *RET. Returns 0, -ENOENT for an inactive bank, or -EIO. */
int tpm_read_pcr(struct tpm *tpm, enum tpm_bank bank, unsigned int pcr, struct hash_digest *ret);

/*
 * Compute the boot aggregate as a v5.8+ kernel does for IMA hash IMA_HASH:
 * pick the bank of IMA_HASH if active, else sha256, else sha1; hash PCRs 0-7
 * of that bank, plus 8 and 9 unless the bank is sha1. The software bank
 * yields zeros of IMA_HASH's size (the kernel's TPM-bypass value).
 */
int tpm_boot_aggregate(struct tpm *tpm, enum hash_algo ima_hash, struct hash_digest *ret);

/*
 * Fault hook for tests: after AFTER_COUNT more successful extends, every
 * extend fails with -EIO. The daemon sets it from IMAFS_TPM_FAIL_AFTER.
 */
void tpm_inject_extend_failure(struct tpm *tpm, unsigned int after_count);

#endif
