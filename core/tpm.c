/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCR access for IMA: extend one PCR in every active bank, read single PCRs
 * and compute the boot aggregate. The PCRs live either in a TPM 2.0 reached
 * through a tpm2-tss TCTI (ESYS API) or in the in-process software bank,
 * which keeps sha1 and sha256 PCRs in memory for machines without a TPM.
 *
 * Invariants:
 * 1. The set of active banks is fixed by tpm_open() and never changes. On a
 *    TPM a bank is active when TPM2_GetCapability(TPM2_CAP_PCRS) reports it
 *    for sha1, sha256, sha384 or sha512 with PCR 10 allocated, because the
 *    boot aggregate and default measurements of IMA go to PCR 10. A bank
 *    allocated without PCR 10 could not follow the measurement list, so it
 *    is left out. The software bank has sha1 and sha256 with all 24 PCRs.
 * 2. An extend changes every active bank or none. On a TPM one
 *    TPM2_PCR_Extend carries the digests of all active banks. The software
 *    bank computes all new values before it stores any of them. An extend
 *    of a PCR that some active bank lacks fails before anything is sent.
 * 3. Software PCRs start at zero and change only by extension, as a TPM's
 *    PCR 10 does (it cannot be reset).
 * 4. Once the fault hook has counted down, every later extend fails with
 *    -EIO until tpm_inject_extend_failure() is called again.
 *
 * Locking: tpm->lock is held across each TPM command, because an ESYS
 * context is not thread-safe, and across each software bank update. A boot
 * aggregate holds it across all of its PCR reads so that no extend lands
 * between them. It is a leaf lock: nothing is logged and no other lock is
 * taken while it is held.
 *
 * Ownership: struct tpm owns its TCTI and ESYS contexts and its copy of the
 * TCTI string, and tpm_close() finalizes and frees all of them. Error texts for
 * tpm_open() live in a per-thread buffer (see tpm_open_error).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "core/log.h"
#include "core/tpm.h"

#define TPM_DEFAULT_DEVICE "/dev/tpmrm0"
#define TPM_DEFAULT_TCTI "device:" TPM_DEFAULT_DEVICE
#define TPM_SOFTWARE_TCTI "none"
#define TPM_SOFTWARE_DESCRIPTION "software PCR bank"

/* IMA's default PCR, which every active bank must allocate (invariant 1). */
#define TPM_IMA_PCR 10

/* Bit mask with all TPM_PCR_COUNT PCRs set. */
#define TPM_ALL_PCRS ((UINT32_C(1) << TPM_PCR_COUNT) - 1)

struct tpm_bank_info {
	const char *name;
	enum hash_algo algo;
	TPM2_ALG_ID alg_id;
	unsigned int size;
};

static const struct tpm_bank_info tpm_banks[TPM_BANK__MAX] = {
	[TPM_BANK_SHA1] = { "sha1", HASH_SHA1, TPM2_ALG_SHA1, TPM2_SHA1_DIGEST_SIZE },
	[TPM_BANK_SHA256] = { "sha256", HASH_SHA256, TPM2_ALG_SHA256, TPM2_SHA256_DIGEST_SIZE },
	[TPM_BANK_SHA384] = { "sha384", HASH_SHA384, TPM2_ALG_SHA384, TPM2_SHA384_DIGEST_SIZE },
	[TPM_BANK_SHA512] = { "sha512", HASH_SHA512, TPM2_ALG_SHA512, TPM2_SHA512_DIGEST_SIZE },
};

struct tpm {
	pthread_mutex_t lock;
	bool software;

	/* Set by tpm_open() and read-only afterwards. */
	char *tcti_conf;			/* NULL for the software bank */
	TSS2_TCTI_CONTEXT *tcti;		/* NULL for the software bank */
	ESYS_CONTEXT *esys;			/* NULL for software; used under lock after open */
	uint32_t pcr_mask[TPM_BANK__MAX];	/* bit N: PCR N allocated; 0: bank inactive */

	/* Software bank PCR values, indexed by bank and protected by lock. */
	uint8_t soft_pcrs[TPM_BANK__MAX][TPM_PCR_COUNT][HASH_MAX_DIGEST_SIZE];

	/* Fault hook state, protected by lock. */
	bool fail_armed;
	unsigned int extends_before_failure;
};

/*
 * Error text of the last failed tpm_open() on this thread. It is per-thread
 * so that the message stays valid without a lock until the same thread calls
 * tpm_open() again.
 */
static _Thread_local char tpm_open_error[512];

static const char *tpm_format_open_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static const char *tpm_format_open_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(tpm_open_error, sizeof(tpm_open_error), fmt, ap);
	va_end(ap);
	return tpm_open_error;
}

static bool tpm_bank_valid(enum tpm_bank bank)
{
	return (unsigned int)bank < TPM_BANK__MAX;
}

static bool tpm_pcr_allocated(const struct tpm *tpm, enum tpm_bank bank, unsigned int pcr)
{
	return pcr < TPM_PCR_COUNT && (tpm->pcr_mask[bank] & (UINT32_C(1) << pcr)) != 0;
}

enum hash_algo tpm_bank_algo(enum tpm_bank bank)
{
	/* HASH_ALGO__MAX is no algorithm, so hash_algo_size() rejects it. */
	if (!tpm_bank_valid(bank))
		return HASH_ALGO__MAX;
	return tpm_banks[bank].algo;
}

const char *tpm_bank_name(enum tpm_bank bank)
{
	if (!tpm_bank_valid(bank))
		return NULL;
	return tpm_banks[bank].name;
}

bool tpm_is_software(const struct tpm *tpm)
{
	return tpm && tpm->software;
}

const char *tpm_describe(const struct tpm *tpm)
{
	if (!tpm)
		return "no TPM";
	if (tpm->software)
		return TPM_SOFTWARE_DESCRIPTION;
	return tpm->tcti_conf;
}

bool tpm_has_bank(const struct tpm *tpm, enum tpm_bank bank)
{
	return tpm && tpm_bank_valid(bank) && tpm->pcr_mask[bank] != 0;
}

/* Collect the PCR bit map of each bank we know from a TPM2_CAP_PCRS reply. */
static void tpm_parse_pcr_selection(struct tpm *tpm, const TPML_PCR_SELECTION *sel)
{
	for (UINT32 i = 0; i < sel->count && i < TPM2_NUM_PCR_BANKS; i++) {
		const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
		uint32_t mask = 0;

		for (unsigned int pcr = 0; pcr < TPM_PCR_COUNT; pcr++) {
			unsigned int byte = pcr / 8;

			if (byte < s->sizeofSelect && byte < TPM2_PCR_SELECT_MAX &&
			    (s->pcrSelect[byte] & (1u << (pcr % 8))) != 0)
				mask |= UINT32_C(1) << pcr;
		}

		for (unsigned int b = 0; b < TPM_BANK__MAX; b++) {
			if (tpm_banks[b].alg_id == s->hash)
				tpm->pcr_mask[b] = mask;
		}
	}

	for (unsigned int b = 0; b < TPM_BANK__MAX; b++) {
		if (!(tpm->pcr_mask[b] & (UINT32_C(1) << TPM_IMA_PCR))) {
			if (tpm->pcr_mask[b] != 0)
				log_debug("tpm: ignoring PCR bank %s, which does not allocate PCR %d",
					  tpm_banks[b].name, TPM_IMA_PCR);
			tpm->pcr_mask[b] = 0;
		}
	}
}

/* Find the active banks (invariant 1). QUOTED is the TCTI string for messages. */
static int tpm_discover_banks(struct tpm *tpm, const char *quoted, const char **reterr_msg)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more = TPM2_NO;
	TSS2_RC rc;

	/* With TPM2_CAP_PCRS the TPM returns the whole allocation in one reply. */
	rc = Esys_GetCapability(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				TPM2_CAP_PCRS, 0, 1, &more, &cap);
	if (rc != TSS2_RC_SUCCESS) {
		*reterr_msg = tpm_format_open_error("TPM2_GetCapability(PCRS) on TCTI %s failed: %s",
						    quoted, Tss2_RC_Decode(rc));
		return -EIO;
	}
	if (cap->capability != TPM2_CAP_PCRS) {
		*reterr_msg = tpm_format_open_error(
			"TPM2_GetCapability(PCRS) on TCTI %s returned capability 0x%x",
			quoted, (unsigned int)cap->capability);
		Esys_Free(cap);
		return -EIO;
	}
	tpm_parse_pcr_selection(tpm, &cap->data.assignedPCR);
	Esys_Free(cap);

	for (unsigned int b = 0; b < TPM_BANK__MAX; b++) {
		if (tpm->pcr_mask[b] != 0)
			return 0;
	}
	*reterr_msg = tpm_format_open_error(
		"TPM at TCTI %s has no sha1, sha256, sha384 or sha512 PCR bank with PCR %d "
		"allocated; allocate one with tpm2_pcrallocate or use TCTI 'none' for the "
		"software PCR bank",
		quoted, TPM_IMA_PCR);
	return -ENODEV;
}

/* Open the TCTI and ESYS contexts of TPM for TCTI. On failure tpm_close() undoes them. */
static int tpm_connect(struct tpm *tpm, const char *tcti, const char **reterr_msg)
{
	char quoted[256];
	TSS2_RC rc;

	tpm->tcti_conf = strdup(tcti);
	if (!tpm->tcti_conf) {
		*reterr_msg = "out of memory";
		return -ENOMEM;
	}
	(void)log_quote(tcti, quoted, sizeof(quoted));

	/*
	 * tpm2-tss 3.2 logs warnings and errors to stderr by default. Quiet it
	 * unless the user set TSS2_LOG, which it reads at its first log call.
	 * NOTE: setenv() races with getenv() in other threads, so the first
	 * tpm_open() should run before the daemon starts threads.
	 */
	(void)setenv("TSS2_LOG", "all+none", 0);

	rc = Tss2_TctiLdr_Initialize(tcti, &tpm->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		*reterr_msg = tpm_format_open_error(
			"cannot open TCTI %s: %s; check the TCTI string (such as "
			"device:/dev/tpmrm0 or swtpm:host=127.0.0.1,port=2321) and that the TPM "
			"is reachable, or use 'none' for the software PCR bank",
			quoted, Tss2_RC_Decode(rc));
		tpm->tcti = NULL;
		return -EIO;
	}

	rc = Esys_Initialize(&tpm->esys, tpm->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		*reterr_msg = tpm_format_open_error("Esys_Initialize on TCTI %s failed: %s", quoted,
						    Tss2_RC_Decode(rc));
		tpm->esys = NULL;
		return -EIO;
	}

	/* A TPM that firmware, the kernel or swtpm already started returns INITIALIZE. */
	rc = Esys_Startup(tpm->esys, TPM2_SU_CLEAR);
	if (rc != TSS2_RC_SUCCESS && rc != TPM2_RC_INITIALIZE) {
		*reterr_msg = tpm_format_open_error("TPM2_Startup on TCTI %s failed: %s", quoted,
						    Tss2_RC_Decode(rc));
		return -EIO;
	}

	return tpm_discover_banks(tpm, quoted, reterr_msg);
}

int tpm_open(const char *tcti, struct tpm **ret, const char **reterr_msg)
{
	const char *msg = NULL;
	struct tpm *tpm;
	int r;

	if (!ret) {
		msg = "tpm_open() called without a result pointer";
		r = -EINVAL;
		goto out_error;
	}
	if (!tcti)
		tcti = access(TPM_DEFAULT_DEVICE, F_OK) == 0 ? TPM_DEFAULT_TCTI : TPM_SOFTWARE_TCTI;
	if (tcti[0] == '\0') {
		msg = "empty TCTI string; give one such as device:/dev/tpmrm0, or 'none' for "
		      "the software PCR bank";
		r = -EINVAL;
		goto out_error;
	}

	tpm = calloc(1, sizeof(*tpm));
	if (!tpm) {
		msg = "out of memory";
		r = -ENOMEM;
		goto out_error;
	}
	r = pthread_mutex_init(&tpm->lock, NULL);
	if (r != 0) {
		free(tpm);
		msg = "cannot initialize the TPM mutex";
		r = -r;
		goto out_error;
	}

	if (strcmp(tcti, TPM_SOFTWARE_TCTI) == 0) {
		tpm->software = true;
		tpm->pcr_mask[TPM_BANK_SHA1] = TPM_ALL_PCRS;
		tpm->pcr_mask[TPM_BANK_SHA256] = TPM_ALL_PCRS;
	} else {
		r = tpm_connect(tpm, tcti, &msg);
		if (r < 0)
			goto out_close;
	}

	*ret = tpm;
	return 0;

out_close:
	(void)tpm_close(tpm);
out_error:
	if (reterr_msg)
		*reterr_msg = msg;
	return r;
}

struct tpm *tpm_close(struct tpm *tpm)
{
	if (!tpm)
		return NULL;

	/* Esys_Finalize() leaves the TCTI to its owner, so both are finalized here. */
	if (tpm->esys)
		Esys_Finalize(&tpm->esys);
	if (tpm->tcti)
		Tss2_TctiLdr_Finalize(&tpm->tcti);
	free(tpm->tcti_conf);
	explicit_bzero(tpm->soft_pcrs, sizeof(tpm->soft_pcrs));
	(void)pthread_mutex_destroy(&tpm->lock);
	free(tpm);
	return NULL;
}

/* Return true when the fault hook makes this extend fail. Called with lock held. */
static bool tpm_injected_failure(const struct tpm *tpm)
{
	return tpm->fail_armed && tpm->extends_before_failure == 0;
}

/* Count one successful extend towards the fault hook. Called with lock held. */
static void tpm_count_extend(struct tpm *tpm)
{
	if (tpm->fail_armed && tpm->extends_before_failure > 0)
		tpm->extends_before_failure--;
}

/* Extend the software bank: new = H(old || digest) per bank. Called with lock held. */
static int tpm_soft_extend(struct tpm *tpm, unsigned int pcr,
			   const struct hash_digest digests[TPM_BANK__MAX])
{
	struct hash_digest next[TPM_BANK__MAX];
	uint8_t buf[2 * HASH_MAX_DIGEST_SIZE];

	for (unsigned int b = 0; b < TPM_BANK__MAX; b++) {
		unsigned int size = tpm_banks[b].size;
		int r;

		if (!tpm_has_bank(tpm, (enum tpm_bank)b))
			continue;
		memcpy(buf, tpm->soft_pcrs[b][pcr], size);
		memcpy(buf + size, digests[b].bytes, size);
		r = hash_buffer(tpm_banks[b].algo, buf, 2 * (size_t)size, &next[b]);
		if (r < 0)
			return r;
		if (next[b].len != size)
			return -EIO;
	}

	/* Store only after every bank's value is known (invariant 2). */
	for (unsigned int b = 0; b < TPM_BANK__MAX; b++) {
		if (tpm_has_bank(tpm, (enum tpm_bank)b))
			memcpy(tpm->soft_pcrs[b][pcr], next[b].bytes, tpm_banks[b].size);
	}
	return 0;
}

static void tpm_fill_digest_values(const struct tpm *tpm,
				   const struct hash_digest digests[TPM_BANK__MAX],
				   TPML_DIGEST_VALUES *values)
{
	memset(values, 0, sizeof(*values));
	for (unsigned int b = 0; b < TPM_BANK__MAX; b++) {
		TPMT_HA *ha;

		if (!tpm_has_bank(tpm, (enum tpm_bank)b))
			continue;
		ha = &values->digests[values->count++];
		ha->hashAlg = tpm_banks[b].alg_id;
		memcpy(&ha->digest, digests[b].bytes, tpm_banks[b].size);
	}
}

/* Check PCR and the digest of each active bank before anything changes (invariant 2). */
static int tpm_check_extend(const struct tpm *tpm, unsigned int pcr,
			    const struct hash_digest digests[TPM_BANK__MAX])
{
	if (pcr >= TPM_PCR_COUNT) {
		log_debug("tpm: cannot extend PCR %u: invalid PCR number, valid are 0 to %d", pcr,
			  TPM_PCR_COUNT - 1);
		return -EINVAL;
	}

	for (unsigned int b = 0; b < TPM_BANK__MAX; b++) {
		if (!tpm_has_bank(tpm, (enum tpm_bank)b))
			continue;
		if (digests[b].len != tpm_banks[b].size) {
			log_debug("tpm: cannot extend PCR %u: invalid %s digest of %u bytes, expected %u",
				  pcr, tpm_banks[b].name, digests[b].len, tpm_banks[b].size);
			return -EINVAL;
		}
		if (!tpm_pcr_allocated(tpm, (enum tpm_bank)b, pcr)) {
			log_debug("tpm: cannot extend PCR %u: not allocated in bank %s", pcr,
				  tpm_banks[b].name);
			return -ENOENT;
		}
	}
	return 0;
}

int tpm_extend(struct tpm *tpm, unsigned int pcr, const struct hash_digest digests[TPM_BANK__MAX])
{
	TPML_DIGEST_VALUES values;
	TSS2_RC rc = TSS2_RC_SUCCESS;
	int r;

	if (!tpm || !digests)
		return -EINVAL;
	r = tpm_check_extend(tpm, pcr, digests);
	if (r < 0)
		return r;
	if (!tpm->software)
		tpm_fill_digest_values(tpm, digests, &values);

	pthread_mutex_lock(&tpm->lock);
	if (tpm_injected_failure(tpm)) {
		pthread_mutex_unlock(&tpm->lock);
		log_debug("tpm: extend of PCR %u failed on purpose (fault hook)", pcr);
		return -EIO;
	}
	if (tpm->software) {
		r = tpm_soft_extend(tpm, pcr, digests);
	} else {
		rc = Esys_PCR_Extend(tpm->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				     ESYS_TR_NONE, &values);
		r = rc == TSS2_RC_SUCCESS ? 0 : -EIO;
	}
	if (r == 0)
		tpm_count_extend(tpm);
	pthread_mutex_unlock(&tpm->lock);

	if (rc != TSS2_RC_SUCCESS)
		log_debug("tpm: TPM2_PCR_Extend of PCR %u failed: %s", pcr, Tss2_RC_Decode(rc));
	return r;
}

/* Read one PCR of one bank from the TPM. Called with lock held. Sets *RETERR_RC on -EIO. */
static int tpm_esys_read_pcr(struct tpm *tpm, enum tpm_bank bank, unsigned int pcr,
			     struct hash_digest *ret, TSS2_RC *reterr_rc)
{
	TPML_PCR_SELECTION sel = { .count = 1 };
	TPML_DIGEST *values = NULL;
	UINT32 update_counter;
	int r = -EIO;

	sel.pcrSelections[0].hash = tpm_banks[bank].alg_id;
	sel.pcrSelections[0].sizeofSelect = TPM_PCR_COUNT / 8;
	sel.pcrSelections[0].pcrSelect[pcr / 8] = (BYTE)(1u << (pcr % 8));

	*reterr_rc = Esys_PCR_Read(tpm->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel,
				   &update_counter, NULL, &values);
	if (*reterr_rc != TSS2_RC_SUCCESS)
		return -EIO;

	/* An empty list means the TPM dropped the PCR from the selection. */
	if (values->count == 1 && values->digests[0].size == tpm_banks[bank].size) {
		ret->algo = tpm_banks[bank].algo;
		ret->len = tpm_banks[bank].size;
		memcpy(ret->bytes, values->digests[0].buffer, ret->len);
		r = 0;
	} else {
		*reterr_rc = TSS2_ESYS_RC_MALFORMED_RESPONSE;
	}
	Esys_Free(values);
	return r;
}

/* Read PCR of BANK into *RET. Called with lock held, so it logs nothing (see Locking). */
static int tpm_read_pcr_locked(struct tpm *tpm, enum tpm_bank bank, unsigned int pcr,
			       struct hash_digest *ret, TSS2_RC *reterr_rc)
{
	struct hash_digest value = { .algo = tpm_banks[bank].algo, .len = tpm_banks[bank].size };
	int r;

	*reterr_rc = TSS2_RC_SUCCESS;
	if (!tpm_pcr_allocated(tpm, bank, pcr))
		return -ENOENT;

	if (tpm->software) {
		memcpy(value.bytes, tpm->soft_pcrs[bank][pcr], value.len);
	} else {
		r = tpm_esys_read_pcr(tpm, bank, pcr, &value, reterr_rc);
		if (r < 0)
			return r;
	}
	*ret = value;
	return 0;
}

int tpm_read_pcr(struct tpm *tpm, enum tpm_bank bank, unsigned int pcr, struct hash_digest *ret)
{
	TSS2_RC rc;
	int r;

	if (!tpm || !ret || !tpm_bank_valid(bank) || pcr >= TPM_PCR_COUNT)
		return -EINVAL;
	if (!tpm_has_bank(tpm, bank))
		return -ENOENT;

	pthread_mutex_lock(&tpm->lock);
	r = tpm_read_pcr_locked(tpm, bank, pcr, ret, &rc);
	pthread_mutex_unlock(&tpm->lock);

	if (rc != TSS2_RC_SUCCESS)
		log_debug("tpm: TPM2_PCR_Read of %s PCR %u failed: %s", tpm_banks[bank].name, pcr,
			  Tss2_RC_Decode(rc));
	return r;
}

/* Pick the boot aggregate bank: IMA_HASH's own if active, else sha256, else sha1. */
static int tpm_aggregate_bank(const struct tpm *tpm, enum hash_algo ima_hash,
			      enum tpm_bank *ret_bank)
{
	for (unsigned int b = 0; b < TPM_BANK__MAX; b++) {
		if (tpm_banks[b].algo == ima_hash && tpm_has_bank(tpm, (enum tpm_bank)b)) {
			*ret_bank = (enum tpm_bank)b;
			return 0;
		}
	}
	if (tpm_has_bank(tpm, TPM_BANK_SHA256)) {
		*ret_bank = TPM_BANK_SHA256;
		return 0;
	}
	if (tpm_has_bank(tpm, TPM_BANK_SHA1)) {
		*ret_bank = TPM_BANK_SHA1;
		return 0;
	}
	return -ENOENT;
}

int tpm_boot_aggregate(struct tpm *tpm, enum hash_algo ima_hash, struct hash_digest *ret)
{
	uint8_t pcrs[10 * HASH_MAX_DIGEST_SIZE];
	unsigned int ima_size = hash_algo_size(ima_hash);
	unsigned int size, count;
	enum tpm_bank bank;
	TSS2_RC rc = TSS2_RC_SUCCESS;
	unsigned int pcr;
	int r = 0;

	if (!tpm || !ret || ima_size == 0)
		return -EINVAL;

	/* Without a TPM the kernel logs zeros of the IMA hash size (TPM-bypass). */
	if (tpm->software) {
		memset(ret, 0, sizeof(*ret));
		ret->algo = ima_hash;
		ret->len = ima_size;
		return 0;
	}

	r = tpm_aggregate_bank(tpm, ima_hash, &bank);
	if (r < 0)
		return r;
	size = tpm_banks[bank].size;
	/* Kernels from v5.8 add PCRs 8 and 9, except in the sha1 bank. */
	count = bank == TPM_BANK_SHA1 ? 8 : 10;

	pthread_mutex_lock(&tpm->lock);
	for (pcr = 0; pcr < count; pcr++) {
		struct hash_digest value;

		r = tpm_read_pcr_locked(tpm, bank, pcr, &value, &rc);
		if (r < 0)
			break;
		memcpy(pcrs + pcr * size, value.bytes, size);
	}
	pthread_mutex_unlock(&tpm->lock);

	if (r < 0) {
		log_debug("tpm: boot aggregate cannot read %s PCR %u: %s", tpm_banks[bank].name,
			  pcr, rc != TSS2_RC_SUCCESS ? Tss2_RC_Decode(rc) : "PCR not allocated");
		return r;
	}
	/* The result's algorithm is the bank's, which may differ from IMA_HASH. */
	return hash_buffer(tpm_banks[bank].algo, pcrs, (size_t)count * size, ret);
}

void tpm_inject_extend_failure(struct tpm *tpm, unsigned int after_count)
{
	if (!tpm)
		return;
	pthread_mutex_lock(&tpm->lock);
	tpm->fail_armed = true;
	tpm->extends_before_failure = after_count;
	pthread_mutex_unlock(&tpm->lock);
}
