/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Appraisal modules: security.ima parsing and building, the keyring, the
 * sha256sum-format digest lists and the appraisal verdicts.
 *
 * The first part uses hand-made values only. The second makes its fixtures
 * at run time in a directory under /var/tmp: certificates with
 * "openssl req -x509 ... -addext subjectKeyIdentifier=hash" (RSA-2048 and EC
 * P-256), v2 signatures and hash values with "evmctl ima_sign/ima_hash -n",
 * and v3 signatures with "openssl dgst -sign" over the ima_file_id structure.
 * That part is skipped, with a line saying so, when openssl or evmctl is not
 * installed.
 *
 * Usage: test_appraise [VECTOR_DIR]. With VECTOR_DIR, it also checks saved
 * evmctl output there: rsa.der, ec.der, hello.txt with hello_rsa_xattr.bin,
 * world.txt with world_ec_xattr.bin. IMAFS_TEST_DEBUG=1 in the environment
 * turns on the modules' debug lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/allowlist.h"
#include "core/appraise.h"
#include "core/hash.h"
#include "core/ima_xattr.h"
#include "core/keys.h"
#include "core/log.h"

#include "check.h"

/* Check a verdict, printing the cause that came out when it is not the expected one. */
#define CHECK_VERDICT(res, want_pass, want_cause)                                                  \
	do {                                                                                       \
		if ((res).passed == (want_pass) &&                                                 \
		    !strcmp(appraise_cause_name((res).cause), (want_cause))) {                     \
			passed++;                                                                  \
		} else {                                                                           \
			failed++;                                                                  \
			fprintf(stderr, "%s:%d: expected %s cause=%s, got %s cause=%s (%s)\n",    \
				__FILE__, __LINE__, (want_pass) ? "pass" : "fail", (want_cause),   \
				(res).passed ? "pass" : "fail", appraise_cause_name((res).cause),  \
				ima_xattr_error_name((res).xattr_error));                          \
		}                                                                                  \
	} while (0)

/* "hello IMA\n", whose digests the format reference lists. */
static const char hello[] = "hello IMA\n";
static const char hello_sha1[] = "5614f3d0790458b86052ad60bd5879bf356ffd3e";
static const char hello_sha256[] =
	"3f865664cafc0007c6ef91f7e6caacd1797d92f9b707100170bf3a656331b6cf";

/* Decode HEX into BUF; returns the byte count or -1. */
static ssize_t unhex(const char *hex, uint8_t *buf, size_t size)
{
	size_t len = strlen(hex), n = 0;

	while (len > 0 && (hex[len - 1] == '\n' || hex[len - 1] == '\r' || hex[len - 1] == ' '))
		len--;
	if (len % 2 || len / 2 > size)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		unsigned int byte;

		if (sscanf(hex + i, "%2x", &byte) != 1)
			return -1;
		buf[n++] = (uint8_t)byte;
	}
	return (ssize_t)n;
}

static struct hash_digest digest_of(enum hash_algo algo, const void *data, size_t len)
{
	struct hash_digest d;

	if (hash_buffer(algo, data, len, &d) < 0)
		memset(&d, 0, sizeof(d));
	return d;
}

/* ------------------------------------------------------------------ */
/* Part 1: hand-made values                                            */

static void test_xattr_digest_forms(void)
{
	uint8_t v[80];
	struct ima_xattr x;

	/* 0x04 sha256, as evmctl ima_hash writes it. */
	v[0] = 0x04;
	v[1] = HASH_SHA256;
	CHECK(unhex(hello_sha256, v + 2, 32) == 32);
	CHECK(ima_xattr_parse(v, 34, &x) == IMA_XATTR_OK);
	CHECK(x.type == IMA_XATTR_DIGEST_NG);
	CHECK(x.algo == HASH_SHA256);
	CHECK(x.digest_len == 32);
	CHECK(x.digest == v + 2);
	CHECK(ima_xattr_parse(v, 33, &x) == IMA_XATTR_ERR_DIGEST_LENGTH);
	CHECK(ima_xattr_parse(v, 35, &x) == IMA_XATTR_ERR_DIGEST_LENGTH);
	CHECK(ima_xattr_parse(v, 1, &x) == IMA_XATTR_ERR_DIGEST_LENGTH);
	v[1] = 0x30;
	CHECK(ima_xattr_parse(v, 34, &x) == IMA_XATTR_ERR_UNKNOWN_ALGO);
	v[1] = 8; /* rmd128: known to the kernel, not computable here */
	CHECK(ima_xattr_parse(v, 18, &x) == IMA_XATTR_ERR_UNSUPPORTED_ALGO);

	/* 0x01: MD5 (17 bytes), padded MD5 (21 bytes, last four zero), SHA-1. */
	memset(v, 0xab, sizeof(v));
	v[0] = 0x01;
	CHECK(ima_xattr_parse(v, 17, &x) == IMA_XATTR_OK);
	CHECK(x.algo == HASH_MD5);
	CHECK(x.digest_len == 16);
	CHECK(ima_xattr_parse(v, 21, &x) == IMA_XATTR_OK);
	CHECK(x.algo == HASH_SHA1);
	CHECK(x.digest_len == 20);
	memset(v + 17, 0, 4);
	CHECK(ima_xattr_parse(v, 21, &x) == IMA_XATTR_OK);
	CHECK(x.algo == HASH_MD5);
	CHECK(x.digest_len == 16);
	CHECK(ima_xattr_parse(v, 20, &x) == IMA_XATTR_ERR_DIGEST_LENGTH);
	CHECK(ima_xattr_parse(v, 33, &x) == IMA_XATTR_ERR_DIGEST_LENGTH);

	/* Other first bytes. */
	CHECK(ima_xattr_parse(v, 0, &x) == IMA_XATTR_ERR_EMPTY);
	v[0] = 0x02;
	CHECK(ima_xattr_parse(v, 21, &x) == IMA_XATTR_ERR_UNKNOWN_TYPE);
	v[0] = 0x07;
	CHECK(ima_xattr_parse(v, 21, &x) == IMA_XATTR_ERR_UNKNOWN_TYPE);
	v[0] = 0x05;
	CHECK(ima_xattr_parse(v, 21, &x) == IMA_XATTR_ERR_PORTABLE);
}

/* Build a signature value: header fields as given, LEN_FIELD as the length word. */
static size_t make_sig(uint8_t *v, uint8_t type, uint8_t version, uint8_t algo, uint32_t keyid,
		       unsigned int len_field, size_t sig_len)
{
	v[0] = type;
	v[1] = version;
	v[2] = algo;
	v[3] = (uint8_t)(keyid >> 24);
	v[4] = (uint8_t)(keyid >> 16);
	v[5] = (uint8_t)(keyid >> 8);
	v[6] = (uint8_t)keyid;
	v[7] = (uint8_t)(len_field >> 8);
	v[8] = (uint8_t)len_field;
	memset(v + 9, 0x5a, sig_len);
	return 9 + sig_len;
}

static void test_xattr_signature_header(void)
{
	uint8_t v[600];
	struct ima_xattr x;
	size_t n;

	n = make_sig(v, 0x03, 2, HASH_SHA256, 0x1c85b735, 256, 256);
	CHECK(ima_xattr_parse(v, n, &x) == IMA_XATTR_OK);
	CHECK(x.type == IMA_XATTR_DIGSIG);
	CHECK(x.version == 2);
	CHECK(x.algo == HASH_SHA256);
	CHECK(x.keyid == 0x1c85b735);
	CHECK(x.sig == v + 9);
	CHECK(x.sig_len == 256);

	n = make_sig(v, 0x06, 3, HASH_SHA512, 1, 72, 72);
	CHECK(ima_xattr_parse(v, n, &x) == IMA_XATTR_OK);
	CHECK(x.version == 3);
	CHECK(x.type == IMA_XATTR_VERITY_DIGSIG);

	CHECK(ima_xattr_parse(v, 8, &x) == IMA_XATTR_ERR_TRUNCATED);
	n = make_sig(v, 0x03, 2, HASH_SHA256, 1, 256, 256);
	CHECK(ima_xattr_parse(v, n - 1, &x) == IMA_XATTR_ERR_SIG_LENGTH);
	n = make_sig(v, 0x03, 2, HASH_SHA256, 1, 300, 256); /* length field too large */
	CHECK(ima_xattr_parse(v, n, &x) == IMA_XATTR_ERR_SIG_LENGTH);
	n = make_sig(v, 0x03, 2, HASH_SHA256, 1, 200, 256); /* trailing bytes */
	CHECK(ima_xattr_parse(v, n, &x) == IMA_XATTR_ERR_SIG_LENGTH);
	n = make_sig(v, 0x03, 2, HASH_SHA256, 1, 0, 0);
	CHECK(ima_xattr_parse(v, n, &x) == IMA_XATTR_ERR_EMPTY_SIG);
	n = make_sig(v, 0x03, 1, HASH_SHA256, 1, 256, 256);
	CHECK(ima_xattr_parse(v, n, &x) == IMA_XATTR_ERR_VERSION);
	n = make_sig(v, 0x03, 4, HASH_SHA256, 1, 256, 256);
	CHECK(ima_xattr_parse(v, n, &x) == IMA_XATTR_ERR_VERSION);
	n = make_sig(v, 0x03, 2, 23, 1, 256, 256);
	CHECK(ima_xattr_parse(v, n, &x) == IMA_XATTR_ERR_UNKNOWN_ALGO);
	n = make_sig(v, 0x03, 2, 18, 1, 256, 256); /* streebog256 */
	CHECK(ima_xattr_parse(v, n, &x) == IMA_XATTR_ERR_UNSUPPORTED_ALGO);
	n = make_sig(v, 0x05, 2, HASH_SHA256, 1, 256, 256);
	CHECK(ima_xattr_parse(v, n, &x) == IMA_XATTR_ERR_PORTABLE);

	for (unsigned int e = 0; e < IMA_XATTR_ERR__MAX; e++)
		CHECK(strcmp(ima_xattr_error_name((enum ima_xattr_error)e), "invalid") != 0);
}

static void test_xattr_hash_algo(void)
{
	uint8_t v[300];
	size_t n;

	CHECK(ima_xattr_hash_algo(NULL, 0, HASH_SHA256) == HASH_SHA256);
	v[0] = 0x04;
	v[1] = HASH_SHA512;
	CHECK(ima_xattr_hash_algo(v, 2, HASH_SHA256) == HASH_SHA512);
	v[1] = 0x30;
	CHECK(ima_xattr_hash_algo(v, 34, HASH_SHA256) == HASH_SHA256);
	memset(v, 0x11, sizeof(v));
	v[0] = 0x01;
	CHECK(ima_xattr_hash_algo(v, 21, HASH_SHA256) == HASH_SHA1);
	CHECK(ima_xattr_hash_algo(v, 17, HASH_SHA256) == HASH_MD5);
	CHECK(ima_xattr_hash_algo(v, 33, HASH_SHA256) == HASH_SHA256);
	memset(v + 17, 0, 4);
	CHECK(ima_xattr_hash_algo(v, 21, HASH_SHA256) == HASH_MD5);

	n = make_sig(v, 0x03, 2, HASH_SHA384, 1, 10, 10);
	CHECK(ima_xattr_hash_algo(v, n, HASH_SHA256) == HASH_SHA384);
	/* Taken from the header even when the length word is wrong, as the kernel does. */
	n = make_sig(v, 0x03, 2, HASH_SHA384, 1, 99, 10);
	CHECK(ima_xattr_hash_algo(v, n, HASH_SHA256) == HASH_SHA384);
	CHECK(ima_xattr_hash_algo(v, 9, HASH_SHA256) == HASH_SHA256);
	n = make_sig(v, 0x03, 1, HASH_SHA384, 1, 10, 10);
	CHECK(ima_xattr_hash_algo(v, n, HASH_SHA256) == HASH_SHA256);
	n = make_sig(v, 0x06, 2, HASH_SHA384, 1, 10, 10);
	CHECK(ima_xattr_hash_algo(v, n, HASH_SHA256) == HASH_SHA256);
	n = make_sig(v, 0x06, 3, HASH_SHA384, 1, 10, 10);
	CHECK(ima_xattr_hash_algo(v, n, HASH_SHA256) == HASH_SHA384);
	n = make_sig(v, 0x05, 2, HASH_SHA384, 1, 10, 10);
	CHECK(ima_xattr_hash_algo(v, n, HASH_SHA256) == HASH_SHA256);
	CHECK(appraise_hash_algo(v, n, HASH_SHA1) == HASH_SHA1);
}

static void test_xattr_build_digest(void)
{
	struct hash_digest d = digest_of(HASH_SHA256, hello, strlen(hello));
	uint8_t buf[IMA_XATTR_DIGEST_MAX_SIZE], want[IMA_XATTR_DIGEST_MAX_SIZE];
	struct ima_xattr x;

	want[0] = 0x04;
	want[1] = 0x04;
	CHECK(unhex(hello_sha256, want + 2, 32) == 32);
	CHECK(ima_xattr_build_digest(&d, buf, sizeof(buf)) == 34);
	CHECK(memcmp(buf, want, 34) == 0);
	CHECK(ima_xattr_build_digest(&d, buf, 33) == -ENOBUFS);

	d = digest_of(HASH_SHA1, hello, strlen(hello));
	want[0] = 0x01;
	CHECK(unhex(hello_sha1, want + 1, 20) == 20);
	CHECK(ima_xattr_build_digest(&d, buf, sizeof(buf)) == 21);
	CHECK(memcmp(buf, want, 21) == 0);

	d = digest_of(HASH_SHA512, hello, strlen(hello));
	CHECK(ima_xattr_build_digest(&d, buf, sizeof(buf)) == 66);
	CHECK(ima_xattr_parse(buf, 66, &x) == IMA_XATTR_OK);
	CHECK(x.algo == HASH_SHA512);

	d = digest_of(HASH_MD5, hello, strlen(hello));
	CHECK(ima_xattr_build_digest(&d, buf, sizeof(buf)) == 17);
	CHECK(ima_xattr_hash_algo(buf, 17, HASH_SHA256) == HASH_MD5);

	d.algo = HASH_MD4;
	CHECK(ima_xattr_build_digest(&d, buf, sizeof(buf)) == -EOPNOTSUPP);
	d.algo = HASH_SHA256; /* 16-byte length does not match */
	CHECK(ima_xattr_build_digest(&d, buf, sizeof(buf)) == -EINVAL);
}

static void test_cause_and_mode_names(void)
{
	static const char *const kernel_names[] = {
		"missing-hash",		    "invalid-hash",
		"invalid-signature",	    "IMA-signature-required",
		"invalid-signature-version", "unknown-ima-data",
		"denied-hash-algorithm",    "blacklisted-hash",
		"unknown-key",		    "invalid-xattr",
		"portable-signature-unsupported",
	};
	enum appraise_cause cause;
	enum appraise_mode mode;

	for (size_t i = 0; i < sizeof(kernel_names) / sizeof(kernel_names[0]); i++) {
		CHECK(appraise_cause_from_name(kernel_names[i], &cause) == 0);
		CHECK(strcmp(appraise_cause_name(cause), kernel_names[i]) == 0);
	}
	/* Every cause has a distinct name. */
	for (unsigned int i = 0; i < APPRAISE_CAUSE__MAX; i++) {
		CHECK(appraise_cause_from_name(appraise_cause_name((enum appraise_cause)i),
					       &cause) == 0);
		CHECK(cause == (enum appraise_cause)i);
	}
	CHECK(appraise_cause_from_name("blocklisted", &cause) == -EINVAL);

	CHECK(appraise_mode_from_name("enforce", &mode) == 0);
	CHECK(mode == APPRAISE_MODE_ENFORCE);
	CHECK(appraise_mode_from_name("log", &mode) == 0);
	CHECK(mode == APPRAISE_MODE_LOG);
	CHECK(appraise_mode_from_name("fix", &mode) == 0);
	CHECK(mode == APPRAISE_MODE_FIX);
	CHECK(appraise_mode_from_name("off", &mode) == 0);
	CHECK(mode == APPRAISE_MODE_OFF);
	CHECK(appraise_mode_from_name("offline", &mode) == -EINVAL);
	CHECK(appraise_mode_from_name("", &mode) == -EINVAL);
	CHECK(strcmp(appraise_mode_name(APPRAISE_MODE_FIX), "fix") == 0);
}

static void test_allowlist_parse(void)
{
	struct hash_digest d256 = digest_of(HASH_SHA256, hello, strlen(hello));
	struct hash_digest d1 = digest_of(HASH_SHA1, hello, strlen(hello));
	struct hash_digest d384 = digest_of(HASH_SHA384, hello, strlen(hello));
	struct hash_digest d512 = digest_of(HASH_SHA512, hello, strlen(hello));
	struct hash_digest other = digest_of(HASH_SHA256, "x", 1);
	char hex384[97], hex512[129], text[2048];
	struct allowlist_error err;
	struct allowlist *list = NULL;

	hash_to_hex(d384.bytes, d384.len, hex384);
	hash_to_hex(d512.bytes, d512.len, hex512);
	snprintf(text, sizeof(text),
		 "# comment line\r\n"
		 "\r\n"
		 "%s  /usr/bin/with space name\r\n"
		 "   # indented comment\n"
		 "%s *binary-marked\n"
		 "%s  sha384 file\n"
		 "%s  last line without newline",
		 hello_sha256, hello_sha1, hex384, hex512);
	CHECK(allowlist_parse(text, strlen(text), "inline", &list, &err) == 0);
	CHECK(allowlist_count(list) == 4);
	CHECK(allowlist_algos(list) == (1u << HASH_SHA1 | 1u << HASH_SHA256 | 1u << HASH_SHA384 |
					1u << HASH_SHA512));
	CHECK(allowlist_contains(list, HASH_SHA256, d256.bytes, d256.len));
	CHECK(allowlist_contains(list, HASH_SHA1, d1.bytes, d1.len));
	CHECK(allowlist_contains(list, HASH_SHA384, d384.bytes, d384.len));
	CHECK(allowlist_contains(list, HASH_SHA512, d512.bytes, d512.len));
	CHECK(!allowlist_contains(list, HASH_SHA256, other.bytes, other.len));
	/* The same bytes under another algorithm of that size do not match. */
	CHECK(!allowlist_contains(list, HASH_SM3, d256.bytes, d256.len));
	CHECK(!allowlist_contains(NULL, HASH_SHA256, d256.bytes, d256.len));
	list = allowlist_free(list);

	/* Uppercase hex and a duplicate digest. */
	snprintf(text, sizeof(text),
		 "3F865664CAFC0007C6EF91F7E6CAACD1797D92F9B707100170BF3A656331B6CF  a\n"
		 "%s  b\n",
		 hello_sha256);
	CHECK(allowlist_parse(text, strlen(text), "inline", &list, &err) == 0);
	CHECK(allowlist_count(list) == 1);
	CHECK(allowlist_contains(list, HASH_SHA256, d256.bytes, d256.len));
	list = allowlist_free(list);

	CHECK(allowlist_parse("", 0, "empty", &list, &err) == 0);
	CHECK(allowlist_count(list) == 0);
	list = allowlist_free(list);
}

/* Parse TEXT, expect a failure on LINE whose message contains NEEDLE. */
static void check_allowlist_error(const char *text, unsigned int line, const char *needle)
{
	struct allowlist_error err = { .line = 999 };
	struct allowlist *list = NULL;
	char prefix[64];
	int r;

	r = allowlist_parse(text, strlen(text), "bad.list", &list, &err);
	CHECK(r == -EINVAL);
	CHECK(list == NULL);
	CHECK(err.line == line);
	CHECK(strcmp(err.origin, "bad.list") == 0);
	snprintf(prefix, sizeof(prefix), "'bad.list' line %u: ", line);
	CHECK(strncmp(err.message, prefix, strlen(prefix)) == 0);
	if (!strstr(err.message, needle)) {
		failed++;
		fprintf(stderr, "%s:%d: message '%s' lacks '%s'\n", __FILE__, __LINE__,
			err.message, needle);
	} else {
		passed++;
	}
}

static void test_allowlist_errors(void)
{
	char text[512];

	snprintf(text, sizeof(text), "%s  ok\n3f8656  short\n", hello_sha256);
	check_allowlist_error(text, 2, "6 hex digits");
	snprintf(text, sizeof(text), "# c\n%s name\n", hello_sha256);
	check_allowlist_error(text, 2, "two spaces");
	snprintf(text, sizeof(text), "%s  \n", hello_sha256);
	check_allowlist_error(text, 1, "file name missing");
	snprintf(text, sizeof(text), "%s\n", hello_sha256);
	check_allowlist_error(text, 1, "two spaces");
	check_allowlist_error("\n\nSHA256 (a) = 3f86\n", 3, "'SHA256 (a) = 3f86'");
	check_allowlist_error("\n\nSHA256 (a) = 3f86\n", 3, "without 'sha256sum --tag'");
	check_allowlist_error("zz  a\n", 1, "expected a hex digest");
	snprintf(text, sizeof(text), "%.63sg  a\n", hello_sha256);
	check_allowlist_error(text, 1, "expected a hex digest");
	check_allowlist_error("d41d8cd98f00b204e9800998ecf8427e  md5sum-line\n", 1,
			      "32 hex digits");

	/* A NUL byte, which strlen() would hide. */
	{
		static const char nul[] = "# list\nabc\0def\n";
		struct allowlist_error err = { 0 };
		struct allowlist *list = NULL;

		CHECK(allowlist_parse(nul, sizeof(nul) - 1, "nul.list", &list, &err) == -EINVAL);
		CHECK(err.line == 2);
		CHECK(strstr(err.message, "NUL byte") != NULL);
	}
}

/* ------------------------------------------------------------------ */
/* Part 2: fixtures made with openssl and evmctl                       */

static char fixture_dir[] = "/var/tmp/imafs-test-appraise-XXXXXX";

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = system(cmd);
	if (r != 0)
		fprintf(stderr, "command failed (%d): %s\n", r, cmd);
	return r;
}

/* Run CMD (through the shell) and decode its standard output as hex into BUF. */
static ssize_t run_hex(uint8_t *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static ssize_t run_hex(uint8_t *buf, size_t size, const char *fmt, ...)
{
	char cmd[2048], out[4096];
	size_t n;
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	if (pclose(p) != 0) {
		fprintf(stderr, "command failed: %s\n", cmd);
		return -1;
	}
	return unhex(out, buf, size);
}

static bool have_tool(const char *name)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int r = 0;

	if (!f)
		return -errno;
	if (fwrite(data, 1, len, f) != len)
		r = -EIO;
	if (fclose(f) != 0)
		r = -EIO;
	return r;
}

/* Path of the fixture NAME; one stable buffer per name, so callers may keep it. */
static const char *fixture(const char *name)
{
	static struct {
		char name[32];
		char path[512];
	} paths[32];
	static unsigned int count;

	for (unsigned int i = 0; i < count; i++) {
		if (!strcmp(paths[i].name, name))
			return paths[i].path;
	}
	if (count == sizeof(paths) / sizeof(paths[0])) {
		fprintf(stderr, "too many fixture names\n");
		exit(2);
	}
	snprintf(paths[count].name, sizeof(paths[0].name), "%s", name);
	snprintf(paths[count].path, sizeof(paths[0].path), "%s/%s", fixture_dir, name);
	return paths[count++].path;
}

static int hash_path(enum hash_algo algo, const char *path, struct hash_digest *ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = hash_fd(algo, fd, ret);
	close(fd);
	return r;
}

/* Appraise the file at PATH with VALUE as its xattr, hashed with the algorithm VALUE selects. */
static struct appraise_result appraise_file(const uint8_t *value, size_t len, const char *path,
					    const struct appraise_params *params)
{
	struct appraise_result res = { .cause = APPRAISE_CAUSE__MAX };
	struct hash_digest d;

	if (hash_path(appraise_hash_algo(value, len, HASH_SHA256), path, &d) < 0) {
		fprintf(stderr, "cannot hash %s\n", path);
		return res;
	}
	(void)appraise_decide(value, len, &d, params, &res);
	return res;
}

static int make_fixtures(void)
{
	static const char req[] = "openssl req -x509 -nodes -days 2 -subj /CN=imafs-test-%s "
				  "-keyout %s/%s.key -out %s/%s.crt %s >/dev/null 2>&1";
	const char *d = fixture_dir;
	int r = 0;

	r |= run(req, "rsa", d, "rsa", d, "rsa",
		 "-newkey rsa:2048 -addext subjectKeyIdentifier=hash");
	r |= run(req, "ec", d, "ec", d, "ec",
		 "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
		 "-addext subjectKeyIdentifier=hash");
	r |= run(req, "other", d, "other", d, "other",
		 "-newkey rsa:2048 -addext subjectKeyIdentifier=hash");
	r |= run(req, "noskid", d, "noskid", d, "noskid",
		 "-newkey rsa:2048 -addext subjectKeyIdentifier=none");
	r |= run(req, "small", d, "small", d, "small",
		 "-newkey rsa:1024 -addext subjectKeyIdentifier=hash");
	r |= run(req, "p224", d, "p224", d, "p224",
		 "-newkey ec -pkeyopt ec_paramgen_curve:secp224r1 "
		 "-addext subjectKeyIdentifier=hash");
	r |= run("openssl x509 -in %s/rsa.crt -outform DER -out %s/rsa.der", d, d);
	r |= run("openssl x509 -in %s/ec.crt -outform DER -out %s/ec.der", d, d);
	r |= run("mkdir %s/keys %s/dup %s/junk %s/empty && cp %s/rsa.crt %s/keys/a.pem && "
		 "cp %s/ec.der %s/keys/b.der && cp %s/rsa.crt %s/dup/a.pem && "
		 "cp %s/rsa.der %s/dup/b.der && echo junk > %s/junk/x.pem",
		 d, d, d, d, d, d, d, d, d, d, d, d, d);
	r |= write_file(fixture("a.txt"), hello, strlen(hello));
	r |= write_file(fixture("a_mod.txt"), "hello IMA!", 10);
	r |= write_file(fixture("b.txt"), "world\n", 6);
	return r;
}

static void check_keys_error(struct keyring *ring, const char *path, int want_r,
			     const char *needle)
{
	struct keys_error err = { 0 };
	size_t before = keys_count(ring);
	int r = keys_add_path(ring, path, &err);

	CHECK(r == want_r);
	CHECK(keys_count(ring) == before);
	if (!strstr(err.message, needle) || !strstr(err.message, fixture_dir)) {
		failed++;
		fprintf(stderr, "%s:%d: keys error for %s: '%s' lacks '%s' or the path\n",
			__FILE__, __LINE__, path, err.message, needle);
	} else {
		passed++;
	}
}

static void test_keys_loading(struct keyring **ret_ring)
{
	struct keyring *ring = NULL, *scratch = NULL;
	struct keys_error err = { 0 };
	int r;

	CHECK(keys_new(&ring) == 0);
	r = keys_add_path(ring, fixture("keys"), &err);
	if (r < 0)
		fprintf(stderr, "keys: %s\n", err.message);
	CHECK(r == 0);
	CHECK(keys_count(ring) == 2);

	CHECK(keys_new(&scratch) == 0);
	check_keys_error(scratch, fixture("dup"), -EINVAL, "already used");
	check_keys_error(scratch, fixture("noskid.crt"), -EINVAL, "no Subject Key Identifier");
	check_keys_error(scratch, fixture("small.crt"), -EINVAL, "1024-bit RSA key");
	check_keys_error(scratch, fixture("p224.crt"), -EINVAL, "secp224r1");
	check_keys_error(scratch, fixture("rsa.key"), -EINVAL, "private key");
	check_keys_error(scratch, fixture("junk"), -EINVAL, "neither a PEM nor a DER");
	check_keys_error(scratch, fixture("empty"), -ENOENT, "without certificates");
	check_keys_error(scratch, fixture("missing"), -ENOENT, "cannot open");
	CHECK(keys_add_path(scratch, fixture("rsa.crt"), &err) == 0);
	check_keys_error(scratch, fixture("rsa.der"), -EINVAL, "already used");
	CHECK(keys_count(scratch) == 1);
	scratch = keys_free(scratch);

	*ret_ring = ring;
}

struct signed_files {
	uint8_t rsa[600], ec[200], other[600], rsa_b[600], rsa_512[600];
	size_t rsa_len, ec_len, other_len, rsa_b_len, rsa_512_len;
	uint8_t h256[80], h1[80], h512[80];
	size_t h256_len, h1_len, h512_len;
};

static int make_signatures(struct signed_files *s)
{
	static const char sign[] = "evmctl ima_sign --key %s -a %s -n %s 2>/dev/null";
	static const char hash[] = "evmctl ima_hash -a %s -n %s 2>/dev/null";
	ssize_t n[8];

	n[0] = run_hex(s->rsa, sizeof(s->rsa), sign, fixture("rsa.key"), "sha256",
		       fixture("a.txt"));
	n[1] = run_hex(s->ec, sizeof(s->ec), sign, fixture("ec.key"), "sha256", fixture("a.txt"));
	n[2] = run_hex(s->other, sizeof(s->other), sign, fixture("other.key"), "sha256",
		       fixture("a.txt"));
	n[3] = run_hex(s->rsa_b, sizeof(s->rsa_b), sign, fixture("rsa.key"), "sha256",
		       fixture("b.txt"));
	n[4] = run_hex(s->rsa_512, sizeof(s->rsa_512), sign, fixture("rsa.key"), "sha512",
		       fixture("a.txt"));
	n[5] = run_hex(s->h256, sizeof(s->h256), hash, "sha256", fixture("a.txt"));
	n[6] = run_hex(s->h1, sizeof(s->h1), hash, "sha1", fixture("a.txt"));
	n[7] = run_hex(s->h512, sizeof(s->h512), hash, "sha512", fixture("a.txt"));
	for (unsigned int i = 0; i < 8; i++) {
		if (n[i] <= 0)
			return -1;
	}
	s->rsa_len = (size_t)n[0];
	s->ec_len = (size_t)n[1];
	s->other_len = (size_t)n[2];
	s->rsa_b_len = (size_t)n[3];
	s->rsa_512_len = (size_t)n[4];
	s->h256_len = (size_t)n[5];
	s->h1_len = (size_t)n[6];
	s->h512_len = (size_t)n[7];
	return 0;
}

static void test_signatures_and_hashes(const struct signed_files *s, const struct keyring *ring)
{
	struct appraise_params params = { .keys = ring };
	struct appraise_result res;
	const char *a = fixture("a.txt"), *a_mod = fixture("a_mod.txt");

	res = appraise_file(s->rsa, s->rsa_len, a, &params);
	CHECK_VERDICT(res, true, "none");
	CHECK(res.sig == s->rsa);
	CHECK(res.sig_len == s->rsa_len);
	CHECK(res.has_keyid);
	res = appraise_file(s->ec, s->ec_len, a, &params);
	CHECK_VERDICT(res, true, "none");
	res = appraise_file(s->rsa_512, s->rsa_512_len, a, &params);
	CHECK_VERDICT(res, true, "none");
	res = appraise_file(s->h256, s->h256_len, a, &params);
	CHECK_VERDICT(res, true, "none");
	CHECK(res.sig == NULL);
	CHECK(!res.has_keyid);
	res = appraise_file(s->h1, s->h1_len, a, &params);
	CHECK_VERDICT(res, true, "none");
	res = appraise_file(s->h512, s->h512_len, a, &params);
	CHECK_VERDICT(res, true, "none");

	/* One byte of the file changed. */
	res = appraise_file(s->rsa, s->rsa_len, a_mod, &params);
	CHECK_VERDICT(res, false, "invalid-signature");
	res = appraise_file(s->ec, s->ec_len, a_mod, &params);
	CHECK_VERDICT(res, false, "invalid-signature");
	res = appraise_file(s->h256, s->h256_len, a_mod, &params);
	CHECK_VERDICT(res, false, "invalid-hash");
	res = appraise_file(s->h1, s->h1_len, a_mod, &params);
	CHECK_VERDICT(res, false, "invalid-hash");

	/* Key not in the keyring, no keyring at all, signature over another file. */
	res = appraise_file(s->other, s->other_len, a, &params);
	CHECK_VERDICT(res, false, "unknown-key");
	CHECK(res.sig == s->other);
	params.keys = NULL;
	res = appraise_file(s->rsa, s->rsa_len, a, &params);
	CHECK_VERDICT(res, false, "unknown-key");
	params.keys = ring;
	res = appraise_file(s->rsa_b, s->rsa_b_len, a, &params);
	CHECK_VERDICT(res, false, "invalid-signature");
}

static void test_damaged_values(const struct signed_files *s, const struct keyring *ring)
{
	struct appraise_params params = { .keys = ring };
	struct appraise_result res;
	const char *a = fixture("a.txt");
	uint8_t v[600];

	/* Truncated signature. */
	res = appraise_file(s->rsa, s->rsa_len - 1, a, &params);
	CHECK_VERDICT(res, false, "invalid-xattr");
	CHECK(res.xattr_error == IMA_XATTR_ERR_SIG_LENGTH);
	CHECK(res.sig == s->rsa);
	CHECK(res.sig_len == s->rsa_len - 1);
	res = appraise_file(s->rsa, 5, a, &params);
	CHECK_VERDICT(res, false, "invalid-xattr");
	CHECK(res.xattr_error == IMA_XATTR_ERR_TRUNCATED);
	res = appraise_file(s->h256, s->h256_len - 1, a, &params);
	CHECK_VERDICT(res, false, "invalid-xattr");
	CHECK(res.xattr_error == IMA_XATTR_ERR_DIGEST_LENGTH);

	/* Wrong algorithm byte: out of range, and a valid but different one. */
	memcpy(v, s->rsa, s->rsa_len);
	v[2] = 0x30;
	res = appraise_file(v, s->rsa_len, a, &params);
	CHECK_VERDICT(res, false, "invalid-xattr");
	CHECK(res.xattr_error == IMA_XATTR_ERR_UNKNOWN_ALGO);
	v[2] = HASH_SHA512;
	res = appraise_file(v, s->rsa_len, a, &params);
	CHECK_VERDICT(res, false, "invalid-signature");
	v[2] = 18; /* streebog256 */
	res = appraise_file(v, s->rsa_len, a, &params);
	CHECK_VERDICT(res, false, "unavailable-hash-algorithm");
	memcpy(v, s->h256, s->h256_len);
	v[1] = 0x30;
	res = appraise_file(v, s->h256_len, a, &params);
	CHECK_VERDICT(res, false, "invalid-xattr");

	/* Length field larger than the signature that follows. */
	memcpy(v, s->rsa, s->rsa_len);
	v[7] = 0xff;
	res = appraise_file(v, s->rsa_len, a, &params);
	CHECK_VERDICT(res, false, "invalid-xattr");
	CHECK(res.xattr_error == IMA_XATTR_ERR_SIG_LENGTH);

	/* A key id byte changed: the key is not found. */
	memcpy(v, s->rsa, s->rsa_len);
	v[6] ^= 1;
	res = appraise_file(v, s->rsa_len, a, &params);
	CHECK_VERDICT(res, false, "unknown-key");

	/* Type bytes and versions. */
	memcpy(v, s->rsa, s->rsa_len);
	v[0] = 0x05;
	res = appraise_file(v, s->rsa_len, a, &params);
	CHECK_VERDICT(res, false, "portable-signature-unsupported");
	CHECK(res.sig == NULL);
	v[0] = 0x02;
	res = appraise_file(v, s->rsa_len, a, &params);
	CHECK_VERDICT(res, false, "unknown-ima-data");
	v[0] = 0x03;
	v[1] = 1;
	res = appraise_file(v, s->rsa_len, a, &params);
	CHECK_VERDICT(res, false, "invalid-signature-version");
	v[1] = 3; /* a v2 signature claimed as v3 */
	params.flags = APPRAISE_SIGV3_ALLOWED;
	res = appraise_file(v, s->rsa_len, a, &params);
	CHECK_VERDICT(res, false, "invalid-signature");
	params.flags = 0;
	res = appraise_file(v, s->rsa_len, a, &params);
	CHECK_VERDICT(res, false, "invalid-signature-version");
}

static void test_rule_flags(const struct signed_files *s, const struct keyring *ring)
{
	struct appraise_params params = { .keys = ring, .flags = APPRAISE_SIG_REQUIRED };
	struct allowlist *allow = NULL, *block = NULL;
	struct allowlist_error err;
	struct appraise_result res;
	const char *a = fixture("a.txt");
	char text[256];

	/* appraise_type=imasig. */
	res = appraise_file(s->h256, s->h256_len, a, &params);
	CHECK_VERDICT(res, false, "IMA-signature-required");
	res = appraise_file(s->h1, s->h1_len, a, &params);
	CHECK_VERDICT(res, false, "IMA-signature-required");
	res = appraise_file(NULL, 0, a, &params);
	CHECK_VERDICT(res, false, "IMA-signature-required");
	res = appraise_file(s->rsa, s->rsa_len, a, &params);
	CHECK_VERDICT(res, true, "none");
	params.flags = APPRAISE_SIGV3_REQUIRED;
	res = appraise_file(s->rsa, s->rsa_len, a, &params);
	CHECK_VERDICT(res, false, "invalid-signature-version");

	/* Missing xattr, and the allowlist standing in for it. */
	params.flags = 0;
	res = appraise_file(NULL, 0, a, &params);
	CHECK_VERDICT(res, false, "missing-hash");
	res = appraise_file(s->h256, 0, a, &params);
	CHECK_VERDICT(res, false, "missing-hash");
	snprintf(text, sizeof(text), "%s  %s\n", hello_sha256, a);
	CHECK(allowlist_parse(text, strlen(text), "allow", &allow, &err) == 0);
	CHECK(allowlist_parse(text, strlen(text), "block", &block, &err) == 0);
	params.allowlist = allow;
	res = appraise_file(NULL, 0, a, &params);
	CHECK_VERDICT(res, true, "none");
	CHECK(res.allowlisted);
	res = appraise_file(NULL, 0, fixture("b.txt"), &params);
	CHECK_VERDICT(res, false, "missing-hash");
	params.flags = APPRAISE_SIG_REQUIRED;
	res = appraise_file(NULL, 0, a, &params);
	CHECK_VERDICT(res, false, "IMA-signature-required");
	/* The allowlist does not override a wrong hash xattr. */
	params.flags = 0;
	res = appraise_file(s->h256, s->h256_len, fixture("a_mod.txt"), &params);
	CHECK_VERDICT(res, false, "invalid-hash");
	params.allowlist = NULL;

	/* Blocklist, only with the check flag. */
	params.blocklist = block;
	res = appraise_file(s->rsa, s->rsa_len, a, &params);
	CHECK_VERDICT(res, true, "none");
	params.flags = APPRAISE_CHECK_BLOCKLIST;
	res = appraise_file(s->rsa, s->rsa_len, a, &params);
	CHECK_VERDICT(res, false, "blacklisted-hash");
	res = appraise_file(s->h512, s->h512_len, a, &params);
	CHECK_VERDICT(res, true, "none"); /* sha512 digest, sha256 list */
	params.blocklist = NULL;

	/* appraise_algos. */
	params.flags = 0;
	params.allowed_algos = 1u << HASH_SHA512;
	res = appraise_file(s->rsa, s->rsa_len, a, &params);
	CHECK_VERDICT(res, false, "denied-hash-algorithm");
	res = appraise_file(s->rsa_512, s->rsa_512_len, a, &params);
	CHECK_VERDICT(res, true, "none");
	res = appraise_file(s->h512, s->h512_len, a, &params);
	CHECK_VERDICT(res, true, "none");

	allowlist_free(allow);
	allowlist_free(block);
}

/*
 * Make a format v3 value of TYPE for FILE: sign the ima_file_id bytes with
 * "openssl dgst -sha256 -sign", which hashes them and signs that hash, and
 * put the header in front with KEYID.
 */
static ssize_t make_v3(uint8_t *v, size_t size, uint8_t type, const char *key, uint32_t keyid,
		       const char *file)
{
	struct hash_digest d;
	uint8_t file_id[2 + 32], sig[512];
	ssize_t sig_len;
	size_t n;

	if (hash_path(HASH_SHA256, file, &d) < 0)
		return -1;
	file_id[0] = type;
	file_id[1] = HASH_SHA256;
	memcpy(file_id + 2, d.bytes, 32);
	if (write_file(fixture("file_id.bin"), file_id, sizeof(file_id)) < 0)
		return -1;
	sig_len = run_hex(sig, sizeof(sig),
			  "openssl dgst -sha256 -sign %s %s | od -An -v -tx1 | tr -d ' \\n'", key,
			  fixture("file_id.bin"));
	if (sig_len <= 0 || (size_t)sig_len + 9 > size)
		return -1;
	n = make_sig(v, type, 3, HASH_SHA256, keyid, (unsigned int)sig_len, 0);
	memcpy(v + 9, sig, (size_t)sig_len);
	return (ssize_t)(n + (size_t)sig_len);
}

static uint32_t keyid_of(const uint8_t *v)
{
	return (uint32_t)v[3] << 24 | (uint32_t)v[4] << 16 | (uint32_t)v[5] << 8 | v[6];
}

static void test_sigv3(const struct signed_files *s, const struct keyring *ring)
{
	struct appraise_params params = { .keys = ring };
	struct appraise_result res;
	const char *a = fixture("a.txt");
	uint8_t v3_rsa[600], v3_ec[200], verity[600], swapped[600];
	ssize_t n_rsa, n_ec, n_verity;

	n_rsa = make_v3(v3_rsa, sizeof(v3_rsa), 0x03, fixture("rsa.key"), keyid_of(s->rsa), a);
	n_ec = make_v3(v3_ec, sizeof(v3_ec), 0x03, fixture("ec.key"), keyid_of(s->ec), a);
	n_verity = make_v3(verity, sizeof(verity), 0x06, fixture("rsa.key"), keyid_of(s->rsa), a);
	CHECK(n_rsa > 0);
	CHECK(n_ec > 0);
	CHECK(n_verity > 0);
	if (n_rsa <= 0 || n_ec <= 0 || n_verity <= 0)
		return;

	/* Type 0x03 version 3: only where the rule allows it. */
	res = appraise_file(v3_rsa, (size_t)n_rsa, a, &params);
	CHECK_VERDICT(res, false, "invalid-signature-version");
	params.flags = APPRAISE_SIGV3_ALLOWED;
	res = appraise_file(v3_rsa, (size_t)n_rsa, a, &params);
	CHECK_VERDICT(res, true, "none");
	res = appraise_file(v3_ec, (size_t)n_ec, a, &params);
	CHECK_VERDICT(res, true, "none");
	res = appraise_file(v3_rsa, (size_t)n_rsa, fixture("a_mod.txt"), &params);
	CHECK_VERDICT(res, false, "invalid-signature");
	params.flags = APPRAISE_SIGV3_REQUIRED;
	res = appraise_file(v3_ec, (size_t)n_ec, a, &params);
	CHECK_VERDICT(res, true, "none");

	/* Type 0x06: the file-id type byte binds the signature to its xattr type. */
	params.flags = 0;
	res = appraise_file(verity, (size_t)n_verity, a, &params);
	CHECK_VERDICT(res, true, "none");
	CHECK(res.sig == verity);
	memcpy(swapped, v3_rsa, (size_t)n_rsa);
	swapped[0] = 0x06;
	res = appraise_file(swapped, (size_t)n_rsa, a, &params);
	CHECK_VERDICT(res, false, "invalid-verity-signature");
	params.flags = APPRAISE_SIGV3_ALLOWED;
	memcpy(swapped, verity, (size_t)n_verity);
	swapped[0] = 0x03;
	res = appraise_file(swapped, (size_t)n_verity, a, &params);
	CHECK_VERDICT(res, false, "invalid-signature");
	params.flags = APPRAISE_SIG_REQUIRED;
	res = appraise_file(verity, (size_t)n_verity, a, &params);
	CHECK_VERDICT(res, false, "IMA-signature-required");
	params.flags = 0;
	memcpy(swapped, verity, (size_t)n_verity);
	swapped[1] = 2;
	res = appraise_file(swapped, (size_t)n_verity, a, &params);
	CHECK_VERDICT(res, false, "invalid-signature-version");
}

static void test_keys_verify_direct(const struct signed_files *s, const struct keyring *ring)
{
	struct hash_digest d;
	struct ima_xattr x;

	CHECK(hash_path(HASH_SHA256, fixture("a.txt"), &d) == 0);
	CHECK(ima_xattr_parse(s->rsa, s->rsa_len, &x) == IMA_XATTR_OK);
	CHECK(keys_has(ring, x.keyid));
	CHECK(keys_verify(ring, x.keyid, HASH_SHA256, d.bytes, d.len, x.sig, x.sig_len) == 0);
	CHECK(keys_verify_xattr(ring, &x, &d) == 0);
	CHECK(keys_verify(ring, x.keyid ^ 1, HASH_SHA256, d.bytes, d.len, x.sig, x.sig_len) ==
	      -ENOKEY);
	CHECK(keys_verify(ring, x.keyid, HASH_SHA256, d.bytes, d.len - 1, x.sig, x.sig_len) ==
	      -EINVAL);
	d.bytes[0] ^= 1;
	CHECK(keys_verify(ring, x.keyid, HASH_SHA256, d.bytes, d.len, x.sig, x.sig_len) ==
	      -EBADMSG);
	CHECK(keys_verify_xattr(ring, &x, &d) == -EBADMSG);
	CHECK(keys_verify(ring, x.keyid, HASH_SHA256, d.bytes, d.len, x.sig, 0) == -EBADMSG);

	CHECK(ima_xattr_parse(s->ec, s->ec_len, &x) == IMA_XATTR_OK);
	d.bytes[0] ^= 1;
	CHECK(keys_verify(ring, x.keyid, HASH_SHA256, d.bytes, d.len, x.sig, x.sig_len) == 0);
	/* A DER signature cut short is malformed, which counts as invalid. */
	CHECK(keys_verify(ring, x.keyid, HASH_SHA256, d.bytes, d.len, x.sig, x.sig_len - 3) ==
	      -EBADMSG);
}

/* Read back what "evmctl ima_sign" (without -n) wrote to security.ima. */
static void test_xattr_readback(const struct signed_files *s, const struct keyring *ring)
{
	struct appraise_params params = { .keys = ring };
	struct appraise_result res;
	const char *c = fixture("c.txt");
	uint8_t v[600];
	ssize_t n;

	if (write_file(c, hello, strlen(hello)) < 0 ||
	    run("evmctl ima_sign --key %s -a sha256 %s >/dev/null 2>&1", fixture("rsa.key"), c)) {
		printf("skip: cannot set security.ima in %s\n", fixture_dir);
		return;
	}
	n = lgetxattr(c, "security.ima", v, sizeof(v));
	if (n < 0) {
		printf("skip: cannot read security.ima back: %s\n", strerror(errno));
		return;
	}
	CHECK((size_t)n == s->rsa_len);
	CHECK(memcmp(v, s->rsa, s->rsa_len) == 0);
	res = appraise_file(v, (size_t)n, c, &params);
	CHECK_VERDICT(res, true, "none");
}

static void test_with_tools(void)
{
	struct signed_files s;
	struct keyring *ring = NULL;

	if (!have_tool("openssl") || !have_tool("evmctl")) {
		printf("skip: openssl or evmctl not installed, signature tests not run\n");
		return;
	}
	if (!mkdtemp(fixture_dir)) {
		fprintf(stderr, "mkdtemp %s: %s\n", fixture_dir, strerror(errno));
		failed++;
		return;
	}
	if (make_fixtures() != 0 || make_signatures(&s) != 0) {
		fprintf(stderr, "making fixtures in %s failed\n", fixture_dir);
		failed++;
		goto out_remove;
	}

	test_keys_loading(&ring);
	if (keys_count(ring) == 2) {
		test_signatures_and_hashes(&s, ring);
		test_damaged_values(&s, ring);
		test_rule_flags(&s, ring);
		test_sigv3(&s, ring);
		test_keys_verify_direct(&s, ring);
		test_xattr_readback(&s, ring);
	}
	keys_free(ring);

out_remove:
	run("rm -rf '%s'", fixture_dir);
}

/* ------------------------------------------------------------------ */
/* Part 3: saved evmctl output                                         */

static int read_whole(const char *path, uint8_t *buf, size_t size, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, size, f);
	fclose(f);
	*ret_len = n;
	return 0;
}

static void test_vectors(const char *dir)
{
	struct appraise_params params = { 0 };
	struct keyring *ring = NULL;
	struct keys_error err = { 0 };
	struct appraise_result res;
	char path[1024], hello_path[1024], world_path[1024];
	uint8_t rsa_sig[600], ec_sig[200];
	size_t rsa_len = 0, ec_len = 0;

	CHECK(keys_new(&ring) == 0);
	snprintf(path, sizeof(path), "%s/rsa.der", dir);
	CHECK(keys_add_path(ring, path, &err) == 0);
	snprintf(path, sizeof(path), "%s/ec.der", dir);
	CHECK(keys_add_path(ring, path, &err) == 0);
	CHECK(keys_has(ring, 0x1c85b735));
	CHECK(keys_has(ring, 0xd2664af4));
	params.keys = ring;

	snprintf(path, sizeof(path), "%s/hello_rsa_xattr.bin", dir);
	CHECK(read_whole(path, rsa_sig, sizeof(rsa_sig), &rsa_len) == 0);
	CHECK(rsa_len == 265);
	snprintf(path, sizeof(path), "%s/world_ec_xattr.bin", dir);
	CHECK(read_whole(path, ec_sig, sizeof(ec_sig), &ec_len) == 0);
	CHECK(ec_len == 81);
	snprintf(hello_path, sizeof(hello_path), "%s/hello.txt", dir);
	snprintf(world_path, sizeof(world_path), "%s/world.txt", dir);

	res = appraise_file(rsa_sig, rsa_len, hello_path, &params);
	CHECK_VERDICT(res, true, "none");
	CHECK(res.keyid == 0x1c85b735);
	res = appraise_file(ec_sig, ec_len, world_path, &params);
	CHECK_VERDICT(res, true, "none");
	CHECK(res.keyid == 0xd2664af4);
	res = appraise_file(rsa_sig, rsa_len, world_path, &params);
	CHECK_VERDICT(res, false, "invalid-signature");
	res = appraise_file(ec_sig, ec_len, hello_path, &params);
	CHECK_VERDICT(res, false, "invalid-signature");
	keys_free(ring);
}

int main(int argc, char **argv)
{
	/* Keep the summary line after the failure lines when both go to one pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("IMAFS_TEST_DEBUG"))
		log_set_max_level(LOG_DEBUG);
	test_xattr_digest_forms();
	test_xattr_signature_header();
	test_xattr_hash_algo();
	test_xattr_build_digest();
	test_cause_and_mode_names();
	test_allowlist_parse();
	test_allowlist_errors();
	test_with_tools();
	if (argc > 1)
		test_vectors(argv[1]);

	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
