/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Template encoding against worked examples whose digests were computed
 * independently: the record of "hello IMA\n" at /opt/demo/hello.txt in the
 * ima-ng and ima templates, and name escaping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/template.h"

#include "check.h"

static const char hello[] = "hello IMA\n";

static void digest_hex(const struct template_record *rec, enum hash_algo algo, char *hex)
{
	struct hash_digest d;

	if (template_record_digest(rec, algo, &d) < 0) {
		strcpy(hex, "error");
		return;
	}
	hash_to_hex(d.bytes, d.len, hex);
}

static void test_ima_ng_record(void)
{
	struct template_event ev = { .name = "/opt/demo/hello.txt" };
	struct template_record rec;
	char hex[2 * HASH_MAX_DIGEST_SIZE + 1];

	CHECK(hash_buffer(HASH_SHA256, hello, strlen(hello), &ev.digest) == 0);
	CHECK(template_record_build(template_lookup("ima-ng"), &ev, &rec) == 0);
	/* Data length word + d-ng (4 + 40) + n-ng (4 + 20) = 4 + 68 bytes. */
	CHECK(rec.data_len == 72);
	CHECK(rec.hashed_len == 68);
	digest_hex(&rec, HASH_SHA1, hex);
	CHECK(strcmp(hex, "e39066cedbf3b3e634ca0e9de6ba999f8f4ba4c2") == 0);
	digest_hex(&rec, HASH_SHA256, hex);
	CHECK(strcmp(hex, "3d92e94f9b5ed450c0f994cd2ff1974e5831ca0c8fdc2193146ed10bdb26a07d") == 0);
	CHECK(strcmp(rec.ascii_fields, " sha256:3f865664cafc0007c6ef91f7e6caacd1797d92f9b707100170"
				       "bf3a656331b6cf /opt/demo/hello.txt") == 0);
	template_record_done(&rec);
}

static void test_ima_record(void)
{
	struct template_event ev = { .name = "/opt/demo/hello.txt" };
	struct template_record rec;
	char hex[2 * HASH_MAX_DIGEST_SIZE + 1];

	CHECK(hash_buffer(HASH_SHA1, hello, strlen(hello), &ev.digest) == 0);
	CHECK(template_record_build(template_lookup("ima"), &ev, &rec) == 0);
	/* d (20) + name length word (4) + name without NUL (19). */
	CHECK(rec.data_len == 43);
	digest_hex(&rec, HASH_SHA1, hex);
	CHECK(strcmp(hex, "4e1b0e613d035c60007f475f1b9947ec397f2b5f") == 0);
	template_record_done(&rec);
}

static void test_violation_digest_is_zero(void)
{
	struct template_event ev = { .name = "/opt/demo/world.txt", .violation = true };
	struct template_record rec;
	char hex[2 * HASH_MAX_DIGEST_SIZE + 1];

	ev.digest.algo = HASH_SHA256;
	ev.digest.len = 32;
	CHECK(template_record_build(template_lookup("ima-ng"), &ev, &rec) == 0);
	digest_hex(&rec, HASH_SHA1, hex);
	CHECK(strcmp(hex, "0000000000000000000000000000000000000000") == 0);
	template_record_done(&rec);
}

static void test_name_encoding(void)
{
	char *name = template_encode_name("/a b/c\nd");

	CHECK(name && strcmp(name, "/a_b/c\\x0ad") == 0);
	free(name);
}

static void test_lookup(void)
{
	CHECK(template_lookup("ima-sig") != NULL);
	CHECK(template_has_sig(template_lookup("ima-sig")));
	CHECK(template_lookup("d-ng|n-ng|iuid") != NULL);
	CHECK(template_lookup("d-ng|bogus") == NULL);
	CHECK(template_lookup("") == NULL);
	CHECK(template_needs_sha1(template_lookup("ima")));
}

int main(void)
{
	test_ima_ng_record();
	test_ima_record();
	test_violation_digest_is_zero();
	test_name_encoding();
	test_lookup();
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
