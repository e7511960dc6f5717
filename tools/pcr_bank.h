/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCR values of one TPM bank: replaying IMA records into them, and reading
 * and writing them as the "PCR-NN: hex" lines that evmctl's --pcrs option
 * takes.
 *
 * Thread safety: plain data; one thread per bank.
 */
#ifndef IMAFS_TOOLS_PCR_BANK_H
#define IMAFS_TOOLS_PCR_BANK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/hash.h"
#include "tools/ima_parse.h"

/* PCRs of a PC-client TPM (0 to 23): the lines replay writes unless a list uses more. */
#define PCR_BANK_TPM_PCRS 24

/* Most banks one set of --pcrs files may describe. */
#define PCR_BANK_SET_MAX 8

struct pcr_bank {
	enum hash_algo algo;
	unsigned int size;
	uint64_t present; /* bit N: PCR N has a value (extended, or read from a file) */
	uint8_t value[IMA_PCR_MAX][HASH_MAX_DIGEST_SIZE];
};

/* Rule that gives the value a record extends into a bank. */
enum pcr_bank_rule {
	/* Since Linux 5.8: each bank gets its own hash of the template data. */
	PCR_BANK_PER_BANK,
	/* Before 5.8: the SHA-1 template digest, zero-padded to the bank size. */
	PCR_BANK_PADDED_SHA1,
	/* The digest stored in the list (of the list's bank), not recomputed. */
	PCR_BANK_STORED,
};

/* Set BANK to all-zero PCRs with no PCR present. Returns 0, or -EINVAL for an unknown ALGO. */
int pcr_bank_init(struct pcr_bank *bank, enum hash_algo algo);

/* Extend PCR of BANK with VALUE (bank size bytes): PCR = H(PCR || VALUE). Returns 0 or -errno. */
int pcr_bank_extend(struct pcr_bank *bank, unsigned int pcr, const uint8_t *value);

/*
 * Compute what RECORD extends into BANK under RULE and extend it. A
 * violation (all-zero stored digest) extends ff bytes: the whole bank size,
 * or 20 of them zero-padded under PCR_BANK_PADDED_SHA1. PCR_BANK_STORED
 * needs a record whose stored digest has the bank's size. Returns 0 or -errno.
 */
int pcr_bank_extend_record(struct pcr_bank *bank, const struct ima_record *record,
			   enum pcr_bank_rule rule);

/* True when PCR has the same value in A and B. */
bool pcr_bank_equal(const struct pcr_bank *a, const struct pcr_bank *b, unsigned int pcr);

/* Write PCRs FIRST to LAST of BANK as "PCR-NN: hex" lines. Returns 0 or -EIO. */
int pcr_bank_write(FILE *out, const struct pcr_bank *bank, unsigned int first, unsigned int last);

/*
 * Read "PCR-NN: hex" lines from IN into BANKS, which contains *COUNT banks and
 * room for PCR_BANK_SET_MAX. Lines belong to ALGO until a "# <algo>" line
 * starts another bank; other lines starting with '#' and blank lines are
 * skipped. Hex bytes may be upper case and separated by single spaces (the
 * TPM 1.2 sysfs style). A PCR given twice for one bank is an error.
 * Returns 0, or -EINVAL with a message naming NAME and the line in ERRBUF.
 */
int pcr_bank_read(FILE *in, const char *name, enum hash_algo algo, struct pcr_bank *banks,
		  unsigned int *count, char *errbuf, size_t errlen);

/* The bank for ALGO in BANKS (COUNT entries), or NULL. */
struct pcr_bank *pcr_bank_find(struct pcr_bank *banks, unsigned int count, enum hash_algo algo);

#endif
