/* SPDX-License-Identifier: Apache-2.0 */
/*
 * imafs-policy: check, explain and print IMA policies.
 *
 *   check    Report every error in a policy file with FILE:LINE:COL, the token and what the
 *            kernel does with it. Warn about rules that cannot do what they seem to.
 *   explain  Show how a policy decides one file for one process, rule by rule, with the
 *            file's xattr and measurement state and the resulting verdict.
 *   print    Print a policy in the kernel's canonical form.
 *
 * Invariants:
 *  1. check's verdict is the parser's: exit 0 exactly when the policy would load (into the
 *     chosen kernel, or into imafs with --extensions), 1 otherwise.
 *  2. explain evaluates with the daemon's evaluator, on the facts the daemon would read. A fact
 *     it cannot read stays unknown and makes the decision inexact, instead of being guessed.
 *     It never opens the file for writing and never executes it.
 *
 * Exit status: 0 success, 1 failure (a rejected policy for check), 2 usage error.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/appraise.h"
#include "core/hash.h"
#include "core/ima_xattr.h"
#include "core/keys.h"
#include "policy/policy.h"
#include "tools/policy_inspect.h"

/* Largest policy file read; the parser rejects anything above 1 MiB with its own message. */
#define POLICY_FILE_MAX (2u * 1024u * 1024u)

/* Bytes of an xattr value shown in hex. */
#define XATTR_HEX_PREFIX 32

#define MAX_KEY_PATHS 16

enum verb { VERB_CHECK, VERB_EXPLAIN, VERB_PRINT };

enum {
	OPT_KERNEL = 0x100,
	OPT_KERNEL_VERSION,
	OPT_EXTENSIONS,
	OPT_JSON,
	OPT_POLICY,
	OPT_FUNC,
	OPT_MASK,
	OPT_EXEC,
	OPT_UID,
	OPT_EUID,
	OPT_GID,
	OPT_EGID,
	OPT_CAP_SETUID,
	OPT_CAP_SETGID,
	OPT_PID,
	OPT_SUBJ_LABEL,
	OPT_EXE,
	OPT_COMM,
	OPT_CGROUP,
	OPT_RUNTIME_DIR,
	OPT_KEYS,
	OPT_XATTR,
	OPT_HASH,
};

static struct policy_options arg_options = {.kernel_version = POLICY_KERNEL_VERSION_DEFAULT};
static bool arg_kernel;
static bool arg_json;
static const char *arg_policy;
static bool arg_func_set;
static enum policy_func arg_func = POLICY_FUNC_FILE_CHECK;
static bool arg_mask_set;
static unsigned int arg_mask;
static bool arg_exec;
static long long arg_uid = -1, arg_euid = -1, arg_gid = -1, arg_egid = -1;
static bool arg_cap_setuid, arg_cap_setgid;
static pid_t arg_pid;
static const char *arg_subj_label, *arg_exe, *arg_comm, *arg_cgroup;
static const char *arg_runtime_dir;
static const char *arg_keys[MAX_KEY_PATHS];
static unsigned int arg_key_count;
static const char *arg_xattr = "security.ima";
static enum hash_algo arg_hash = HASH_SHA256;

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: imafs-policy check [--kernel] [--kernel-version X.Y] [--extensions]\n"
		"                          [--json] FILE\n"
		"       imafs-policy explain --policy SPEC [--kernel-version X.Y] [--extensions]\n"
		"                          [--func NAME | --exec] [--mask MAY_X[|MAY_Y...]]\n"
		"                          [--pid PID | --uid N --euid N --gid N --egid N\n"
		"                           --cap-setuid --cap-setgid --subj-label CONTEXT]\n"
		"                          [--exe PATH] [--comm NAME] [--cgroup PATH]\n"
		"                          [--runtime-dir DIR] [--keys PATH]... [--xattr NAME]\n"
		"                          [--hash ALGO] [--json] PATH\n"
		"       imafs-policy print [--kernel-version X.Y] [--extensions] SPEC\n"
		"\n"
		"check    report every error of the policy FILE as FILE:LINE:COL with the token\n"
		"         and what the kernel does with it, and warnings about shadowed rules,\n"
		"         conditions imafs cannot evaluate and empty policies; exit 0 when the\n"
		"         policy loads, 1 when it does not. --kernel reports every imafs\n"
		"         extension as an error, since no kernel loads them.\n"
		"explain  evaluate the policy SPEC (a file, or builtin:tcb|appraise_tcb...) for\n"
		"         the file PATH, given through an imafs mount or in the tree a mount\n"
		"         serves, and print each action's deciding rule, why every earlier rule\n"
		"         of that action did not match, the file's xattrs and measurement list\n"
		"         entries (with --runtime-dir) and the verdict. The event is --func\n"
		"         (default FILE_CHECK) with --mask (default MAY_READ, MAY_EXEC for exec\n"
		"         hooks); --exec evaluates the FILE_CHECK and BPRM_CHECK events of an\n"
		"         execve(). The subject is process PID, or the ids given (default: the\n"
		"         caller's). --keys loads X.509 certificates for signatures; --xattr\n"
		"         names the xattr appraised (default security.ima); --hash is the\n"
		"         algorithm for files without one (default sha256).\n"
		"print    print the policy SPEC in the kernel's canonical form\n"
		"\n"
		"--kernel-version X.Y parses as Linux X.Y does (default 6.19); --extensions\n"
		"accepts the imafs conditions path=, path^=, exe=, comm= and cgroup=.\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n");
}

__attribute__((noreturn)) static void usage(const char *complaint)
{
	if (complaint)
		warnx("%s", complaint);
	print_usage(stderr);
	exit(2);
}

__attribute__((noreturn)) static void help(void)
{
	print_usage(stdout);
	exit(fflush(stdout) == 0 ? 0 : 1);
}

/* Output helpers */

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* Print "KEY": "VALUE" (or null), with a leading comma unless FIRST. */
static void json_field(FILE *out, bool first, const char *key, const char *value)
{
	fprintf(out, "%s\"%s\": ", first ? "" : ", ", key);
	if (value)
		json_string(out, value);
	else
		fputs("null", out);
}

static void hex_format(const uint8_t *bytes, size_t len, char *buf, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = 0;

	for (size_t i = 0; i < len && n + 3 <= size; i++) {
		buf[n++] = digits[bytes[i] >> 4];
		buf[n++] = digits[bytes[i] & 0xf];
	}
	buf[n < size ? n : size - 1] = '\0';
}

static void uuid_text(const uint8_t *u, char *buf, size_t size)
{
	snprintf(buf, size, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

static const char *options_version(char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u", arg_options.kernel_version / 100,
		 arg_options.kernel_version % 100);
	return buf;
}

/* Read FILE whole; exits on failure. */
static char *read_text(const char *path, size_t *ret_len)
{
	size_t len = 0;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		err(1, "%s", path);
	buf = malloc(POLICY_FILE_MAX + 1);
	if (!buf)
		err(1, "malloc");
	for (;;) {
		ssize_t n = read(fd, buf + len, POLICY_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err(1, "%s", path);
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > POLICY_FILE_MAX)
			errx(1, "%s: larger than %u bytes; check that the right file was given",
			     path, POLICY_FILE_MAX);
	}
	close(fd);
	buf[len] = '\0';
	*ret_len = len;
	return buf;
}

static void print_policy_error(const struct policy_error *perr)
{
	if (perr->line)
		fprintf(stderr, "%s:%u:%u: error: %s\n", perr->origin, perr->line, perr->col,
			perr->message);
	else
		fprintf(stderr, "%s: error: %s\n", perr->origin, perr->message);
	if (perr->kernel[0])
		fprintf(stderr, "    kernel: %s\n", perr->kernel);
}

static struct policy *xload_policy(const char *spec)
{
	struct policy_error perr;
	struct policy *policy = NULL;
	int r;

	memset(&perr, 0, sizeof(perr));
	r = policy_load_ex(spec, &arg_options, &policy, &perr);
	if (r < 0) {
		print_policy_error(&perr);
		exit(1);
	}
	return policy;
}

/* check */

struct diag_copy {
	enum policy_diag_severity severity;
	char code[32];
	unsigned int line, col, related_line;
	char token[128];
	char message[600];
	char kernel[400];
};

struct diag_list {
	struct diag_copy *items;
	size_t count, capacity;
	unsigned int errors, warnings;
};

static void diag_collect(const struct policy_diag *diag, void *data)
{
	struct diag_list *list = data;
	struct diag_copy *d;

	if (list->count == list->capacity) {
		size_t grown = list->capacity ? 2 * list->capacity : 32;
		struct diag_copy *items = reallocarray(list->items, grown, sizeof(*items));

		if (!items)
			err(1, "reallocarray");
		list->items = items;
		list->capacity = grown;
	}
	d = &list->items[list->count++];
	memset(d, 0, sizeof(*d));
	d->severity = diag->severity;
	snprintf(d->code, sizeof(d->code), "%s", diag->code);
	d->line = diag->line;
	d->col = diag->col;
	d->related_line = diag->related_line;
	snprintf(d->token, sizeof(d->token), "%s", diag->token);
	snprintf(d->message, sizeof(d->message), "%s", diag->message);
	snprintf(d->kernel, sizeof(d->kernel), "%s", diag->kernel);
	if (diag->severity == POLICY_DIAG_ERROR)
		list->errors++;
	else
		list->warnings++;
}

static int diag_compare(const void *a, const void *b)
{
	const struct diag_copy *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->severity != y->severity)
		return x->severity == POLICY_DIAG_ERROR ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return 0;
}

static void check_print_human(const char *file, const struct diag_list *list, bool accepted,
			      unsigned int rules)
{
	char version[16];

	for (size_t i = 0; i < list->count; i++) {
		const struct diag_copy *d = &list->items[i];
		const char *severity = d->severity == POLICY_DIAG_ERROR ? "error" : "warning";

		if (d->line && d->col)
			printf("%s:%u:%u: %s: %s [%s]\n", file, d->line, d->col, severity,
			       d->message, d->code);
		else if (d->line)
			printf("%s:%u: %s: %s [%s]\n", file, d->line, severity, d->message,
			       d->code);
		else
			printf("%s: %s: %s [%s]\n", file, severity, d->message, d->code);
		if (d->token[0] && d->severity == POLICY_DIAG_ERROR)
			printf("    token: %s\n", d->token);
		if (d->kernel[0])
			printf("    kernel: %s\n", d->kernel);
	}
	options_version(version, sizeof(version));
	if (accepted)
		printf("%s: accepted by %s: %u rule%s, %u warning%s\n", file,
		       arg_kernel || !arg_options.extensions ? "the kernel parser" : "imafs", rules,
		       rules == 1 ? "" : "s", list->warnings, list->warnings == 1 ? "" : "s");
	else
		printf("%s: rejected by %s: %u error%s, %u warning%s\n", file,
		       arg_kernel || !arg_options.extensions ? "the kernel parser" : "imafs",
		       list->errors, list->errors == 1 ? "" : "s", list->warnings,
		       list->warnings == 1 ? "" : "s");
	printf("%s: checked for Linux %s%s\n", file, version,
	       arg_options.extensions && !arg_kernel ? " with imafs extensions" : "");
}

static void check_print_json(const char *file, const struct diag_list *list, bool accepted,
			     unsigned int rules)
{
	char version[16];

	printf("{");
	json_field(stdout, true, "file", file);
	json_field(stdout, false, "kernel_version", options_version(version, sizeof(version)));
	printf(", \"extensions\": %s, \"kernel\": %s", arg_options.extensions ? "true" : "false",
	       arg_kernel ? "true" : "false");
	json_field(stdout, false, "verdict", accepted ? "accept" : "reject");
	printf(", \"rules\": %u", rules);
	for (int pass = 0; pass < 2; pass++) {
		enum policy_diag_severity want = pass ? POLICY_DIAG_WARNING : POLICY_DIAG_ERROR;
		bool first = true;

		printf(", \"%s\": [", pass ? "warnings" : "errors");
		for (size_t i = 0; i < list->count; i++) {
			const struct diag_copy *d = &list->items[i];

			if (d->severity != want)
				continue;
			printf("%s{", first ? "" : ", ");
			first = false;
			json_field(stdout, true, "code", d->code);
			printf(", \"line\": %u, \"col\": %u", d->line, d->col);
			json_field(stdout, false, "token", d->token);
			json_field(stdout, false, "message", d->message);
			json_field(stdout, false, "kernel", d->kernel);
			if (d->related_line)
				printf(", \"related_line\": %u", d->related_line);
			printf("}");
		}
		printf("]");
	}
	printf("}\n");
}

static int check(const char *file)
{
	struct diag_list list = {0};
	unsigned int rules = 0;
	size_t len;
	char *text = read_text(file, &len);
	int r;

	r = policy_check(text, len, file, &arg_options, arg_kernel ? POLICY_CHECK_KERNEL : 0,
			 diag_collect, &list);
	if (r == -ENOMEM)
		errx(1, "%s: out of memory", file);
	if (r == 0) {
		struct policy *policy = NULL;
		struct policy_error perr;

		/* The same text loads, so this parse only counts the rules. */
		if (policy_parse_ex(text, len, file, &arg_options, &policy, &perr) == 0)
			rules = policy_rule_count(policy);
		policy_free(policy);
	}
	qsort(list.items, list.count, sizeof(list.items[0]), diag_compare);
	if (arg_json)
		check_print_json(file, &list, r == 0, rules);
	else
		check_print_human(file, &list, r == 0, rules);
	free(list.items);
	free(text);
	if (fflush(stdout) != 0)
		err(1, "stdout");
	return r == 0 ? 0 : 1;
}

/* print */

static int print(const char *spec)
{
	struct policy *policy = xload_policy(spec);
	int r = policy_print(policy, stdout);

	policy_free(policy);
	if (r < 0) {
		errno = -r;
		err(1, "stdout");
	}
	return 0;
}

/* explain */

/* The explanation of one action kind for one event. */
struct kind_report {
	struct policy_step *skipped; /* rules of this kind that did not match, in order */
	size_t nskipped, capacity;
	bool decided;
	struct policy_step decider;
};

struct event_report {
	struct policy_event event;
	struct policy_decision decision;
	struct kind_report kinds[POLICY_KIND__MAX];
};

static void step_collect(const struct policy_step *step, void *data)
{
	struct event_report *report = data;
	struct kind_report *k = &report->kinds[step->kind];

	if (step->result == POLICY_STEP_MATCH) {
		k->decided = true;
		k->decider = *step;
		return;
	}
	if (k->nskipped == k->capacity) {
		size_t grown = k->capacity ? 2 * k->capacity : 16;
		struct policy_step *items = reallocarray(k->skipped, grown, sizeof(*items));

		if (!items)
			err(1, "reallocarray");
		k->skipped = items;
		k->capacity = grown;
	}
	k->skipped[k->nskipped++] = *step;
}

/* Result of appraising the file for an event whose appraise rule matched. */
struct appraisal {
	bool done; /* a verdict was reached */
	bool passed;
	const char *cause; /* kernel cause name when failed */
	char note[256];	   /* why no verdict was reached, or extra detail */
	char algo[16];	   /* hash algorithm used */
};

static struct keyring *xload_keys(void)
{
	struct keyring *ring = NULL;

	if (arg_key_count == 0)
		return NULL;
	if (keys_new(&ring) < 0)
		errx(1, "out of memory");
	for (unsigned int i = 0; i < arg_key_count; i++) {
		struct keys_error kerr;

		if (keys_add_path(ring, arg_keys[i], &kerr) < 0)
			errx(1, "%s: %s", kerr.origin, kerr.message);
	}
	return ring;
}

/* The xattr explain appraises, from what inspect_file() read or read now. */
static const struct inspect_xattr *appraised_xattr(const struct inspect_file *file,
						   struct inspect_xattr *other)
{
	ssize_t n;

	if (strcmp(arg_xattr, file->ima.name) == 0)
		return &file->ima;
	if (strcmp(arg_xattr, file->user_ima.name) == 0)
		return &file->user_ima;
	memset(other, 0, sizeof(*other));
	other->name = arg_xattr;
	n = getxattr(file->backing, arg_xattr, other->value, sizeof(other->value));
	if (n >= 0) {
		other->present = true;
		other->len = (size_t)n;
	} else if (errno != ENODATA) {
		other->error = -errno;
	}
	return other;
}

static void appraise_file(const struct inspect_file *file, const struct policy_decision *d,
			  const struct keyring *keys, struct appraisal *ret)
{
	struct appraise_params params = {.allowed_algos = d->appraise_algos, .keys = keys};
	struct appraise_result result;
	struct hash_digest digest;
	struct inspect_xattr other;
	const struct inspect_xattr *x = appraised_xattr(file, &other);
	const uint8_t *value = x->present ? x->value : NULL;
	enum hash_algo algo;
	int fd, r;

	memset(ret, 0, sizeof(*ret));
	if (d->fail_securely && file->fstype_known && strcmp(file->fsname, "fuse") == 0) {
		ret->done = true;
		ret->cause = "unverifiable-signature";
		snprintf(ret->note, sizeof(ret->note),
			 "fail_securely makes every file on a FUSE filesystem fail");
		return;
	}
	if (x->error) {
		snprintf(ret->note, sizeof(ret->note), "cannot read %s: %s", x->name,
			 strerror(-x->error));
		return;
	}
	if (!S_ISREG(file->st.st_mode)) {
		snprintf(ret->note, sizeof(ret->note), "not a regular file; nothing to appraise");
		return;
	}
	algo = appraise_hash_algo(value, x->len, arg_hash);
	snprintf(ret->algo, sizeof(ret->algo), "%s", hash_algo_name(algo));
	fd = open(file->backing, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(ret->note, sizeof(ret->note), "cannot open the file to hash it: %s",
			 strerror(errno));
		return;
	}
	r = hash_fd(algo, fd, &digest);
	close(fd);
	if (r < 0) {
		snprintf(ret->note, sizeof(ret->note), "cannot hash the file: %s", strerror(-r));
		return;
	}
	if (d->appraise_sig_required)
		params.flags |= APPRAISE_SIG_REQUIRED;
	if (d->appraise_check_blocklist)
		params.flags |= APPRAISE_CHECK_BLOCKLIST;
	r = appraise_decide(value, x->len, &digest, &params, &result);
	ret->done = r == 0;
	ret->passed = result.passed;
	ret->cause = result.passed ? NULL : appraise_cause_name(result.cause);
	if (r < 0)
		snprintf(ret->note, sizeof(ret->note), "no verdict: %s", strerror(-r));
	else if (!result.passed && result.cause == APPRAISE_CAUSE_UNKNOWN_KEY && !keys)
		snprintf(ret->note, sizeof(ret->note),
			 "no certificate was given; pass the signer's with --keys");
}

/* Describe an xattr value for people: type byte, algorithm and a hex prefix. */
static void xattr_describe(const struct inspect_xattr *x, char *buf, size_t size)
{
	char hex[2 * XATTR_HEX_PREFIX + 1];
	struct ima_xattr parsed;
	enum ima_xattr_error perr;

	if (x->error) {
		snprintf(buf, size, "unreadable (%s)", strerror(-x->error));
		return;
	}
	if (!x->present) {
		snprintf(buf, size, "absent");
		return;
	}
	if (x->len == 0) {
		snprintf(buf, size, "present but empty");
		return;
	}
	hex_format(x->value, x->len < XATTR_HEX_PREFIX ? x->len : XATTR_HEX_PREFIX, hex,
		   sizeof(hex));
	perr = ima_xattr_parse(x->value, x->len, &parsed);
	if (perr != IMA_XATTR_OK) {
		snprintf(buf, size, "present, %zu bytes, type 0x%02x, invalid (%s): %s%s", x->len,
			 x->value[0], ima_xattr_error_name(perr), hex,
			 x->len > XATTR_HEX_PREFIX ? "..." : "");
		return;
	}
	if (parsed.type == IMA_XATTR_DIGSIG || parsed.type == IMA_XATTR_VERITY_DIGSIG)
		snprintf(buf, size,
			 "present, %zu bytes, type 0x%02x (signature v%u, %s, key id %08x): %s%s",
			 x->len, x->value[0], parsed.version, hash_algo_name(parsed.algo),
			 parsed.keyid, hex, x->len > XATTR_HEX_PREFIX ? "..." : "");
	else
		snprintf(buf, size, "present, %zu bytes, type 0x%02x (digest, %s): %s%s", x->len,
			 x->value[0], hash_algo_name(parsed.algo), hex,
			 x->len > XATTR_HEX_PREFIX ? "..." : "");
}

/* The subject of the events: a live process or the ids from the command line. */
static void build_subject(struct inspect_subject *s)
{
	char errbuf[512];

	if (arg_pid > 0) {
		if (arg_uid >= 0 || arg_euid >= 0 || arg_gid >= 0 || arg_egid >= 0)
			usage("--pid and the id options exclude each other");
		if (inspect_subject(arg_pid, s, errbuf, sizeof(errbuf)) < 0)
			errx(1, "%s", errbuf);
	} else {
		memset(s, 0, sizeof(*s));
		s->uid = arg_uid >= 0 ? (uid_t)arg_uid : getuid();
		s->euid = arg_euid >= 0 ? (uid_t)arg_euid : s->uid;
		s->suid = s->euid;
		s->gid = arg_gid >= 0 ? (gid_t)arg_gid : getgid();
		s->egid = arg_egid >= 0 ? (gid_t)arg_egid : s->gid;
		s->sgid = s->egid;
		s->cap_setuid = arg_cap_setuid;
		s->cap_setgid = arg_cap_setgid;
	}
	if (arg_subj_label) {
		snprintf(s->label, sizeof(s->label), "%s", arg_subj_label);
		s->label_known = true;
	}
	if (arg_exe) {
		snprintf(s->exe, sizeof(s->exe), "%s", arg_exe);
		s->exe_known = true;
	}
	if (arg_comm) {
		snprintf(s->comm, sizeof(s->comm), "%s", arg_comm);
		s->comm_known = true;
	}
	if (arg_cgroup) {
		snprintf(s->cgroup, sizeof(s->cgroup), "%s", arg_cgroup);
		s->cgroup_known = true;
	}
}

/* The access mask a hook passes when --mask is not given. */
static unsigned int default_mask(enum policy_func func)
{
	switch (func) {
	case POLICY_FUNC_FILE_CHECK:
	case POLICY_FUNC_MODULE_CHECK:
	case POLICY_FUNC_FIRMWARE_CHECK:
	case POLICY_FUNC_KEXEC_KERNEL_CHECK:
	case POLICY_FUNC_KEXEC_INITRAMFS_CHECK:
	case POLICY_FUNC_POLICY_CHECK:
		return POLICY_MAY_READ;
	case POLICY_FUNC_MMAP_CHECK:
	case POLICY_FUNC_MMAP_CHECK_REQPROT:
	case POLICY_FUNC_BPRM_CHECK:
	case POLICY_FUNC_CREDS_CHECK:
		return POLICY_MAY_EXEC;
	default:
		return 0;
	}
}

static struct policy_event base_event(const struct inspect_file *f, const struct inspect_subject *s)
{
	struct policy_event e = {
		.uid = s->uid,
		.euid = s->euid,
		.suid = s->suid,
		.gid = s->gid,
		.egid = s->egid,
		.sgid = s->sgid,
		.has_cap_setuid = s->cap_setuid,
		.has_cap_setgid = s->cap_setgid,
		.fowner = f->st.st_uid,
		.fgroup = f->st.st_gid,
		.fsmagic = f->fsmagic,
		.fsmagic_unknown = !f->fsmagic_known,
		.fsname = f->fstype_known ? f->fsname : NULL,
		.fs_subtype = f->fstype_known ? f->fs_subtype : NULL,
		.fsuuid = f->fsuuid_known ? f->fsuuid : NULL,
		.obj_label = f->selinux_known ? f->selinux : NULL,
		.subj_label = s->label_known ? s->label : NULL,
		.path = f->name,
		.exe = s->exe_known ? s->exe : NULL,
		.comm = s->comm_known ? s->comm : NULL,
		.cgroup = s->cgroup_known ? s->cgroup : NULL,
	};
	return e;
}

/* Whether the event's verdict denies the open, and a sentence saying what happens. */
static bool event_verdict(const struct event_report *r, const struct appraisal *a, char *buf,
			  size_t size)
{
	const struct policy_decision *d = &r->decision;
	char measure[256], pcr[48], template[96], appraise[512];
	bool denied = false;

	if (d->pcr_set)
		snprintf(pcr, sizeof(pcr), "PCR %u", d->pcr);
	else
		snprintf(pcr, sizeof(pcr), "the PCR of --pcr (default 10)");
	if (d->template[0])
		snprintf(template, sizeof(template), "template %s", d->template);
	else
		snprintf(template, sizeof(template), "the template of --template (default ima-ng)");
	if (d->measure)
		snprintf(measure, sizeof(measure), "measured into %s with %s", pcr, template);
	else
		snprintf(measure, sizeof(measure), "not measured");

	if (!d->appraise) {
		snprintf(appraise, sizeof(appraise), "not appraised");
	} else if (!a->done) {
		snprintf(appraise, sizeof(appraise), "appraisal result unknown (%s)", a->note);
	} else if (a->passed) {
		snprintf(appraise, sizeof(appraise), "appraisal passes");
	} else {
		denied = true;
		snprintf(appraise, sizeof(appraise),
			 "appraisal fails with %s under the rule on line %u, so the open is denied "
			 "with EACCES in enforce mode%s%s",
			 a->cause, d->appraise_line, a->note[0] ? "; " : "", a->note);
	}
	snprintf(buf, size, "%s: %s; %s%s%s", denied ? "DENIED" : "allowed", measure, appraise,
		 d->audit ? "; an audit record is written" : "",
		 d->hash ? "; security.ima is rewritten at the last close" : "");
	return denied;
}

static void explain_print_file(const struct inspect_file *f, const struct inspect_measurements *m,
			       int mret)
{
	char text[512], uuid[40];

	printf("file: %s\n", f->path);
	printf("  name in the measurement list: %s\n", f->name);
	if (f->through_mount && f->backing_hidden)
		printf("  read through the imafs mount on %s, which covers its own source\n",
		       f->mountpoint);
	else if (f->through_mount)
		printf("  read from %s, the backing file of the imafs mount on %s\n", f->backing,
		       f->mountpoint);
	else if (f->mountpoint[0])
		printf("  backing file of the imafs mount on %s\n", f->mountpoint);
	else
		printf("  not served by an imafs mount\n");
	printf("  owner: uid %u, gid %u, mode %o\n", (unsigned int)f->st.st_uid,
	       (unsigned int)f->st.st_gid, (unsigned int)f->st.st_mode);
	if (f->fsmagic_known)
		snprintf(text, sizeof(text), "0x%x%s", f->fsmagic,
			 f->backing_hidden ? " (from the type name)" : "");
	else
		snprintf(text, sizeof(text), "unknown");
	if (f->fsuuid_known)
		uuid_text(f->fsuuid, uuid, sizeof(uuid));
	printf("  filesystem: type %s, magic %s, UUID %s\n",
	       f->fstype_known ? f->fstype : "unknown", text, f->fsuuid_known ? uuid : "unknown");
	printf("  SELinux label: %s\n", f->selinux_known ? f->selinux : "unknown");
	xattr_describe(&f->ima, text, sizeof(text));
	printf("  %s: %s\n", f->ima.name, text);
	xattr_describe(&f->user_ima, text, sizeof(text));
	printf("  %s: %s\n", f->user_ima.name, text);
	if (!arg_runtime_dir)
		return;
	if (mret < 0)
		printf("  measurement list: %s: %s\n", m->list, strerror(-mret));
	else if (m->count == 0)
		printf("  measurement list: no entry for this name in %s\n", m->list);
	else
		printf("  measurement list: %u entr%s in %s; the last: PCR %u, %s, %s\n", m->count,
		       m->count == 1 ? "y" : "ies", m->list, m->pcr, m->template, m->digest);
}

static void explain_print_subject(const struct inspect_subject *s)
{
	printf("subject: uid %u, euid %u, suid %u, gid %u, egid %u, sgid %u; CAP_SETUID %s, "
	       "CAP_SETGID %s",
	       (unsigned int)s->uid, (unsigned int)s->euid, (unsigned int)s->suid,
	       (unsigned int)s->gid, (unsigned int)s->egid, (unsigned int)s->sgid,
	       s->cap_setuid ? "yes" : "no", s->cap_setgid ? "yes" : "no");
	if (s->pid)
		printf(" (process %d)\n", (int)s->pid);
	else
		printf(" (from the command line)\n");
	printf("  label %s, exe %s, comm %s, cgroup %s\n", s->label_known ? s->label : "unknown",
	       s->exe_known ? s->exe : "unknown", s->comm_known ? s->comm : "unknown",
	       s->cgroup_known ? s->cgroup : "unknown");
}

static void explain_print_kind(const struct policy *policy, const struct event_report *r,
			       enum policy_kind kind)
{
	const struct kind_report *k = &r->kinds[kind];
	const char *name = policy_kind_name(kind);

	if (!policy_has_kind(policy, kind)) {
		printf("  %s: not evaluated: the policy has no %s rule\n", name, name);
		return;
	}
	if (!k->decided)
		printf("  %s: no: no %s rule matched\n", name, name);
	else if (k->decider.negated)
		printf("  %s: no: decided by line %u: %s\n", name, k->decider.line,
		       policy_rule_text(policy, k->decider.index));
	else
		printf("  %s: yes: decided by line %u: %s\n", name, k->decider.line,
		       policy_rule_text(policy, k->decider.index));
	if (kind == POLICY_KIND_HASH && r->decision.hash_cancel_line)
		printf("    cancelled by the appraise rule on line %u\n",
		       r->decision.hash_cancel_line);
	for (size_t i = 0; i < k->nskipped; i++) {
		const struct policy_step *s = &k->skipped[i];

		printf("    line %u skipped: %s\n      %s%s\n", s->line,
		       policy_rule_text(policy, s->index), s->reason,
		       s->result == POLICY_STEP_UNKNOWN ? " (cannot be evaluated; inexact)" : "");
	}
}

static void json_kind(const struct policy *policy, const struct event_report *r,
		      enum policy_kind kind)
{
	const struct kind_report *k = &r->kinds[kind];
	const char *decision;
	char buf[32];

	if (!policy_has_kind(policy, kind))
		decision = "not-evaluated";
	else if (!k->decided)
		decision = "none";
	else if (k->decider.negated)
		decision = (snprintf(buf, sizeof(buf), "dont_%s", policy_kind_name(kind)), buf);
	else
		decision = policy_kind_name(kind);
	printf("\"%s\": {", policy_kind_name(kind));
	json_field(stdout, true, "decision", decision);
	if (k->decided) {
		printf(", \"line\": %u", k->decider.line);
		json_field(stdout, false, "rule", policy_rule_text(policy, k->decider.index));
	} else {
		printf(", \"line\": null, \"rule\": null");
	}
	if (kind == POLICY_KIND_HASH && r->decision.hash_cancel_line)
		printf(", \"cancelled_by_line\": %u", r->decision.hash_cancel_line);
	printf(", \"skipped\": [");
	for (size_t i = 0; i < k->nskipped; i++) {
		const struct policy_step *s = &k->skipped[i];

		printf("%s{\"line\": %u", i ? ", " : "", s->line);
		json_field(stdout, false, "rule", policy_rule_text(policy, s->index));
		json_field(stdout, false, "result",
			   s->result == POLICY_STEP_UNKNOWN ? "unknown" : "no-match");
		json_field(stdout, false, "keyword", s->keyword);
		json_field(stdout, false, "reason", s->reason);
		printf("}");
	}
	printf("]}");
}

static void json_xattr(const struct inspect_xattr *x)
{
	char hex[2 * XATTR_HEX_PREFIX + 1];

	printf("\"%s\": {\"present\": %s", x->name, x->present ? "true" : "false");
	if (x->present) {
		hex_format(x->value, x->len < XATTR_HEX_PREFIX ? x->len : XATTR_HEX_PREFIX, hex,
			   sizeof(hex));
		printf(", \"length\": %zu", x->len);
		if (x->len)
			printf(", \"type\": %u", x->value[0]);
		json_field(stdout, false, "hex_prefix", hex);
	}
	if (x->error)
		json_field(stdout, false, "error", strerror(-x->error));
	printf("}");
}

static void explain_json(const struct policy *policy, const struct inspect_file *f,
			 const struct inspect_subject *s, const struct inspect_measurements *m,
			 int mret, const struct event_report *reports, const struct appraisal *as,
			 unsigned int nevents, bool denied)
{
	char buf[64], hex[65];

	printf("{\"file\": {");
	json_field(stdout, true, "path", f->path);
	json_field(stdout, false, "name", f->name);
	json_field(stdout, false, "backing", f->backing);
	json_field(stdout, false, "mountpoint", f->mountpoint[0] ? f->mountpoint : NULL);
	printf(", \"through_mount\": %s, \"backing_hidden\": %s, \"uid\": %u, \"gid\": %u, "
	       "\"mode\": %u",
	       f->through_mount ? "true" : "false", f->backing_hidden ? "true" : "false",
	       (unsigned int)f->st.st_uid, (unsigned int)f->st.st_gid, (unsigned int)f->st.st_mode);
	snprintf(buf, sizeof(buf), "0x%x", f->fsmagic);
	json_field(stdout, false, "fsmagic", f->fsmagic_known ? buf : NULL);
	json_field(stdout, false, "fstype", f->fstype_known ? f->fstype : NULL);
	uuid_text(f->fsuuid, buf, sizeof(buf));
	json_field(stdout, false, "fsuuid", f->fsuuid_known ? buf : NULL);
	json_field(stdout, false, "selinux", f->selinux_known ? f->selinux : NULL);
	printf(", \"xattrs\": {");
	json_xattr(&f->ima);
	printf(", ");
	json_xattr(&f->user_ima);
	printf("}, \"measurements\": ");
	if (!arg_runtime_dir || mret < 0) {
		printf("null");
	} else {
		printf("{");
		json_field(stdout, true, "list", m->list);
		printf(", \"count\": %u", m->count);
		if (m->count) {
			printf(", \"pcr\": %u", m->pcr);
			json_field(stdout, false, "template", m->template);
			json_field(stdout, false, "digest", m->digest);
		}
		printf("}");
	}
	printf("}, \"subject\": {\"pid\": %d, \"uid\": %u, \"euid\": %u, \"suid\": %u, "
	       "\"gid\": %u, \"egid\": %u, \"sgid\": %u, \"cap_setuid\": %s, \"cap_setgid\": %s",
	       (int)s->pid, (unsigned int)s->uid, (unsigned int)s->euid, (unsigned int)s->suid,
	       (unsigned int)s->gid, (unsigned int)s->egid, (unsigned int)s->sgid,
	       s->cap_setuid ? "true" : "false", s->cap_setgid ? "true" : "false");
	json_field(stdout, false, "label", s->label_known ? s->label : NULL);
	json_field(stdout, false, "exe", s->exe_known ? s->exe : NULL);
	json_field(stdout, false, "comm", s->comm_known ? s->comm : NULL);
	json_field(stdout, false, "cgroup", s->cgroup_known ? s->cgroup : NULL);
	printf("}, \"policy\": {");
	json_field(stdout, true, "spec", arg_policy);
	hex_format(policy_sha256(policy), 32, hex, sizeof(hex));
	printf(", \"rules\": %u", policy_rule_count(policy));
	json_field(stdout, false, "sha256", hex);
	printf("}, \"events\": [");
	for (unsigned int i = 0; i < nevents; i++) {
		const struct event_report *r = &reports[i];
		const struct policy_decision *d = &r->decision;
		char verdict[1024], mask[64];
		bool event_denied = event_verdict(r, &as[i], verdict, sizeof(verdict));

		policy_mask_format(r->event.mask, mask, sizeof(mask));
		printf("%s{", i ? ", " : "");
		json_field(stdout, true, "func", policy_func_name(r->event.func));
		json_field(stdout, false, "mask", mask);
		printf(", \"kinds\": {");
		for (enum policy_kind k = POLICY_KIND_MEASURE; k < POLICY_KIND__MAX; k++) {
			printf("%s", k ? ", " : "");
			json_kind(policy, r, k);
		}
		printf("}, \"measure\": {\"pcr\": ");
		if (d->pcr_set)
			printf("%u", d->pcr);
		else
			printf("null");
		json_field(stdout, false, "template", d->template[0] ? d->template : NULL);
		printf("}, \"appraise\": {\"sig_required\": %s, \"algos\": %u",
		       d->appraise_sig_required ? "true" : "false", d->appraise_algos);
		if (d->appraise) {
			printf(", \"done\": %s, \"passed\": %s", as[i].done ? "true" : "false",
			       as[i].passed ? "true" : "false");
			json_field(stdout, false, "cause", as[i].cause);
			json_field(stdout, false, "note", as[i].note);
		}
		printf("}, \"permit_directio\": %s, \"inexact\": ",
		       d->permit_directio ? "true" : "false");
		if (d->inexact) {
			printf("{\"line\": %u", d->inexact_line);
			json_field(stdout, false, "keyword", d->inexact_keyword);
			printf("}");
		} else {
			printf("null");
		}
		json_field(stdout, false, "verdict", event_denied ? "denied" : "allowed");
		json_field(stdout, false, "verdict_text", verdict);
		printf("}");
	}
	printf("], \"verdict\": \"%s\"}\n", denied ? "denied" : "allowed");
}

static void explain_human(const struct policy *policy, const struct inspect_file *f,
			  const struct inspect_subject *s, const struct inspect_measurements *m,
			  int mret, const struct event_report *reports, const struct appraisal *as,
			  unsigned int nevents, bool denied)
{
	char hex[65];

	explain_print_file(f, m, mret);
	explain_print_subject(s);
	hex_format(policy_sha256(policy), 32, hex, sizeof(hex));
	printf("policy: %s, %u rules, sha256 %s\n", arg_policy, policy_rule_count(policy), hex);
	for (unsigned int i = 0; i < nevents; i++) {
		const struct event_report *r = &reports[i];
		char mask[64], verdict[768];

		policy_mask_format(r->event.mask, mask, sizeof(mask));
		printf("\nevent: %s mask=%s\n", policy_func_name(r->event.func), mask);
		for (enum policy_kind k = POLICY_KIND_MEASURE; k < POLICY_KIND__MAX; k++)
			explain_print_kind(policy, r, k);
		if (r->decision.appraise && as[i].done)
			printf("  appraisal of %s with %s: %s%s%s\n", arg_xattr, as[i].algo,
			       as[i].passed ? "pass" : "fail, ", as[i].passed ? "" : as[i].cause,
			       "");
		if (r->decision.inexact)
			printf("  inexact: the rule on line %u was skipped because %s could not be "
			       "evaluated; the kernel may decide differently\n",
			       r->decision.inexact_line, r->decision.inexact_keyword);
		event_verdict(r, &as[i], verdict, sizeof(verdict));
		printf("  verdict: %s\n", verdict);
	}
	printf("\nverdict: %s\n", denied ? "DENIED" : "allowed");
}

static int explain(const char *path)
{
	struct event_report reports[2];
	struct appraisal appraisals[2];
	struct inspect_measurements measurements;
	struct inspect_subject subject;
	struct inspect_file *file;
	struct keyring *keys;
	struct policy *policy;
	unsigned int nevents = 0;
	char errbuf[PATH_MAX + 128];
	bool denied = false;
	int mret = 0;

	if (!arg_policy)
		usage("explain needs --policy SPEC");
	if (arg_exec && (arg_func_set || arg_mask_set))
		usage("--exec sets the events itself; leave out --func and --mask");
	policy = xload_policy(arg_policy);
	keys = xload_keys();
	build_subject(&subject);
	file = malloc(sizeof(*file));
	if (!file)
		err(1, "malloc");
	if (inspect_file(path, file, errbuf, sizeof(errbuf)) < 0)
		errx(1, "%s", errbuf);
	if (arg_runtime_dir)
		mret = inspect_measurements(arg_runtime_dir, file->name, &measurements);

	memset(reports, 0, sizeof(reports));
	if (arg_exec) {
		/* An execve() open raises FILE_CHECK with MAY_EXEC, then BPRM_CHECK. */
		reports[nevents].event = base_event(file, &subject);
		reports[nevents].event.func = POLICY_FUNC_FILE_CHECK;
		reports[nevents++].event.mask = POLICY_MAY_EXEC;
		reports[nevents].event = base_event(file, &subject);
		reports[nevents].event.func = POLICY_FUNC_BPRM_CHECK;
		reports[nevents++].event.mask = POLICY_MAY_EXEC;
	} else {
		reports[nevents].event = base_event(file, &subject);
		reports[nevents].event.func = arg_func;
		reports[nevents++].event.mask = arg_mask_set ? arg_mask : default_mask(arg_func);
	}
	for (unsigned int i = 0; i < nevents; i++) {
		char unused[8];

		policy_explain(policy, &reports[i].event, step_collect, &reports[i],
			       &reports[i].decision);
		memset(&appraisals[i], 0, sizeof(appraisals[i]));
		if (reports[i].decision.appraise)
			appraise_file(file, &reports[i].decision, keys, &appraisals[i]);
		denied = event_verdict(&reports[i], &appraisals[i], unused, sizeof(unused)) ||
			 denied;
	}

	if (arg_json)
		explain_json(policy, file, &subject, &measurements, mret, reports, appraisals,
			     nevents, denied);
	else
		explain_human(policy, file, &subject, &measurements, mret, reports, appraisals,
			      nevents, denied);
	for (unsigned int i = 0; i < nevents; i++) {
		for (enum policy_kind k = POLICY_KIND_MEASURE; k < POLICY_KIND__MAX; k++)
			free(reports[i].kinds[k].skipped);
	}
	free(file);
	keys_free(keys);
	policy_free(policy);
	if (fflush(stdout) != 0)
		err(1, "stdout");
	return 0;
}

/* Options */

static long long parse_id_arg(const char *option, const char *text)
{
	unsigned long long value;
	char *end;

	errno = 0;
	value = strtoull(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || errno || *end || value >= 4294967295ULL) {
		warnx("invalid %s value '%s'; use a decimal id from 0 to 4294967294", option, text);
		usage(NULL);
	}
	return (long long)value;
}

static void parse_options(enum verb verb, int argc, char *argv[])
{
	static const struct option common[] = {
		{"kernel-version", required_argument, NULL, OPT_KERNEL_VERSION},
		{"extensions", no_argument, NULL, OPT_EXTENSIONS},
		{"help", no_argument, NULL, 'h'},
		{"kernel", no_argument, NULL, OPT_KERNEL},
		{"json", no_argument, NULL, OPT_JSON},
		{"policy", required_argument, NULL, OPT_POLICY},
		{"func", required_argument, NULL, OPT_FUNC},
		{"mask", required_argument, NULL, OPT_MASK},
		{"exec", no_argument, NULL, OPT_EXEC},
		{"uid", required_argument, NULL, OPT_UID},
		{"euid", required_argument, NULL, OPT_EUID},
		{"gid", required_argument, NULL, OPT_GID},
		{"egid", required_argument, NULL, OPT_EGID},
		{"cap-setuid", no_argument, NULL, OPT_CAP_SETUID},
		{"cap-setgid", no_argument, NULL, OPT_CAP_SETGID},
		{"pid", required_argument, NULL, OPT_PID},
		{"subj-label", required_argument, NULL, OPT_SUBJ_LABEL},
		{"exe", required_argument, NULL, OPT_EXE},
		{"comm", required_argument, NULL, OPT_COMM},
		{"cgroup", required_argument, NULL, OPT_CGROUP},
		{"runtime-dir", required_argument, NULL, OPT_RUNTIME_DIR},
		{"keys", required_argument, NULL, OPT_KEYS},
		{"xattr", required_argument, NULL, OPT_XATTR},
		{"hash", required_argument, NULL, OPT_HASH},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", common, NULL)) != -1) {
		/* Options of another verb are usage errors. */
		if ((c == OPT_KERNEL || c == OPT_JSON) && verb == VERB_PRINT)
			usage("print takes only --kernel-version and --extensions");
		if (c == OPT_KERNEL && verb != VERB_CHECK)
			usage("--kernel belongs to check");
		if (c >= OPT_POLICY && verb != VERB_EXPLAIN)
			usage("this option belongs to explain");
		switch (c) {
		case 'h':
			help();
		case OPT_KERNEL:
			arg_kernel = true;
			break;
		case OPT_KERNEL_VERSION:
			if (policy_kernel_version_parse(optarg, &arg_options.kernel_version) < 0) {
				warnx("invalid kernel version '%s'; write MAJOR.MINOR such as 6.13",
				      optarg);
				usage(NULL);
			}
			break;
		case OPT_EXTENSIONS:
			arg_options.extensions = true;
			break;
		case OPT_JSON:
			arg_json = true;
			break;
		case OPT_POLICY:
			arg_policy = optarg;
			break;
		case OPT_FUNC:
			if (policy_func_from_name(optarg, &arg_func) < 0) {
				warnx("unknown hook '%s'; use a func= name such as FILE_CHECK or "
				      "BPRM_CHECK",
				      optarg);
				usage(NULL);
			}
			arg_func_set = true;
			break;
		case OPT_MASK:
			if (policy_mask_parse(optarg, &arg_mask) < 0) {
				warnx("invalid mask '%s'; join MAY_READ, MAY_WRITE, MAY_APPEND and "
				      "MAY_EXEC with '|' or ','",
				      optarg);
				usage(NULL);
			}
			arg_mask_set = true;
			break;
		case OPT_EXEC:
			arg_exec = true;
			break;
		case OPT_UID:
			arg_uid = parse_id_arg("--uid", optarg);
			break;
		case OPT_EUID:
			arg_euid = parse_id_arg("--euid", optarg);
			break;
		case OPT_GID:
			arg_gid = parse_id_arg("--gid", optarg);
			break;
		case OPT_EGID:
			arg_egid = parse_id_arg("--egid", optarg);
			break;
		case OPT_CAP_SETUID:
			arg_cap_setuid = true;
			break;
		case OPT_CAP_SETGID:
			arg_cap_setgid = true;
			break;
		case OPT_PID:
			arg_pid = (pid_t)parse_id_arg("--pid", optarg);
			if (arg_pid <= 0)
				usage("--pid needs a process id above 0");
			break;
		case OPT_SUBJ_LABEL:
			arg_subj_label = optarg;
			break;
		case OPT_EXE:
			arg_exe = optarg;
			break;
		case OPT_COMM:
			arg_comm = optarg;
			break;
		case OPT_CGROUP:
			arg_cgroup = optarg;
			break;
		case OPT_RUNTIME_DIR:
			arg_runtime_dir = optarg;
			break;
		case OPT_KEYS:
			if (arg_key_count == MAX_KEY_PATHS)
				usage("too many --keys options: at most 16");
			arg_keys[arg_key_count++] = optarg;
			break;
		case OPT_XATTR:
			arg_xattr = optarg;
			break;
		case OPT_HASH:
			if (hash_algo_from_name(optarg, &arg_hash) < 0 ||
			    !hash_algo_size(arg_hash)) {
				warnx("unknown hash algorithm '%s'; use sha1, sha256, sha384 or "
				      "sha512",
				      optarg);
				usage(NULL);
			}
			break;
		default:
			usage(NULL);
		}
	}
}

int main(int argc, char *argv[])
{
	static const char *const verbs[] = {
		[VERB_CHECK] = "check", [VERB_EXPLAIN] = "explain", [VERB_PRINT] = "print"};
	enum verb verb;
	unsigned int i;

	if (argc < 2)
		usage(NULL);
	for (i = 0; i < 3 && strcmp(argv[1], verbs[i]) != 0; i++)
		;
	if (i == 3) {
		if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
			help();
		warnx("unknown command '%s'", argv[1]);
		usage(NULL);
	}
	verb = (enum verb)i;

	parse_options(verb, argc - 1, argv + 1);
	if (optind != argc - 2)
		usage(optind == argc - 1 ? "no file given" : "more than one file given");
	if (arg_options.kernel_version < 516)
		warnx("note: only the parser changes of Linux 5.16, 6.14 and 6.19 are modelled, so "
		      "keywords that Linux %u.%u lacks for other reasons are still accepted",
		      arg_options.kernel_version / 100, arg_options.kernel_version % 100);

	switch (verb) {
	case VERB_CHECK:
		return check(argv[argc - 1]);
	case VERB_EXPLAIN:
		return explain(argv[argc - 1]);
	case VERB_PRINT:
		return print(argv[argc - 1]);
	}
	return 2;
}
