/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IMA templates: the field lists of the kernel's built-in templates, the
 * binary encoding of one measurement's template data, its template digest
 * per hash algorithm, and its line in the ASCII measurement list.
 *
 * Thread safety: descriptors are read-only; every function may be called
 * from any thread on distinct records.
 *
 * Ownership: template_record_build() fills a record that the caller releases
 * with template_record_done().
 */
#ifndef IMAFS_CORE_TEMPLATE_H
#define IMAFS_CORE_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/hash.h"

struct template_desc;

/* The inputs of one measurement record. */
struct template_event {
	struct hash_digest digest; /* file digest; for a violation, algo and len with zero bytes */
	struct hash_digest sha1;   /* SHA-1 file digest for the 'd' field; len 0 if not computed */
	const char *name;          /* file path or event name ("boot_aggregate") */
	const uint8_t *sig;        /* security.ima signature value, or NULL */
	size_t sig_len;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	bool violation;
	bool no_file; /* an event without a file (boot_aggregate): inode fields stay empty */
};

/* One encoded record, ready for the binary list. */
struct template_record {
	const struct template_desc *desc;
	uint8_t *data;   /* bytes after the template name in the binary record */
	size_t data_len; /* (for "ima": d || u32 name length || name; else u32 length || fields) */
	uint8_t *hashed; /* bytes the template digest covers */
	size_t hashed_len;
	char *ascii_fields; /* " field field ..." as printed after the template name */
	bool violation;
};

/* Maximum length of a name in the 'n' field of the "ima" template. */
#define TEMPLATE_N_MAX 255

/*
 * Look up a template by descriptor name ("ima-ng", "ima", "ima-sig",
 * "ima-ngv2", "ima-sigv2") or by a format string of field ids
 * ("d-ng|n-ng|iuid"). Returns NULL for an unknown name or an invalid format.
 */
const struct template_desc *template_lookup(const char *name);

/* Template name as written in each record. */
const char *template_name(const struct template_desc *desc);

/* True when the template records a file signature (has a 'sig' field). */
bool template_has_sig(const struct template_desc *desc);

/* True when the template's digest field needs the SHA-1 file digest ('d'). */
bool template_needs_sha1(const struct template_desc *desc);

/* Encode EVENT with DESC. Returns 0, -ENOMEM or -EINVAL (a field that cannot be filled). */
int template_record_build(const struct template_desc *desc, const struct template_event *event,
			  struct template_record *ret);
void template_record_done(struct template_record *record);

/*
 * Compute the template digest of RECORD with ALGO. A violation record's digest
 * is all zero, as the kernel stores it in the list.
 */
int template_record_digest(const struct template_record *record, enum hash_algo algo,
			   struct hash_digest *ret);

/*
 * Make NAME safe for the list: spaces become '_' as in the kernel, and,
 * unlike the kernel, control bytes and the backslash become "\xHH", so that
 * no ASCII record spans two lines and every escaped name decodes to one
 * original. Returns a malloc'ed string (caller frees) or NULL.
 */
char *template_encode_name(const char *name);

#endif
