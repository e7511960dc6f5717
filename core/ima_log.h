/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The measurement list: the files of a runtime directory laid out like the
 * kernel's securityfs ima/ directory, and the PCR extend that goes with each
 * record.
 *
 * Thread safety: every function may be called from any thread. One mutex
 * covers append, durability and extend, so records never interleave and the
 * list is never behind the PCR. That mutex is held across tpm_extend(); the
 * TPM module's own lock nests inside it.
 *
 * Ownership: ima_log_open() returns a list that the caller frees with
 * ima_log_close() (accepts NULL, returns NULL). The TPM stays the caller's.
 */
#ifndef IMAFS_CORE_IMA_LOG_H
#define IMAFS_CORE_IMA_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/hash.h"
#include "core/template.h"

struct tpm;
struct ima_log;

struct ima_log_config {
	const char *dir;                      /* runtime directory, created if missing */
	enum hash_algo hash;                  /* IMA hash: boot_aggregate and violation digests */
	const struct template_desc *template; /* default template */
	unsigned int pcr;                     /* PCR of boot_aggregate and violations */
	struct tpm *tpm;
	bool new_log; /* archive a list left in DIR instead of continuing it */
};

/*
 * Open the list in the runtime directory: continue the one left there when
 * it replays to the TPM's PCRs (see ima_resume.h), otherwise archive it,
 * create the files afresh and append the boot_aggregate record. Returns 0 or
 * a negative errno. *RETERR_MSG (if not NULL) then names the failed step and why.
 */
int ima_log_open(const struct ima_log_config *config, struct ima_log **ret,
		 const char **reterr_msg);
struct ima_log *ima_log_close(struct ima_log *log);

/*
 * Append one measurement of EVENT with template DESC (NULL: the default) to
 * the list, make it durable, then extend PCR in every bank. Returns 0 or a
 * negative errno. After a failure that may have left the list and the PCR
 * out of step, the list is marked failed for good and every later call
 * returns -EIO.
 */
int ima_log_append(struct ima_log *log, unsigned int pcr, const struct template_desc *desc,
		   const struct template_event *event);

/* What opening the list found and did (continued, archived, ...), or "". */
const char *ima_log_start_note(struct ima_log *log);

/* Number of records in the list. */
uint64_t ima_log_count(struct ima_log *log);

#endif
