/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The open path: turns one open request into a verdict.
 *
 *   policy  -> which events (FILE_CHECK, BPRM_CHECK) ask for measurement
 *   cache   -> is this file version already measured for that PCR?
 *   hash    -> once per file version by the first opener; the others wait
 *   appraise-> the xattr against the digest, signature and lists (appraise.h)
 *   log     -> append the record, make it durable, extend the PCR
 *
 * Invariants:
 *  1. Fail closed: any error on the way to a verdict for a file that the
 *     policy measures denies the open; nothing is served unmeasured.
 *  2. One measurement and one record per (file version, PCR), as the kernel
 *     keeps one per inode version.
 *  3. The cache shard lock is never held while hashing, verifying, logging
 *     or talking to the TPM (those are slow and the log has its own lock).
 *  4. The digest of a version is taken with the algorithm its IMA xattr
 *     names (the configured one without an xattr), for the measurement and
 *     the appraisal alike, as the kernel does.
 *  5. Enforcement is decided in one place, measure_verdict_appraisal(): an
 *     appraisal failure denies only in enforce mode.
 *
 * Locking: the context is read-only after measure_ctx_new(); per-file state
 * lives in the cache under its shard locks.
 *
 * Ownership: the context owns the policy, the TPM, the log, the cache, the
 * keyring and the lists.
 */
#include "core/measure.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/cache.h"
#include "core/event.h"
#include "core/ima_log.h"
#include "core/log.h"
#include "core/template.h"
#include "core/tpm.h"
#include "policy/policy.h"

/* Rule lines whose inexact evaluation is reported once; later lines share the last bit. */
#define MEASURE_INEXACT_LINES 65536u

struct measure_ctx {
	enum hash_algo hash;
	unsigned int default_pcr;
	const struct template_desc *template;
	char *source;
	size_t source_len;
	char *mountpoint;
	pthread_rwlock_t policy_lock; /* readers evaluate POLICY, the writer replaces it */
	struct policy *policy;
	struct tpm *tpm;
	struct ima_log *log;
	struct cache *cache;
	struct event_ctx *events;
	/* Bit N: the inexact evaluation of rule line N was reported (reset on reload). */
	_Atomic uint8_t inexact_reported[MEASURE_INEXACT_LINES / 8];
	struct keyring *keys;
	struct allowlist *allowlist;
	struct allowlist *blocklist;
	const char *xattr_name;
	_Atomic int appraise_mode; /* enum appraise_mode, switched at run time */
};

/* The events one open raises, each with its own policy decision. */
#define MEASURE_MAX_EVENTS 2

int measure_ctx_new(const struct measure_config *config, struct measure_ctx **ret,
		    const char **reterr_msg)
{
	struct ima_log_config log_config;
	const char *msg = NULL;
	struct measure_ctx *ctx;
	int r;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->hash = config->hash;
	ctx->default_pcr = config->default_pcr;
	ctx->template = template_lookup(config->template_name);
	if (!ctx->template || !hash_algo_size(config->hash) || config->default_pcr >= TPM_PCR_COUNT) {
		r = -EINVAL;
		goto out_free;
	}
	ctx->source = strdup(config->source);
	ctx->mountpoint = strdup(config->mountpoint);
	if (!ctx->source || !ctx->mountpoint) {
		r = -ENOMEM;
		goto out_free;
	}
	ctx->source_len = strlen(ctx->source);
	while (ctx->source_len > 1 && ctx->source[ctx->source_len - 1] == '/')
		ctx->source[--ctx->source_len] = '\0';

	r = cache_new(&ctx->cache);
	if (r < 0)
		goto out_free;
	r = event_ctx_new(config->policy_extensions, &ctx->events);
	if (r < 0)
		goto out_free;

	log_config = (struct ima_log_config){
		.dir = config->runtime_dir,
		.hash = config->hash,
		.template = ctx->template,
		.pcr = config->default_pcr,
		.tpm = config->tpm,
		.new_log = config->new_log,
	};
	r = ima_log_open(&log_config, &ctx->log, &msg);
	if (r < 0) {
		if (reterr_msg)
			*reterr_msg = msg;
		goto out_free;
	}

	/* Take ownership only on success, as the header promises. */
	ctx->policy = config->policy;
	ctx->tpm = config->tpm;
	ctx->keys = config->keys;
	ctx->allowlist = config->allowlist;
	ctx->blocklist = config->blocklist;
	ctx->xattr_name = config->xattr_user ? "user.ima" : "security.ima";
	pthread_rwlock_init(&ctx->policy_lock, NULL);
	atomic_init(&ctx->appraise_mode, (int)config->appraise_mode);
	*ret = ctx;
	return 0;

out_free:
	cache_free(ctx->cache);
	event_ctx_free(ctx->events);
	free(ctx->source);
	free(ctx->mountpoint);
	free(ctx);
	return r;
}

struct measure_ctx *measure_ctx_free(struct measure_ctx *ctx)
{
	if (!ctx)
		return NULL;
	ima_log_close(ctx->log);
	cache_free(ctx->cache);
	event_ctx_free(ctx->events);
	policy_free(ctx->policy);
	pthread_rwlock_destroy(&ctx->policy_lock);
	tpm_close(ctx->tpm);
	keys_free(ctx->keys);
	allowlist_free(ctx->allowlist);
	allowlist_free(ctx->blocklist);
	free(ctx->source);
	free(ctx->mountpoint);
	free(ctx);
	return NULL;
}

/* Access mask of an open, as the kernel builds it for FILE_CHECK. */
static unsigned int measure_open_mask(int flags)
{
	unsigned int mask = 0;

	if (flags & MEASURE_FMODE_EXEC)
		return POLICY_MAY_EXEC;
	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		mask = POLICY_MAY_READ;
		break;
	case O_WRONLY:
		mask = POLICY_MAY_WRITE;
		break;
	default:
		mask = POLICY_MAY_READ | POLICY_MAY_WRITE;
		break;
	}
	if (flags & O_TRUNC)
		mask |= POLICY_MAY_WRITE;
	if (flags & O_APPEND)
		mask |= POLICY_MAY_APPEND;
	return mask;
}

/* Fill the events of this open: FILE_CHECK always, BPRM_CHECK for an execve. */
static unsigned int measure_events(struct measure_ctx *ctx, int flags,
				   const struct measure_subject *subject, const struct stat *st,
				   int fd, const char *path, struct event_strings *strings,
				   struct policy_event events[MEASURE_MAX_EVENTS])
{
	struct policy_event base;
	unsigned int n = 0;

	event_fill(ctx->events, policy_needs(ctx->policy), subject->pid, subject->uid, subject->gid,
		   fd, st, strings, &base);
	base.path = path;

	events[n] = base;
	events[n].func = POLICY_FUNC_FILE_CHECK;
	events[n++].mask = measure_open_mask(flags);
	if (flags & MEASURE_FMODE_EXEC) {
		events[n] = base;
		events[n].func = POLICY_FUNC_BPRM_CHECK;
		events[n++].mask = POLICY_MAY_EXEC;
	}
	return n;
}

/*
 * Build the name the list records for FD: its path as seen through the
 * mount point. The backing path comes from /proc/self/fd, so renames are
 * followed without tracking names.
 */
static int measure_name(const struct measure_ctx *ctx, int fd, char *buf, size_t size)
{
	char link[64], target[PATH_MAX];
	const char *rest;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';

	if (!strncmp(target, ctx->source, ctx->source_len) &&
	    (target[ctx->source_len] == '/' || target[ctx->source_len] == '\0'))
		rest = target + (ctx->source_len == 1 ? 0 : ctx->source_len);
	else
		rest = NULL;
	if (!rest) {
		snprintf(buf, size, "%s", target);
		return 0;
	}
	if (!strcmp(ctx->mountpoint, "/"))
		snprintf(buf, size, "%s", *rest ? rest : "/");
	else
		snprintf(buf, size, "%s%s", ctx->mountpoint, rest);
	return 0;
}

/* The actions the policy requests for one open. */
struct measure_plan {
	unsigned int ntargets;
	struct measure_target {
		unsigned int pcr;
		const struct template_desc *desc;
	} targets[MEASURE_MAX_EVENTS];
	bool appraise;           /* some event is in appraise policy (and the mode is not off) */
	bool appraise_file_check; /* the FILE_CHECK event is: protects signed files from writes */
	unsigned int appraise_flags;
	uint32_t appraise_algos;
	bool need_sha1;          /* a target template has the 'd' field */
	bool audit;              /* an audit rule decided AUDIT */
	unsigned int audit_line;
	unsigned int inexact_line; /* first rule skipped on an unknown fact, 0 if none */
	const char *inexact_keyword;
};

static void measure_plan_add_target(struct measure_plan *plan, const struct measure_ctx *ctx,
				    const struct policy_decision *d)
{
	struct measure_target t;

	t.pcr = d->pcr_set ? d->pcr : ctx->default_pcr;
	t.desc = d->template[0] ? template_lookup(d->template) : ctx->template;
	if (!t.desc)
		t.desc = ctx->template;
	for (unsigned int j = 0; j < plan->ntargets; j++) {
		if (plan->targets[j].pcr == t.pcr && plan->targets[j].desc == t.desc)
			return;
	}
	plan->targets[plan->ntargets++] = t;
	plan->need_sha1 = plan->need_sha1 || template_needs_sha1(t.desc);
}

/* The inputs of the events of the open being planned. */
struct measure_open_args {
	int flags;
	const struct measure_subject *subject;
	const struct stat *st;
	int fd;
	const char *path;
	struct event_strings *strings;
};

static void measure_plan_build(struct measure_ctx *ctx, const struct measure_open_args *args,
			       struct measure_plan *plan)
{
	bool appraise_on = measure_get_appraise_mode(ctx) != APPRAISE_MODE_OFF;
	struct policy_event events[MEASURE_MAX_EVENTS];
	unsigned int nevents;

	memset(plan, 0, sizeof(*plan));
	/*
	 * All events of one open see the same policy, even during a reload, and
	 * their facts are read for that policy: only those its rules test.
	 */
	pthread_rwlock_rdlock(&ctx->policy_lock);
	nevents = measure_events(ctx, args->flags, args->subject, args->st, args->fd, args->path,
				 args->strings, events);
	for (unsigned int i = 0; i < nevents; i++) {
		struct policy_decision d;

		policy_evaluate(ctx->policy, &events[i], &d);
		if (d.measure)
			measure_plan_add_target(plan, ctx, &d);
		if (d.audit && !plan->audit) {
			plan->audit = true;
			plan->audit_line = d.audit_line;
		}
		if (d.inexact && !plan->inexact_line) {
			plan->inexact_line = d.inexact_line;
			plan->inexact_keyword = d.inexact_keyword;
		}
		if (!d.appraise || !appraise_on)
			continue;
		plan->appraise = true;
		if (events[i].func == POLICY_FUNC_FILE_CHECK)
			plan->appraise_file_check = true;
		if (d.appraise_sig_required)
			plan->appraise_flags |= APPRAISE_SIG_REQUIRED;
		if (d.appraise_check_blocklist)
			plan->appraise_flags |= APPRAISE_CHECK_BLOCKLIST;
		if (d.appraise_algos)
			plan->appraise_algos = d.appraise_algos;
	}
	pthread_rwlock_unlock(&ctx->policy_lock);
}

/* The work one open still owes its file version, found under the shard lock. */
struct measure_work {
	bool read_xattr;
	bool hash;
	bool need_sha1;
	bool appraise;
	uint32_t pending_pcrs; /* targets not yet in the list */
};

static bool measure_work_needed(const struct cache_entry *entry, const struct measure_plan *plan,
				struct measure_work *ret)
{
	struct measure_work w = { 0 };
	bool digest_needed = plan->ntargets > 0 || plan->appraise || plan->audit;

	for (unsigned int i = 0; i < plan->ntargets; i++) {
		if (!(entry->measured_pcrs & (1u << plan->targets[i].pcr)))
			w.pending_pcrs |= 1u << plan->targets[i].pcr;
	}
	w.read_xattr = digest_needed && !entry->xattr_known;
	w.need_sha1 = plan->need_sha1 && w.pending_pcrs;
	w.hash = digest_needed &&
		 (!entry->digest_valid || (w.need_sha1 && entry->sha1.len == 0));
	w.appraise = plan->appraise &&
		     (!entry->appraised || entry->appraise_flags != plan->appraise_flags ||
		      entry->appraise_algos != plan->appraise_algos);
	*ret = w;
	return w.read_xattr || w.hash || w.appraise || w.pending_pcrs;
}

/* Largest IMA xattr read: a signature header and a 16384-bit RSA signature fit. */
#define MEASURE_XATTR_MAX (IMA_XATTR_SIG_HEADER_SIZE + 2048)

/* Read the IMA xattr of FD into a malloc'ed buffer; no xattr gives NULL and 0. */
static int measure_read_xattr(struct measure_ctx *ctx, int fd, uint8_t **ret, uint16_t *ret_len)
{
	uint8_t buf[MEASURE_XATTR_MAX];
	ssize_t n;

	n = fgetxattr(fd, ctx->xattr_name, buf, sizeof(buf));
	if (n < 0 && (errno == ENODATA || errno == EOPNOTSUPP)) {
		/* No label, as the kernel treats both. */
		*ret = NULL;
		*ret_len = 0;
		return 0;
	}
	if (n < 0 && errno == ERANGE)
		return -EFBIG;
	if (n < 0)
		return -errno;
	*ret = malloc((size_t)n ? (size_t)n : 1);
	if (!*ret)
		return -ENOMEM;
	memcpy(*ret, buf, (size_t)n);
	*ret_len = (uint16_t)n;
	return 0;
}

/* Digests of FD in ALGO, and SHA-1 when NEED_SHA1; outside any lock. */
static int measure_hash(int fd, enum hash_algo algo, bool need_sha1,
			struct hash_digest *ret_digest, struct hash_digest *ret_sha1)
{
	int r;

	r = hash_fd(algo, fd, ret_digest);
	if (r < 0)
		return r;
	memset(ret_sha1, 0, sizeof(*ret_sha1));
	if (!need_sha1)
		return 0;
	if (algo == HASH_SHA1) {
		*ret_sha1 = *ret_digest;
		return 0;
	}
	return hash_fd(HASH_SHA1, fd, ret_sha1);
}

/* True when the xattr is a signature, which the "sig" template field records. */
static bool measure_xattr_is_sig(const uint8_t *xattr, size_t len)
{
	return xattr && len > 0 &&
	       (xattr[0] == IMA_XATTR_DIGSIG || xattr[0] == IMA_XATTR_VERITY_DIGSIG);
}

/* Everything one claim of an entry produces, filled outside the lock. */
struct measure_result {
	uint8_t *xattr; /* owned until stored in the entry */
	uint16_t xattr_len;
	struct hash_digest digest;
	struct hash_digest sha1;
	bool appraise_passed;
	enum appraise_cause appraise_cause;
	uint32_t logged_pcrs;
	bool fixed;
	const char *reason; /* the step that failed */
	const char *op;
};

/* Fix mode: write the digest form of the xattr for a failed, unsigned file. */
static int measure_fix_xattr(struct measure_ctx *ctx, int fd, struct measure_result *res)
{
	uint8_t value[IMA_XATTR_DIGEST_MAX_SIZE];
	struct hash_digest digest = res->digest;
	int len, r;

	if (measure_xattr_is_sig(res->xattr, res->xattr_len))
		return 0;
	if (digest.algo != ctx->hash) {
		r = hash_fd(ctx->hash, fd, &digest);
		if (r < 0)
			return r;
	}
	len = ima_xattr_build_digest(&digest, value, sizeof(value));
	if (len < 0)
		return len;
	if (fsetxattr(fd, ctx->xattr_name, value, (size_t)len, 0) < 0)
		return -errno;
	free(res->xattr);
	res->xattr = malloc((size_t)len);
	if (!res->xattr)
		return -ENOMEM;
	memcpy(res->xattr, value, (size_t)len);
	res->xattr_len = (uint16_t)len;
	res->digest = digest;
	res->appraise_passed = true;
	res->appraise_cause = APPRAISE_CAUSE_NONE;
	res->fixed = true;
	return 0;
}

static int measure_do_appraise(struct measure_ctx *ctx, int fd, const struct measure_plan *plan,
			       bool created, struct measure_result *res)
{
	struct appraise_params params = {
		.flags = plan->appraise_flags,
		.allowed_algos = plan->appraise_algos,
		.keys = ctx->keys,
		.allowlist = ctx->allowlist,
		.blocklist = ctx->blocklist,
	};
	struct appraise_result ar;
	int r;

	r = appraise_decide(res->xattr, res->xattr_len, &res->digest, &params, &ar);
	res->appraise_passed = r == 0 && ar.passed;
	res->appraise_cause = r == 0 ? ar.cause : APPRAISE_CAUSE_UNKNOWN;
	/* A new file passes while it is empty, unless its xattr is a failing signature. */
	if (!res->appraise_passed && created && res->digest.len &&
	    (res->xattr_len == 0 || !measure_xattr_is_sig(res->xattr, res->xattr_len))) {
		struct stat st;

		if (fstat(fd, &st) == 0 && st.st_size == 0) {
			res->appraise_passed = true;
			res->appraise_cause = APPRAISE_CAUSE_NONE;
		}
	}
	if (!res->appraise_passed && measure_get_appraise_mode(ctx) == APPRAISE_MODE_FIX) {
		r = measure_fix_xattr(ctx, fd, res);
		if (r < 0)
			log_debug("measure: fix mode could not write %s: %s", ctx->xattr_name,
				  strerror(-r));
	}
	return 0;
}

/* Log RES's digest into every pending PCR; stops at the first failure. */
static int measure_do_log(struct measure_ctx *ctx, int fd, const struct stat *st,
			  const struct measure_plan *plan, uint32_t pending,
			  struct measure_result *res)
{
	char name[PATH_MAX + 64];
	int r;

	r = measure_name(ctx, fd, name, sizeof(name));
	if (r < 0) {
		res->reason = "name-failed";
		return r;
	}
	for (unsigned int i = 0; i < plan->ntargets; i++) {
		const struct measure_target *t = &plan->targets[i];
		struct template_event event = {
			.digest = res->digest,
			.sha1 = res->sha1,
			.name = name,
			.uid = st->st_uid,
			.gid = st->st_gid,
			.mode = st->st_mode,
		};

		if (!(pending & (1u << t->pcr)) || (res->logged_pcrs & (1u << t->pcr)))
			continue;
		if (template_has_sig(t->desc) && measure_xattr_is_sig(res->xattr, res->xattr_len)) {
			event.sig = res->xattr;
			event.sig_len = res->xattr_len;
		}
		r = ima_log_append(ctx->log, t->pcr, t->desc, &event);
		if (r < 0) {
			res->reason = "log-failed";
			return r;
		}
		res->logged_pcrs |= 1u << t->pcr;
	}
	return 0;
}

/*
 * Do the owed WORK for the version of ENTRY with its shard unlocked: read
 * the xattr, hash, appraise, log. What the entry already knew is in RES.
 */
static int measure_do_work(struct measure_ctx *ctx, int fd, const struct stat *st,
			   const struct measure_plan *plan, const struct measure_work *work,
			   bool created, struct measure_result *res)
{
	int r;

	if (work->read_xattr) {
		r = measure_read_xattr(ctx, fd, &res->xattr, &res->xattr_len);
		if (r < 0) {
			res->reason = "xattr-read-failed";
			return r;
		}
	}
	if (work->hash) {
		enum hash_algo algo = appraise_hash_algo(res->xattr, res->xattr_len, ctx->hash);

		/* An xattr naming an algorithm we cannot compute falls back to ours. */
		if (!hash_algo_size(algo))
			algo = ctx->hash;
		r = measure_hash(fd, algo, work->need_sha1, &res->digest, &res->sha1);
		if (r == -EOPNOTSUPP && algo != ctx->hash)
			r = measure_hash(fd, ctx->hash, work->need_sha1, &res->digest, &res->sha1);
		if (r < 0) {
			res->reason = "hash-failed";
			return r;
		}
	}
	if (work->appraise) {
		res->op = "appraise";
		r = measure_do_appraise(ctx, fd, plan, created, res);
		if (r < 0)
			return r;
	}
	if (work->pending_pcrs) {
		res->op = "measure";
		return measure_do_log(ctx, fd, st, plan, work->pending_pcrs, res);
	}
	return 0;
}

/* Store RES in ENTRY if the version it was computed for still holds. */
static void measure_store(struct cache_entry *entry, const struct cache_version *version,
			  int fd, const struct measure_plan *plan, const struct measure_work *work,
			  struct measure_result *res)
{
	struct cache_version now;
	struct stat after;

	if (fstat(fd, &after) < 0)
		return;
	cache_version_from_stat(&after, &now);
	if (res->fixed && cache_version_equal(&entry->version, version)) {
		/* Our own xattr write moved ctime; the content is the one we hashed. */
		entry->version = now;
		version = &now;
	}
	if (!cache_version_equal(&now, version) || !cache_version_equal(&entry->version, version))
		return;
	if (work->read_xattr || res->fixed) {
		free(entry->xattr);
		entry->xattr = res->xattr;
		entry->xattr_len = res->xattr_len;
		entry->xattr_known = true;
		res->xattr = NULL;
	}
	if (work->hash || res->fixed) {
		entry->digest = res->digest;
		if (res->sha1.len)
			entry->sha1 = res->sha1;
		entry->digest_valid = true;
	}
	if (work->appraise) {
		entry->appraised = true;
		entry->appraise_passed = res->appraise_passed;
		entry->appraise_cause = (uint8_t)res->appraise_cause;
		entry->appraise_flags = plan->appraise_flags;
		entry->appraise_algos = plan->appraise_algos;
	}
	entry->measured_pcrs |= res->logged_pcrs;
}

/*
 * Bring ENTRY up to what PLAN needs, once per file version: the first thread
 * to claim the entry does the work, and the others wait for it. Called and returns
 * with SHARD locked. On return *RES contains the appraisal result to use.
 */
static int measure_claim_and_work(struct measure_ctx *ctx, int fd, const struct stat *st,
				  struct cache_entry *entry, struct cache_shard **shard,
				  const struct measure_plan *plan, bool created,
				  struct measure_result *res)
{
	struct cache_version version;
	struct measure_work work;
	int r;

	for (;;) {
		if (!measure_work_needed(entry, plan, &work))
			goto out_cached;
		if (!entry->busy)
			break;
		cache_wait(*shard);
	}

	entry->busy = true;
	version = entry->version;
	/* Start from what the entry already records of this version. */
	if (!work.read_xattr && entry->xattr_len) {
		res->xattr = malloc(entry->xattr_len);
		if (!res->xattr) {
			entry->busy = false;
			cache_wake(*shard);
			return -ENOMEM;
		}
		memcpy(res->xattr, entry->xattr, entry->xattr_len);
		res->xattr_len = entry->xattr_len;
	}
	res->digest = entry->digest;
	res->sha1 = entry->sha1;
	res->appraise_passed = entry->appraise_passed;
	res->appraise_cause = (enum appraise_cause)entry->appraise_cause;
	cache_unlock(*shard);

	r = measure_do_work(ctx, fd, st, plan, &work, created, res);

	entry = cache_lock(ctx->cache, &entry->key, shard);
	measure_store(entry, &version, fd, plan, &work, res);
	entry->busy = false;
	cache_wake(*shard);
	return r;

out_cached:
	res->appraise_passed = entry->appraise_passed;
	res->appraise_cause = (enum appraise_cause)entry->appraise_cause;
	return 0;
}

/* Report at most one event per file and cause every few seconds, counting the rest. */
#define MEASURE_REPORT_INTERVAL_SEC 10u

static void measure_rate_limit(struct cache_entry *entry, enum appraise_cause cause,
			       struct measure_verdict *verdict)
{
	struct timespec ts;
	uint32_t now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint32_t)ts.tv_sec;
	if (entry->report_cause == (uint8_t)cause && entry->report_time &&
	    now - entry->report_time < MEASURE_REPORT_INTERVAL_SEC) {
		entry->suppressed++;
		return;
	}
	verdict->report = true;
	verdict->suppressed = entry->suppressed;
	entry->suppressed = 0;
	entry->report_cause = (uint8_t)cause;
	entry->report_time = now ? now : 1;
}

/*
 * The one place where appraisal turns into enforcement: a failure denies
 * only in enforce mode; log and fix mode report it and allow.
 */
static void measure_verdict_appraisal(struct measure_ctx *ctx, struct cache_entry *entry,
				      const struct measure_plan *plan,
				      const struct measure_result *res,
				      struct measure_verdict *verdict)
{
	enum appraise_mode mode = measure_get_appraise_mode(ctx);

	if (!plan->appraise)
		return;
	verdict->fixed = res->fixed;
	if (res->appraise_passed && !res->fixed)
		return;
	verdict->op = "appraise";
	verdict->reason = res->fixed ? "fixed-hash" : appraise_cause_name(res->appraise_cause);
	measure_rate_limit(entry, res->appraise_cause, verdict);
	if (mode == APPRAISE_MODE_ENFORCE && !res->appraise_passed)
		verdict->error = -EACCES;
}

/*
 * Signed files are immutable through the mount: a write-open of a file in
 * appraise policy whose xattr is a signature is denied in enforce mode.
 */
static void measure_verdict_write(struct measure_ctx *ctx, struct cache_entry *entry,
				  const struct measure_plan *plan, bool writer, bool created,
				  struct measure_verdict *verdict)
{
	if (!writer || created || !plan->appraise_file_check || verdict->error)
		return;
	if (!measure_xattr_is_sig(entry->xattr, entry->xattr_len))
		return;
	if (measure_get_appraise_mode(ctx) != APPRAISE_MODE_ENFORCE)
		return;
	verdict->op = "open";
	verdict->reason = "write-to-signed-file";
	verdict->error = -EACCES;
	measure_rate_limit(entry, APPRAISE_CAUSE__MAX, verdict);
}

/*
 * Violation checks of the kernel since 6.15, against the mount's own open
 * table (called with the shard locked): a write-open while a measured
 * reader is open is one ToMToU until the next measured read re-arms it; a
 * measured read-open while writers are open is one open_writers per period
 * of open writers. Returns the cause to log, or NULL.
 */
static const char *measure_violation_check(struct cache_entry *entry,
					   const struct measure_plan *plan, bool writer)
{
	if (writer) {
		if (entry->readers > 0 && entry->tomtou_armed) {
			entry->tomtou_armed = false;
			return "ToMToU";
		}
		return NULL;
	}
	if (plan->ntargets == 0)
		return NULL;
	entry->tomtou_armed = true;
	if (entry->writers > 0 && !entry->open_writers_reported) {
		entry->open_writers_reported = true;
		return "open_writers";
	}
	return NULL;
}

/* Append a violation record for FD: zero digest, 0xff extended, counted. */
static int measure_log_violation(struct measure_ctx *ctx, int fd, const struct stat *st)
{
	struct template_event event = {
		.violation = true,
		.uid = st->st_uid,
		.gid = st->st_gid,
		.mode = st->st_mode,
	};
	char name[PATH_MAX + 64];
	int r;

	r = measure_name(ctx, fd, name, sizeof(name));
	if (r < 0)
		return r;
	event.name = name;
	event.digest.algo = ctx->hash;
	event.digest.len = hash_algo_size(ctx->hash);
	event.sha1.algo = HASH_SHA1;
	event.sha1.len = 20;
	return ima_log_append(ctx->log, ctx->default_pcr, NULL, &event);
}

/* Report once per loaded policy each rule that could not be evaluated (see inexact_reported). */
static void measure_note_inexact(struct measure_ctx *ctx, const struct measure_plan *plan,
				 struct measure_verdict *verdict)
{
	unsigned int line = plan->inexact_line;
	uint8_t bit;

	if (!line)
		return;
	if (line >= MEASURE_INEXACT_LINES)
		line = MEASURE_INEXACT_LINES - 1;
	bit = (uint8_t)(1u << (line % 8));
	if (atomic_fetch_or(&ctx->inexact_reported[line / 8], bit) & bit)
		return;
	verdict->inexact_line = plan->inexact_line;
	verdict->inexact_keyword = plan->inexact_keyword;
}

/* A descriptor to hash from: FD itself unless it was opened write-only. */
static int measure_readable_fd(int fd, int flags, bool *ret_owned)
{
	char path[64];
	int rfd;

	*ret_owned = false;
	if ((flags & O_ACCMODE) != O_WRONLY)
		return fd;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rfd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (rfd < 0)
		return -errno;
	*ret_owned = true;
	return rfd;
}

/* Find ENTRY for ST, resetting it when the file changed since it was filled. */
static struct cache_entry *measure_lookup(struct measure_ctx *ctx, const struct stat *st,
					  struct cache_shard **shard)
{
	struct cache_version version;
	struct cache_entry *entry;

	cache_version_from_stat(st, &version);
	entry = cache_lock(ctx->cache, &(struct cache_key){ st->st_dev, st->st_ino }, shard);
	if (!entry)
		return NULL;
	while (!cache_version_equal(&entry->version, &version)) {
		if (!entry->busy) {
			cache_entry_reset(entry, &version);
			break;
		}
		cache_wait(*shard);
	}
	return entry;
}

static int measure_open_common(struct measure_ctx *ctx, int fd, int open_flags, bool created,
			       const struct measure_subject *subject,
			       struct measure_verdict *ret_verdict,
			       struct measure_open_state *ret_state)
{
	struct measure_verdict verdict = { 0 };
	struct measure_open_state state = { 0 };
	struct measure_result res = { 0 };
	struct event_strings strings;
	char path[PATH_MAX + 64];
	bool path_known = false;
	struct measure_plan plan;
	struct cache_entry *entry;
	struct cache_shard *shard;
	bool owned = false;
	int work_fd = fd;
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		*ret_verdict = verdict;
		*ret_state = state;
		return 0;
	}

	if (event_wants_path(ctx->events) && measure_name(ctx, fd, path, sizeof(path)) == 0)
		path_known = true;
	measure_plan_build(ctx,
			   &(struct measure_open_args){ open_flags, subject, &st, fd,
							path_known ? path : NULL, &strings },
			   &plan);
	measure_note_inexact(ctx, &plan, &verdict);
	if (plan.ntargets > 0 || plan.appraise || plan.audit) {
		work_fd = measure_readable_fd(fd, open_flags, &owned);
		if (work_fd < 0)
			return work_fd;
	}

	state.dev = st.st_dev;
	state.ino = st.st_ino;
	state.writer = (open_flags & O_ACCMODE) != O_RDONLY || (open_flags & O_TRUNC);
	entry = measure_lookup(ctx, &st, &shard);
	if (!entry) {
		r = -ENOMEM;
		goto out_close;
	}
	verdict.keep_cache = entry->opened;
	entry->opened = true;

	/*
	 * Violations come first, as in the kernel: the violation record precedes
	 * the measurement of the same open. The append happens outside the shard
	 * lock, like every list append. A violation that cannot be logged denies
	 * the open: the list would otherwise hide it.
	 */
	verdict.violation = measure_violation_check(entry, &plan, state.writer);
	if (verdict.violation) {
		cache_unlock(shard);
		r = measure_log_violation(ctx, work_fd, &st);
		entry = measure_lookup(ctx, &st, &shard);
		if (!entry) {
			r = -ENOMEM;
			goto out_close;
		}
	} else {
		r = 0;
	}
	if (r < 0) {
		res.op = "measure";
		res.reason = "log-failed";
	} else {
		r = measure_claim_and_work(ctx, work_fd, &st, entry, &shard, &plan, created, &res);
	}
	if (r < 0) {
		/* Fail closed: the file was to be measured or appraised and could not be. */
		verdict.op = res.op ? res.op : "measure";
		verdict.reason = res.reason ? res.reason : "failed";
		verdict.error = -EACCES;
		measure_rate_limit(entry, APPRAISE_CAUSE_UNKNOWN, &verdict);
		log_debug("measure: %s: %s", verdict.reason, strerror(-r));
	} else {
		verdict.measured = res.logged_pcrs != 0;
		measure_verdict_appraisal(ctx, entry, &plan, &res, &verdict);
		measure_verdict_write(ctx, entry, &plan, state.writer, created, &verdict);
		/* Audit once per file version, like the kernel's INTEGRITY_RULE record. */
		if (plan.audit && !entry->audited && res.digest.len) {
			entry->audited = true;
			verdict.audit = true;
			verdict.audit_line = plan.audit_line;
			verdict.audit_digest = res.digest;
		}
	}

	if (verdict.error == 0) {
		state.reader = !state.writer;
		if (state.reader)
			entry->readers++;
	}
	if (verdict.error == 0 && state.writer) {
		entry->writers++;
		if (created && plan.appraise)
			entry->created = true;
		if ((created || plan.appraise_file_check) && plan.appraise &&
		    !measure_xattr_is_sig(entry->xattr, entry->xattr_len))
			entry->update_xattr = true;
	} else {
		state.writer = false;
	}
	if (verdict.error)
		verdict.keep_cache = false;
	cache_unlock(shard);
	free(res.xattr);

	*ret_verdict = verdict;
	*ret_state = state;
	r = 0;
out_close:
	if (owned)
		close(work_fd);
	return r;
}

int measure_open(struct measure_ctx *ctx, int fd, int open_flags,
		 const struct measure_subject *subject, struct measure_verdict *ret_verdict,
		 struct measure_open_state *ret_state)
{
	return measure_open_common(ctx, fd, open_flags, false, subject, ret_verdict, ret_state);
}

int measure_create(struct measure_ctx *ctx, int fd, int open_flags,
		   const struct measure_subject *subject, struct measure_verdict *ret_verdict,
		   struct measure_open_state *ret_state)
{
	return measure_open_common(ctx, fd, open_flags, true, subject, ret_verdict, ret_state);
}

/* Rewrite the hash xattr of FD after its last writer closed: the digest is taken now. */
static int measure_update_xattr(struct measure_ctx *ctx, int fd)
{
	uint8_t value[IMA_XATTR_DIGEST_MAX_SIZE];
	struct hash_digest digest;
	bool owned = false;
	int rfd, len, r;

	rfd = measure_readable_fd(fd, O_WRONLY, &owned);
	if (rfd < 0)
		return rfd;
	r = hash_fd(ctx->hash, rfd, &digest);
	if (owned)
		close(rfd);
	if (r < 0)
		return r;
	len = ima_xattr_build_digest(&digest, value, sizeof(value));
	if (len < 0)
		return len;
	if (fsetxattr(fd, ctx->xattr_name, value, (size_t)len, 0) < 0)
		return -errno;
	return 0;
}

int measure_release(struct measure_ctx *ctx, int fd, const struct measure_open_state *state)
{
	struct cache_shard *shard;
	struct cache_entry *entry;
	bool update = false;

	if (!state->writer && !state->reader)
		return 0;
	entry = cache_lock(ctx->cache, &(struct cache_key){ state->dev, state->ino }, &shard);
	if (!entry)
		return -ENOMEM;
	if (state->reader) {
		if (entry->readers > 0)
			entry->readers--;
		cache_unlock(shard);
		return 0;
	}
	if (entry->writers > 0)
		entry->writers--;
	/*
	 * The last writer closed after writing: timestamps are too coarse to
	 * prove the content unchanged, so forget this version and measure again
	 * on the next open. A writer that wrote nothing keeps the measurement.
	 */
	if (entry->writers == 0) {
		update = entry->update_xattr && (entry->modified || entry->created) &&
			 !measure_xattr_is_sig(entry->xattr, entry->xattr_len) &&
			 measure_get_appraise_mode(ctx) != APPRAISE_MODE_OFF;
		if (entry->modified || update)
			cache_entry_reset(entry, &(struct cache_version){ 0 });
		entry->update_xattr = false;
		entry->created = false;
		entry->open_writers_reported = false;
	}
	cache_unlock(shard);

	return update ? measure_update_xattr(ctx, fd) : 0;
}

void measure_note_write(struct measure_ctx *ctx, int fd)
{
	struct cache_shard *shard;
	struct cache_entry *entry;
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	entry = cache_lock(ctx->cache, &(struct cache_key){ st.st_dev, st.st_ino }, &shard);
	if (!entry)
		return;
	entry->modified = true;
	/* Without an open writer (truncate by path) nothing closes later: forget now. */
	if (entry->writers == 0)
		cache_entry_reset(entry, &(struct cache_version){ 0 });
	cache_unlock(shard);
}

void measure_note_attr(struct measure_ctx *ctx, int fd)
{
	struct cache_version now;
	struct cache_shard *shard;
	struct cache_entry *entry;
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	cache_version_from_stat(&st, &now);
	entry = cache_lock(ctx->cache, &(struct cache_key){ st.st_dev, st.st_ino }, &shard);
	if (!entry)
		return;
	/* Only the ctime moved: the content is the version that was measured. */
	if (!entry->busy && !entry->modified && entry->version.mtime_sec == now.mtime_sec &&
	    entry->version.mtime_nsec == now.mtime_nsec && entry->version.size == now.size)
		entry->version = now;
	cache_unlock(shard);
}

/* CAP_SYS_ADMIN is bit 21 of the capability sets. */
#define MEASURE_CAP_SYS_ADMIN 21

int measure_check_xattr_write(struct measure_ctx *ctx, const char *name, pid_t pid)
{
	char path[64], line[256];
	unsigned long long capeff = 0;
	bool found = false;
	FILE *f;

	if (strcmp(name, "security.ima") != 0 && strcmp(name, ctx->xattr_name) != 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -EPERM; /* a caller we cannot inspect gets no privilege */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "CapEff:\t%llx", &capeff) == 1) {
			found = true;
			break;
		}
	}
	fclose(f);
	if (!found || !((capeff >> MEASURE_CAP_SYS_ADMIN) & 1))
		return -EPERM;
	return 0;
}

enum appraise_mode measure_get_appraise_mode(struct measure_ctx *ctx)
{
	return (enum appraise_mode)atomic_load_explicit(&ctx->appraise_mode,
							memory_order_relaxed);
}

void measure_set_appraise_mode(struct measure_ctx *ctx, enum appraise_mode mode)
{
	atomic_store(&ctx->appraise_mode, (int)mode);
}

void measure_replace_policy(struct measure_ctx *ctx, struct policy *policy)
{
	struct policy *old;

	pthread_rwlock_wrlock(&ctx->policy_lock);
	old = ctx->policy;
	ctx->policy = policy;
	pthread_rwlock_unlock(&ctx->policy_lock);
	policy_free(old);
	for (size_t i = 0; i < sizeof(ctx->inexact_reported); i++)
		atomic_store(&ctx->inexact_reported[i], 0);
}

void measure_policy_sha256(struct measure_ctx *ctx, char hex[65])
{
	pthread_rwlock_rdlock(&ctx->policy_lock);
	hash_to_hex(policy_sha256(ctx->policy), 32, hex);
	pthread_rwlock_unlock(&ctx->policy_lock);
}

const char *measure_start_note(struct measure_ctx *ctx)
{
	return ima_log_start_note(ctx->log);
}

const char *measure_xattr_name(const struct measure_ctx *ctx)
{
	return ctx->xattr_name;
}
