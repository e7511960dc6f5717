/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IMA template encoding: builds the template data of one measurement, its
 * template digest and its ASCII rendering, byte for byte as the kernel does.
 *
 * Invariants:
 *  1. Integers inside template data are little-endian: the kernel's
 *     ima_canonical_fmt layout, identical to host order on x86 and ARM.
 *  2. For every template except "ima", the template digest covers exactly
 *     the bytes written after the template data length word; for "ima" it
 *     covers the 20-byte 'd' field and the name padded with NUL to 256 bytes.
 *  3. The same encoded name goes into the binary record, the digest and the
 *     ASCII line, so a verifier that rebuilds the record from ASCII agrees.
 *
 * Locking: none; descriptors are read-only tables.
 */
#include "core/template.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum template_field {
	FIELD_D,
	FIELD_N,
	FIELD_D_NG,
	FIELD_D_NGV2,
	FIELD_N_NG,
	FIELD_SIG,
	FIELD_IUID,
	FIELD_IGID,
	FIELD_IMODE,
	FIELD__MAX,
};

static const char *const template_field_names[FIELD__MAX] = {
	[FIELD_D] = "d",	   [FIELD_N] = "n",	    [FIELD_D_NG] = "d-ng",
	[FIELD_D_NGV2] = "d-ngv2", [FIELD_N_NG] = "n-ng",   [FIELD_SIG] = "sig",
	[FIELD_IUID] = "iuid",	   [FIELD_IGID] = "igid",   [FIELD_IMODE] = "imode",
};

/* The kernel allows at most 15 fields in one template. */
#define TEMPLATE_MAX_FIELDS 15
#define TEMPLATE_NAME_MAX 72

struct template_desc {
	char name[TEMPLATE_NAME_MAX];
	unsigned int nfields;
	enum template_field fields[TEMPLATE_MAX_FIELDS];
	bool legacy_ima; /* the "ima" layout without length words */
};

static const struct template_desc template_builtins[] = {
	{ "ima", 2, { FIELD_D, FIELD_N }, true },
	{ "ima-ng", 2, { FIELD_D_NG, FIELD_N_NG }, false },
	{ "ima-sig", 3, { FIELD_D_NG, FIELD_N_NG, FIELD_SIG }, false },
	{ "ima-ngv2", 2, { FIELD_D_NGV2, FIELD_N_NG }, false },
	{ "ima-sigv2", 3, { FIELD_D_NGV2, FIELD_N_NG, FIELD_SIG }, false },
};

/* Growable byte buffer; on allocation failure it sets FAILED and stops growing. */
struct buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	bool failed;
};

static void buf_add(struct buf *b, const void *data, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *p;

		while (b->len + len + 1 > cap)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = 0; /* keeps string buffers terminated */
}

static void buf_add_le32(struct buf *b, uint32_t v)
{
	uint8_t le[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	buf_add(b, le, sizeof(le));
}

static void buf_add_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_add_hex(struct buf *b, const uint8_t *bytes, size_t len)
{
	char pair[3];

	for (size_t i = 0; i < len; i++) {
		hash_to_hex(bytes + i, 1, pair);
		buf_add(b, pair, 2);
	}
}

static int template_parse_format(const char *fmt, struct template_desc *desc)
{
	char copy[TEMPLATE_NAME_MAX];
	char *save = NULL;

	if (strlen(fmt) >= sizeof(copy))
		return -EINVAL;
	memset(desc, 0, sizeof(*desc));
	strcpy(copy, fmt);
	strcpy(desc->name, fmt);

	for (char *id = strtok_r(copy, "|", &save); id; id = strtok_r(NULL, "|", &save)) {
		unsigned int f;

		if (desc->nfields == TEMPLATE_MAX_FIELDS)
			return -EINVAL;
		for (f = 0; f < FIELD__MAX; f++) {
			if (!strcmp(template_field_names[f], id))
				break;
		}
		if (f == FIELD__MAX)
			return -EINVAL;
		desc->fields[desc->nfields++] = (enum template_field)f;
	}
	return desc->nfields ? 0 : -EINVAL;
}

/*
 * Custom formats are parsed into a small table that lives for the process:
 * a policy refers to a handful of formats at most.
 */
#define TEMPLATE_CUSTOM_MAX 32
static struct template_desc template_custom[TEMPLATE_CUSTOM_MAX];
static unsigned int template_custom_count;
static pthread_mutex_t template_custom_lock = PTHREAD_MUTEX_INITIALIZER;

const struct template_desc *template_lookup(const char *name)
{
	const struct template_desc *found = NULL;
	struct template_desc desc;

	for (size_t i = 0; i < sizeof(template_builtins) / sizeof(template_builtins[0]); i++) {
		if (!strcmp(template_builtins[i].name, name))
			return &template_builtins[i];
	}
	if (template_parse_format(name, &desc) < 0)
		return NULL;

	pthread_mutex_lock(&template_custom_lock);
	for (unsigned int i = 0; i < template_custom_count; i++) {
		if (!strcmp(template_custom[i].name, name))
			found = &template_custom[i];
	}
	if (!found && template_custom_count < TEMPLATE_CUSTOM_MAX) {
		template_custom[template_custom_count] = desc;
		found = &template_custom[template_custom_count++];
	}
	pthread_mutex_unlock(&template_custom_lock);
	return found;
}

const char *template_name(const struct template_desc *desc)
{
	return desc->name;
}

static bool template_has_field(const struct template_desc *desc, enum template_field field)
{
	for (unsigned int i = 0; i < desc->nfields; i++) {
		if (desc->fields[i] == field)
			return true;
	}
	return false;
}

bool template_has_sig(const struct template_desc *desc)
{
	return template_has_field(desc, FIELD_SIG);
}

bool template_needs_sha1(const struct template_desc *desc)
{
	return template_has_field(desc, FIELD_D);
}

char *template_encode_name(const char *name)
{
	struct buf b = { 0 };

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		char esc[5];

		if (*p == ' ') {
			buf_add(&b, "_", 1);
		} else if (*p < 0x20 || *p == 0x7f || *p == '\\') {
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
			buf_add(&b, esc, 4);
		} else {
			buf_add(&b, p, 1);
		}
	}
	buf_add(&b, "", 0);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return (char *)b.p;
}

/* The 'n' field keeps names up to 255 bytes; longer ones give their last component or a cut. */
static void template_short_name(const char *name, char out[TEMPLATE_N_MAX + 1])
{
	const char *base;
	size_t len;

	if (strlen(name) <= TEMPLATE_N_MAX) {
		strcpy(out, name);
		return;
	}
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (strlen(base) > TEMPLATE_N_MAX)
		base = name;
	len = strnlen(base, TEMPLATE_N_MAX);
	memcpy(out, base, len);
	out[len] = '\0';
}

static int template_sha1_field(const struct template_event *ev, uint8_t out[20])
{
	if (ev->violation) {
		memset(out, 0, 20);
		return 0;
	}
	if (ev->sha1.len == 20) {
		memcpy(out, ev->sha1.bytes, 20);
		return 0;
	}
	if (ev->digest.algo == HASH_SHA1 && ev->digest.len == 20) {
		memcpy(out, ev->digest.bytes, 20);
		return 0;
	}
	return -EINVAL;
}

/*
 * Encode iuid, igid or imode of EV into F, as little-endian integers of 4, 4
 * and 2 bytes, and their decimal rendering into ASCII. An event without a
 * file (boot_aggregate) leaves them empty, as the kernel does.
 */
static void template_inode_field(enum template_field field, const struct template_event *ev,
				 struct buf *f, struct buf *ascii)
{
	uint32_t value;
	uint8_t le[4];
	char num[16];
	size_t size;

	if (ev->no_file)
		return;
	if (field == FIELD_IMODE) {
		value = (uint16_t)ev->mode;
		size = 2;
	} else {
		value = field == FIELD_IUID ? (uint32_t)ev->uid : (uint32_t)ev->gid;
		size = 4;
	}
	for (size_t i = 0; i < size; i++)
		le[i] = (uint8_t)(value >> (8 * i));
	buf_add(f, le, size);
	snprintf(num, sizeof(num), "%u", value);
	buf_add_str(ascii, num);
}

/* Append one field as length word + bytes to DATA and its rendering to ASCII. */
static int template_add_field(enum template_field field, const struct template_event *ev,
			      const char *name, struct buf *data, struct buf *ascii)
{
	struct buf f = { 0 };
	uint8_t sha1[20];
	int r = 0;

	buf_add(ascii, " ", 1);
	switch (field) {
	case FIELD_D:
		r = template_sha1_field(ev, sha1);
		if (r < 0)
			goto out;
		buf_add(&f, sha1, sizeof(sha1));
		buf_add_hex(ascii, sha1, sizeof(sha1));
		break;
	case FIELD_N:
	case FIELD_N_NG:
		buf_add(&f, name, strlen(name) + 1);
		buf_add_str(ascii, name);
		break;
	case FIELD_D_NG:
	case FIELD_D_NGV2:
		if (field == FIELD_D_NGV2) {
			buf_add_str(&f, "ima:");
			buf_add_str(ascii, "ima:");
		}
		buf_add_str(&f, hash_algo_name(ev->digest.algo));
		buf_add(&f, ":", 2); /* the colon and the NUL that ends the prefix */
		buf_add(&f, ev->digest.bytes, ev->digest.len);
		buf_add_str(ascii, hash_algo_name(ev->digest.algo));
		buf_add_str(ascii, ":");
		buf_add_hex(ascii, ev->digest.bytes, ev->digest.len);
		break;
	case FIELD_SIG:
		if (ev->sig && !ev->violation) {
			buf_add(&f, ev->sig, ev->sig_len);
			buf_add_hex(ascii, ev->sig, ev->sig_len);
		}
		break;
	case FIELD_IUID:
	case FIELD_IGID:
	case FIELD_IMODE:
		template_inode_field(field, ev, &f, ascii);
		break;
	default:
		r = -EINVAL;
		goto out;
	}
	if (f.len > UINT32_MAX) {
		r = -EINVAL;
		goto out;
	}
	buf_add_le32(data, (uint32_t)f.len);
	buf_add(data, f.p, f.len);
	if (f.failed)
		r = -ENOMEM;
out:
	free(f.p);
	return r;
}

static int template_build_legacy(const struct template_event *ev, const char *name,
				 struct template_record *rec, struct buf *data, struct buf *hashed,
				 struct buf *ascii)
{
	char short_name[TEMPLATE_N_MAX + 1];
	uint8_t padded[TEMPLATE_N_MAX + 1] = { 0 };
	uint8_t sha1[20];
	int r;

	r = template_sha1_field(ev, sha1);
	if (r < 0)
		return r;
	template_short_name(name, short_name);
	memcpy(padded, short_name, strlen(short_name));

	buf_add(data, sha1, sizeof(sha1));
	buf_add_le32(data, (uint32_t)strlen(short_name));
	buf_add_str(data, short_name);
	buf_add(hashed, sha1, sizeof(sha1));
	buf_add(hashed, padded, sizeof(padded));
	buf_add(ascii, " ", 1);
	buf_add_hex(ascii, sha1, sizeof(sha1));
	buf_add(ascii, " ", 1);
	buf_add_str(ascii, short_name);
	(void)rec;
	return 0;
}

int template_record_build(const struct template_desc *desc, const struct template_event *ev,
			  struct template_record *ret)
{
	struct buf fields = { 0 }, data = { 0 }, hashed = { 0 }, ascii = { 0 };
	char *name;
	int r = 0;

	name = template_encode_name(ev->name);
	if (!name)
		return -ENOMEM;

	if (desc->legacy_ima) {
		r = template_build_legacy(ev, name, ret, &data, &hashed, &ascii);
		if (r < 0)
			goto out_free;
	} else {
		for (unsigned int i = 0; i < desc->nfields; i++) {
			r = template_add_field(desc->fields[i], ev, name, &fields, &ascii);
			if (r < 0)
				goto out_free;
		}
		buf_add_le32(&data, (uint32_t)fields.len);
		buf_add(&data, fields.p, fields.len);
		buf_add(&hashed, fields.p, fields.len);
	}
	buf_add(&ascii, "", 0);
	if (fields.failed || data.failed || hashed.failed || ascii.failed) {
		r = -ENOMEM;
		goto out_free;
	}

	*ret = (struct template_record){
		.desc = desc,
		.data = data.p,
		.data_len = data.len,
		.hashed = hashed.p,
		.hashed_len = hashed.len,
		.ascii_fields = (char *)ascii.p,
		.violation = ev->violation,
	};
	free(fields.p);
	free(name);
	return 0;

out_free:
	free(fields.p);
	free(data.p);
	free(hashed.p);
	free(ascii.p);
	free(name);
	return r;
}

void template_record_done(struct template_record *record)
{
	free(record->data);
	free(record->hashed);
	free(record->ascii_fields);
	memset(record, 0, sizeof(*record));
}

int template_record_digest(const struct template_record *record, enum hash_algo algo,
			   struct hash_digest *ret)
{
	if (record->violation) {
		unsigned int size = hash_algo_size(algo);

		if (!size)
			return -EINVAL;
		memset(ret, 0, sizeof(*ret));
		ret->algo = algo;
		ret->len = size;
		return 0;
	}
	return hash_buffer(algo, record->hashed, record->hashed_len, ret);
}
