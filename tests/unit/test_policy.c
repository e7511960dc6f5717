/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for policy/policy.c. They cover the verdict, line and column for each keyword in
 * valid and invalid forms, kernel versions and extensions, and all-or-nothing loading. They
 * check the matching rules of the first-match walk for all four kinds, the built-in policies,
 * explanations, the checker's findings and the canonical printer.
 *
 * Each failed check prints file:line, the expression and the case. The last line counts
 * passed and failed checks. The exit status is non-zero when any check failed.
 */
#include "policy/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned int passed, failed;

static void check(bool ok, const char *file, int line, const char *expr, const char *label)
{
	if (ok) {
		passed++;
		return;
	}
	failed++;
	if (label)
		fprintf(stderr, "%s:%d: check failed: %s [case: %s]\n", file, line, expr, label);
	else
		fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
}

#define CHECK(expr) check((expr), __FILE__, __LINE__, #expr, NULL)
#define CHECK_CASE(expr, label) check((expr), __FILE__, __LINE__, #expr, (label))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Parse cases: a verdict and, for rejections, the position and a part of the message. */

struct parse_case {
	const char *text;
	int expect;	     /* 0 or -EINVAL */
	unsigned int line;   /* for rejections; 0 skips the check */
	unsigned int col;    /* for rejections; 0 skips the check */
	const char *message; /* expected substring of the message, or NULL */
};

#define OK(text)                                                                                   \
	{                                                                                          \
		text, 0, 0, 0, NULL                                                                \
	}
#define BAD(text, col, message)                                                                    \
	{                                                                                          \
		text, -EINVAL, 1, col, message                                                     \
	}

static const struct parse_case parse_cases[] = {
	/* Actions. */
	OK("measure"),
	OK("dont_measure"),
	OK("appraise"),
	OK("dont_appraise"),
	OK("audit"),
	OK("dont_audit"),
	OK("hash"),
	OK("dont_hash"),
	BAD("MEASURE", 1, "case-sensitive, write 'measure'"),
	BAD("measure dont_measure", 9, "exactly one action"),
	BAD("measure measure", 9, "repeats 'measure' from column 1"),
	BAD("func=BPRM_CHECK", 1, "rule has no action"),
	BAD("  func=BPRM_CHECK mask=MAY_EXEC", 3, "rule has no action"),
	BAD("measure\r", 1, "carriage return"),
	BAD("measure func=FILE_CHECK\r", 9, "carriage return"),
	BAD("measure \\", 9, "cannot continue on the next line"),
	BAD("fnc=FILE_CHECK measure", 1,
	    "unknown keyword 'fnc=FILE_CHECK'; did you mean 'func='? Expected one of measure,"),
	BAD("dnt_measure fsmagic=0x9fa0", 1, "did you mean 'dont_measure'?"),
	BAD("measure < add LSM specific rules here >", 9, "unknown keyword '<'"),

	/* func=, every name and alias. */
	OK("measure func=FILE_CHECK"),
	OK("measure func=PATH_CHECK"),
	OK("measure func=MMAP_CHECK"),
	OK("measure func=FILE_MMAP"),
	OK("measure func=MMAP_CHECK_REQPROT"),
	OK("measure func=BPRM_CHECK"),
	OK("measure func=CREDS_CHECK"),
	OK("measure func=MODULE_CHECK"),
	OK("measure func=FIRMWARE_CHECK"),
	OK("measure func=KEXEC_KERNEL_CHECK"),
	OK("measure func=KEXEC_INITRAMFS_CHECK"),
	OK("measure func=POLICY_CHECK"),
	OK("measure func=KEXEC_CMDLINE"),
	OK("measure func=KEY_CHECK"),
	OK("measure func=CRITICAL_DATA"),
	OK("appraise func=SETXATTR_CHECK appraise_algos=sha256"),
	OK("func=BPRM_CHECK measure"),
	BAD("measure func=file_check", 9, "upper case, write 'func=FILE_CHECK'"),
	BAD("measure func=INODE_PERM", 9, "INODE_PERM"),
	BAD("measure func=POST_SETATTR", 9, "internal to the kernel"),
	BAD("measure func=NOPE", 9, "invalid func value 'NOPE'; use one of FILE_CHECK,"),
	BAD("measure func=", 9, "missing value in 'func='"),
	BAD("measure func = BPRM_CHECK", 9, "did you mean 'func='?"),
	BAD("measure func=BPRM_CHECK func=FILE_CHECK", 25, "repeats 'func=BPRM_CHECK'"),
	BAD("measure func=BPRM_CHECK#exec", 9, "'#' starts a comment only"),

	/* mask=. */
	OK("measure mask=MAY_EXEC"),
	OK("measure mask=MAY_WRITE"),
	OK("measure mask=MAY_READ"),
	OK("measure mask=MAY_APPEND"),
	OK("measure mask=^MAY_EXEC"),
	OK("measure mask=^MAY_WRITE"),
	OK("measure mask=^MAY_READ"),
	OK("measure mask=^MAY_APPEND"),
	BAD("measure mask=MAY_RED", 9,
	    "invalid mask value 'MAY_RED'; use MAY_EXEC, MAY_WRITE, MAY_READ or MAY_APPEND, "
	    "optionally prefixed with ^"),
	BAD("measure mask=^", 9, "invalid mask value '^'"),
	BAD("measure mask=^^MAY_READ", 9, "invalid mask value"),
	BAD("measure mask=MAY_READ|MAY_WRITE", 9, "invalid mask value"),
	BAD("measure mask=may_read", 9, "invalid mask value"),
	BAD("measure mask=MAY_READ mask=MAY_WRITE", 23, "repeats 'mask=MAY_READ'"),

	/* fsmagic=: hexadecimal as kstrtoul() reads it. */
	OK("measure fsmagic=0x9fa0"),
	OK("measure fsmagic=9fa0"),
	OK("measure fsmagic=0X1021994"),
	OK("measure fsmagic=0x01021994"),
	OK("measure fsmagic=+0x1cd1"),
	OK("measure fsmagic=0xffffffffffffffff"),
	OK("measure fsmagic=0 fsmagic=0x1cd1"),
	BAD("measure fsmagic=TMPFS_MAGIC", 9, "hexadecimal"),
	BAD("measure fsmagic=0x", 9, "invalid fsmagic value '0x'"),
	BAD("measure fsmagic=-1", 9, "invalid fsmagic value"),
	BAD("measure fsmagic=0x1g", 9, "invalid fsmagic value"),
	BAD("measure fsmagic=0x10000000000000000", 9, "64 bits"),
	BAD("measure fsmagic=0x9fa0 fsmagic=0x1cd1", 24, "repeats 'fsmagic=0x9fa0'"),

	/* fsname=, fs_subtype=, fsuuid=. */
	OK("measure fsname=ext4"),
	OK("measure fsname=ext4 fsname=xfs"),
	OK("dont_audit fsname=fuse fs_subtype=sshfs"),
	BAD("measure fs_subtype=a fs_subtype=b", 22, "repeats"),
	BAD("measure fsname=", 9, "missing value"),
	OK("measure fsuuid=28b23254-9467-44c0-b6ba-34b12e85a26d"),
	OK("measure fsuuid=28B23254-9467-44C0-B6BA-34B12E85A26D"),
	OK("measure fsuuid=00000000-0000-0000-0000-000000000000"),
	OK("measure fsuuid=00000000-0000-0000-0000-000000000000 "
	   "fsuuid=28b23254-9467-44c0-b6ba-34b12e85a26d"),
	BAD("measure fsuuid=a11234", 9, "8-4-4-4-12"),
	BAD("measure fsuuid=28b23254944744c0b6ba34b12e85a26d", 9, "invalid fsuuid value"),
	BAD("measure fsuuid=28b23254-9467-44c0-b6ba-34b12e85a26dx", 9, "invalid fsuuid value"),
	BAD("measure fsuuid=28b23254-9467-44c0-b6ba-34b12e85a26g", 9, "invalid fsuuid value"),
	BAD("measure fsuuid=28b23254-9467-44c0-b6ba-34b12e85a26d "
	    "fsuuid=28b23254-9467-44c0-b6ba-34b12e85a26d",
	    53, "repeats"),

	/* Identifier conditions with =, < and >. */
	OK("measure uid=0"),
	OK("measure uid<1000"),
	OK("measure uid>1000"),
	OK("measure euid=0"),
	OK("measure euid<1000"),
	OK("measure euid>0"),
	OK("measure gid=0"),
	OK("measure gid<1000"),
	OK("measure gid>1000"),
	OK("measure egid=0"),
	OK("measure egid<1000"),
	OK("measure egid>0"),
	OK("measure fowner=0"),
	OK("measure fowner<1000"),
	OK("measure fowner>0"),
	OK("measure fgroup=0"),
	OK("measure fgroup<1000"),
	OK("measure fgroup>0"),
	OK("measure uid=+5"),
	OK("measure uid=007"),
	OK("measure uid=4294967294"),
	OK("measure uid=0 gid=0 fowner=0 fgroup=0"),
	BAD("measure uid=4294967295", 9, "0 to 4294967294"),
	BAD("measure uid=4294967296", 9, "0 to 4294967294"),
	BAD("measure uid=-1", 9, "invalid value '-1' in 'uid=-1'"),
	BAD("measure uid=0x10", 9, "decimal"),
	BAD("measure uid=%UID%", 9, "invalid value '%UID%'"),
	BAD("measure uid= 0", 9, "missing value in 'uid='"),
	BAD("measure uid>=1000", 9, "no <=, >= or !="),
	BAD("measure uid=0 euid=0", 15, "share one value"),
	BAD("measure euid>0 uid<5", 16, "share one value"),
	BAD("measure uid=0 uid<5", 15, "repeats 'uid=0'"),
	BAD("measure gid=0 egid=0", 15, "share one value"),
	BAD("measure fowner=0 fowner>5", 18, "one fowner comparison"),
	BAD("measure fgroup=0 fgroup<5", 18, "one fgroup comparison"),

	/* LSM labels: any non-empty value, each keyword once. */
	OK("measure obj_user=system_u obj_role=object_r obj_type=var_log_t"),
	OK("measure subj_user=system_u subj_role=system_r subj_type=init_t"),
	OK("measure subj_user=_ func=FILE_CHECK mask=MAY_READ"),
	BAD("measure obj_type=a obj_type=b", 20, "repeats 'obj_type=a'"),
	BAD("measure subj_type=", 9, "missing value"),

	/* appraise_type=, appraise_flag=, appraise_algos=, digest_type=. */
	OK("appraise appraise_type=imasig"),
	OK("appraise appraise_type=imasig appraise_type=imasig"),
	OK("appraise func=MODULE_CHECK appraise_type=imasig|modsig"),
	OK("appraise func=KEXEC_KERNEL_CHECK appraise_type=imasig|modsig"),
	OK("appraise func=BPRM_CHECK digest_type=verity appraise_type=sigv3"),
	BAD("appraise func=BPRM_CHECK appraise_type=sigv3 digest_type=verity", 26,
	    "needs digest_type=verity earlier"),
	BAD("appraise func=BPRM_CHECK digest_type=verity appraise_type=imasig", 45,
	    "cannot follow digest_type=verity"),
	BAD("appraise func=FILE_CHECK appraise_type=imasig|modsig", 26, "needs func=MODULE_CHECK"),
	BAD("appraise appraise_type=foo", 10, "invalid appraise_type value 'foo'"),
	BAD("dont_appraise appraise_type=imasig", 15, "only valid with the appraise action"),
	BAD("measure appraise_type=imasig", 9, "only valid with the appraise action"),
	OK("measure func=FILE_CHECK appraise_flag=anything"),
	OK("appraise appraise_flag=check_blacklist appraise_flag=x"),
	OK("appraise appraise_algos=sha256,sha384,sha512"),
	OK("appraise appraise_algos=sha1,sha256,sha1"),
	BAD("appraise appraise_algos=sha256,", 10, "unknown hash algorithm ''"),
	BAD("appraise appraise_algos=SHA256", 10, "unknown hash algorithm 'SHA256'"),
	BAD("appraise appraise_algos=tgr128", 10, "not available"),
	BAD("appraise appraise_algos=sha256 appraise_algos=sha512", 32, "repeats"),
	BAD("measure appraise_algos=sha256", 9, "only valid with the appraise action"),
	OK("measure func=BPRM_CHECK digest_type=verity"),
	OK("measure func=BPRM_CHECK template=ima-ngv2 digest_type=verity"),
	BAD("measure func=MODULE_CHECK digest_type=verity", 27,
	    "cannot be used with func=MODULE_CHECK"),
	BAD("measure digest_type=hash", 9, "the only value is verity"),
	BAD("appraise func=BPRM_CHECK digest_type=verity", 26, "needs a signature"),
	BAD("appraise appraise_type=imasig digest_type=verity", 31, "cannot follow appraise_type="),

	/* permit_directio, pcr=, template=. */
	OK("measure permit_directio"),
	OK("dont_measure permit_directio"),
	OK("measure permit_directio permit_directio"),
	BAD("measure permit_directio=1", 9, "unknown keyword"),
	OK("measure pcr=0"),
	OK("measure pcr=63"),
	OK("measure pcr=+10"),
	OK("measure pcr=-0"),
	OK("measure pcr=010"),
	OK("pcr=10 measure"),
	OK("measure pcr=10 pcr=11"),
	BAD("measure pcr=64", 9, "from 0 to 63"),
	BAD("measure pcr=-1", 9, "from 0 to 63"),
	BAD("measure pcr=x", 9, "invalid pcr value 'x'"),
	BAD("measure pcr=99999999999", 9, "from 0 to 63"),
	BAD("audit pcr=10", 7, "only valid with the measure action"),
	BAD("dont_measure pcr=10", 14, "only valid with the measure action"),
	OK("measure template=ima"),
	OK("measure template=ima-ng"),
	OK("measure template=ima-sig"),
	OK("measure template=ima-ngv2"),
	OK("measure template=ima-sigv2"),
	OK("measure template=ima-buf"),
	OK("measure template=ima-modsig"),
	OK("measure template=evm-sig"),
	OK("measure template=d-ng|n-ng"),
	BAD("measure template=ima-sigv3", 9, "unknown template 'ima-sigv3'"),
	BAD("measure template=d-ng|n-ng|buf|x", 9, "unknown template"),
	BAD("template=ima-ng measure", 1, "only valid after the measure action"),
	BAD("dont_measure template=ima-ng", 14, "only valid after the measure action"),
	BAD("measure template=ima template=ima-ng", 22, "repeats 'template=ima'"),

	/* keyrings= and label=. */
	OK("measure func=KEY_CHECK keyrings=.ima|.evm|.builtin_trusted_keys template=ima-buf"),
	OK("measure func=CRITICAL_DATA label=selinux"),
	BAD("measure func=KEY_CHECK keyrings=.ima||.evm", 24, "non-empty names"),
	BAD("measure func=CRITICAL_DATA label=|selinux", 28, "non-empty names"),
	BAD("measure func=CRITICAL_DATA label=selinux|", 28, "non-empty names"),
	BAD("measure keyrings=.ima", 9, "needs func=KEY_CHECK"),
	BAD("measure func=FILE_CHECK label=selinux", 25, "needs func=CRITICAL_DATA"),
	BAD("measure func=KEY_CHECK keyrings=a keyrings=b", 35, "repeats"),

	/* What each hook allows. */
	BAD("audit func=KEY_CHECK", 1, "measure or dont_measure"),
	BAD("appraise func=CRITICAL_DATA", 1, "measure or dont_measure"),
	BAD("measure func=SETXATTR_CHECK", 1, "use appraise"),
	BAD("measure func=KEXEC_CMDLINE mask=MAY_READ", 28,
	    "cannot be used with func=KEXEC_CMDLINE"),
	BAD("measure func=KEXEC_CMDLINE permit_directio", 28, "cannot be used"),
	OK("measure func=KEXEC_CMDLINE fsmagic=0x9fa0 fowner=0 obj_type=x"),
	BAD("appraise func=SETXATTR_CHECK appraise_algos=sha256 fowner=0", 52,
	    "cannot be used with func=SETXATTR_CHECK"),
	BAD("appraise func=SETXATTR_CHECK", 10, "needs appraise_algos="),
	BAD("measure func=KEY_CHECK obj_type=foo", 24, "LSM labels"),
	BAD("measure func=KEY_CHECK euid=0", 24, "cannot be used with func=KEY_CHECK"),
	OK("measure func=KEY_CHECK gid=0 uid>100 pcr=11"),
	BAD("measure func=CRITICAL_DATA fsmagic=0x9fa0", 28, "cannot be used"),

	/* Comments and blanks. */
	OK("measure func=BPRM_CHECK # comment"),
	OK("measure func=BPRM_CHECK #comment with words"),
	OK("\t  measure\tfunc=BPRM_CHECK \t "),
	OK("   # a comment\nmeasure\n\n\t\n"),
	OK("measure func=BPRM_CHECK"), /* no final newline */
	{"", -EINVAL, 0, 0, "no rules"},
	{"# only a comment\n\n   \t\n", -EINVAL, 0, 0, "no rules"},
	{"measure\n# comment\n\n  dont_measure fsmagic=xyz\nmeasure\n", -EINVAL, 4, 16,
	 "invalid fsmagic value 'xyz'"},
	{"measure\ndont_measure fsmagic=0x9fa0\r\n", -EINVAL, 2, 14, "carriage return"},
};

static void test_parse_cases(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct policy *policy = NULL;
		struct policy_error err;
		char label[1536];
		int r;

		memset(&err, 0, sizeof(err));
		r = policy_parse(c->text, strlen(c->text), "test", &policy, &err);
		snprintf(label, sizeof(label), "\"%s\" -> %d %s:%u:%u: %s", c->text, r, err.origin,
			 err.line, err.col, err.message);
		CHECK_CASE(r == c->expect, label);
		if (c->expect == 0) {
			CHECK_CASE(policy != NULL, label);
			policy_free(policy);
			continue;
		}
		CHECK_CASE(policy == NULL, label);
		CHECK_CASE(strcmp(err.origin, "test") == 0, label);
		if (c->line)
			CHECK_CASE(err.line == c->line, label);
		if (c->col)
			CHECK_CASE(err.col == c->col, label);
		if (c->message)
			CHECK_CASE(strstr(err.message, c->message) != NULL, label);
	}
}

/* A failed load returns nothing, even when only the last line is bad. */
static void test_all_or_nothing(void)
{
	static const char text[] = "measure func=BPRM_CHECK\n"
				   "measure func=FILE_CHECK mask=^MAY_READ uid=0\n"
				   "dont_measure fsmagic=0x9fa0\n"
				   "appraise fowner=0\n"
				   "measure func=FILE_CHECK mask=MAY_RED\n";
	struct policy *sentinel = (struct policy *)&passed;
	struct policy *policy = sentinel;
	struct policy_error err;
	int r;

	r = policy_parse(text, strlen(text), "all-or-nothing", &policy, &err);
	CHECK(r == -EINVAL);
	CHECK(policy == sentinel);
	CHECK(err.line == 5);
	CHECK(err.col == 25);
	CHECK(strcmp(err.origin, "all-or-nothing") == 0);

	r = policy_parse(text, strlen(text) - strlen("measure func=FILE_CHECK mask=MAY_RED\n"),
			 "all-or-nothing", &policy, &err);
	CHECK(r == 0);
	CHECK(policy_rule_count(policy) == 4);
	policy_free(policy);
}

static void test_parse_special_input(void)
{
	static const char with_nul[] = "measure\nmeasure fu\0nc=X\n";
	struct policy *policy = NULL;
	struct policy_error err;
	char *big;
	int r;

	r = policy_parse(with_nul, sizeof(with_nul) - 1, NULL, &policy, &err);
	CHECK(r == -EINVAL);
	CHECK(policy == NULL);
	CHECK(err.line == 2);
	CHECK(err.col == 11);
	CHECK(strstr(err.message, "NUL byte") != NULL);

	big = malloc(2 * 1024 * 1024);
	CHECK(big != NULL);
	if (big) {
		memset(big, '#', 2 * 1024 * 1024);
		r = policy_parse(big, 2 * 1024 * 1024, "big", &policy, &err);
		CHECK(r == -EINVAL);
		CHECK(strstr(err.message, "limit") != NULL);
		free(big);
	}
	CHECK(policy_rule_count(NULL) == 0);
	CHECK(policy_free(NULL) == NULL);
}

/* Evaluation */

static struct policy *parse_ok(const char *text)
{
	struct policy *policy = NULL;
	struct policy_error err;
	int r = policy_parse(text, strlen(text), "eval", &policy, &err);

	if (r != 0)
		fprintf(stderr, "parse failed: %s:%u:%u: %s\n", err.origin, err.line, err.col,
			err.message);
	CHECK_CASE(r == 0, text);
	return policy;
}

/* An event by one user whose real, effective and saved ids are all ID. */
static struct policy_event event_make(enum policy_func func, unsigned int mask, uid_t id,
				      uint32_t fsmagic)
{
	struct policy_event event = {
		.func = func,
		.mask = mask,
		.uid = id,
		.euid = id,
		.gid = id,
		.egid = id,
		.suid = id,
		.sgid = id,
		.fowner = id,
		.fgroup = id,
		.fsmagic = fsmagic,
	};
	return event;
}

#define MAGIC_EXT4 0xef53u
#define MAGIC_PROC 0x9fa0u
#define MAGIC_TMPFS 0x01021994u

static struct policy_decision decide(const struct policy *policy, struct policy_event event)
{
	struct policy_decision decision;

	memset(&decision, 0xa5, sizeof(decision));
	policy_evaluate(policy, &event, &decision);
	return decision;
}

static void test_first_match_per_kind(void)
{
	struct policy *p = parse_ok("dont_measure fsmagic=0x9fa0\n"
				    "measure\n"
				    "appraise func=BPRM_CHECK\n");
	struct policy_decision d;

	d = decide(p, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_PROC));
	CHECK(!d.measure);
	CHECK(d.measure_line == 0);
	CHECK(!d.appraise);
	CHECK(d.appraise_line == 0);

	/* dont_measure decides measuring only; appraisal is decided on its own. */
	d = decide(p, event_make(POLICY_FUNC_BPRM_CHECK, POLICY_MAY_EXEC, 0, MAGIC_PROC));
	CHECK(!d.measure);
	CHECK(d.appraise);
	CHECK(d.appraise_line == 3);

	d = decide(p, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4));
	CHECK(d.measure);
	CHECK(d.measure_line == 2);
	CHECK(!d.pcr_set);
	CHECK(d.template[0] == '\0');
	policy_free(p);

	/* A matching measure rule hides a later dont_measure. */
	p = parse_ok("measure func=FILE_CHECK\ndont_measure fsmagic=0x9fa0\n");
	d = decide(p, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_PROC));
	CHECK(d.measure);
	CHECK(d.measure_line == 1);
	policy_free(p);

	/* audit and hash rules do not take part in the measure and appraise decisions. */
	p = parse_ok("audit\nhash\ndont_appraise fowner=0\nappraise\nmeasure\n");
	d = decide(p, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4));
	CHECK(d.measure);
	CHECK(d.measure_line == 5);
	CHECK(!d.appraise);
	d = decide(p, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 1, MAGIC_EXT4));
	CHECK(d.appraise);
	CHECK(d.appraise_line == 4);
	policy_free(p);
}

static void test_pcr_and_template(void)
{
	struct policy *p = parse_ok("measure func=BPRM_CHECK pcr=11 template=ima-sig\n"
				    "measure func=MMAP_CHECK template=d-ng|n-ng\n"
				    "measure pcr=12 template=ima-ng\n");
	struct policy_decision d;

	d = decide(p, event_make(POLICY_FUNC_BPRM_CHECK, POLICY_MAY_EXEC, 0, MAGIC_EXT4));
	CHECK(d.measure);
	CHECK(d.measure_line == 1);
	CHECK(d.pcr_set);
	CHECK(d.pcr == 11);
	CHECK(strcmp(d.template, "ima-sig") == 0);

	/* The field list selects the template by name; the later rule's pcr= is not used. */
	d = decide(p, event_make(POLICY_FUNC_MMAP_CHECK, POLICY_MAY_EXEC, 0, MAGIC_EXT4));
	CHECK(d.measure);
	CHECK(d.measure_line == 2);
	CHECK(!d.pcr_set);
	CHECK(strcmp(d.template, "ima-ng") == 0);

	d = decide(p, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4));
	CHECK(d.measure_line == 3);
	CHECK(d.pcr_set);
	CHECK(d.pcr == 12);
	policy_free(p);

	p = parse_ok("measure pcr=10 pcr=11\n");
	d = decide(p, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4));
	CHECK(d.pcr_set);
	CHECK(d.pcr == 11);
	policy_free(p);
}

static void test_mask(void)
{
	struct policy *exact = parse_ok("measure func=FILE_CHECK mask=MAY_READ uid=0\n");
	struct policy *contains = parse_ok("measure func=FILE_CHECK mask=^MAY_READ uid=0\n");
	unsigned int rdwr = POLICY_MAY_READ | POLICY_MAY_WRITE;

	CHECK(decide(exact, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, 0)).measure);
	CHECK(!decide(exact, event_make(POLICY_FUNC_FILE_CHECK, rdwr, 0, 0)).measure);
	CHECK(decide(contains, event_make(POLICY_FUNC_FILE_CHECK, rdwr, 0, 0)).measure);
	CHECK(decide(contains, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, 0)).measure);
	CHECK(!decide(contains, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_WRITE, 0, 0))
		       .measure);
	/* An exec open has MAY_EXEC only, so neither form matches. */
	CHECK(!decide(exact, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_EXEC, 0, 0)).measure);
	CHECK(!decide(contains, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_EXEC, 0, 0)).measure);
	/* The func must match too. */
	CHECK(!decide(exact, event_make(POLICY_FUNC_BPRM_CHECK, POLICY_MAY_READ, 0, 0)).measure);
	policy_free(exact);
	policy_free(contains);
}

static void test_uid_and_euid(void)
{
	struct policy *euid = parse_ok("measure euid=0\n");
	struct policy *uid = parse_ok("measure uid=0\n");
	struct policy_event setuid_root =
		event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 1000, MAGIC_EXT4);
	struct policy_event real_root = setuid_root;
	struct policy_event saved_root = setuid_root;

	/* A set-uid root program run by a user: real uid 1000, effective uid 0. */
	setuid_root.euid = 0;
	CHECK(decide(euid, setuid_root).measure);
	CHECK(!decide(uid, setuid_root).measure);

	/* Real uid 0 but effective uid 1000: euid= matches only with CAP_SETUID. */
	real_root.uid = 0;
	CHECK(decide(uid, real_root).measure);
	CHECK(!decide(euid, real_root).measure);
	real_root.has_cap_setuid = true;
	CHECK(decide(euid, real_root).measure);

	saved_root.suid = 0;
	CHECK(!decide(euid, saved_root).measure);
	saved_root.has_cap_setuid = true;
	CHECK(decide(euid, saved_root).measure);

	policy_free(euid);
	policy_free(uid);
}

static void test_comparisons(void)
{
	struct policy *p;
	struct policy_event e = event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4);

	p = parse_ok("measure uid<1000\n");
	e.uid = 999;
	CHECK(decide(p, e).measure);
	e.uid = 1000;
	CHECK(!decide(p, e).measure);
	policy_free(p);

	p = parse_ok("measure uid>1000\n");
	e.uid = 1001;
	CHECK(decide(p, e).measure);
	e.uid = 1000;
	CHECK(!decide(p, e).measure);
	policy_free(p);

	p = parse_ok("measure euid>0\n");
	e.euid = 0;
	CHECK(!decide(p, e).measure);
	e.euid = 1;
	CHECK(decide(p, e).measure);
	policy_free(p);

	p = parse_ok("measure fowner>0\n");
	e.fowner = 0;
	CHECK(!decide(p, e).measure);
	e.fowner = 5;
	CHECK(decide(p, e).measure);
	policy_free(p);

	p = parse_ok("measure fowner=0\n");
	e.fowner = 0;
	CHECK(decide(p, e).measure);
	e.fowner = 1;
	CHECK(!decide(p, e).measure);
	policy_free(p);

	p = parse_ok("measure fgroup<10\n");
	e.fgroup = 9;
	CHECK(decide(p, e).measure);
	e.fgroup = 10;
	CHECK(!decide(p, e).measure);
	policy_free(p);

	p = parse_ok("measure gid=5\n");
	e.gid = 5;
	e.egid = 6;
	CHECK(decide(p, e).measure);
	policy_free(p);

	p = parse_ok("measure egid=5\n");
	CHECK(!decide(p, e).measure);
	e.egid = 5;
	CHECK(decide(p, e).measure);
	policy_free(p);
}

static void test_fsmagic(void)
{
	struct policy *p = parse_ok("measure fsmagic=0x1021994\n");
	struct policy *wide = parse_ok("measure fsmagic=0x101021994\n");
	struct policy *zero = parse_ok("measure fsmagic=0\n");

	CHECK(decide(p, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_TMPFS))
		      .measure);
	CHECK(!decide(p, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4))
		       .measure);
	/* The full value is compared: no truncation to the low 32 bits. */
	CHECK(!decide(wide, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_TMPFS))
		       .measure);
	CHECK(decide(zero, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, 0)).measure);
	CHECK(!decide(zero, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4))
		       .measure);
	policy_free(p);
	policy_free(wide);
	policy_free(zero);
}

/* Conditions the event does not carry never match, for do and dont_ rules alike. */
static void test_unknown_conditions(void)
{
	static const char *const unknown[] = {
		"measure fsname=ext4\n",
		"measure fs_subtype=sshfs\n",
		"measure fsuuid=00000000-0000-0000-0000-000000000000\n",
		"measure obj_type=etc_t\n",
		"measure subj_user=system_u\n",
		"measure fsname=ext4 fsname=xfs\n",
	};
	struct policy_event e = event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4);
	struct policy_decision d;
	struct policy *p;

	for (size_t i = 0; i < ARRAY_SIZE(unknown); i++) {
		p = parse_ok(unknown[i]);
		CHECK_CASE(!decide(p, e).measure, unknown[i]);
		policy_free(p);
	}
	p = parse_ok("dont_measure fsname=ext4\ndont_appraise obj_type=etc_t\nmeasure\nappraise\n");
	d = decide(p, e);
	CHECK(d.measure);
	CHECK(d.measure_line == 3);
	CHECK(d.appraise);
	CHECK(d.appraise_line == 4);
	policy_free(p);
}

static void test_special_hooks(void)
{
	struct policy *p = parse_ok("appraise func=FILE_CHECK mask=MAY_READ\n");
	struct policy_decision d;

	/* POST_SETATTR matches any func= and mask=. */
	d = decide(p, event_make(POLICY_FUNC_POST_SETATTR, 0, 0, MAGIC_EXT4));
	CHECK(d.appraise);
	CHECK(d.appraise_line == 1);
	policy_free(p);

	/* Key events match only rules for KEY_CHECK, and only uid= and keyrings= count. */
	p = parse_ok("measure\nmeasure func=KEY_CHECK uid=0\n");
	d = decide(p, event_make(POLICY_FUNC_KEY_CHECK, 0, 0, 0));
	CHECK(d.measure);
	CHECK(d.measure_line == 2);
	d = decide(p, event_make(POLICY_FUNC_KEY_CHECK, 0, 5, 0));
	CHECK(!d.measure);
	d = decide(p, event_make(POLICY_FUNC_CRITICAL_DATA, 0, 0, 0));
	CHECK(!d.measure);
	policy_free(p);

	p = parse_ok("measure func=KEY_CHECK keyrings=.ima\n");
	CHECK(!decide(p, event_make(POLICY_FUNC_KEY_CHECK, 0, 0, 0)).measure);
	policy_free(p);

	CHECK(strcmp(policy_func_name(POLICY_FUNC_FILE_CHECK), "FILE_CHECK") == 0);
	CHECK(strcmp(policy_func_name(POLICY_FUNC_MMAP_CHECK), "MMAP_CHECK") == 0);
	CHECK(policy_func_name(POLICY_FUNC_NONE) == NULL);
	CHECK(policy_func_name(POLICY_FUNC__MAX) == NULL);
	for (int f = POLICY_FUNC_NONE + 1; f < POLICY_FUNC__MAX; f++)
		CHECK(policy_func_name((enum policy_func)f) != NULL);
}

/* Built-in tcb policy */

static void test_builtin_tcb(void)
{
	struct policy *p = NULL, *other = NULL;
	struct policy_error err;
	struct policy_event e;
	struct policy_decision d;
	unsigned int rdwr = POLICY_MAY_READ | POLICY_MAY_WRITE;
	int r;

	r = policy_load_builtin("tcb", &p, &err);
	CHECK(r == 0);
	if (r != 0)
		return;
	CHECK(policy_rule_count(p) == 20);

	/* Root reads a file on ext4: the euid=0 rule (line 16) decides. */
	d = decide(p, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4));
	CHECK(d.measure);
	CHECK(d.measure_line == 16);
	CHECK(!d.appraise);
	CHECK(!d.pcr_set);
	CHECK(d.template[0] == '\0');
	CHECK(decide(p, event_make(POLICY_FUNC_FILE_CHECK, rdwr, 0, MAGIC_EXT4)).measure);
	CHECK(!decide(p, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_WRITE, 0, MAGIC_EXT4))
		       .measure);

	/* A user reads a file: not measured; a set-uid root program reading: measured. */
	CHECK(!decide(p, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 1000, MAGIC_EXT4))
		       .measure);
	e = event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 1000, MAGIC_EXT4);
	e.euid = 0;
	CHECK(decide(p, e).measure);
	e = event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4);
	e.euid = 1000;
	d = decide(p, e);
	CHECK(d.measure);
	CHECK(d.measure_line == 17);

	/* Exec and mmap by anyone are measured. */
	d = decide(p, event_make(POLICY_FUNC_BPRM_CHECK, POLICY_MAY_EXEC, 1000, MAGIC_EXT4));
	CHECK(d.measure);
	CHECK(d.measure_line == 15);
	d = decide(p, event_make(POLICY_FUNC_MMAP_CHECK, POLICY_MAY_EXEC, 1000, MAGIC_EXT4));
	CHECK(d.measure);
	CHECK(d.measure_line == 14);
	d = decide(p, event_make(POLICY_FUNC_MODULE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4));
	CHECK(d.measure);
	CHECK(d.measure_line == 18);

	/* Pseudo filesystems are skipped, tmpfs only for FILE_CHECK. */
	CHECK(!decide(p, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_PROC))
		       .measure);
	CHECK(!decide(p, event_make(POLICY_FUNC_BPRM_CHECK, POLICY_MAY_EXEC, 0, MAGIC_PROC))
		       .measure);
	CHECK(!decide(p, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_TMPFS))
		       .measure);
	d = decide(p, event_make(POLICY_FUNC_BPRM_CHECK, POLICY_MAY_EXEC, 1000, MAGIC_TMPFS));
	CHECK(d.measure);
	CHECK(d.measure_line == 15);

	r = policy_load("builtin:tcb", &other, &err);
	CHECK(r == 0);
	CHECK(policy_rule_count(other) == 20);
	policy_free(other);
	policy_free(p);

	other = NULL;
	r = policy_load_builtin("apraise_tcb", &other, &err);
	CHECK(r == -ENOENT);
	CHECK(other == NULL);
	CHECK(strcmp(err.origin, "builtin:apraise_tcb") == 0);
	CHECK(strstr(err.message, "unknown built-in policy 'apraise_tcb'") != NULL);
	r = policy_load("builtin:", &other, &err);
	CHECK(r == -ENOENT);
	CHECK(other == NULL);
}

/* Kernel versions and extensions */

struct option_case {
	const char *text;
	unsigned int version; /* major * 100 + minor */
	bool extensions;
	int expect;
	unsigned int col;    /* for rejections; 0 skips the check */
	const char *message; /* expected substring of the message, or NULL */
};

static const struct option_case option_cases[] = {
	/* Suffix comments arrived in 6.14. */
	{"measure func=BPRM_CHECK # exec", 614, false, 0, 0, NULL},
	{"measure func=BPRM_CHECK # exec", 619, false, 0, 0, NULL},
	{"measure func=BPRM_CHECK # exec", 613, false, -EINVAL, 25, "only on Linux 6.14 and later"},
	{"measure func=BPRM_CHECK #exec", 510, false, -EINVAL, 25, "checking for Linux 5.10"},
	{"# a whole-line comment\nmeasure", 510, false, 0, 0, NULL},
	/* dont_audit and fs_subtype= arrived in 6.19. */
	{"dont_audit fsname=fuse fs_subtype=sshfs", 619, false, 0, 0, NULL},
	{"dont_audit fsname=fuse", 618, false, -EINVAL, 1, "'dont_audit' needs Linux 6.19"},
	{"audit fsname=fuse fs_subtype=sshfs", 618, false, -EINVAL, 19,
	 "needs Linux 6.19 or later"},
	{"audit fsname=fuse fs_subtype=sshfs", 700, false, 0, 0, NULL},
	/* gid=, egid= and fgroup= arrived in 5.16. */
	{"measure gid=0", 516, false, 0, 0, NULL},
	{"measure gid=0", 515, false, -EINVAL, 9, "'gid=0' needs Linux 5.16"},
	{"measure egid<5", 515, false, -EINVAL, 9, "needs Linux 5.16"},
	{"measure fgroup>5", 515, false, -EINVAL, 9, "needs Linux 5.16"},
	{"measure uid=0 fowner=0", 415, false, 0, 0, NULL},
	/* Extensions exist only when enabled. */
	{"measure path=/usr/bin/*", 619, false, -EINVAL, 9, "is an imafs extension"},
	{"measure path=/usr/bin/*", 619, true, 0, 0, NULL},
	{"measure path^=/opt/app/", 619, true, 0, 0, NULL},
	{"measure exe=/usr/bin/python3*", 619, true, 0, 0, NULL},
	{"measure comm=sshd", 619, true, 0, 0, NULL},
	{"measure comm=a-very-long-comm-name", 619, true, -EINVAL, 9, "longer than 15 bytes"},
	{"measure comm=a-very-long-comm*", 619, true, 0, 0, NULL},
	{"measure cgroup=/system.slice", 619, true, 0, 0, NULL},
	{"measure path=usr/bin", 619, true, -EINVAL, 9, "absolute path"},
	{"measure exe=python3", 619, true, -EINVAL, 9, "absolute path"},
	{"measure path=/a path^=/b", 619, true, -EINVAL, 17, "repeats 'path=/a'"},
	{"measure path=", 619, true, -EINVAL, 9, "missing value"},
	{"measure func=KEXEC_CMDLINE path=/boot/vmlinuz", 619, true, -EINVAL, 28, "cannot be used"},
	{"measure func=KEY_CHECK comm=x", 619, true, -EINVAL, 24, "cannot be used"},
	{"dont_appraise path^=/tmp permit_directio", 619, true, 0, 0, NULL},
	/* Quoted values: only for extensions, and only when enabled. */
	{"measure path=\"/opt/My App/bin\" uid=0", 619, true, 0, 0, NULL},
	{"measure path^=\"/opt/My App\"", 619, true, 0, 0, NULL},
	{"measure path=\"/opt/My App", 619, true, -EINVAL, 9, "missing closing"},
	{"measure path=\"/opt/x\"y", 619, true, -EINVAL, 9, "text follows the closing"},
	{"measure path=\"\"", 619, true, -EINVAL, 9, "missing value"},
	{"measure path=\"/opt/My App\"", 619, false, -EINVAL, 9, "imafs extension"},
	{"measure fsname=\"ext4\"", 619, true, 0, 0, NULL},
	{"measure obj_type=\"a b\"", 619, true, -EINVAL, 21, "unknown keyword 'b\"'"},
};

static void test_option_cases(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(option_cases); i++) {
		const struct option_case *c = &option_cases[i];
		struct policy_options options = {.kernel_version = c->version,
						 .extensions = c->extensions};
		struct policy *policy = NULL;
		struct policy_error err;
		char label[1536];
		int r;

		memset(&err, 0, sizeof(err));
		r = policy_parse_ex(c->text, strlen(c->text), "test", &options, &policy, &err);
		snprintf(label, sizeof(label), "\"%s\" on %u ext=%d -> %d %u:%u: %s", c->text,
			 c->version, c->extensions, r, err.line, err.col, err.message);
		CHECK_CASE(r == c->expect, label);
		policy_free(policy);
		if (c->expect == 0)
			continue;
		if (c->col)
			CHECK_CASE(err.col == c->col, label);
		if (c->message)
			CHECK_CASE(strstr(err.message, c->message) != NULL, label);
	}
}

static void test_kernel_version_parse(void)
{
	unsigned int v = 0;

	CHECK(policy_kernel_version_parse("6.19", &v) == 0);
	CHECK(v == 619);
	CHECK(policy_kernel_version_parse("6.13", &v) == 0);
	CHECK(v == 613);
	CHECK(policy_kernel_version_parse("5.16.20", &v) == 0);
	CHECK(v == 516);
	CHECK(policy_kernel_version_parse("7.0", &v) == 0);
	CHECK(v == 700);
	CHECK(policy_kernel_version_parse("6", &v) == -EINVAL);
	CHECK(policy_kernel_version_parse("6.", &v) == -EINVAL);
	CHECK(policy_kernel_version_parse("6.x", &v) == -EINVAL);
	CHECK(policy_kernel_version_parse("v6.1", &v) == -EINVAL);
	CHECK(policy_kernel_version_parse("6.100", &v) == -EINVAL);
	CHECK(policy_kernel_version_parse("2.6", &v) == -EINVAL);
	CHECK(policy_kernel_version_parse("6.1.", &v) == -EINVAL);
	CHECK(policy_kernel_version_parse("", &v) == -EINVAL);
}

/* Error details: the offending token and what the kernel does with the rule. */
static void test_error_details(void)
{
	static const char unknown[] = "measure\ndnt_measure fsmagic=0x9fa0\n";
	static const char bad_value[] = "measure uid=%UID%\n";
	struct policy *p = NULL;
	struct policy_error err;

	CHECK(policy_parse(unknown, strlen(unknown), "t", &p, &err) == -EINVAL);
	CHECK(err.line == 2);
	CHECK(err.col == 1);
	CHECK(strcmp(err.token, "dnt_measure") == 0);
	CHECK(strstr(err.kernel, "UNKNOWN=dnt_measure res=0") != NULL);
	CHECK(strstr(err.kernel, "ima: policy update failed") != NULL);

	CHECK(policy_parse(bad_value, strlen(bad_value), "t", &p, &err) == -EINVAL);
	CHECK(strcmp(err.token, "uid=%UID%") == 0);
	CHECK(strstr(err.kernel, "EINVAL") != NULL);
	CHECK(strstr(err.kernel, "UNKNOWN") == NULL);

	CHECK(policy_parse("# nothing\n", 10, "t", &p, &err) == -EINVAL);
	CHECK(err.token[0] == '\0');
	CHECK(strstr(err.kernel, "adds no rule") != NULL);
	CHECK(p == NULL);
}

/* Built-in policies */

static struct policy *builtin_ok(const char *names, unsigned int version)
{
	struct policy_options options = {.kernel_version = version};
	struct policy *policy = NULL;
	struct policy_error err;
	int r = policy_load_builtin_ex(names, &options, &policy, &err);

	if (r != 0)
		fprintf(stderr, "builtin %s failed: %s\n", names, err.message);
	CHECK_CASE(r == 0, names);
	return policy;
}

static void test_builtins(void)
{
	static const struct {
		const char *names;
		unsigned int rules;
	} counts[] = {
		{"tcb", 20},
		{"appraise_tcb", 16},
		{"secure_boot", 4},
		{"critical_data", 1},
		{"fail_securely", 0},
		{"tcb|appraise_tcb", 36},
		{"appraise_tcb|tcb", 36},
		{"tcb appraise_tcb", 36},
		{"tcb|tcb", 20},
		{"tcb|secure_boot|appraise_tcb|critical_data|fail_securely", 41},
	};
	struct policy *p, *q;
	struct policy_error err;

	for (size_t i = 0; i < ARRAY_SIZE(counts); i++) {
		p = builtin_ok(counts[i].names, 619);
		CHECK_CASE(policy_rule_count(p) == counts[i].rules, counts[i].names);
		policy_free(p);
	}

	/* The kernel's boot order, whatever the order of the names. */
	p = builtin_ok("appraise_tcb|critical_data|secure_boot|tcb", 619);
	CHECK(strncmp(policy_rule_text(p, 0), "dont_measure fsmagic=0x9fa0", 27) == 0);
	CHECK(strcmp(policy_rule_text(p, 20),
		     "appraise func=MODULE_CHECK appraise_type=imasig|modsig") == 0);
	CHECK(strncmp(policy_rule_text(p, 24), "dont_appraise fsmagic=0x9fa0", 28) == 0);
	CHECK(strcmp(policy_rule_text(p, 39), "appraise fowner=0") == 0);
	CHECK(strcmp(policy_rule_text(p, 40), "measure func=CRITICAL_DATA") == 0);
	CHECK(policy_rule_line(p, 40) == 41);
	CHECK(policy_rule_text(p, 41) == NULL);
	CHECK(!policy_fail_securely(p));
	policy_free(p);

	/* Before 6.14 the tmpfs exemption of tcb covers every hook. */
	p = builtin_ok("tcb", 613);
	q = builtin_ok("tcb", 614);
	CHECK(strcmp(policy_rule_text(p, 3), "dont_measure fsmagic=0x1021994 # tmpfs") == 0);
	CHECK(strncmp(policy_rule_text(q, 3), "dont_measure fsmagic=0x1021994 func=FILE_CHECK",
		      46) == 0);
	CHECK(!decide(p, event_make(POLICY_FUNC_BPRM_CHECK, POLICY_MAY_EXEC, 0, MAGIC_TMPFS))
		       .measure);
	CHECK(decide(q, event_make(POLICY_FUNC_BPRM_CHECK, POLICY_MAY_EXEC, 0, MAGIC_TMPFS))
		      .measure);
	policy_free(p);
	policy_free(q);

	/* Built-in signature rules skip the deny list, except the secure_boot module rule. */
	p = builtin_ok("secure_boot|appraise_tcb|fail_securely", 619);
	{
		struct policy_decision d;

		d = decide(p, event_make(POLICY_FUNC_MODULE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4));
		CHECK(d.appraise);
		CHECK(d.appraise_line == 1);
		CHECK(d.appraise_sig_required);
		CHECK(d.appraise_check_blocklist);
		CHECK(d.appraise_modsig);
		CHECK(d.fail_securely);
		d = decide(p,
			   event_make(POLICY_FUNC_FIRMWARE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4));
		CHECK(d.appraise_sig_required);
		CHECK(!d.appraise_check_blocklist);
		d = decide(p, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4));
		CHECK(d.appraise);
		CHECK(d.appraise_line == 20);
		CHECK(!d.appraise_sig_required);
		d = decide(p,
			   event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 1000, MAGIC_EXT4));
		CHECK(!d.appraise);
		d = decide(p, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, 0x858458f6u));
		CHECK(!d.appraise);
		CHECK(d.dont_line[POLICY_KIND_APPRAISE] == 9);
	}
	CHECK(policy_fail_securely(p));
	policy_free(p);

	p = builtin_ok("fail_securely", 619);
	CHECK(policy_rule_count(p) == 0);
	CHECK(policy_fail_securely(p));
	policy_free(p);

	p = NULL;
	CHECK(policy_load_builtin("tcb|nope", &p, &err) == -ENOENT);
	CHECK(strstr(err.message, "unknown built-in policy 'nope'") != NULL);
	CHECK(policy_load_builtin("tcb||appraise_tcb", &p, &err) == -ENOENT);
	CHECK(policy_load_builtin("tcb,appraise_tcb", &p, &err) == -ENOENT);
	CHECK(strstr(err.message, "joined with '|'") != NULL);
	CHECK(p == NULL);
	CHECK(policy_load("builtin:tcb|appraise_tcb", &p, &err) == 0);
	CHECK(policy_rule_count(p) == 36);
	policy_free(p);
}

/* Evaluation of the four kinds and of the new event fields */

static void test_audit_and_hash(void)
{
	struct policy *p = parse_ok("dont_audit fowner=5\n"
				    "audit func=BPRM_CHECK\n"
				    "hash fowner=0\n"
				    "dont_hash\n"
				    "appraise func=FILE_CHECK fowner=0\n"
				    "measure permit_directio\n");
	struct policy_event e = event_make(POLICY_FUNC_BPRM_CHECK, POLICY_MAY_EXEC, 0, MAGIC_EXT4);
	struct policy_decision d;

	d = decide(p, e);
	CHECK(d.audit);
	CHECK(d.audit_line == 2);
	CHECK(d.hash);
	CHECK(d.hash_line == 3);
	CHECK(d.hash_cancel_line == 0);
	CHECK(!d.appraise);
	CHECK(d.measure);
	CHECK(d.permit_directio);

	/* A later appraise rule cancels hash. */
	e.func = POLICY_FUNC_FILE_CHECK;
	e.mask = POLICY_MAY_READ;
	d = decide(p, e);
	CHECK(!d.audit);
	CHECK(d.audit_line == 0);
	CHECK(!d.hash);
	CHECK(d.hash_line == 3);
	CHECK(d.hash_cancel_line == 5);
	CHECK(d.appraise);
	CHECK(d.appraise_line == 5);

	e.fowner = 5;
	d = decide(p, e);
	CHECK(!d.audit);
	CHECK(d.dont_line[POLICY_KIND_AUDIT] == 1);
	CHECK(!d.hash);
	CHECK(d.dont_line[POLICY_KIND_HASH] == 4);
	CHECK(d.hash_line == 0);
	CHECK(d.dont_line[POLICY_KIND_MEASURE] == 0);
	CHECK(policy_has_kind(p, POLICY_KIND_AUDIT));
	CHECK(policy_has_kind(p, POLICY_KIND_HASH));
	policy_free(p);

	/* A kind with only dont_ rules is not requested, as in the kernel. */
	p = parse_ok("dont_measure\nappraise func=SETXATTR_CHECK appraise_algos=sha256\naudit\n");
	CHECK(!policy_has_kind(p, POLICY_KIND_MEASURE));
	CHECK(!policy_has_kind(p, POLICY_KIND_APPRAISE));
	CHECK(policy_has_kind(p, POLICY_KIND_AUDIT));
	d = decide(p, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4));
	CHECK(d.dont_line[POLICY_KIND_MEASURE] == 0);
	CHECK(d.audit);
	CHECK(d.audit_line == 3);
	policy_free(p);
}

static void test_appraise_flags(void)
{
	struct policy *p =
		parse_ok("appraise func=MODULE_CHECK appraise_type=imasig|modsig\n"
			 "appraise func=BPRM_CHECK digest_type=verity appraise_type=sigv3\n"
			 "appraise appraise_algos=sha256,sha512\n");
	struct policy_decision d;

	d = decide(p, event_make(POLICY_FUNC_MODULE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4));
	CHECK(d.appraise_modsig);
	CHECK(d.appraise_sig_required);
	CHECK(!d.appraise_verity);
	d = decide(p, event_make(POLICY_FUNC_BPRM_CHECK, POLICY_MAY_EXEC, 0, MAGIC_EXT4));
	CHECK(d.appraise_verity);
	CHECK(d.appraise_sig_required);
	d = decide(p, event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4));
	CHECK(!d.appraise_sig_required);
	CHECK(d.appraise_algos == ((1u << 4) | (1u << 6)));
	CHECK(!d.fail_securely);
	policy_free(p);
}

static void test_egid_capability(void)
{
	struct policy *p = parse_ok("measure egid=0\n");
	struct policy_event e =
		event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 100, MAGIC_EXT4);

	e.gid = 0;
	CHECK(!decide(p, e).measure);
	e.has_cap_setgid = true;
	CHECK(decide(p, e).measure);
	e.gid = 100;
	e.sgid = 0;
	CHECK(decide(p, e).measure);
	e.has_cap_setgid = false;
	CHECK(!decide(p, e).measure);
	/* CAP_SETUID does not stand in for CAP_SETGID. */
	e.has_cap_setuid = true;
	CHECK(!decide(p, e).measure);
	policy_free(p);
}

static void test_unknown_ids(void)
{
	struct policy *p = parse_ok("dont_measure uid=0\nmeasure fowner=0\n");
	struct policy_event e = event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4);
	struct policy_decision d;

	d = decide(p, e);
	CHECK(!d.measure);
	CHECK(!d.inexact);
	e.ids_unknown = true;
	d = decide(p, e);
	CHECK(d.measure);
	CHECK(d.measure_line == 2);
	CHECK(d.inexact);
	CHECK(d.inexact_line == 1);
	CHECK(d.inexact_keyword && strcmp(d.inexact_keyword, "uid=") == 0);
	policy_free(p);

	/* A false condition makes the no-match exact, even next to an unknown one. */
	p = parse_ok("measure uid=0 fowner=5\n");
	d = decide(p, e);
	CHECK(!d.measure);
	CHECK(!d.inexact);
	policy_free(p);
}

static void test_filesystem_fields(void)
{
	static const uint8_t uuid[16] = {0x28, 0xb2, 0x32, 0x54, 0x94, 0x67, 0x44, 0xc0,
					 0xb6, 0xba, 0x34, 0xb1, 0x2e, 0x85, 0xa2, 0x6d};
	static const uint8_t other_uuid[16] = {1};
	struct policy *p = parse_ok("dont_measure fsname=fuse fs_subtype=sshfs\n"
				    "dont_measure fsuuid=28b23254-9467-44c0-b6ba-34b12e85a26d\n"
				    "measure fsname=ext4\n"
				    "measure fsmagic=0xef53\n");
	struct policy_event e = event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4);
	struct policy_decision d;

	/* Unknown type and UUID: rules 1 to 3 are skipped, the decision is inexact. */
	d = decide(p, e);
	CHECK(d.measure);
	CHECK(d.measure_line == 4);
	CHECK(d.inexact);
	CHECK(d.inexact_line == 1);
	CHECK(strcmp(d.inexact_keyword, "fsname=") == 0);

	e.fsname = "ext4";
	e.fs_subtype = "";
	e.fsuuid = other_uuid;
	d = decide(p, e);
	CHECK(d.measure);
	CHECK(d.measure_line == 3);
	CHECK(!d.inexact);

	e.fsuuid = uuid;
	d = decide(p, e);
	CHECK(!d.measure);
	CHECK(d.dont_line[POLICY_KIND_MEASURE] == 2);

	e.fsname = "fuse";
	e.fs_subtype = "sshfs";
	d = decide(p, e);
	CHECK(!d.measure);
	CHECK(d.dont_line[POLICY_KIND_MEASURE] == 1);
	e.fs_subtype = "imafs";
	e.fsuuid = other_uuid;
	d = decide(p, e);
	CHECK(d.measure);
	CHECK(d.measure_line == 4);

	/* An unknown magic is not zero. */
	e.fsmagic_unknown = true;
	d = decide(p, e);
	CHECK(!d.measure);
	CHECK(d.inexact);
	CHECK(d.inexact_line == 4);
	policy_free(p);
}

static void test_lsm_labels(void)
{
	struct policy *p = parse_ok("dont_measure obj_type=var_log_t\n"
				    "measure subj_user=system_u subj_role=system_r\n"
				    "measure obj_role=object_r\n");
	struct policy_event e = event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4);
	struct policy_decision d;

	e.obj_label = "system_u:object_r:var_log_t:s0";
	d = decide(p, e);
	CHECK(!d.measure);
	CHECK(d.dont_line[POLICY_KIND_MEASURE] == 1);

	e.obj_label = "system_u:object_r:etc_t:s0";
	d = decide(p, e);
	CHECK(d.measure);
	CHECK(d.measure_line == 3);
	CHECK(d.inexact);
	CHECK(d.inexact_line == 2);

	e.subj_label = "system_u:system_r:init_t:s0";
	d = decide(p, e);
	CHECK(d.measure);
	CHECK(d.measure_line == 2);
	CHECK(!d.inexact);

	e.subj_label = "unconfined_u:unconfined_r:unconfined_t:s0";
	e.obj_label = "garbage";
	d = decide(p, e);
	CHECK(!d.measure);
	CHECK(!d.inexact);
	policy_free(p);
}

static void test_key_events(void)
{
	struct policy *p = parse_ok("measure func=KEY_CHECK keyrings=.ima\n"
				    "measure func=KEY_CHECK gid=5 uid=0\n");
	struct policy_decision d;

	/* The keyring name is unknown, so the first rule is inexact; gid= is never evaluated. */
	d = decide(p, event_make(POLICY_FUNC_KEY_CHECK, 0, 0, 0));
	CHECK(d.measure);
	CHECK(d.measure_line == 2);
	CHECK(d.inexact);
	CHECK(d.inexact_line == 1);
	CHECK(strcmp(d.inexact_keyword, "keyrings=") == 0);
	d = decide(p, event_make(POLICY_FUNC_KEY_CHECK, 0, 7, 0));
	CHECK(!d.measure);
	policy_free(p);
}

static struct policy *parse_ext(const char *text)
{
	struct policy_options options = {.extensions = true};
	struct policy *policy = NULL;
	struct policy_error err;
	int r = policy_parse_ex(text, strlen(text), "ext", &options, &policy, &err);

	if (r != 0)
		fprintf(stderr, "parse failed: %u:%u: %s\n", err.line, err.col, err.message);
	CHECK_CASE(r == 0, text);
	return policy;
}

static void test_extension_matching(void)
{
	struct policy *p = parse_ext("dont_measure path^=/opt/app/cache/\n"
				     "measure path^=/opt/app\n"
				     "measure path=/usr/bin/*\n"
				     "measure path=\"/srv/My Files/*.conf\"\n");
	struct policy_event e = event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4);
	static const struct {
		const char *path;
		unsigned int line; /* deciding line, 0 for none */
		bool measure;
	} paths[] = {
		{"/opt/app", 2, true},
		{"/opt/app/bin/x", 2, true},
		{"/opt/application", 0, false},
		{"/opt/app/cache", 1, false},
		{"/opt/app/cache/a/b", 1, false},
		{"/usr/bin/ls", 3, true},
		{"/usr/bin/sub/ls", 0, false},
		{"/srv/My Files/a.conf", 4, true},
		{"/srv/My Files/a.txt", 0, false},
	};
	struct policy_decision d;

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		e.path = paths[i].path;
		d = decide(p, e);
		CHECK_CASE(d.measure == paths[i].measure, paths[i].path);
		CHECK_CASE((d.measure ? d.measure_line : d.dont_line[POLICY_KIND_MEASURE]) ==
				   paths[i].line,
			   paths[i].path);
		CHECK_CASE(!d.inexact, paths[i].path);
	}
	e.path = NULL;
	d = decide(p, e);
	CHECK(!d.measure);
	CHECK(d.inexact);
	CHECK(d.inexact_line == 1);
	CHECK(strcmp(d.inexact_keyword, "path^=") == 0);
	policy_free(p);

	p = parse_ext("measure exe=/usr/bin/python3* comm=worker-?\n"
		      "measure cgroup=/system.slice/app.service\n"
		      "measure path^=/\n");
	e = event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 0, MAGIC_EXT4);
	e.path = "/x";
	e.exe = "/usr/bin/python3.11";
	e.comm = "worker-1";
	e.cgroup = "/system.slice/app.service/sub";
	d = decide(p, e);
	CHECK(d.measure);
	CHECK(d.measure_line == 1);
	e.comm = "worker-12";
	d = decide(p, e);
	CHECK(d.measure);
	CHECK(d.measure_line == 2);
	e.cgroup = "/system.slice/app.service2";
	d = decide(p, e);
	CHECK(d.measure);
	CHECK(d.measure_line == 3);
	e.path = "relative";
	d = decide(p, e);
	CHECK(!d.measure);
	policy_free(p);
}

/* Explanation */

struct step_log {
	unsigned int count;
	struct policy_step steps[16];
};

static void step_record(const struct policy_step *step, void *data)
{
	struct step_log *log = data;

	if (log->count < ARRAY_SIZE(log->steps))
		log->steps[log->count] = *step;
	log->count++;
}

static void test_explain(void)
{
	struct policy *p = parse_ok("dont_measure fsmagic=0x9fa0\n"
				    "measure func=BPRM_CHECK\n"
				    "measure func=FILE_CHECK mask=MAY_READ uid=0\n"
				    "measure func=FILE_CHECK mask=^MAY_WRITE\n"
				    "measure func=FILE_CHECK euid=0\n"
				    "measure fsname=ext4\n"
				    "appraise fowner=0\n"
				    "appraise\n");
	struct policy_event e =
		event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 1000, MAGIC_EXT4);
	struct policy_decision d, plain;
	struct step_log log = {0};

	e.fowner = 0;
	policy_explain(p, &e, step_record, &log, &d);
	plain = decide(p, e);
	CHECK(memcmp(&d, &plain, sizeof(d)) == 0);
	CHECK(log.count == 7);
	CHECK(log.steps[0].line == 1);
	CHECK(log.steps[0].result == POLICY_STEP_NO_MATCH);
	CHECK(strcmp(log.steps[0].reason, "fsmagic=0x9fa0: the filesystem magic is 0xef53") == 0);
	CHECK(strcmp(log.steps[0].keyword, "fsmagic=") == 0);
	CHECK(strcmp(log.steps[1].reason, "func=BPRM_CHECK: the event is FILE_CHECK") == 0);
	CHECK(strcmp(log.steps[2].reason, "uid=0: the subject's real uid is 1000") == 0);
	CHECK(strcmp(log.steps[3].reason,
		     "mask=^MAY_WRITE: the event mask MAY_READ does not contain MAY_WRITE") == 0);
	CHECK(strcmp(log.steps[4].reason, "euid=0: the subject's effective uid is 1000") == 0);
	CHECK(log.steps[5].result == POLICY_STEP_UNKNOWN);
	CHECK(strcmp(log.steps[5].reason, "fsname=ext4: the filesystem type is unknown") == 0);
	/* The appraise rule on line 7 decides appraisal; measuring stays undecided. */
	CHECK(log.steps[6].line == 7);
	CHECK(log.steps[6].result == POLICY_STEP_MATCH);
	CHECK(log.steps[6].kind == POLICY_KIND_APPRAISE);
	CHECK(log.steps[6].reason[0] == '\0');
	CHECK(log.steps[6].keyword == NULL);
	CHECK(!d.measure);
	CHECK(d.appraise);
	CHECK(d.appraise_line == 7);
	CHECK(d.inexact);
	CHECK(d.inexact_line == 6);
	policy_free(p);

	/* Rules of a decided kind are not reported; the exact mask is named. */
	p = parse_ok("measure mask=MAY_READ\nmeasure\nmeasure uid=5\n");
	memset(&log, 0, sizeof(log));
	e.mask = POLICY_MAY_READ | POLICY_MAY_WRITE;
	policy_explain(p, &e, step_record, &log, &d);
	CHECK(log.count == 2);
	CHECK(strcmp(log.steps[0].reason, "mask=MAY_READ: the event mask is MAY_WRITE|MAY_READ, "
					  "not exactly MAY_READ") == 0);
	CHECK(log.steps[1].result == POLICY_STEP_MATCH);
	CHECK(log.steps[1].index == 1);
	policy_free(p);

	/* CAP_SETUID and the other ids are named in the euid reason. */
	p = parse_ok("measure euid=0\nmeasure fowner<10\nmeasure fgroup>5000\n");
	memset(&log, 0, sizeof(log));
	e = event_make(POLICY_FUNC_FILE_CHECK, POLICY_MAY_READ, 1000, MAGIC_EXT4);
	e.has_cap_setuid = true;
	policy_explain(p, &e, step_record, &log, &d);
	CHECK(log.count == 3);
	CHECK(strstr(log.steps[0].reason, "holds CAP_SETUID") != NULL);
	CHECK(strcmp(log.steps[1].reason, "fowner<10: the file owner is 1000") == 0);
	CHECK(strcmp(log.steps[2].reason, "fgroup>5000: the file group is 1000") == 0);
	policy_free(p);
}

/* Checking */

struct diag_log {
	unsigned int errors, warnings;
	char codes[512];  /* "code@line " for each finding */
	char tokens[512]; /* "token " for each error */
	char first_kernel[320];
};

static void diag_record(const struct policy_diag *diag, void *data)
{
	struct diag_log *log = data;
	size_t n = strlen(log->codes);

	snprintf(log->codes + n, sizeof(log->codes) - n, "%s@%u ", diag->code, diag->line);
	if (diag->severity != POLICY_DIAG_ERROR) {
		log->warnings++;
		return;
	}
	n = strlen(log->tokens);
	snprintf(log->tokens + n, sizeof(log->tokens) - n, "%s ", diag->token);
	if (log->errors++ == 0)
		snprintf(log->first_kernel, sizeof(log->first_kernel), "%s", diag->kernel);
}

static int check_text(const char *text, unsigned int flags, bool extensions, struct diag_log *log)
{
	struct policy_options options = {.extensions = extensions};

	memset(log, 0, sizeof(*log));
	return policy_check(text, strlen(text), "check", &options, flags, diag_record, log);
}

static void test_check(void)
{
	struct diag_log log;

	/* Every bad line is reported, not only the first. */
	CHECK(check_text("measure fnc=X\nmeasure\nmeasure uid=x\ndont_audit fs_subtype=\n", 0,
			 false, &log) == -EINVAL);
	CHECK(log.errors == 3);
	CHECK(strstr(log.codes, "invalid-rule@1 invalid-rule@3 invalid-rule@4") != NULL);
	CHECK(strcmp(log.tokens, "fnc=X uid=x fs_subtype= ") == 0);
	CHECK(strstr(log.first_kernel, "UNKNOWN=fnc=X") != NULL);

	CHECK(check_text("# only comments\n\n", 0, false, &log) == -EINVAL);
	CHECK(strcmp(log.codes, "empty-policy@0 ") == 0);

	CHECK(check_text("measure func=BPRM_CHECK mask=MAY_EXEC\n"
			 "measure func=BPRM_CHECK mask=MAY_EXEC fsname=rootfs\n"
			 "measure func=BPRM_CHECK\n"
			 "dont_measure func=BPRM_CHECK mask=MAY_EXEC uid=0\n"
			 "measure func=FILE_CHECK mask=^MAY_READ uid<1000\n"
			 "measure func=FILE_CHECK mask=MAY_READ uid=5\n"
			 "measure func=FILE_CHECK mask=MAY_READ euid=5\n"
			 "measure func=FILE_CHECK mask=^MAY_READ uid<2000\n"
			 "appraise func=BPRM_CHECK fsname=rootfs\n",
			 0, false, &log) == 0);
	CHECK(log.errors == 0);
	CHECK(strcmp(log.codes, "shadowed@2 shadowed@4 shadowed@6 ") == 0);

	/* Key rules: gid= is never evaluated for key events, and a keyring list narrows. */
	CHECK(check_text("measure func=KEY_CHECK gid=5\nmeasure func=KEY_CHECK keyrings=.ima\n", 0,
			 false, &log) == 0);
	CHECK(strstr(log.codes, "shadowed@2") != NULL);
	CHECK(check_text("measure func=KEY_CHECK keyrings=.ima|.evm\n"
			 "measure func=KEY_CHECK keyrings=.evm\n"
			 "measure func=KEY_CHECK keyrings=.evm|.x\n",
			 0, false, &log) == 0);
	CHECK(strstr(log.codes, "shadowed@2") != NULL);
	CHECK(strstr(log.codes, "shadowed@3") == NULL);

	CHECK(check_text("measure func=MMAP_CHECK\nappraise fsuuid=00000000-0000-0000-0000-"
			 "000000000000\nmeasure obj_type=etc_t\nmeasure func=FILE_CHECK\n",
			 0, false, &log) == 0);
	CHECK(strstr(log.codes, "unevaluable@1"));
	CHECK(strstr(log.codes, "unevaluable@2"));
	CHECK(strstr(log.codes, "unevaluable@3"));
	CHECK(strstr(log.codes, "lsm-label@3"));
	CHECK(!strstr(log.codes, "@4"));

	CHECK(check_text("measure func=KEY_CHECK\nappraise func=MODULE_CHECK appraise_type=imasig|"
			 "modsig\nmeasure uid<0\n",
			 0, false, &log) == 0);
	CHECK(strstr(log.codes, "kernel-config@1"));
	CHECK(strstr(log.codes, "kernel-config@2"));
	CHECK(strstr(log.codes, "never-matches@3"));

	CHECK(check_text("dont_measure\ndont_appraise\n", 0, false, &log) == 0);
	CHECK(strstr(log.codes, "no-do-rule@1") != NULL);

	CHECK(check_text("measure\nmeasure uid=0", 0, false, &log) == 0);
	CHECK(strstr(log.codes, "no-final-newline@2") != NULL);
	CHECK(strstr(log.codes, "shadowed@2") != NULL);

	/* Extensions: an error without them, and each one an error with the kernel flag. */
	CHECK(check_text("measure path=/a comm=x\n", 0, false, &log) == -EINVAL);
	CHECK(log.errors == 1);
	CHECK(check_text("measure path=/a comm=x\n", 0, true, &log) == 0);
	CHECK(check_text("measure path=/a comm=x\nmeasure exe=/b\n", POLICY_CHECK_KERNEL, false,
			 &log) == -EINVAL);
	CHECK(strcmp(log.codes, "extension@1 extension@1 extension@2 ") == 0);
	CHECK(strcmp(log.tokens, "path=/a comm=x exe=/b ") == 0);
	CHECK(check_text("measure path^=/opt\nmeasure path^=/opt/app/x\nmeasure path=/opt/*\n", 0,
			 true, &log) == 0);
	CHECK(strstr(log.codes, "shadowed@2"));
	CHECK(!strstr(log.codes, "shadowed@3"));

	/* Text-level errors. */
	{
		struct policy_options old = {.kernel_version = 200};

		memset(&log, 0, sizeof(log));
		CHECK(policy_check("measure\n", 8, "x", &old, 0, diag_record, &log) == -EINVAL);
		CHECK(strcmp(log.codes, "text@0 ") == 0);
		memset(&log, 0, sizeof(log));
		CHECK(policy_check("measure\0x\n", 10, "x", NULL, 0, diag_record, &log) == -EINVAL);
		CHECK(strcmp(log.codes, "text@1 ") == 0);
	}
	CHECK(policy_check("measure\n", 8, "x", NULL, 0, NULL, NULL) == 0);
}

/* Printing */

static void test_print(void)
{
	static const struct {
		const char *text;
		const char *canonical;
	} cases[] = {
		{"measure func=PATH_CHECK mask=^MAY_READ euid=0",
		 "measure func=FILE_CHECK mask=^MAY_READ euid=0 "},
		{"dont_measure fsmagic=0x01021994 func=FILE_MMAP",
		 "dont_measure func=MMAP_CHECK fsmagic=0x1021994 "},
		{"measure pcr=+11 template=d-ng|n-ng uid=+5 fsname=ext4 fowner>3 fgroup<9 gid=1",
		 "measure fsname=ext4 pcr=11 uid=5 gid=1 fowner>3 fgroup<9 template=ima-ng "},
		{"appraise subj_type=b obj_user=a appraise_algos=sha512,sha1,sha256,sha1 "
		 "appraise_type=imasig appraise_flag=check_blacklist "
		 "fsuuid=28B23254-9467-44C0-B6BA-"
		 "34B12E85A26D",
		 "appraise fsuuid=28b23254-9467-44c0-b6ba-34b12e85a26d appraise_algos=sha1,sha256,"
		 "sha512 obj_user=a subj_type=b appraise_type=imasig "},
		{"appraise func=BPRM_CHECK digest_type=verity appraise_type=sigv3 permit_directio",
		 "appraise func=BPRM_CHECK appraise_type=sigv3 digest_type=verity "
		 "permit_directio "},
		{"measure func=KEY_CHECK keyrings=.ima|.evm template=ima-buf gid<4",
		 "measure func=KEY_CHECK keyrings=.ima|.evm gid<4 template=ima-buf "},
		{"appraise func=KEXEC_KERNEL_CHECK appraise_type=imasig|modsig",
		 "appraise func=KEXEC_KERNEL_CHECK appraise_type=imasig|modsig "},
		{"measure func=CRITICAL_DATA label=selinux",
		 "measure func=CRITICAL_DATA label=selinux "},
		{"dont_hash fsmagic=0", "dont_hash fsmagic=0x0 "},
		{"measure path=\"/a b/*\" comm=x cgroup=/s/ exe=/bin/sh",
		 "measure path=\"/a b/*\" exe=/bin/sh comm=x cgroup=/s "},
		{"measure path^=/opt/", "measure path^=/opt "},
	};
	char buf[512];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct policy *p = parse_ext(cases[i].text);
		int r = policy_format_rule(p, 0, buf, sizeof(buf));

		CHECK_CASE(r == (int)strlen(cases[i].canonical), cases[i].text);
		CHECK_CASE(strcmp(buf, cases[i].canonical) == 0, buf);
		CHECK_CASE(policy_format_rule(p, 0, buf, 10) == -ENOBUFS, cases[i].text);
		CHECK_CASE(policy_format_rule(p, 1, buf, sizeof(buf)) == -ERANGE, cases[i].text);
		policy_free(p);
	}

	/* The canonical form of the built-in lists parses back to the same form. */
	{
		struct policy *p = builtin_ok("tcb|secure_boot|appraise_tcb|critical_data", 619);
		char *text = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&text, &len);
		struct policy *q = NULL;
		struct policy_error err;

		CHECK(out != NULL);
		CHECK(policy_print(p, out) == 0);
		fclose(out);
		CHECK(strncmp(text, "dont_measure fsmagic=0x9fa0 \n", 29) == 0);
		CHECK(policy_parse(text, len, "printed", &q, &err) == 0);
		CHECK(policy_rule_count(q) == policy_rule_count(p));
		for (unsigned int i = 0; i < policy_rule_count(p); i++) {
			char again[512];

			CHECK(policy_format_rule(p, i, buf, sizeof(buf)) > 0);
			CHECK(policy_format_rule(q, i, again, sizeof(again)) > 0);
			CHECK_CASE(strcmp(buf, again) == 0, buf);
		}
		policy_free(q);
		policy_free(p);
		free(text);
	}
}

static void test_names(void)
{
	enum policy_func func;
	unsigned int mask = 0;
	char buf[64];

	CHECK(policy_func_from_name("FILE_MMAP", &func) == 0);
	CHECK(func == POLICY_FUNC_MMAP_CHECK);
	CHECK(policy_func_from_name("POST_SETATTR", &func) == -EINVAL);
	CHECK(policy_func_from_name("file_check", &func) == -EINVAL);
	CHECK(strcmp(policy_kind_name(POLICY_KIND_HASH), "hash") == 0);
	CHECK(policy_kind_name(POLICY_KIND__MAX) == NULL);
	CHECK(policy_mask_parse("MAY_READ|MAY_WRITE", &mask) == 0);
	CHECK(mask == 6);
	CHECK(policy_mask_parse("MAY_EXEC,MAY_APPEND", &mask) == 0);
	CHECK(mask == 9);
	CHECK(policy_mask_parse("MAY_READ|", &mask) == -EINVAL);
	CHECK(policy_mask_parse("READ", &mask) == -EINVAL);
	policy_mask_format(POLICY_MAY_READ | POLICY_MAY_APPEND, buf, sizeof(buf));
	CHECK(strcmp(buf, "MAY_READ|MAY_APPEND") == 0);
	policy_mask_format(0, buf, sizeof(buf));
	CHECK(strcmp(buf, "0") == 0);
}

static void test_rule_text_and_digest(void)
{
	static const char text[] = "\t measure func=BPRM_CHECK # exec  \n\n  appraise  \n";
	static const uint8_t zero[32];
	struct policy *p = parse_ok(text);

	CHECK(policy_rule_count(p) == 2);
	CHECK(strcmp(policy_rule_text(p, 0), "measure func=BPRM_CHECK # exec") == 0);
	CHECK(policy_rule_line(p, 1) == 3);
	CHECK(strcmp(policy_rule_text(p, 1), "appraise") == 0);
	CHECK(policy_rule_line(p, 2) == 0);
	CHECK(memcmp(policy_sha256(p), zero, 32) != 0);
	policy_free(p);
}

/* Loading from files */

static int write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static void test_load_file(void)
{
	char dir[] = "/tmp/test_policy.XXXXXX";
	char path[128], big_path[128];
	struct policy *p = NULL;
	struct policy_error err;
	char *big;
	int r;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/policy", dir);
	snprintf(big_path, sizeof(big_path), "%s/big", dir);

	CHECK(write_file(path, "# test\nmeasure func=BPRM_CHECK\nmeasure", 38) == 0);
	r = policy_load(path, &p, &err);
	CHECK(r == 0);
	CHECK(policy_rule_count(p) == 2);
	p = policy_free(p);

	CHECK(write_file(path, "measure\nmeasure func=FILE_CHECK mask=MAY_RED\n", 45) == 0);
	r = policy_load_file(path, &p, &err);
	CHECK(r == -EINVAL);
	CHECK(p == NULL);
	CHECK(strcmp(err.origin, path) == 0);
	CHECK(err.line == 2);
	CHECK(err.col == 25);

	big = malloc(1024 * 1024 + 1);
	CHECK(big != NULL);
	if (big) {
		memset(big, '\n', 1024 * 1024 + 1);
		memcpy(big, "measure", 7);
		CHECK(write_file(big_path, big, 1024 * 1024 + 1) == 0);
		r = policy_load(big_path, &p, &err);
		CHECK(r == -EFBIG);
		CHECK(strstr(err.message, "larger than the limit") != NULL);
		/* Exactly at the limit is accepted. */
		CHECK(write_file(big_path, big, 1024 * 1024) == 0);
		r = policy_load(big_path, &p, &err);
		CHECK(r == 0);
		p = policy_free(p);
		free(big);
	}

	r = policy_load(dir, &p, &err);
	CHECK(r == -EINVAL);
	CHECK(strstr(err.message, "not a regular file") != NULL);

	unlink(path);
	r = policy_load(path, &p, &err);
	CHECK(r == -ENOENT);
	CHECK(strcmp(err.origin, path) == 0);
	CHECK(strstr(err.message, "No such file") != NULL);

	r = policy_load("", &p, &err);
	CHECK(r == -EINVAL);
	CHECK(p == NULL);

	unlink(big_path);
	rmdir(dir);
}

/* policy_needs() names exactly the facts the rules test. */
static void test_needs(void)
{
	static const struct {
		const char *text;
		unsigned int needs;
	} cases[] = {
		{ "measure func=BPRM_CHECK\n", 0 },
		{ "measure func=FILE_CHECK uid=0\n", POLICY_NEEDS_SUBJECT_IDS },
		{ "measure egid>10\n", POLICY_NEEDS_SUBJECT_IDS },
		{ "dont_measure fsmagic=0x9fa0\n", POLICY_NEEDS_FSMAGIC },
		{ "measure fsname=ext4\n", POLICY_NEEDS_FS },
		{ "measure obj_type=bin_t\n", POLICY_NEEDS_OBJ_LABEL },
		{ "measure subj_type=init_t\n", POLICY_NEEDS_SUBJ_LABEL },
		{ "measure fowner=0\n", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy_error err;
		struct policy *policy = NULL;

		CHECK(policy_parse(cases[i].text, strlen(cases[i].text), "needs", &policy, &err) == 0);
		CHECK(policy_needs(policy) == cases[i].needs);
		policy_free(policy);
	}
}

int main(void)
{
	test_needs();
	test_parse_cases();
	test_all_or_nothing();
	test_parse_special_input();
	test_first_match_per_kind();
	test_pcr_and_template();
	test_mask();
	test_uid_and_euid();
	test_comparisons();
	test_fsmagic();
	test_unknown_conditions();
	test_special_hooks();
	test_builtin_tcb();
	test_option_cases();
	test_kernel_version_parse();
	test_error_details();
	test_builtins();
	test_audit_and_hash();
	test_appraise_flags();
	test_egid_capability();
	test_unknown_ids();
	test_filesystem_fields();
	test_lsm_labels();
	test_key_events();
	test_extension_matching();
	test_explain();
	test_check();
	test_print();
	test_names();
	test_rule_text_and_digest();
	test_load_file();

	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
