/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The measurement list reader of imafs-log (tools/ima_parse.c) and its PCR
 * banks (tools/pcr_bank.c).
 *
 * Without outside files: a list built with core/template.c and by hand, in
 * both byte orders, rendered, replayed and compared with digests computed
 * here; malformed records; every truncation of the list.
 *
 * With the project's vector logs (environment variable IMAFS_SHARED, or the
 * directory "../shared" next to the source tree given as argv[1]): every
 * binary list must print as its stored ASCII list and replay to its PCR
 * values. Without them that part prints a skip line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/template.h"
#include "tools/ima_parse.h"
#include "tools/pcr_bank.h"

#include "check.h"

/* Growable byte string for building lists. */
struct bytes {
	uint8_t *p;
	size_t len;
};

static void bytes_add(struct bytes *b, const void *data, size_t len)
{
	b->p = realloc(b->p, b->len + len + 1);
	if (!b->p) {
		perror("realloc");
		exit(1);
	}
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void bytes_add_u32(struct bytes *b, uint32_t v, bool big)
{
	uint8_t w[4];

	for (int i = 0; i < 4; i++)
		w[big ? 3 - i : i] = (uint8_t)(v >> (8 * i));
	bytes_add(b, w, 4);
}

static void bytes_add_str(struct bytes *b, const char *s)
{
	bytes_add(b, s, strlen(s));
}

static uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void hex(const uint8_t *bytes, size_t len, char *out)
{
	hash_to_hex(bytes, len, out);
}

/* A list in both byte orders with its expected ASCII text and PCR extends. */
struct fixture {
	struct bytes le, be;
	struct bytes ascii_le, ascii_be;
	unsigned int records;
	struct template_record recs[16];
	unsigned int pcrs[16];
};

/*
 * Template data of a big-endian kernel: the same fields with byte-swapped
 * length words, and integer payloads swapped for the fields in INT_FIELDS
 * (bit N = field N).
 */
static void swap_template_data(const uint8_t *data, size_t len, unsigned int int_fields,
			       struct bytes *out)
{
	size_t pos = 0;

	for (unsigned int i = 0; pos < len; i++) {
		uint32_t flen = load_le32(data + pos);

		bytes_add_u32(out, flen, true);
		pos += 4;
		if (int_fields & (1u << i)) {
			for (uint32_t k = 0; k < flen; k++)
				bytes_add(out, data + pos + flen - 1 - k, 1);
		} else {
			bytes_add(out, data + pos, flen);
		}
		pos += flen;
	}
}

static void add_line(struct bytes *ascii, unsigned int pcr, const uint8_t *digest, const char *name,
		     const char *fields)
{
	char line[4096];
	char dhex[41];

	hex(digest, 20, dhex);
	snprintf(line, sizeof(line), "%2u %s %s%s\n", pcr, dhex, name, fields);
	bytes_add_str(ascii, line);
}

/* Append EV encoded with template TMPL at PCR to both lists of FX. */
static void fixture_add(struct fixture *fx, const char *tmpl, const struct template_event *ev,
			unsigned int pcr, unsigned int int_fields)
{
	const struct template_desc *desc = template_lookup(tmpl);
	struct template_record *rec = &fx->recs[fx->records];
	struct hash_digest le_digest, be_digest;
	struct bytes be_data = { 0 };
	const char *name;

	if (!desc || template_record_build(desc, ev, rec) < 0) {
		fprintf(stderr, "cannot build a '%s' record\n", tmpl);
		exit(1);
	}
	name = template_name(desc);
	if (template_record_digest(rec, HASH_SHA1, &le_digest) < 0)
		exit(1);

	bytes_add_u32(&fx->le, pcr, false);
	bytes_add(&fx->le, le_digest.bytes, 20);
	bytes_add_u32(&fx->le, (uint32_t)strlen(name), false);
	bytes_add_str(&fx->le, name);
	bytes_add(&fx->le, rec->data, rec->data_len);
	add_line(&fx->ascii_le, pcr, le_digest.bytes, name, rec->ascii_fields);

	if (!strcmp(name, "ima")) {
		bytes_add(&be_data, rec->data, 20);
		bytes_add_u32(&be_data, load_le32(rec->data + 20), true);
		bytes_add(&be_data, rec->data + 24, rec->data_len - 24);
		be_digest = le_digest;
	} else {
		bytes_add_u32(&be_data, (uint32_t)rec->hashed_len, true);
		swap_template_data(rec->hashed, rec->hashed_len, int_fields, &be_data);
		be_digest = le_digest;
		if (!ev->violation &&
		    hash_buffer(HASH_SHA1, be_data.p + 4, be_data.len - 4, &be_digest) < 0)
			exit(1);
	}
	bytes_add_u32(&fx->be, pcr, true);
	bytes_add(&fx->be, be_digest.bytes, 20);
	bytes_add_u32(&fx->be, (uint32_t)strlen(name), true);
	bytes_add_str(&fx->be, name);
	bytes_add(&fx->be, be_data.p, be_data.len);
	add_line(&fx->ascii_be, pcr, be_digest.bytes, name, rec->ascii_fields);
	free(be_data.p);

	fx->pcrs[fx->records++] = pcr;
}

static void fixture_build(struct fixture *fx)
{
	static const uint8_t sig[] = { 0x03, 0x02, 0x04, 0x1c, 0x85, 0xb7,
				       0x35, 0x00, 0x02, 0xab, 0xcd };
	static const char hello[] = "hello IMA\n";
	struct template_event ev;

	memset(fx, 0, sizeof(*fx));
	ev = (struct template_event){ .name = "boot_aggregate" };
	hash_buffer(HASH_SHA256, "", 0, &ev.digest);
	fixture_add(fx, "ima-ng", &ev, 10, 0);

	ev = (struct template_event){ .name = "/opt/demo/hello.txt",
				      .sig = sig,
				      .sig_len = sizeof(sig) };
	hash_buffer(HASH_SHA256, hello, strlen(hello), &ev.digest);
	fixture_add(fx, "ima-sig", &ev, 10, 0);

	ev = (struct template_event){ .name = "/opt/demo/world.txt", .violation = true };
	ev.digest.algo = HASH_SHA256;
	ev.digest.len = 32;
	fixture_add(fx, "ima-ng", &ev, 10, 0);

	ev = (struct template_event){ .name = "/opt/demo/hello.txt" };
	hash_buffer(HASH_SHA1, hello, strlen(hello), &ev.digest);
	fixture_add(fx, "ima", &ev, 10, 0);

	ev = (struct template_event){
		.name = "/opt/demo/a file", .uid = 1000, .gid = 100, .mode = 0100644
	};
	hash_buffer(HASH_SHA512, hello, strlen(hello), &ev.digest);
	fixture_add(fx, "d-ng|n-ng|iuid|igid|imode", &ev, 11, 0x1c);

	ev = (struct template_event){ .name = "/opt/demo/hello.txt" };
	hash_buffer(HASH_SHA256, hello, strlen(hello), &ev.digest);
	fixture_add(fx, "ima-ngv2", &ev, 10, 0);
}

static void fixture_free(struct fixture *fx)
{
	for (unsigned int i = 0; i < fx->records; i++)
		template_record_done(&fx->recs[i]);
	free(fx->le.p);
	free(fx->be.p);
	free(fx->ascii_le.p);
	free(fx->ascii_be.p);
}

/*
 * Parse LIST completely, printing every record into a string. Returns the
 * record count, or -1 on a parse error (message in ERRBUF).
 */
static long parse_all(const uint8_t *list, size_t len, enum hash_algo bank,
		      enum ima_byte_order order, char **ret_text, char *errbuf, size_t errlen)
{
	struct ima_parse *parse = ima_parse_new(list, len, bank, order);
	struct ima_record record;
	size_t text_len = 0;
	char *text = NULL;
	FILE *out;
	long count = 0;
	int r;

	out = open_memstream(&text, &text_len);
	if (!parse || !out)
		exit(1);
	while ((r = ima_parse_next(parse, &record, errbuf, errlen)) > 0) {
		ima_record_print(out, &record);
		count++;
	}
	fclose(out);
	ima_parse_free(parse);
	if (ret_text)
		*ret_text = text;
	else
		free(text);
	return r < 0 ? -1 : count;
}

static bool text_equal(const char *text, const struct bytes *expected)
{
	return strlen(text) == expected->len && !memcmp(text, expected->p, expected->len);
}

static void test_fixture_dump(const struct fixture *fx)
{
	char errbuf[256];
	char *text;

	CHECK(parse_all(fx->le.p, fx->le.len, HASH_SHA1, IMA_ORDER_LITTLE, &text, errbuf,
			sizeof(errbuf)) == (long)fx->records);
	CHECK(text_equal(text, &fx->ascii_le));
	if (!text_equal(text, &fx->ascii_le))
		fprintf(stderr, "got:\n%s", text);
	free(text);

	CHECK(parse_all(fx->be.p, fx->be.len, HASH_SHA1, IMA_ORDER_BIG, &text, errbuf,
			sizeof(errbuf)) == (long)fx->records);
	CHECK(text_equal(text, &fx->ascii_be));
	free(text);

	CHECK(parse_all(fx->be.p, fx->be.len, HASH_SHA1, IMA_ORDER_AUTO, &text, errbuf,
			sizeof(errbuf)) == (long)fx->records);
	CHECK(text_equal(text, &fx->ascii_be));
	free(text);

	CHECK(parse_all(fx->le.p, fx->le.len, HASH_SHA1, IMA_ORDER_AUTO, &text, errbuf,
			sizeof(errbuf)) == (long)fx->records);
	CHECK(text_equal(text, &fx->ascii_le));
	free(text);

	/* A big-endian list read as little-endian names the likely cause. */
	CHECK(parse_all(fx->be.p, fx->be.len, HASH_SHA1, IMA_ORDER_LITTLE, NULL, errbuf,
			sizeof(errbuf)) == -1);
	CHECK(strstr(errbuf, "record 1 at byte offset 0:") != NULL);
	CHECK(strstr(errbuf, "byte-swapped") != NULL);
}

/* Every stored digest equals the recomputed one, in both byte orders. */
static void test_fixture_digests(const struct fixture *fx, const struct bytes *list,
				 enum ima_byte_order order)
{
	struct ima_parse *parse = ima_parse_new(list->p, list->len, HASH_SHA1, order);
	struct ima_record record;
	struct hash_digest digest;
	char errbuf[256];
	unsigned int n = 0;

	while (ima_parse_next(parse, &record, errbuf, sizeof(errbuf)) > 0) {
		CHECK(record.order == (order == IMA_ORDER_BIG ? IMA_ORDER_BIG : IMA_ORDER_LITTLE));
		CHECK(ima_record_digest(&record, HASH_SHA1, &digest) == 0);
		if (record.violation)
			CHECK(record.number == 3);
		else
			CHECK(!memcmp(digest.bytes, record.digest, 20));
		n++;
	}
	CHECK(n == fx->records);
	ima_parse_free(parse);
}

/* Replay through pcr_bank and compare with extends computed from core/template.c. */
static void test_fixture_replay(const struct fixture *fx)
{
	static const enum hash_algo algos[] = { HASH_SHA1, HASH_SHA256, HASH_SHA384, HASH_SHA512 };

	for (size_t a = 0; a < sizeof(algos) / sizeof(algos[0]); a++) {
		struct ima_parse *parse =
			ima_parse_new(fx->le.p, fx->le.len, HASH_SHA1, IMA_ORDER_LITTLE);
		struct pcr_bank replayed, expected;
		struct ima_record record;
		char errbuf[256];

		pcr_bank_init(&replayed, algos[a]);
		pcr_bank_init(&expected, algos[a]);
		while (ima_parse_next(parse, &record, errbuf, sizeof(errbuf)) > 0)
			CHECK(pcr_bank_extend_record(&replayed, &record, PCR_BANK_PER_BANK) == 0);
		ima_parse_free(parse);

		for (unsigned int i = 0; i < fx->records; i++) {
			uint8_t value[HASH_MAX_DIGEST_SIZE];
			struct hash_digest d;

			if (fx->recs[i].violation) {
				memset(value, 0xff, expected.size);
			} else {
				CHECK(template_record_digest(&fx->recs[i], algos[a], &d) == 0);
				memcpy(value, d.bytes, expected.size);
			}
			CHECK(pcr_bank_extend(&expected, fx->pcrs[i], value) == 0);
		}
		CHECK(pcr_bank_equal(&replayed, &expected, 10));
		CHECK(pcr_bank_equal(&replayed, &expected, 11));
		CHECK(replayed.present == ((UINT64_C(1) << 10) | (UINT64_C(1) << 11)));
	}
}

/* Every cut of the list parses up to the cut and then fails, without reading past it. */
static void test_truncation(const struct fixture *fx)
{
	size_t boundaries[17];
	unsigned int nb = 0;
	char errbuf[256];

	{
		struct ima_parse *parse =
			ima_parse_new(fx->le.p, fx->le.len, HASH_SHA1, IMA_ORDER_LITTLE);
		struct ima_record record;

		boundaries[nb++] = 0;
		while (ima_parse_next(parse, &record, errbuf, sizeof(errbuf)) > 0)
			boundaries[nb++] = record.offset + record.size;
		ima_parse_free(parse);
	}
	CHECK(nb == fx->records + 1);

	for (size_t cut = 0; cut <= fx->le.len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		bool boundary = false;
		long n;

		memcpy(copy, fx->le.p, cut);
		for (unsigned int i = 0; i < nb; i++)
			boundary = boundary || boundaries[i] == cut;
		n = parse_all(copy, cut, HASH_SHA1, IMA_ORDER_LITTLE, NULL, errbuf, sizeof(errbuf));
		if (boundary) {
			CHECK(n >= 0);
		} else {
			CHECK(n == -1);
			CHECK(strncmp(errbuf, "record ", 7) == 0);
		}
		free(copy);
	}
}

/* Random byte changes: the reader must fail or succeed, never read out of bounds. */
static void test_random_damage(const struct fixture *fx)
{
	char errbuf[256];
	unsigned int seed = 12345;

	for (int round = 0; round < 3000; round++) {
		uint8_t *copy = malloc(fx->le.len);

		memcpy(copy, fx->le.p, fx->le.len);
		for (int k = 0; k < 1 + round % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			copy[(seed >> 8) % fx->le.len] ^= (uint8_t)(1u << ((seed >> 4) % 8));
		}
		parse_all(copy, fx->le.len, HASH_SHA1, IMA_ORDER_AUTO, NULL, errbuf,
			  sizeof(errbuf));
		free(copy);
	}
	CHECK(true);
}

/* One hand-built record: PCR, 20-byte digest, template name, fields. */
struct field_spec {
	const void *data;
	uint32_t len;
};

static void build_record(struct bytes *b, uint32_t pcr, bool zero_digest, const char *name,
			 const struct field_spec *fields, unsigned int count)
{
	struct bytes data = { 0 };
	struct hash_digest digest = { .len = 20 };

	for (unsigned int i = 0; i < count; i++) {
		bytes_add_u32(&data, fields[i].len, false);
		bytes_add(&data, fields[i].data, fields[i].len);
	}
	if (!zero_digest && hash_buffer(HASH_SHA1, data.p, data.len, &digest) < 0)
		exit(1);
	bytes_add_u32(b, pcr, false);
	bytes_add(b, digest.bytes, 20);
	bytes_add_u32(b, (uint32_t)strlen(name), false);
	bytes_add_str(b, name);
	bytes_add_u32(b, (uint32_t)data.len, false);
	bytes_add(b, data.p, data.len);
	free(data.p);
}

static const uint8_t dng_sha256[40] = "sha256:\0\x3f\x86\x56\x64\xca\xfc\x00\x07\xc6\xef\x91\xf7"
				      "\xe6\xca\xac\xd1\x79\x7d\x92\xf9\xb7\x07\x10\x01\x70\xbf"
				      "\x3a\x65\x63\x31\xb6\xcf";
static const char name_x[] = "/x";

static void test_custom_fields(void)
{
	static const uint8_t buf[] = { 0x68, 0x69 };
	static const uint8_t frob[] = { 0x01, 0x02 };
	static const uint8_t uid[] = { 0xe8, 0x03, 0x00, 0x00 };
	static const uint8_t dngv2[] = "verity:sha1:\0\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a"
				       "\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14";
	const struct field_spec fields[] = {
		{ dng_sha256, 40 },	      { name_x, 3 }, { buf, 2 }, { frob, 2 }, { uid, 4 },
		{ dngv2, sizeof(dngv2) - 1 }, { NULL, 0 },
	};
	struct bytes list = { 0 };
	char errbuf[256];
	char *text;

	build_record(&list, 10, false, "d-ng|n-ng|buf|frob|iuid|d-ngv2|sig", fields, 7);
	CHECK(parse_all(list.p, list.len, HASH_SHA1, IMA_ORDER_LITTLE, &text, errbuf,
			sizeof(errbuf)) == 1);
	CHECK(strstr(text, " d-ng|n-ng|buf|frob|iuid|d-ngv2|sig sha256:3f865664cafc0007c6ef91"
			   "f7e6caacd1797d92f9b707100170bf3a656331b6cf /x 6869 0102 1000 "
			   "verity:sha1:0102030405060708090a0b0c0d0e0f1011121314 \n") != NULL);
	free(text);
	free(list.p);
}

/* An "ima" record whose name length word says NAME_LEN and NAME_BYTES bytes follow. */
static void build_legacy(struct bytes *b, uint32_t name_len, const char *name, size_t name_bytes)
{
	bytes_add_u32(b, 10, false);
	bytes_add(b, dng_sha256 + 8, 20);
	bytes_add_u32(b, 3, false);
	bytes_add_str(b, "ima");
	bytes_add(b, dng_sha256 + 8, 20);
	bytes_add_u32(b, name_len, false);
	bytes_add(b, name, name_bytes);
}

struct bad_case {
	const char *name;
	const char *expect; /* part of the error message */
};

static void expect_error(const struct bytes *list, const struct bad_case *c)
{
	char errbuf[512] = "";
	long n = parse_all(list->p, list->len, HASH_SHA1, IMA_ORDER_LITTLE, NULL, errbuf,
			   sizeof(errbuf));

	CHECK(n == -1);
	if (n != -1 || !strstr(errbuf, c->expect))
		fprintf(stderr, "case '%s': got %ld, '%s'\n", c->name, n, errbuf);
	CHECK(strstr(errbuf, c->expect) != NULL);
}

static void test_malformed(void)
{
	static const uint8_t no_nul[] = "sha256:";
	static const uint8_t short_digest[] = "sha256:\0\x01\x02\x03";
	static const uint8_t bad_algo[] = "sha999:\0\x01\x02";
	static const uint8_t three[] = { 1, 2, 3 };
	const struct field_spec good[] = { { dng_sha256, 40 }, { name_x, 3 } };
	struct bytes b = { 0 };
	char longname[300];

#define BAD(name_, expect_, ...)                                                                   \
	do {                                                                                       \
		const struct bad_case c_ = { name_, expect_ };                                     \
		free(b.p);                                                                         \
		b = (struct bytes){ 0 };                                                           \
		__VA_ARGS__;                                                                       \
		expect_error(&b, &c_);                                                             \
	} while (0)

	BAD("header cut", "a record header needs 28", bytes_add(&b, "\x0a\0\0\0abc", 7));
	BAD("name length 0", "template name length 0", build_record(&b, 10, false, "", good, 2));
	BAD("name with space", "control, space", build_record(&b, 10, false, "ima ng", good, 2));
	BAD("unknown template", "neither a built-in template",
	    build_record(&b, 10, false, "ima-nf", good, 2));
	BAD("too few fields", "holds 1 fields, template 'ima-ng' has 2",
	    build_record(&b, 10, false, "ima-ng", good, 1));
	BAD("too many fields", "continues at byte offset",
	    build_record(&b, 10, false, "d-ng", good, 2));
	BAD("d-ng without NUL", "no NUL byte",
	    const struct field_spec f[] = { { no_nul, 7 }, { name_x, 3 } };
	    build_record(&b, 10, false, "ima-ng", f, 2));
	BAD("d-ng short digest", "does not match its algorithm",
	    const struct field_spec f[] = { { short_digest, 11 }, { name_x, 3 } };
	    build_record(&b, 10, false, "ima-ng", f, 2));
	BAD("d-ng unknown algorithm", "hash algorithm the kernel does not have",
	    const struct field_spec f[] = { { bad_algo, 10 }, { name_x, 3 } };
	    build_record(&b, 10, false, "ima-ng", f, 2));
	BAD("d-ngv2 without type", "no digest type",
	    const struct field_spec f[] = { { dng_sha256, 40 }, { name_x, 3 } };
	    build_record(&b, 10, false, "ima-ngv2", f, 2));
	BAD("iuid of 3 bytes", "1, 2, 4 or 8 bytes",
	    const struct field_spec f[] = { { dng_sha256, 40 }, { name_x, 3 }, { three, 3 } };
	    build_record(&b, 10, false, "d-ng|n-ng|iuid", f, 3));
	BAD("violation with a file digest", "marks a violation",
	    build_record(&b, 10, true, "ima-ng", good, 2));
	BAD("swapped PCR", "byte-swapped", build_record(&b, 0x0a000000, false, "ima-ng", good, 2));
	BAD("PCR 64", "PCR index 64", build_record(&b, 64, false, "ima-ng", good, 2));
	BAD("16 fields", "more than 15 field ids",
	    build_record(&b, 10, false, "n|n|n|n|n|n|n|n|n|n|n|n|n|n|n|n", good, 2));
	BAD("17-character id", "longer than 16",
	    build_record(&b, 10, false, "d-ng|abcdefghijklmnopq", good, 2));
	BAD("empty id", "empty", build_record(&b, 10, false, "d-ng||n-ng", good, 2));
	BAD("data length past the end", "exceeds the 45 bytes left",
	    build_record(&b, 10, false, "ima-ng", good, 2);
	    b.len -= 6);
	BAD("field length past the data", "field 2 'n-ng' at byte offset 82: length 3 exceeds",
	    build_record(&b, 10, false, "ima-ng", good, 2);
	    b.p[34] = (uint8_t)(b.p[34] - 1); b.len--);
	BAD("second record cut", "record 2 at byte offset 89",
	    build_record(&b, 10, false, "ima-ng", good, 2);
	    bytes_add(&b, "\x0a\0\0", 3));

	memset(longname, 'a', sizeof(longname));
	BAD("ima name of 300 bytes", "file name length 300 exceeds the 255",
	    build_legacy(&b, 300, longname, 300));
	BAD("ima name cut", "exceeds the 5 bytes left", build_legacy(&b, 6, "/a/b/c", 5));
#undef BAD
	free(b.p);
}

static void test_pcr_files(void)
{
	static const char text[] =
		"PCR-00: 0000000000000000000000000000000000000000\n"
		"PCR-10: 87 35 AB 68 9C 4B 89 DF 8E A3 1D 05 2E 41 DE 05 10 D8 BA 4E\r\n"
		"\n"
		"# sha256\n"
		"PCR-10: b117355af70997ab993d4573c1983033648ab22f72c55dd9c632993b384040cd\n";
	struct pcr_bank banks[PCR_BANK_SET_MAX];
	unsigned int count = 0;
	char errbuf[256];
	char h[2 * HASH_MAX_DIGEST_SIZE + 1];
	struct pcr_bank *bank;
	FILE *in;

	in = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	CHECK(pcr_bank_read(in, "t", HASH_SHA1, banks, &count, errbuf, sizeof(errbuf)) == 0);
	fclose(in);
	CHECK(count == 2);
	bank = pcr_bank_find(banks, count, HASH_SHA1);
	CHECK(bank && bank->present == ((UINT64_C(1) << 0) | (UINT64_C(1) << 10)));
	if (bank) {
		hex(bank->value[10], 20, h);
		CHECK(!strcmp(h, "8735ab689c4b89df8ea31d052e41de0510d8ba4e"));
	}
	bank = pcr_bank_find(banks, count, HASH_SHA256);
	CHECK(bank && bank->present == UINT64_C(1) << 10);

	static const char *const bad[][2] = {
		{ "PCR-10: 8735\n", "t:1: line 'PCR-10: 8735' has a value shorter" },
		{ "\nPCR-10: zz\n", "t:2:" },
		{ "PCR-1x: 00\n", "t:1:" },
		{ "PCR-99: 00\n", "from 00 to 63" },
		{ "10: 8735ab689c4b89df8ea31d052e41de0510d8ba4e\n", "is not a 'PCR-NN: hex' line" },
		{ "PCR-10: 8735ab689c4b89df8ea31d052e41de0510d8ba4e\n"
		  "PCR-10: 8735ab689c4b89df8ea31d052e41de0510d8ba4e\n",
		  "repeats" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		count = 0;
		in = fmemopen((void *)(uintptr_t)bad[i][0], strlen(bad[i][0]), "r");
		CHECK(pcr_bank_read(in, "t", HASH_SHA1, banks, &count, errbuf, sizeof(errbuf)) < 0);
		CHECK(strstr(errbuf, bad[i][1]) != NULL);
		if (!strstr(errbuf, bad[i][1]))
			fprintf(stderr, "pcr file case %zu: '%s'\n", i, errbuf);
		fclose(in);
	}
}

static void test_bank_from_path(void)
{
	enum hash_algo bank = HASH_MD5;

	CHECK(ima_parse_bank_from_path("/a/binary_runtime_measurements", &bank) == 0);
	CHECK(bank == HASH_SHA1);
	CHECK(ima_parse_bank_from_path("binary_runtime_measurements_sha256", &bank) == 0);
	CHECK(bank == HASH_SHA256);
	CHECK(ima_parse_bank_from_path("/x_sha512/binary_runtime_measurements_sha384", &bank) == 0);
	CHECK(bank == HASH_SHA384);
	CHECK(ima_parse_bank_from_path("binary_runtime_measurements_tpm_alg_27", &bank) < 0);
}

/* Vector logs. */

__attribute__((format(printf, 3, 4))) static void path_format(char *out, size_t size,
							      const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "path too long: %s\n", out);
		exit(1);
	}
}

static uint8_t *read_file(const char *path, size_t *ret_len)
{
	FILE *in = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (!in)
		return NULL;
	if (fseek(in, 0, SEEK_END) == 0 && (len = ftell(in)) >= 0 && fseek(in, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)len + 1);
		if (buf && fread(buf, 1, (size_t)len, in) != (size_t)len) {
			free(buf);
			buf = NULL;
		}
		*ret_len = (size_t)len;
	}
	fclose(in);
	return buf;
}

/* Replay LIST and compare the PCRs it extends with the PCR file(s). */
static void check_replay(const char *label, const uint8_t *list, size_t len, enum hash_algo bank,
			 const char *pcrs_sha1, const char *pcrs_sha256)
{
	struct pcr_bank expected[PCR_BANK_SET_MAX];
	const char *files[2] = { pcrs_sha1, pcrs_sha256 };
	const enum hash_algo algos[2] = { HASH_SHA1, HASH_SHA256 };
	unsigned int count = 0;
	char errbuf[256];

	for (int i = 0; i < 2; i++) {
		struct pcr_bank replayed;
		struct ima_parse *parse = ima_parse_new(list, len, bank, IMA_ORDER_LITTLE);
		struct ima_record record;
		struct pcr_bank *want;
		FILE *in = fopen(files[i], "r");

		CHECK(in != NULL);
		if (!in)
			continue;
		CHECK(pcr_bank_read(in, files[i], algos[i], expected, &count, errbuf,
				    sizeof(errbuf)) == 0);
		fclose(in);
		want = pcr_bank_find(expected, count, algos[i]);
		pcr_bank_init(&replayed, algos[i]);
		while (ima_parse_next(parse, &record, errbuf, sizeof(errbuf)) > 0)
			pcr_bank_extend_record(&replayed, &record, PCR_BANK_PER_BANK);
		ima_parse_free(parse);
		CHECK(want && replayed.present == UINT64_C(1) << 10);
		CHECK(want && pcr_bank_equal(&replayed, want, 10));
		if (!want || !pcr_bank_equal(&replayed, want, 10))
			fprintf(stderr, "%s: %s PCR 10 differs\n", label, hash_algo_name(algos[i]));
	}
}

/* Rewrite an all-ima-ng little-endian list in big-endian order, keeping its stored digests. */
static struct bytes swap_list(const uint8_t *list, size_t len)
{
	struct bytes out = { 0 };
	size_t pos = 0;

	while (pos < len) {
		uint32_t name_len = load_le32(list + pos + 24);
		uint32_t data_len = load_le32(list + pos + 28 + name_len);

		bytes_add_u32(&out, load_le32(list + pos), true);
		bytes_add(&out, list + pos + 4, 20);
		bytes_add_u32(&out, name_len, true);
		bytes_add(&out, list + pos + 28, name_len);
		bytes_add_u32(&out, data_len, true);
		swap_template_data(list + pos + 32 + name_len, data_len, 0, &out);
		pos += 32 + name_len + data_len;
	}
	return out;
}

static void check_vector(const char *logs, const char *dir, const char *suffix,
			 const char *pcrs_sha1, const char *pcrs_sha256, unsigned int *checked)
{
	char path[4096], ascii_path[4096];
	uint8_t *list, *ascii;
	size_t len, ascii_len;
	enum hash_algo bank;
	char errbuf[512];
	char *text = NULL;

	path_format(path, sizeof(path), "%s/%s/binary_runtime_measurements%s", logs, dir, suffix);
	path_format(ascii_path, sizeof(ascii_path), "%s/%s/ascii_runtime_measurements%s", logs, dir,
		    suffix);
	list = read_file(path, &len);
	if (!list)
		return; /* not every folder has every bank */
	ascii = read_file(ascii_path, &ascii_len);
	CHECK(ascii != NULL);
	CHECK(ima_parse_bank_from_path(path, &bank) == 0);

	CHECK(parse_all(list, len, bank, IMA_ORDER_LITTLE, &text, errbuf, sizeof(errbuf)) > 0);
	CHECK(ascii && strlen(text) == ascii_len && !memcmp(text, ascii, ascii_len));
	if (!ascii || strlen(text) != ascii_len || memcmp(text, ascii, ascii_len))
		fprintf(stderr, "%s: ASCII rendering differs from %s\n", path, ascii_path);
	free(text);
	check_replay(path, list, len, bank, pcrs_sha1, pcrs_sha256);
	(*checked)++;

	if (!strcmp(dir, "embrave")) {
		struct bytes be = swap_list(list, len);

		CHECK(parse_all(be.p, be.len, bank, IMA_ORDER_AUTO, &text, errbuf,
				sizeof(errbuf)) == 922);
		CHECK(ascii && strlen(text) == ascii_len && !memcmp(text, ascii, ascii_len));
		free(text);
		free(be.p);
	}
	free(list);
	free(ascii);
}

static void test_vectors(const char *shared)
{
	static const char *const generated[] = { "ima-ng-violation", "ima-sig", "ima", "ima-ngv2" };
	static const char *const suffixes[] = { "", "_sha256", "_sha384", "_sha512" };
	char logs[4096], dir[256], p1[4096], p2[4096];
	unsigned int checked = 0;

	path_format(logs, sizeof(logs), "%s/vectors/logs", shared);
	for (size_t g = 0; g < sizeof(generated) / sizeof(generated[0]); g++) {
		path_format(dir, sizeof(dir), "generated/%s", generated[g]);
		path_format(p1, sizeof(p1), "%s/%s/pcrs_sha1.txt", logs, dir);
		path_format(p2, sizeof(p2), "%s/%s/pcrs_sha256.txt", logs, dir);
		for (size_t s = 0; s < sizeof(suffixes) / sizeof(suffixes[0]); s++)
			check_vector(logs, dir, suffixes[s], p1, p2, &checked);
	}
	path_format(p1, sizeof(p1), "%s/derived/embrave-pcrs_sha1.txt", logs);
	path_format(p2, sizeof(p2), "%s/derived/embrave-pcrs_sha256.txt", logs);
	check_vector(logs, "embrave", "", p1, p2, &checked);
	CHECK(checked == 17);
	printf("vector lists checked: %u\n", checked);
}

/* The vector directory from IMAFS_SHARED or SOURCE_DIR/../shared, or NULL. */
static char *find_shared(int argc, char **argv)
{
	const char *env = getenv("IMAFS_SHARED");
	char path[4096], probe[4200];

	if (env && *env)
		path_format(path, sizeof(path), "%s", env);
	else if (argc > 1)
		path_format(path, sizeof(path), "%s/../shared", argv[1]);
	else
		return NULL;
	path_format(probe, sizeof(probe), "%s/vectors/logs/embrave/binary_runtime_measurements",
		    path);
	return access(probe, R_OK) == 0 ? strdup(path) : NULL;
}

int main(int argc, char **argv)
{
	struct fixture fx;
	char *shared;

	fixture_build(&fx);
	test_fixture_dump(&fx);
	test_fixture_digests(&fx, &fx.le, IMA_ORDER_LITTLE);
	test_fixture_digests(&fx, &fx.be, IMA_ORDER_BIG);
	test_fixture_replay(&fx);
	test_truncation(&fx);
	test_random_damage(&fx);
	test_custom_fields();
	test_malformed();
	test_pcr_files();
	test_bank_from_path();
	fixture_free(&fx);

	shared = find_shared(argc, argv);
	if (shared) {
		test_vectors(shared);
		free(shared);
	} else {
		printf("skip: vector logs not found (set IMAFS_SHARED or pass the source "
		       "directory); fixture tests only\n");
	}

	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
