/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reader of binary IMA measurement lists: splits the list into records and
 * template fields, checks every length against the bytes that are left,
 * renders records in the kernel's ASCII format and recomputes template
 * digests.
 *
 * Record layout (every integer in the producer's byte order):
 *   u32 PCR | digest (bank size) | u32 name length | name | u32 data length | data
 * and for the template named "ima":
 *   u32 PCR | digest (20) | u32 3 | "ima" | d (20 bytes) | u32 name length | name
 * Template data is a sequence of u32 length + field bytes, one per field id
 * of the template's format string.
 *
 * Invariants:
 *  1. No read goes past the list buffer: every length read from the list is
 *     compared with the bytes left before it is used.
 *  2. A record is returned only when its fields exactly fill its template
 *     data, their number equals the number of field ids of its template, and
 *     every field of a known id has a well-formed value. Anything else is an
 *     error naming the record, its offset and the defect.
 *  3. After the first error the parser stays failed, so a caller cannot
 *     resume at a guessed offset inside a damaged record.
 *
 * Locking: none. Ownership: records point into the caller's buffer.
 */
#include "tools/ima_parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct ima_parse {
	const uint8_t *buf;
	size_t len;
	size_t offset;
	unsigned long count;
	unsigned int digest_size;
	enum ima_byte_order order;
	bool failed;
};

/* Built-in template descriptors and their format strings. */
static const struct {
	const char *name;
	const char *format;
} ima_templates[] = {
	{ "ima", "d|n" },
	{ "ima-ng", "d-ng|n-ng" },
	{ "ima-sig", "d-ng|n-ng|sig" },
	{ "ima-buf", "d-ng|n-ng|buf" },
	{ "ima-modsig", "d-ng|n-ng|sig|d-modsig|modsig" },
	{ "evm-sig", "d-ng|n-ng|evmsig|xattrnames|xattrlengths|xattrvalues|iuid|igid|imode" },
	{ "ima-ngv2", "d-ngv2|n-ng" },
	{ "ima-sigv2", "d-ngv2|n-ng|sig" },
};

static const struct {
	const char *id;
	enum ima_field_type type;
} ima_field_ids[] = {
	{ "d", IMA_FIELD_D },
	{ "n", IMA_FIELD_N },
	{ "d-ng", IMA_FIELD_D_NG },
	{ "d-ngv2", IMA_FIELD_D_NGV2 },
	{ "n-ng", IMA_FIELD_N_NG },
	{ "sig", IMA_FIELD_SIG },
	{ "buf", IMA_FIELD_BUF },
	{ "d-modsig", IMA_FIELD_D_MODSIG },
	{ "modsig", IMA_FIELD_MODSIG },
	{ "evmsig", IMA_FIELD_EVMSIG },
	{ "iuid", IMA_FIELD_IUID },
	{ "igid", IMA_FIELD_IGID },
	{ "imode", IMA_FIELD_IMODE },
	{ "xattrnames", IMA_FIELD_XATTRNAMES },
	{ "xattrlengths", IMA_FIELD_XATTRLENGTHS },
	{ "xattrvalues", IMA_FIELD_XATTRVALUES },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct ima_parse *ima_parse_new(const uint8_t *buf, size_t len, enum hash_algo bank,
				enum ima_byte_order order)
{
	unsigned int size = hash_algo_size(bank);
	struct ima_parse *parse;

	if (!size)
		return NULL;
	parse = calloc(1, sizeof(*parse));
	if (!parse)
		return NULL;
	parse->buf = buf;
	parse->len = len;
	parse->digest_size = size;
	parse->order = order;
	return parse;
}

struct ima_parse *ima_parse_free(struct ima_parse *parse)
{
	free(parse);
	return NULL;
}

enum ima_byte_order ima_parse_order(const struct ima_parse *parse)
{
	return parse->order;
}

static uint32_t get_u32(const uint8_t *p, enum ima_byte_order order)
{
	if (order == IMA_ORDER_BIG)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint32_t swap_u32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

/* Format the error of record NUMBER at OFFSET and mark the parser failed. */
__attribute__((format(printf, 6, 7))) static int parse_error(struct ima_parse *parse,
							     unsigned long number, size_t offset,
							     char *errbuf, size_t errlen,
							     const char *fmt, ...)
{
	va_list ap;
	int n;

	parse->failed = true;
	n = snprintf(errbuf, errlen, "record %lu at byte offset %zu: ", number, offset);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(errbuf + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static bool is_printable(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x21 || p[i] > 0x7e)
			return false;
	}
	return true;
}

static bool is_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i])
			return false;
	}
	return true;
}

static enum ima_field_type field_type_of(const char *id)
{
	for (size_t i = 0; i < ARRAY_SIZE(ima_field_ids); i++) {
		if (!strcmp(ima_field_ids[i].id, id))
			return ima_field_ids[i].type;
	}
	return IMA_FIELD_UNKNOWN;
}

/*
 * Fill RECORD's field ids from its template name: a built-in descriptor
 * name, or a format string (ids joined by '|', or one known id alone).
 * Returns the error text or NULL.
 */
static const char *template_fields(struct ima_record *record)
{
	const char *format = NULL;
	const char *p;

	for (size_t i = 0; i < ARRAY_SIZE(ima_templates); i++) {
		if (!strcmp(ima_templates[i].name, record->template_name))
			format = ima_templates[i].format;
	}
	if (!format) {
		if (!strchr(record->template_name, '|') &&
		    field_type_of(record->template_name) == IMA_FIELD_UNKNOWN)
			return "is neither a built-in template nor a format string of field ids";
		format = record->template_name;
	}

	record->field_count = 0;
	for (p = format;; p++) {
		size_t n = strcspn(p, "|");
		struct ima_field *field;

		if (n == 0 || n > IMA_FIELD_ID_MAX)
			return "has a field id that is empty or longer than 16 characters";
		if (record->field_count == IMA_FIELDS_MAX)
			return "has more than 15 field ids";
		field = &record->fields[record->field_count++];
		memcpy(field->id, p, n);
		field->id[n] = '\0';
		field->type = field_type_of(field->id);
		p += n;
		if (*p == '\0')
			break;
	}
	return NULL;
}

/*
 * Digest size of a kernel hash name (as in d-ng prefixes), or 0. The names
 * core/hash.h does not list come from the kernel's hash_algo_name table.
 */
static unsigned int kernel_algo_size(const char *name)
{
	static const struct {
		const char *name;
		unsigned int size;
	} others[] = {
		{ "rmd128", 16 },      { "rmd256", 32 },      { "rmd320", 40 },
		{ "wp256", 32 },       { "wp384", 48 },	      { "wp512", 64 },
		{ "tgr128", 16 },      { "tgr160", 20 },      { "tgr192", 24 },
		{ "streebog256", 32 }, { "streebog512", 64 }, { "ascon-hash256", 32 },
	};
	enum hash_algo algo;

	if (hash_algo_from_name(name, &algo) == 0)
		return hash_algo_size(algo);
	for (size_t i = 0; i < ARRAY_SIZE(others); i++) {
		if (!strcmp(others[i].name, name))
			return others[i].size;
	}
	return 0;
}

/*
 * Check a d-ng, d-modsig or d-ngv2 value: PREFIX_PARTS colon-terminated
 * words ("sha256:" or "ima:sha256:"), a NUL, then the digest. A zero digest
 * of another length is accepted, because violation records of some kernels
 * carry "sha256:" with 20 zero bytes.
 */
static const char *check_algo_digest(const struct ima_field *field, unsigned int prefix_parts)
{
	const uint8_t *nul = memchr(field->data, 0, field->len);
	const uint8_t *digest;
	char algo_name[32];
	size_t prefix_len, digest_len, algo_len;
	const uint8_t *algo;
	unsigned int size;

	if (field->len == 0)
		return NULL;
	if (!nul)
		return "has no NUL byte after its algorithm prefix";
	prefix_len = (size_t)(nul - field->data);
	if (!is_printable(field->data, prefix_len))
		return "has a control or non-ASCII byte in its algorithm prefix";
	if (prefix_len == 0 || field->data[prefix_len - 1] != ':')
		return "has an algorithm prefix that does not end with ':'";

	algo = field->data;
	if (prefix_parts == 2) {
		const uint8_t *colon = memchr(field->data, ':', prefix_len - 1);

		if (!colon || colon == field->data)
			return "has no digest type ('ima:' or 'verity:') before its algorithm";
		algo = colon + 1;
	}
	algo_len = (size_t)(field->data + prefix_len - 1 - algo);
	if (memchr(algo, ':', algo_len))
		return "has more ':' separators in its prefix than the field id allows";

	digest = nul + 1;
	digest_len = field->len - prefix_len - 1;
	if (algo_len == 0) {
		size = hash_algo_size(HASH_SHA1); /* old kernels could omit the name of sha1 */
	} else {
		if (algo_len >= sizeof(algo_name))
			return "has an algorithm name longer than 31 characters";
		memcpy(algo_name, algo, algo_len);
		algo_name[algo_len] = '\0';
		size = kernel_algo_size(algo_name);
		if (!size)
			return "names a hash algorithm the kernel does not have";
	}
	if (digest_len != size && !is_zero(digest, digest_len))
		return "has a digest whose length does not match its algorithm";
	return NULL;
}

static const char *check_field(const struct ima_field *field)
{
	switch (field->type) {
	case IMA_FIELD_D:
		if (field->len != 20 && field->len != 16)
			return "is not a 20-byte SHA-1 or 16-byte MD5 digest";
		return NULL;
	case IMA_FIELD_D_NG:
	case IMA_FIELD_D_MODSIG:
		return check_algo_digest(field, 1);
	case IMA_FIELD_D_NGV2:
		return check_algo_digest(field, 2);
	case IMA_FIELD_IUID:
	case IMA_FIELD_IGID:
	case IMA_FIELD_IMODE:
		if (field->len != 0 && field->len != 1 && field->len != 2 && field->len != 4 &&
		    field->len != 8)
			return "is not an integer of 1, 2, 4 or 8 bytes";
		return NULL;
	default:
		return NULL;
	}
}

/* Split the template data of RECORD into its fields. */
static int parse_fields(struct ima_parse *parse, struct ima_record *record, char *errbuf,
			size_t errlen)
{
	unsigned int expected = record->field_count;
	unsigned int count = 0;
	size_t pos = 0;
	const char *defect;

	while (pos < record->data_len) {
		size_t field_offset = (size_t)(record->data - parse->buf) + pos;
		struct ima_field *field;
		uint32_t len;

		if (count == expected)
			return parse_error(parse, record->number, record->offset, errbuf, errlen,
					   "template data continues at byte offset %zu after the "
					   "%u fields of template '%s'",
					   field_offset, expected, record->template_name);
		if (record->data_len - pos < 4)
			return parse_error(parse, record->number, record->offset, errbuf, errlen,
					   "field %u '%s' at byte offset %zu: its length word is "
					   "cut off by the end of the template data",
					   count + 1, record->fields[count].id, field_offset);
		len = get_u32(record->data + pos, record->order);
		pos += 4;
		if (len > record->data_len - pos)
			return parse_error(parse, record->number, record->offset, errbuf, errlen,
					   "field %u '%s' at byte offset %zu: length %u exceeds "
					   "the %zu bytes left in the template data",
					   count + 1, record->fields[count].id, field_offset, len,
					   record->data_len - pos);
		field = &record->fields[count++];
		field->data = record->data + pos;
		field->len = len;
		pos += len;
		defect = check_field(field);
		if (defect)
			return parse_error(parse, record->number, record->offset, errbuf, errlen,
					   "field %u '%s' at byte offset %zu %s", count, field->id,
					   field_offset, defect);
	}
	if (count != expected)
		return parse_error(parse, record->number, record->offset, errbuf, errlen,
				   "template data holds %u fields, template '%s' has %u", count,
				   record->template_name, expected);
	return 0;
}

/*
 * The kernel stores no template digest for a violation, so nothing covers
 * its template data. Its file digest must at least be the zeros the kernel
 * writes, so that a forged violation cannot claim a file content.
 */
static int check_violation(struct ima_parse *parse, const struct ima_record *record, char *errbuf,
			   size_t errlen)
{
	for (unsigned int i = 0; i < record->field_count; i++) {
		const struct ima_field *field = &record->fields[i];
		const uint8_t *digest = field->data;
		size_t len = field->len;

		if (field->type == IMA_FIELD_D_NG || field->type == IMA_FIELD_D_NGV2 ||
		    field->type == IMA_FIELD_D_MODSIG) {
			const uint8_t *nul = memchr(field->data, 0, field->len);

			if (!nul)
				continue; /* empty: check_field() rejects the rest */
			digest = nul + 1;
			len = field->len - (size_t)(digest - field->data);
		} else if (field->type != IMA_FIELD_D) {
			continue;
		}
		if (!is_zero(digest, len))
			return parse_error(
				parse, record->number, record->offset, errbuf, errlen,
				"the stored template digest is zero, which marks a "
				"violation, but field %u '%s' holds a non-zero file digest",
				i + 1, field->id);
	}
	return 0;
}

/* Read the rest of an "ima" record: 20-byte d, name length, name. */
static int parse_legacy(struct ima_parse *parse, struct ima_record *record, size_t pos,
			char *errbuf, size_t errlen)
{
	size_t left = parse->len - pos;
	uint32_t name_len;

	if (left < IMA_LEGACY_DIGEST_SIZE + 4)
		return parse_error(parse, record->number, record->offset, errbuf, errlen,
				   "the 'ima' record needs %u bytes for its digest and name "
				   "length, %zu are left in the file",
				   IMA_LEGACY_DIGEST_SIZE + 4, left);
	name_len = get_u32(parse->buf + pos + IMA_LEGACY_DIGEST_SIZE, record->order);
	if (name_len > IMA_LEGACY_NAME_MAX)
		return parse_error(parse, record->number, record->offset, errbuf, errlen,
				   "file name length %u exceeds the %u bytes of the 'ima' "
				   "template",
				   name_len, IMA_LEGACY_NAME_MAX);
	if (name_len > left - IMA_LEGACY_DIGEST_SIZE - 4)
		return parse_error(parse, record->number, record->offset, errbuf, errlen,
				   "file name length %u exceeds the %zu bytes left in the file",
				   name_len, left - IMA_LEGACY_DIGEST_SIZE - 4);

	record->legacy = true;
	record->data = parse->buf + pos;
	record->data_len = IMA_LEGACY_DIGEST_SIZE + 4 + (size_t)name_len;
	record->field_count = 2;
	record->fields[0] = (struct ima_field){
		.type = IMA_FIELD_D, .id = "d", .data = record->data, .len = IMA_LEGACY_DIGEST_SIZE
	};
	record->fields[1] = (struct ima_field){ .type = IMA_FIELD_N,
						.id = "n",
						.data = record->data + IMA_LEGACY_DIGEST_SIZE + 4,
						.len = name_len };
	return 0;
}

/* Read the template data length and the fields of a length-prefixed record. */
static int parse_template_data(struct ima_parse *parse, struct ima_record *record, size_t pos,
			       char *errbuf, size_t errlen)
{
	size_t left = parse->len - pos;
	const char *defect;
	uint32_t data_len;

	defect = template_fields(record);
	if (defect)
		return parse_error(parse, record->number, record->offset, errbuf, errlen,
				   "template name '%s' %s", record->template_name, defect);
	if (left < 4)
		return parse_error(parse, record->number, record->offset, errbuf, errlen,
				   "the template data length word is cut off by the end of "
				   "the file");
	data_len = get_u32(parse->buf + pos, record->order);
	if (data_len > left - 4)
		return parse_error(parse, record->number, record->offset, errbuf, errlen,
				   "template data length %u exceeds the %zu bytes left in the "
				   "file",
				   data_len, left - 4);
	record->data = parse->buf + pos + 4;
	record->data_len = data_len;
	return parse_fields(parse, record, errbuf, errlen);
}

/* Settle the byte order from the first PCR index if the caller left it open. */
static void detect_order(struct ima_parse *parse, uint32_t little_pcr)
{
	if (parse->order != IMA_ORDER_AUTO)
		return;
	if (little_pcr >= IMA_PCR_MAX && swap_u32(little_pcr) < IMA_PCR_MAX)
		parse->order = IMA_ORDER_BIG;
	else
		parse->order = IMA_ORDER_LITTLE;
}

static int parse_header(struct ima_parse *parse, struct ima_record *record, size_t *ret_pos,
			char *errbuf, size_t errlen)
{
	size_t pos = parse->offset;
	size_t left = parse->len - pos;
	uint32_t name_len;

	if (left < 8 + (size_t)parse->digest_size)
		return parse_error(parse, record->number, record->offset, errbuf, errlen,
				   "only %zu bytes are left in the file, a record header needs "
				   "%u (is the file cut off, or is its bank wrong?)",
				   left, 8 + parse->digest_size);
	detect_order(parse, get_u32(parse->buf + pos, IMA_ORDER_LITTLE));
	record->order = parse->order;
	record->pcr = get_u32(parse->buf + pos, record->order);
	if (record->pcr >= IMA_PCR_MAX) {
		bool swapped = swap_u32(record->pcr) < IMA_PCR_MAX;

		return parse_error(parse, record->number, record->offset, errbuf, errlen,
				   "PCR index %u (0x%08x) is not below %u%s", record->pcr,
				   record->pcr, IMA_PCR_MAX,
				   swapped ? "; it looks byte-swapped, so the list may have "
					     "the other byte order (--big-endian or --auto-endian)"
					   : "");
	}
	record->digest = parse->buf + pos + 4;
	record->digest_size = parse->digest_size;
	pos += 4 + parse->digest_size;

	name_len = get_u32(parse->buf + pos, record->order);
	pos += 4;
	if (name_len == 0 || name_len > IMA_TEMPLATE_NAME_MAX)
		return parse_error(parse, record->number, record->offset, errbuf, errlen,
				   "template name length %u is not between 1 and %u (is the "
				   "bank of the file wrong?)",
				   name_len, IMA_TEMPLATE_NAME_MAX);
	if (name_len > parse->len - pos)
		return parse_error(parse, record->number, record->offset, errbuf, errlen,
				   "template name length %u exceeds the %zu bytes left in the "
				   "file",
				   name_len, parse->len - pos);
	if (!is_printable(parse->buf + pos, name_len))
		return parse_error(parse, record->number, record->offset, errbuf, errlen,
				   "template name has a control, space or non-ASCII byte");
	memcpy(record->template_name, parse->buf + pos, name_len);
	record->template_name[name_len] = '\0';
	*ret_pos = pos + name_len;
	return 0;
}

int ima_parse_next(struct ima_parse *parse, struct ima_record *ret, char *errbuf, size_t errlen)
{
	struct ima_record record = { .number = parse->count + 1, .offset = parse->offset };
	size_t pos;
	int r;

	if (parse->failed) {
		snprintf(errbuf, errlen, "the list could not be read past an earlier error");
		return -EBADMSG;
	}
	if (parse->offset == parse->len)
		return 0;

	r = parse_header(parse, &record, &pos, errbuf, errlen);
	if (r < 0)
		return r;
	if (!strcmp(record.template_name, "ima")) {
		r = parse_legacy(parse, &record, pos, errbuf, errlen);
		if (r < 0)
			return r;
		pos += record.data_len;
	} else {
		r = parse_template_data(parse, &record, pos, errbuf, errlen);
		if (r < 0)
			return r;
		pos += 4 + record.data_len;
	}

	record.violation = is_zero(record.digest, record.digest_size);
	if (record.violation) {
		r = check_violation(parse, &record, errbuf, errlen);
		if (r < 0)
			return r;
	}
	record.size = pos - parse->offset;
	parse->offset = pos;
	parse->count++;
	*ret = record;
	return 1;
}

int ima_record_digest(const struct ima_record *record, enum hash_algo algo, struct hash_digest *ret)
{
	uint8_t legacy[IMA_LEGACY_DIGEST_SIZE + IMA_LEGACY_NAME_MAX + 1];
	const struct ima_field *name = &record->fields[1];

	if (!record->legacy)
		return hash_buffer(algo, record->data, record->data_len, ret);

	/* The "ima" digest covers d and the name padded with NULs to 256 bytes. */
	memset(legacy, 0, sizeof(legacy));
	memcpy(legacy, record->fields[0].data, IMA_LEGACY_DIGEST_SIZE);
	memcpy(legacy + IMA_LEGACY_DIGEST_SIZE, name->data, name->len);
	return hash_buffer(algo, legacy, sizeof(legacy), ret);
}

int ima_record_file_digest(const struct ima_record *record, struct ima_file_digest *ret)
{
	for (unsigned int i = 0; i < record->field_count; i++) {
		const struct ima_field *field = &record->fields[i];
		const uint8_t *nul, *algo, *colon;
		char name[32];
		size_t algo_len;

		if (field->type == IMA_FIELD_D) {
			/* The "d" field is SHA-1, or MD5 zero-padded to 20 bytes on MD5 kernels. */
			*ret = (struct ima_file_digest){ .algo = HASH_SHA1, .bytes = field->data,
							 .len = field->len };
			return 0;
		}
		if (field->type != IMA_FIELD_D_NG && field->type != IMA_FIELD_D_NGV2)
			continue;
		if (field->len == 0)
			return -ENOENT;

		/* The parser checked the prefix: "[type:]algo:" then NUL. */
		nul = memchr(field->data, 0, field->len);
		algo = field->data;
		colon = memchr(field->data, ':', (size_t)(nul - field->data));
		if (field->type == IMA_FIELD_D_NGV2) {
			ret->verity = colon - field->data == 6 && !memcmp(field->data, "verity", 6);
			algo = colon + 1;
		} else {
			ret->verity = false;
		}
		algo_len = (size_t)(nul - algo) - 1;
		if (algo_len >= sizeof(name))
			return -EOPNOTSUPP;
		memcpy(name, algo, algo_len);
		name[algo_len] = '\0';
		if (algo_len == 0)
			ret->algo = HASH_SHA1; /* an empty name meant sha1 on early kernels */
		else if (hash_algo_from_name(name, &ret->algo) < 0)
			return -EOPNOTSUPP;
		ret->bytes = nul + 1;
		ret->len = field->len - (size_t)(nul - field->data) - 1;
		return 0;
	}
	return -ENOENT;
}

const char *ima_record_name(const struct ima_record *record, char *buf, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t used = 0;

	if (len < 4) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	buf[0] = '\0';
	for (unsigned int i = 0; i < record->field_count; i++) {
		const struct ima_field *field = &record->fields[i];

		if (field->type != IMA_FIELD_N && field->type != IMA_FIELD_N_NG)
			continue;
		for (uint32_t k = 0; k < field->len && field->data[k]; k++) {
			uint8_t c = field->data[k];
			size_t need = c >= 0x20 && c < 0x7f ? 1 : 4;

			if (used + need + 4 > len) {
				memcpy(buf + used, "...", 4);
				return buf;
			}
			if (need == 1) {
				buf[used++] = (char)c;
				continue;
			}
			buf[used++] = '\\';
			buf[used++] = 'x';
			buf[used++] = digits[c >> 4];
			buf[used++] = digits[c & 0xf];
		}
		buf[used] = '\0';
		break;
	}
	return buf;
}

static void print_hex(FILE *out, const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char chunk[512];
	size_t used = 0;

	for (size_t i = 0; i < len; i++) {
		chunk[used++] = digits[data[i] >> 4];
		chunk[used++] = digits[data[i] & 0xf];
		if (used == sizeof(chunk)) {
			fwrite(chunk, 1, used, out);
			used = 0;
		}
	}
	fwrite(chunk, 1, used, out);
}

/* Strings are printed up to their NUL, as the kernel's "%s" does. */
static void print_string(FILE *out, const uint8_t *data, size_t len)
{
	const uint8_t *nul = memchr(data, 0, len);

	fwrite(data, 1, nul ? (size_t)(nul - data) : len, out);
}

static void print_uint(FILE *out, const struct ima_field *field, enum ima_byte_order order)
{
	unsigned long long value = 0;

	for (uint32_t i = 0; i < field->len; i++) {
		uint32_t at = order == IMA_ORDER_BIG ? i : field->len - 1 - i;

		value = value << 8 | field->data[at];
	}
	if (field->len)
		fprintf(out, "%llu", value);
}

static void print_field(FILE *out, const struct ima_field *field, enum ima_byte_order order)
{
	const uint8_t *nul;

	switch (field->type) {
	case IMA_FIELD_N:
	case IMA_FIELD_N_NG:
	case IMA_FIELD_XATTRNAMES:
		print_string(out, field->data, field->len);
		break;
	case IMA_FIELD_D_NG:
	case IMA_FIELD_D_NGV2:
	case IMA_FIELD_D_MODSIG:
		if (field->len == 0)
			break;
		/* The parser checked that the NUL after the prefix is there. */
		nul = memchr(field->data, 0, field->len);
		fwrite(field->data, 1, (size_t)(nul - field->data), out);
		print_hex(out, nul + 1, field->len - (size_t)(nul - field->data) - 1);
		break;
	case IMA_FIELD_IUID:
	case IMA_FIELD_IGID:
	case IMA_FIELD_IMODE:
		print_uint(out, field, order);
		break;
	default:
		print_hex(out, field->data, field->len);
		break;
	}
}

int ima_record_print(FILE *out, const struct ima_record *record)
{
	fprintf(out, "%2u ", record->pcr);
	print_hex(out, record->digest, record->digest_size);
	fprintf(out, " %s", record->template_name);
	for (unsigned int i = 0; i < record->field_count; i++) {
		fputc(' ', out);
		print_field(out, &record->fields[i], record->order);
	}
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}

int ima_parse_bank_from_path(const char *path, enum hash_algo *ret_bank)
{
	static const enum hash_algo banks[] = { HASH_SHA1,     HASH_SHA256,  HASH_SHA384,
						HASH_SHA512,   HASH_SM3,     HASH_SHA3_256,
						HASH_SHA3_384, HASH_SHA3_512 };
	const char *base = strrchr(path, '/');
	const char *suffix;

	base = base ? base + 1 : path;
	if (strstr(base, "_tpm_alg_"))
		return -EINVAL;
	suffix = strrchr(base, '_');
	if (suffix) {
		for (size_t i = 0; i < ARRAY_SIZE(banks); i++) {
			if (!strcmp(suffix + 1, hash_algo_name(banks[i]))) {
				*ret_bank = banks[i];
				return 0;
			}
		}
	}
	*ret_bank = HASH_SHA1;
	return 0;
}
