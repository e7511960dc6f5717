/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TPM side of attestation for imafs-log: reading PCRs and taking a
 * TPM2 quote over them with an attestation key (AK), through tpm2-tss ESYS.
 *
 * Thread safety: each call opens and closes its own TPM connection. A TCTI
 * that serves one client at a time (swtpm's socket) fails while another
 * client holds it.
 */
#ifndef IMAFS_TOOLS_TPM_QUOTE_H
#define IMAFS_TOOLS_TPM_QUOTE_H

#include <stddef.h>
#include <stdint.h>

#include "tools/evidence.h"
#include "tools/pcr_bank.h"

/* PCRs a PC-client TPM has, and so the PCRs these functions accept: 0 to 23. */
#define TPM_QUOTE_PCRS 24

/*
 * Read the PCRs in PCR_MASK of the sha1 and sha256 banks from the TPM at
 * TCTI into BANKS, which has room for EVIDENCE_BANKS. Banks the TPM has not
 * allocated are left out. Returns 0 with *RET_COUNT banks, or a negative
 * errno with a message in ERRBUF.
 */
int tpm_quote_read_pcrs(const char *tcti, uint64_t pcr_mask, struct pcr_bank *banks,
			unsigned int *ret_count, char *errbuf, size_t errlen);

/*
 * Quote the PCRs in PCR_MASK of the sha1 and sha256 banks with NONCE as
 * qualifying data. The AK is the key tpm2-tools saved in AK_CONTEXT (a
 * context file of a transient key, or a serialized persistent handle). When
 * AK_CONTEXT is NULL, it is an ECC NIST P-256 restricted signing primary key
 * created in the endorsement hierarchy, the same key every time on one TPM.
 * Fills the nonce, the PCR values the quote covers, the attest, the
 * signature and the AK public key of RET. Returns 0, or a negative errno
 * with a message in ERRBUF.
 */
int tpm_quote_take(const char *tcti, const char *ak_context, const uint8_t *nonce, size_t nonce_len,
		   uint64_t pcr_mask, struct evidence *ret, char *errbuf, size_t errlen);

#endif
