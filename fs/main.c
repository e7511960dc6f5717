/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The imafs daemon: parses the command line, loads the policy, opens the TPM,
 * builds the measurement context, mounts SOURCE on MOUNTPOINT and serves FUSE
 * requests until the file system is unmounted or a signal arrives.
 *
 * Invariants:
 *  1. Everything that can fail on bad input (options, policy, TPM, runtime
 *     directory) is checked before mounting, and reported with exit status 1.
 *  2. Without -f the process detaches only after the mount succeeded, so the
 *     mount is ready when the parent process exits.
 *  3. SOURCE is opened before mounting, so the daemon never reaches the
 *     backing files through the mount, even when SOURCE is MOUNTPOINT.
 *
 * Ownership: main() owns every object it creates and frees them in reverse
 * order on the way out.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/log.h"
#include "core/measure.h"
#include "core/rundir.h"
#include "core/template.h"
#include "core/tpm.h"
#include "fs/control.h"
#include "fs/fs.h"
#include "policy/policy.h"

#define DEFAULT_POLICY "builtin:tcb"
#define DEFAULT_TEMPLATE "ima-ng"
#define DEFAULT_PCR 10u
#define MAX_IDLE_THREADS_LIMIT 1024u

/* Seconds the kernel may cache names and attributes, unless --cache-timeout sets another value. */
#define DEFAULT_CACHE_TIMEOUT 1.0
#define MAX_CACHE_TIMEOUT 86400u

struct options {
	bool foreground;
	bool debug;
	char *mount_options; /* -o values joined with commas, or NULL */
	const char *hash_name;
	enum hash_algo hash;
	const char *template_name;
	const char *policy;
	const char *tcti; /* NULL: the TPM device if present, else the software bank */
	unsigned int pcr;
	const char *runtime_dir;
	unsigned int max_idle_threads; /* 0: libfuse's default */
	int log_level;
	bool log_level_set;
	enum appraise_mode appraise_mode;
	const char *keys;      /* --keys FILE or DIR, or NULL */
	const char *allowlist; /* --allowlist FILE, or NULL */
	const char *blocklist; /* --blocklist FILE, or NULL */
	bool xattr_user;
	bool new_log;
	double cache_timeout; /* entry and attribute timeout in seconds */
	struct policy_options policy_options; /* --kernel-version, --policy-extensions */
	char source[PATH_MAX];
	char mountpoint[PATH_MAX];
	char policy_path[PATH_MAX]; /* --policy FILE made absolute: libfuse changes to / */
};

/* Facts gathered during start-up for the configuration line in the log. */
struct startup_info {
	char runtime_dir[PATH_MAX];
	unsigned int policy_rules;
	char tpm[256]; /* tpm_describe() of the TPM in use */
};

static const struct {
	const char *name;
	int level;
} log_levels[] = {
	{ "err", LOG_ERR },   { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
	{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
};

static void print_usage(FILE *out)
{
	fprintf(out,
		"Usage: imafs [OPTIONS] SOURCE MOUNTPOINT\n"
		"\n"
		"Serve the directory SOURCE at MOUNTPOINT (which may be SOURCE itself) and\n"
		"measure every file opened or executed there into an IMA measurement list,\n"
		"extending a TPM PCR.\n"
		"\n"
		"Options:\n"
		"  -f                      stay in the foreground\n"
		"  -d                      print FUSE requests (implies -f and --log-level debug)\n"
		"  -o OPT[,OPT...]         FUSE mount options, such as allow_other;\n"
		"                          default_permissions is always set\n"
		"  --hash ALGO             file hash: sha256 (default), sha1, sha384 or sha512\n"
		"  --template NAME         record template: ima-ng (default), ima (needs --hash\n"
		"                          sha1), ima-sig, ima-ngv2, ima-sigv2 or a field list\n"
		"  --policy SPEC           IMA policy file, or builtin:NAME (default %s)\n"
		"  --tpm TCTI              tpm2-tss TCTI such as device:/dev/tpmrm0, or 'none'\n"
		"                          for a software PCR bank (default: /dev/tpmrm0 when\n"
		"                          present, else the software bank)\n"
		"  --pcr N                 PCR for rules without pcr=, 0 to 23 (default %u)\n"
		"  --runtime-dir DIR       directory for the measurement lists (default\n"
		"                          %s/ followed by MOUNTPOINT escaped as\n"
		"                          systemd-escape --path does)\n"
		"  --appraise MODE         enforce, log, fix or off (default): what an\n"
		"                          appraisal failure does; 'appraise' policy rules\n"
		"                          are ignored when off\n"
		"  --keys PATH             X.509 certificate (PEM or DER) or directory of\n"
		"                          them whose keys verify security.ima signatures\n"
		"  --allowlist FILE        sha256sum-format digests that pass appraisal when\n"
		"                          a file has no IMA xattr\n"
		"  --blocklist FILE        sha256sum-format digests that fail appraisal under\n"
		"                          rules with appraise_type=, as the kernel's deny\n"
		"                          list does (appraise_flag=check_blacklist is\n"
		"                          obsolete and ignored, as in the kernel)\n"
		"  --xattr-user            read and write user.ima instead of security.ima\n"
		"  --new-log               archive a measurement list left in the runtime\n"
		"                          directory instead of continuing it\n"
		"  --kernel-version X.Y    read the policy as that Linux version does\n"
		"                          (default 6.19)\n"
		"  --policy-extensions     accept the imafs policy conditions path=, path^=,\n"
		"                          exe=, comm= and cgroup=, which no kernel loads\n"
		"  --cache-timeout SECONDS how long the kernel may cache names and attributes\n"
		"                          (default 1); raise it only when nothing changes\n"
		"                          SOURCE except through this mount\n"
		"  --threads N             maximum number of idle FUSE threads\n"
		"  --log-level LEVEL       err, warning, notice, info (default) or debug\n"
		"  -h, --help              print this help and exit\n"
		"  -V, --version           print the versions of imafs and libfuse and exit\n",
		DEFAULT_POLICY, DEFAULT_PCR, RUNDIR_BASE);
}

/* Print a command line error in the usual form and return exit status 1. */
static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("imafs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'imafs --help' for more information.\n", stderr);
	return 1;
}

/* Parse a decimal number in [MIN, MAX]. Returns 0 or -EINVAL. */
static int parse_uint(const char *text, unsigned int min, unsigned int max, unsigned int *ret)
{
	unsigned long value;
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || value < min || value > max)
		return -EINVAL;
	*ret = (unsigned int)value;
	return 0;
}

static int parse_log_level(const char *name, int *ret)
{
	size_t i;

	for (i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++) {
		if (strcmp(name, log_levels[i].name) == 0) {
			*ret = log_levels[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

static int add_mount_options(struct options *opt, const char *value)
{
	size_t old = opt->mount_options ? strlen(opt->mount_options) : 0;
	char *joined;

	joined = realloc(opt->mount_options, old + strlen(value) + 2);
	if (!joined)
		return -ENOMEM;
	if (old == 0)
		strcpy(joined, value);
	else
		sprintf(joined + old, ",%s", value);
	opt->mount_options = joined;
	return 0;
}

static void print_version(void)
{
	printf("imafs %s\nlibfuse %s\n", IMAFS_VERSION, fuse_pkgversion());
}

enum {
	OPT_HASH = 0x100,
	OPT_TEMPLATE,
	OPT_POLICY,
	OPT_TPM,
	OPT_PCR,
	OPT_RUNTIME_DIR,
	OPT_THREADS,
	OPT_LOG_LEVEL,
	OPT_APPRAISE,
	OPT_KEYS,
	OPT_ALLOWLIST,
	OPT_BLOCKLIST,
	OPT_XATTR_USER,
	OPT_NEW_LOG,
	OPT_KERNEL_VERSION,
	OPT_POLICY_EXTENSIONS,
	OPT_CACHE_TIMEOUT,
};

static const struct option long_options[] = {
	{ "hash", required_argument, NULL, OPT_HASH },
	{ "template", required_argument, NULL, OPT_TEMPLATE },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "tpm", required_argument, NULL, OPT_TPM },
	{ "pcr", required_argument, NULL, OPT_PCR },
	{ "runtime-dir", required_argument, NULL, OPT_RUNTIME_DIR },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "appraise", required_argument, NULL, OPT_APPRAISE },
	{ "keys", required_argument, NULL, OPT_KEYS },
	{ "allowlist", required_argument, NULL, OPT_ALLOWLIST },
	{ "blocklist", required_argument, NULL, OPT_BLOCKLIST },
	{ "xattr-user", no_argument, NULL, OPT_XATTR_USER },
	{ "new-log", no_argument, NULL, OPT_NEW_LOG },
	{ "kernel-version", required_argument, NULL, OPT_KERNEL_VERSION },
	{ "policy-extensions", no_argument, NULL, OPT_POLICY_EXTENSIONS },
	{ "cache-timeout", required_argument, NULL, OPT_CACHE_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Handle one option C with argument ARG. Returns 0, or the exit status to leave with. */
static int parse_one_option(struct options *opt, int c, const char *arg)
{
	switch (c) {
	case 'f':
		opt->foreground = true;
		return 0;
	case 'd':
		opt->debug = true;
		opt->foreground = true;
		return 0;
	case 'o':
		return add_mount_options(opt, arg) < 0 ? usage_error("out of memory") : 0;
	case OPT_HASH:
		opt->hash_name = arg;
		return 0;
	case OPT_TEMPLATE:
		opt->template_name = arg;
		return 0;
	case OPT_POLICY:
		opt->policy = arg;
		return 0;
	case OPT_TPM:
		opt->tcti = arg;
		return 0;
	case OPT_PCR:
		if (parse_uint(arg, 0, TPM_PCR_COUNT - 1, &opt->pcr) < 0)
			return usage_error("invalid --pcr '%s': give a PCR index from 0 to %d", arg,
					   TPM_PCR_COUNT - 1);
		return 0;
	case OPT_RUNTIME_DIR:
		opt->runtime_dir = arg;
		return 0;
	case OPT_THREADS:
		if (parse_uint(arg, 1, MAX_IDLE_THREADS_LIMIT, &opt->max_idle_threads) < 0)
			return usage_error("invalid --threads '%s': give a number from 1 to %u",
					   arg, MAX_IDLE_THREADS_LIMIT);
		return 0;
	case OPT_LOG_LEVEL:
		if (parse_log_level(arg, &opt->log_level) < 0)
			return usage_error("invalid --log-level '%s': give err, warning, notice, "
					   "info or debug",
					   arg);
		opt->log_level_set = true;
		return 0;
	case OPT_APPRAISE:
		if (appraise_mode_from_name(arg, &opt->appraise_mode) < 0)
			return usage_error("invalid --appraise '%s': give enforce, log, fix or off",
					   arg);
		return 0;
	case OPT_KEYS:
		opt->keys = arg;
		return 0;
	case OPT_ALLOWLIST:
		opt->allowlist = arg;
		return 0;
	case OPT_BLOCKLIST:
		opt->blocklist = arg;
		return 0;
	case OPT_XATTR_USER:
		opt->xattr_user = true;
		return 0;
	case OPT_NEW_LOG:
		opt->new_log = true;
		return 0;
	case OPT_KERNEL_VERSION:
		if (policy_kernel_version_parse(arg, &opt->policy_options.kernel_version) < 0)
			return usage_error("invalid --kernel-version '%s': give a Linux version "
					   "such as 6.14",
					   arg);
		return 0;
	case OPT_POLICY_EXTENSIONS:
		opt->policy_options.extensions = true;
		return 0;
	case OPT_CACHE_TIMEOUT: {
		unsigned int seconds;

		if (parse_uint(arg, 0, MAX_CACHE_TIMEOUT, &seconds) < 0)
			return usage_error("invalid --cache-timeout '%s': give whole seconds from 0 "
					   "to %u",
					   arg, MAX_CACHE_TIMEOUT);
		opt->cache_timeout = seconds;
		return 0;
	}
	default:
		return usage_error("invalid option");
	}
}

/* Check the values that depend on each other: --hash with --template. */
static int check_options(struct options *opt)
{
	const struct template_desc *desc;

	if (hash_algo_from_name(opt->hash_name, &opt->hash) < 0 ||
	    (opt->hash != HASH_SHA1 && opt->hash != HASH_SHA256 && opt->hash != HASH_SHA384 &&
	     opt->hash != HASH_SHA512))
		return usage_error("invalid --hash '%s': give sha256, sha1, sha384 or sha512",
				   opt->hash_name);

	desc = template_lookup(opt->template_name);
	if (!desc)
		return usage_error("invalid --template '%s': give ima-ng, ima, ima-sig, ima-ngv2, "
				   "ima-sigv2 or a field list such as 'd-ng|n-ng'",
				   opt->template_name);
	/* The kernel rejects the ima template with any hash but SHA-1 (or MD5). */
	if (strcmp(template_name(desc), "ima") == 0 && opt->hash != HASH_SHA1)
		return usage_error("--template ima records 20-byte SHA-1 digests only: add --hash "
				   "sha1, or use --template ima-ng");
	return 0;
}

/* Make SOURCE and MOUNTPOINT absolute and check them. Returns 0 or exit status 1. */
static int resolve_paths(struct options *opt, const char *source, const char *mountpoint)
{
	struct stat st;
	size_t len;

	if (!realpath(source, opt->source))
		return usage_error("source '%s': %s", source, strerror(errno));
	if (stat(opt->source, &st) < 0 || !S_ISDIR(st.st_mode))
		return usage_error("source '%s' is not a directory", opt->source);
	if (!realpath(mountpoint, opt->mountpoint))
		return usage_error("mount point '%s': %s", mountpoint, strerror(errno));
	/* SIGHUP reloads the policy after fuse_daemonize() changed the directory to /. */
	if (strncmp(opt->policy, "builtin:", 8) != 0) {
		if (!realpath(opt->policy, opt->policy_path))
			return usage_error("policy '%s': %s", opt->policy, strerror(errno));
		opt->policy = opt->policy_path;
	}

	/* A mount point below SOURCE would make the daemon serve its own mount. */
	len = strlen(opt->source);
	if (strcmp(opt->source, opt->mountpoint) != 0 &&
	    strncmp(opt->source, opt->mountpoint, len) == 0 &&
	    (opt->mountpoint[len] == '/' || len == 1))
		return usage_error("mount point '%s' is inside source '%s': mount on the source "
				   "itself or outside it",
				   opt->mountpoint, opt->source);
	return 0;
}

static int parse_options(int argc, char **argv, struct options *opt, bool *ret_exit)
{
	int c;
	int r;

	*ret_exit = false;
	opt->hash_name = "sha256";
	opt->template_name = DEFAULT_TEMPLATE;
	opt->policy = DEFAULT_POLICY;
	opt->pcr = DEFAULT_PCR;
	opt->log_level = LOG_INFO;
	opt->appraise_mode = APPRAISE_MODE_OFF;
	opt->cache_timeout = DEFAULT_CACHE_TIMEOUT;

	while ((c = getopt_long(argc, argv, "fdo:hV", long_options, NULL)) != -1) {
		if (c == 'h' || c == 'V') {
			if (c == 'h')
				print_usage(stdout);
			else
				print_version();
			*ret_exit = true;
			return 0;
		}
		if (c == '?')
			return usage_error("invalid command line");
		r = parse_one_option(opt, c, optarg);
		if (r != 0)
			return r;
	}
	if (argc - optind != 2)
		return usage_error("expected SOURCE and MOUNTPOINT, got %d argument%s",
				   argc - optind, argc - optind == 1 ? "" : "s");
	if (opt->debug && !opt->log_level_set)
		opt->log_level = LOG_DEBUG;

	r = check_options(opt);
	if (r != 0)
		return r;
	return resolve_paths(opt, argv[optind], argv[optind + 1]);
}

/* Create DIR and its missing parents with mode 0755. Returns 0 or a negative errno. */
static int make_directories(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	mode_t old_umask;
	size_t i;
	int r = 0;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;

	old_umask = umask(0);
	for (i = 1; r == 0; i++) {
		char saved = path[i];

		if (saved != '/' && saved != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			r = -errno;
		path[i] = saved;
		if (saved == '\0')
			break;
	}
	(void)umask(old_umask);

	if (r == 0 && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
		r = -ENOTDIR;
	return r;
}

static int prepare_runtime_dir(const struct options *opt, char *buf, size_t size)
{
	int r;

	if (opt->runtime_dir) {
		if (snprintf(buf, size, "%s", opt->runtime_dir) >= (int)size)
			return -ENAMETOOLONG;
	} else {
		r = rundir_default(opt->mountpoint, buf, size);
		if (r < 0)
			return r;
	}
	return make_directories(buf);
}

/* Print the policy load error PERR (or R) as FILE:LINE:COL: message. */
static void print_policy_error(const char *spec, int r, const struct policy_error *perr)
{
	if (perr->message[0] != '\0' && perr->line > 0)
		fprintf(stderr, "imafs: %s:%u:%u: %s\n", perr->origin[0] ? perr->origin : spec,
			perr->line, perr->col, perr->message);
	else if (perr->message[0] != '\0')
		fprintf(stderr, "imafs: %s: %s\n", spec, perr->message);
	else
		fprintf(stderr, "imafs: policy '%s': %s\n", spec, strerror(-r));
}

/*
 * Arm the test hook that makes PCR extends fail after IMAFS_TPM_FAIL_AFTER
 * more successful ones, when that variable is set. Returns 0 or -EINVAL
 * after logging a bad value.
 */
static int inject_tpm_failure(struct tpm *tpm)
{
	const char *value = getenv("IMAFS_TPM_FAIL_AFTER");
	unsigned int count;

	if (!value)
		return 0;
	if (parse_uint(value, 0, UINT_MAX, &count) < 0) {
		log_msg(LOG_ERR, "invalid IMAFS_TPM_FAIL_AFTER '%s': give a number of extends, or "
				 "unset it",
			value);
		return -EINVAL;
	}
	tpm_inject_extend_failure(tpm, count);
	log_msg(LOG_WARNING, "test hook: PCR extends fail after %u more (IMAFS_TPM_FAIL_AFTER)",
		count);
	return 0;
}

/* The appraisal inputs named on the command line, loaded before the mount. */
struct appraise_inputs {
	struct keyring *keys;
	struct allowlist *allowlist;
	struct allowlist *blocklist;
};

static void appraise_inputs_free(struct appraise_inputs *in)
{
	in->keys = keys_free(in->keys);
	in->allowlist = allowlist_free(in->allowlist);
	in->blocklist = allowlist_free(in->blocklist);
}

static int load_list(const char *option, const char *path, struct allowlist **ret)
{
	struct allowlist_error aerr;
	int r;

	memset(&aerr, 0, sizeof(aerr));
	r = allowlist_load_file(path, ret, &aerr);
	if (r == 0)
		return 0;
	if (aerr.message[0])
		fprintf(stderr, "imafs: %s: %s\n", option, aerr.message);
	else
		fprintf(stderr, "imafs: %s '%s': %s\n", option, path, strerror(-r));
	return 1;
}

/* Load --keys, --allowlist and --blocklist. Returns 0 or exit status 1 after printing why. */
static int load_appraise_inputs(const struct options *opt, struct appraise_inputs *in)
{
	struct keys_error kerr;
	int r;

	memset(in, 0, sizeof(*in));
	if (opt->keys) {
		memset(&kerr, 0, sizeof(kerr));
		r = keys_new(&in->keys);
		if (r == 0)
			r = keys_add_path(in->keys, opt->keys, &kerr);
		if (r < 0) {
			if (kerr.message[0])
				fprintf(stderr, "imafs: --keys: %s\n", kerr.message);
			else
				fprintf(stderr, "imafs: --keys '%s': %s\n", opt->keys, strerror(-r));
			goto out_free;
		}
	}
	if (opt->allowlist && load_list("--allowlist", opt->allowlist, &in->allowlist))
		goto out_free;
	if (opt->blocklist && load_list("--blocklist", opt->blocklist, &in->blocklist))
		goto out_free;
	return 0;
out_free:
	appraise_inputs_free(in);
	return 1;
}

/*
 * Load the policy, open the TPM and create the measurement context in
 * INFO->runtime_dir, noting the rest in INFO. Returns 0 or exit status 1
 * after printing the cause.
 */
static int create_measure_ctx(const struct options *opt, struct startup_info *info,
			      struct measure_ctx **ret)
{
	struct policy_error perr;
	struct measure_config config;
	struct appraise_inputs in;
	struct policy *policy = NULL;
	struct tpm *tpm = NULL;
	const char *msg = NULL;
	int r;

	if (load_appraise_inputs(opt, &in))
		return 1;
	memset(&perr, 0, sizeof(perr));
	r = policy_load_ex(opt->policy, &opt->policy_options, &policy, &perr);
	if (r < 0) {
		print_policy_error(opt->policy, r, &perr);
		appraise_inputs_free(&in);
		return 1;
	}
	info->policy_rules = policy_rule_count(policy);

	r = tpm_open(opt->tcti, &tpm, &msg);
	if (r < 0) {
		log_msg(LOG_ERR, "TPM '%s': %s (%s)", opt->tcti ? opt->tcti : "default",
			msg ? msg : "open failed", strerror(-r));
		policy_free(policy);
		appraise_inputs_free(&in);
		return 1;
	}
	(void)snprintf(info->tpm, sizeof(info->tpm), "%s", tpm_describe(tpm));
	r = inject_tpm_failure(tpm);
	if (r < 0) {
		tpm_close(tpm);
		policy_free(policy);
		appraise_inputs_free(&in);
		return 1;
	}
	if (tpm_is_software(tpm))
		log_msg(LOG_WARNING, "TPM: none found, using the in-process software PCR bank; "
				     "PCR values are simulated and prove nothing to a verifier");

	config = (struct measure_config){
		.hash = opt->hash,
		.template_name = opt->template_name,
		.runtime_dir = info->runtime_dir,
		.source = opt->source,
		.mountpoint = opt->mountpoint,
		.policy = policy,
		.tpm = tpm,
		.default_pcr = opt->pcr,
		.appraise_mode = opt->appraise_mode,
		.keys = in.keys,
		.allowlist = in.allowlist,
		.blocklist = in.blocklist,
		.xattr_user = opt->xattr_user,
		.new_log = opt->new_log,
		.policy_extensions = opt->policy_options.extensions,
	};
	r = measure_ctx_new(&config, ret, &msg);
	if (r < 0) {
		if (msg && msg[0])
			log_msg(LOG_ERR, "cannot open the measurement list in '%s': %s",
				info->runtime_dir, msg);
		else
			log_msg(LOG_ERR, "cannot set up measurement in '%s': %s", info->runtime_dir,
				strerror(-r));
		tpm_close(tpm);
		policy_free(policy);
		appraise_inputs_free(&in);
		return 1;
	}
	if (measure_start_note(*ret)[0])
		log_msg(LOG_NOTICE, "op=log-start %s", measure_start_note(*ret));
	return 0;
}

/*
 * Route libfuse's messages into our log. libfuse prints some messages in
 * pieces (the unknown option error), so pieces are collected per thread
 * until a newline ends the line.
 */
static void forward_fuse_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	static _Thread_local char line[1024];
	static _Thread_local size_t len;
	int n;

	if (!log_enabled((int)level))
		return;
	n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	if (n < 0)
		return;
	len = strnlen(line, sizeof(line) - 1);
	if (len < sizeof(line) - 1 && (len == 0 || line[len - 1] != '\n'))
		return; /* wait for the rest of the line */

	while (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	log_msg((int)level, "%s%s", strncmp(line, "fuse: ", 6) == 0 ? "" : "fuse: ", line);
	len = 0;
	line[0] = '\0';
}

/* Build the libfuse arguments: our fixed mount options first, then the user's -o. */
static int build_fuse_args(const struct options *opt, struct fuse_args *args)
{
	char fsname[PATH_MAX + 8];
	char *fixed = NULL;
	int r = -ENOMEM;

	(void)snprintf(fsname, sizeof(fsname), "fsname=%s", opt->source);
	/* The daemon acts as root and checks no permissions: the kernel must. */
	if (fuse_opt_add_opt(&fixed, "default_permissions") < 0 ||
	    fuse_opt_add_opt_escaped(&fixed, fsname) < 0 ||
	    fuse_opt_add_opt(&fixed, "subtype=imafs") < 0)
		goto out_free_fixed;

	if (fuse_opt_add_arg(args, "imafs") < 0 || fuse_opt_add_arg(args, "-o") < 0 ||
	    fuse_opt_add_arg(args, fixed) < 0)
		goto out_free_fixed;
	if (opt->mount_options &&
	    (fuse_opt_add_arg(args, "-o") < 0 || fuse_opt_add_arg(args, opt->mount_options) < 0))
		goto out_free_fixed;
	if (opt->debug && fuse_opt_add_arg(args, "-d") < 0)
		goto out_free_fixed;
	r = 0;

out_free_fixed:
	free(fixed);
	return r;
}

static void log_configuration(const struct options *opt, const struct startup_info *info)
{
	char source[PATH_MAX + 8];
	char mountpoint[PATH_MAX + 8];
	char runtime[PATH_MAX + 8];
	char policy[PATH_MAX + 8];

	log_msg(LOG_INFO, "mounted %s on %s", log_quote(opt->source, source, sizeof(source)),
		log_quote(opt->mountpoint, mountpoint, sizeof(mountpoint)));
	log_msg(LOG_INFO, "hash=%s template=%s pcr=%u policy=%s rules=%u tpm='%s' runtime-dir=%s",
		hash_algo_name(opt->hash), opt->template_name, opt->pcr,
		log_quote(opt->policy, policy, sizeof(policy)), info->policy_rules, info->tpm,
		log_quote(info->runtime_dir, runtime, sizeof(runtime)));
	log_msg(LOG_INFO, "appraise=%s keys=%s allowlist=%s blocklist=%s xattr=%s",
		appraise_mode_name(opt->appraise_mode), opt->keys ? opt->keys : "none",
		opt->allowlist ? opt->allowlist : "none", opt->blocklist ? opt->blocklist : "none",
		opt->xattr_user ? "user.ima" : "security.ima");
}

/*
 * Serve SE until unmount or a signal. Returns the exit status: 0 after an
 * unmount or SIGINT, SIGTERM or SIGHUP, else 1.
 */
static int serve(struct fuse_session *se, const struct options *opt, const char *runtime_dir,
		 struct measure_ctx *measure, struct control *control)
{
	struct fuse_loop_config *config;
	int r;

	config = fuse_loop_cfg_create();
	if (!config) {
		log_msg(LOG_ERR, "cannot create the FUSE loop configuration: out of memory");
		return 1;
	}
	fuse_loop_cfg_set_clone_fd(config, 1);
	if (opt->max_idle_threads > 0)
		fuse_loop_cfg_set_idle_threads(config, opt->max_idle_threads);

	/*
	 * Before the loop starts its workers, which inherit the blocked control
	 * signals. In the foreground it started before the mount, so the
	 * runtime directory's pid file exists once the mount is visible.
	 */
	if (!control) {
		r = control_start(measure, runtime_dir, opt->policy, &opt->policy_options,
				  &control);
		if (r < 0) {
			log_msg(LOG_ERR, "cannot start the control thread: %s", strerror(-r));
			fuse_loop_cfg_destroy(config);
			return 1;
		}
	}
	/* New files get exactly the mode from the kernel, where the caller's umask is applied. */
	(void)umask(0);
	r = fuse_session_loop_mt(se, config);
	fuse_loop_cfg_destroy(config);
	control_stop(control);

	/* libfuse returns the number of the signal that ended the loop. */
	if (r == SIGINT || r == SIGTERM || r == SIGHUP) {
		log_msg(LOG_INFO, "stopping on signal %s, unmounting", strsignal(r));
		return 0;
	}
	if (r != 0) {
		log_msg(LOG_ERR, "FUSE session failed: %s", strerror(r < 0 ? -r : r));
		return 1;
	}
	log_msg(LOG_INFO, "file system unmounted, stopping");
	return 0;
}

/* Mount with MEASURE and serve until the end. Returns the exit status. */
static int run(const struct options *opt, const struct startup_info *info,
	       struct measure_ctx *measure)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se = NULL;
	struct control *control = NULL;
	struct fs_config fs_config;
	struct fs *fs = NULL;
	int source_fd;
	int status = 1;
	int r;

	source_fd = open(opt->source, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (source_fd < 0) {
		log_msg(LOG_ERR, "cannot open source '%s': %s", opt->source, strerror(errno));
		return 1;
	}
	fs_config = (struct fs_config){
		.source_fd = source_fd,
		.source = opt->source,
		.mountpoint = opt->mountpoint,
		.measure = measure,
		.entry_timeout = opt->cache_timeout,
		.attr_timeout = opt->cache_timeout,
	};
	r = fs_new(&fs_config, &fs);
	if (r < 0) {
		log_msg(LOG_ERR, "cannot serve source '%s': %s", opt->source, strerror(-r));
		(void)close(source_fd);
		return 1;
	}

	if (build_fuse_args(opt, &args) < 0) {
		log_msg(LOG_ERR, "cannot build the FUSE arguments: out of memory");
		goto out_free_fs;
	}
	se = fuse_session_new(&args, fs_operations(), sizeof(*fs_operations()), fs);
	if (!se)
		goto out_free_args; /* libfuse printed why, such as an unknown -o option */
	if (fuse_set_signal_handlers(se) < 0)
		goto out_destroy_session;
	/* A forked daemon gets its control thread after fuse_daemonize(), in serve(). */
	if (opt->foreground) {
		r = control_start(measure, info->runtime_dir, opt->policy, &opt->policy_options,
				  &control);
		if (r < 0) {
			log_msg(LOG_ERR, "cannot start the control thread: %s", strerror(-r));
			goto out_remove_handlers;
		}
	}
	if (fuse_session_mount(se, opt->mountpoint) < 0)
		goto out_remove_handlers;

	log_configuration(opt, info);
	if (fuse_daemonize(opt->foreground) < 0) {
		log_msg(LOG_ERR, "cannot detach from the terminal");
		goto out_unmount;
	}
	/* fuse_daemonize() pointed stderr at /dev/null: keep the log lines. */
	if (!opt->foreground)
		log_use_syslog("imafs");
	status = serve(se, opt, info->runtime_dir, measure, control);
	control = NULL; /* serve() stopped it */

out_unmount:
	fuse_session_unmount(se);
out_remove_handlers:
	control_stop(control);
	fuse_remove_signal_handlers(se);
out_destroy_session:
	fuse_session_destroy(se);
out_free_args:
	fuse_opt_free_args(&args);
out_free_fs:
	fs_free(fs);
	return status;
}

/*
 * Raise the soft limit on open files to the hard limit: the inode table keeps
 * one O_PATH descriptor per inode the kernel remembers, so a large tree
 * otherwise fails lookups with EMFILE long before memory runs short.
 */
static void raise_fd_limit(void)
{
	struct rlimit limit;

	if (getrlimit(RLIMIT_NOFILE, &limit) < 0 || limit.rlim_cur >= limit.rlim_max)
		return;
	limit.rlim_cur = limit.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &limit) < 0)
		log_msg(LOG_WARNING, "cannot raise the open file limit to %llu: %s, continuing",
			(unsigned long long)limit.rlim_max, strerror(errno));
}

int main(int argc, char **argv)
{
	struct options opt;
	struct startup_info info;
	struct measure_ctx *measure = NULL;
	bool done;
	int status;
	int r;

	memset(&opt, 0, sizeof(opt));
	memset(&info, 0, sizeof(info));
	status = parse_options(argc, argv, &opt, &done);
	if (status != 0 || done)
		goto out_free_options;

	log_set_max_level(opt.log_level);
	fuse_set_log_func(forward_fuse_log);
	raise_fd_limit();
	if (geteuid() != 0)
		log_msg(LOG_WARNING, "not running as root: creating a file for another user fails "
				     "and unreadable files cannot be served, continuing");

	r = prepare_runtime_dir(&opt, info.runtime_dir, sizeof(info.runtime_dir));
	if (r < 0) {
		log_msg(LOG_ERR, "cannot create runtime directory '%s': %s",
			info.runtime_dir[0] ? info.runtime_dir : RUNDIR_BASE, strerror(-r));
		status = 1;
		goto out_free_options;
	}
	status = create_measure_ctx(&opt, &info, &measure);
	if (status != 0)
		goto out_free_options;

	status = run(&opt, &info, measure);
	measure_ctx_free(measure);

out_free_options:
	free(opt.mount_options);
	return status;
}
