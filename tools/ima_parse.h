/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reader for binary IMA measurement lists as the kernel writes them: the
 * classic SHA-1 file, the per-bank files, every template including custom
 * format strings and the original "ima" layout, in either byte order.
 *
 * Thread safety: a parser belongs to one thread; records are plain data.
 *
 * Ownership: the caller keeps the list buffer alive and unchanged while the
 * parser and any record taken from it are in use, because records point into
 * it. ima_parse_free() releases the parser only.
 */
#ifndef IMAFS_TOOLS_IMA_PARSE_H
#define IMAFS_TOOLS_IMA_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/hash.h"

/*
 * PCR indexes accepted in a record. The kernel's pcr= check (INVALID_PCR in
 * ima_policy.c) allows one bit per PCR of an unsigned long, so 64 on 64-bit
 * hosts and 32 on 32-bit ones; a PC-client TPM has 24.
 */
#define IMA_PCR_MAX 64

/* Maximum template name length. evmctl uses 255 too, the kernel's kexec restore 71. */
#define IMA_TEMPLATE_NAME_MAX 255
/* Limits of a custom format string, as the kernel enforces them. */
#define IMA_FIELDS_MAX 15
#define IMA_FIELD_ID_MAX 16
/* Maximum file name length in a record of the "ima" template. */
#define IMA_LEGACY_NAME_MAX 255
/* Size of the 'd' field (SHA-1 file digest) in the "ima" layout. */
#define IMA_LEGACY_DIGEST_SIZE 20

enum ima_byte_order {
	IMA_ORDER_LITTLE, /* x86, ARM, and any kernel booted with ima_canonical_fmt */
	IMA_ORDER_BIG,
	IMA_ORDER_AUTO, /* decided by the PCR index of the first record */
};

enum ima_field_type {
	IMA_FIELD_D,
	IMA_FIELD_N,
	IMA_FIELD_D_NG,
	IMA_FIELD_D_NGV2,
	IMA_FIELD_N_NG,
	IMA_FIELD_SIG,
	IMA_FIELD_BUF,
	IMA_FIELD_D_MODSIG,
	IMA_FIELD_MODSIG,
	IMA_FIELD_EVMSIG,
	IMA_FIELD_IUID,
	IMA_FIELD_IGID,
	IMA_FIELD_IMODE,
	IMA_FIELD_XATTRNAMES,
	IMA_FIELD_XATTRLENGTHS,
	IMA_FIELD_XATTRVALUES,
	IMA_FIELD_UNKNOWN, /* an id this reader does not know; printed as hex */
};

/* One template field of a record. */
struct ima_field {
	enum ima_field_type type;
	char id[IMA_FIELD_ID_MAX + 1];
	const uint8_t *data; /* points into the list buffer */
	uint32_t len;
};

/* One record; pointers refer to the list buffer. */
struct ima_record {
	unsigned long number; /* 1 for the first record */
	size_t offset;	      /* byte offset of the record in the list */
	size_t size;	      /* bytes the record occupies */
	uint32_t pcr;
	const uint8_t *digest; /* stored template digest */
	unsigned int digest_size;
	char template_name[IMA_TEMPLATE_NAME_MAX + 1];
	bool legacy; /* the "ima" layout: 'd' and 'n' without length words */
	/*
	 * Template data: for every template but "ima" exactly the bytes the
	 * template digest covers; for "ima" the 'd' field, name length and name.
	 */
	const uint8_t *data;
	size_t data_len;
	unsigned int field_count;
	struct ima_field fields[IMA_FIELDS_MAX];
	bool violation;		   /* the stored digest is all zero */
	enum ima_byte_order order; /* IMA_ORDER_LITTLE or IMA_ORDER_BIG */
};

struct ima_parse;

/*
 * Start reading the list in BUF (LEN bytes), whose stored template digests
 * are BANK digests (sha1 for the classic file). Returns NULL if BANK has no
 * known digest size or on allocation failure.
 */
struct ima_parse *ima_parse_new(const uint8_t *buf, size_t len, enum hash_algo bank,
				enum ima_byte_order order);
struct ima_parse *ima_parse_free(struct ima_parse *parse);

/*
 * Read the next record into RET. Returns 1 for a record, 0 at the end of the
 * list, or -EBADMSG for a malformed record; then ERRBUF contains a message that
 * names the record number, its byte offset and the defect, and later calls
 * keep failing. RET is only written when 1 is returned.
 */
int ima_parse_next(struct ima_parse *parse, struct ima_record *ret, char *errbuf, size_t errlen);

/* Byte order in use; IMA_ORDER_AUTO until the first record was read. */
enum ima_byte_order ima_parse_order(const struct ima_parse *parse);

/*
 * Compute the template digest of RECORD with ALGO from its template data
 * (for a violation too: the caller decides what to extend). Returns 0,
 * -EOPNOTSUPP for an algorithm OpenSSL lacks, or -EIO.
 */
int ima_record_digest(const struct ima_record *record, enum hash_algo algo,
		      struct hash_digest *ret);

/* The measured file digest of a record: its d, d-ng or d-ngv2 field. */
struct ima_file_digest {
	enum hash_algo algo;
	bool verity; /* d-ngv2 of type "verity": an fs-verity digest, not a content hash */
	const uint8_t *bytes; /* points into the list buffer */
	size_t len;
};

/*
 * Find the file digest of RECORD (the first d, d-ng or d-ngv2 field).
 * Returns 0, -ENOENT when the template has no such field or it is empty, or
 * -EOPNOTSUPP for an algorithm name core/hash.h does not know.
 */
int ima_record_file_digest(const struct ima_record *record, struct ima_file_digest *ret);

/*
 * Copy the name (n or n-ng field) of RECORD into BUF as text for messages:
 * up to its NUL, bytes outside printable ASCII as \xNN, cut with "..." to
 * fit LEN. Returns BUF; "" when the template has no name field.
 */
const char *ima_record_name(const struct ima_record *record, char *buf, size_t len);

/* Write RECORD as one line of the kernel's ASCII list. Returns 0 or -EIO. */
int ima_record_print(FILE *out, const struct ima_record *record);

/*
 * Find the bank of a per-bank list from its file name suffix
 * ("..._sha256" is sha256); other names are the classic SHA-1 file.
 * Returns 0, or -EINVAL for a "_tpm_alg_<id>" file, whose digest bytes
 * differ between kernel versions.
 */
int ima_parse_bank_from_path(const char *path, enum hash_algo *ret_bank);

#endif
