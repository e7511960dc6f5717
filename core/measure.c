/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The open path: turns one open request into a verdict.
 *
 *   policy  -> which events (FILE_CHECK, BPRM_CHECK) ask for measurement
 *   cache   -> is this file version already measured for that PCR?
 *   hash    -> once per file version, whoever comes first; others wait
 *   appraise-> passes for now (see measure_appraise())
 *   log     -> append the record, make it durable, extend the PCR
 *
 * Invariants:
 *  1. Fail closed: any error on the way to a verdict for a file that the
 *     policy measures denies the open; nothing is served unmeasured.
 *  2. One measurement and one record per (file version, PCR), as the kernel
 *     keeps one per inode version.
 *  3. The cache shard lock is never held while hashing, logging or talking
 *     to the TPM (those are slow and the log has its own lock).
 *
 * Locking: the context is read-only after measure_ctx_new(); per-file state
 * lives in the cache under its shard locks.
 *
 * Ownership: the context owns the policy, the TPM, the log and the cache.
 */
#include "core/measure.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "core/cache.h"
#include "core/ima_log.h"
#include "core/log.h"
#include "core/template.h"
#include "core/tpm.h"
#include "policy/policy.h"

struct measure_ctx {
	enum hash_algo hash;
	unsigned int default_pcr;
	const struct template_desc *template;
	char *source;
	size_t source_len;
	char *mountpoint;
	struct policy *policy;
	struct tpm *tpm;
	struct ima_log *log;
	struct cache *cache;
};

/* The events one open raises, each with its own policy decision. */
#define MEASURE_MAX_EVENTS 2

int measure_ctx_new(const struct measure_config *config, struct measure_ctx **ret)
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

	log_config = (struct ima_log_config){
		.dir = config->runtime_dir,
		.hash = config->hash,
		.template = ctx->template,
		.pcr = config->default_pcr,
		.tpm = config->tpm,
	};
	r = ima_log_open(&log_config, &ctx->log, &msg);
	if (r < 0) {
		log_msg(LOG_ERR, "runtime directory '%s': %s: %s", config->runtime_dir,
			msg ? msg : "failed", strerror(-r));
		goto out_free;
	}

	/* Take ownership only on success, as the header promises. */
	ctx->policy = config->policy;
	ctx->tpm = config->tpm;
	*ret = ctx;
	return 0;

out_free:
	cache_free(ctx->cache);
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
	policy_free(ctx->policy);
	tpm_close(ctx->tpm);
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

/*
 * Read the real, effective and saved ids of PID from /proc. FUSE passes only
 * the filesystem ids; when the process is gone the caller keeps those.
 */
static void measure_read_ids(pid_t pid, struct policy_event *ev)
{
	char path[64], line[256];
	unsigned long capeff = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned int real, eff, saved;

		if (sscanf(line, "Uid:\t%u\t%u\t%u", &real, &eff, &saved) == 3) {
			ev->uid = real;
			ev->euid = eff;
			ev->suid = saved;
		} else if (sscanf(line, "Gid:\t%u\t%u", &real, &eff) == 2) {
			ev->gid = real;
			ev->egid = eff;
		} else if (sscanf(line, "CapEff:\t%lx", &capeff) == 1) {
			ev->has_cap_setuid = (capeff >> 7) & 1; /* CAP_SETUID is bit 7 */
		}
	}
	fclose(f);
}

/* Fill the events of this open: FILE_CHECK always, BPRM_CHECK for an execve. */
static unsigned int measure_events(int flags, const struct measure_subject *subject,
				   const struct stat *st, int fd,
				   struct policy_event events[MEASURE_MAX_EVENTS])
{
	struct policy_event base = {
		.uid = subject->uid,
		.euid = subject->uid,
		.suid = subject->uid,
		.gid = subject->gid,
		.egid = subject->gid,
		.fowner = st->st_uid,
		.fgroup = st->st_gid,
	};
	struct statfs sfs;
	unsigned int n = 0;

	if (subject->pid > 0)
		measure_read_ids(subject->pid, &base);
	if (fstatfs(fd, &sfs) == 0)
		base.fsmagic = (uint32_t)sfs.f_type;

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

/*
 * Appraisal step. It passes: imafs does not appraise yet, and the cache
 * entry keeps room for the result (appraise_status) when it does.
 */
static int measure_appraise(struct measure_ctx *ctx, int fd, struct cache_entry *entry)
{
	(void)ctx;
	(void)fd;
	(void)entry;
	return 0;
}

/* Hash FD for the digests the template needs; outside any lock. */
static int measure_hash(struct measure_ctx *ctx, int fd, bool need_sha1,
			struct hash_digest *ret_digest, struct hash_digest *ret_sha1)
{
	int r;

	r = hash_fd(ctx->hash, fd, ret_digest);
	if (r < 0)
		return r;
	memset(ret_sha1, 0, sizeof(*ret_sha1));
	if (!need_sha1)
		return 0;
	if (ctx->hash == HASH_SHA1) {
		*ret_sha1 = *ret_digest;
		return 0;
	}
	return hash_fd(HASH_SHA1, fd, ret_sha1);
}

/* One (PCR, template) pair the policy asked this open to be measured into. */
struct measure_target {
	unsigned int pcr;
	const struct template_desc *desc;
};

/*
 * Make sure the current version of the file is in the list for TARGET.
 * Called and returns with SHARD locked; drops it while hashing and logging.
 * *RET_REASON names the failed step.
 */
static int measure_into(struct measure_ctx *ctx, int fd, const struct stat *st,
			struct cache_entry *entry, struct cache_shard **shard,
			const struct measure_target *target, bool *ret_measured,
			const char **ret_reason)
{
	bool need_sha1 = template_needs_sha1(target->desc);
	struct template_event event = { 0 };
	struct cache_version version;
	char name[PATH_MAX + 64];
	struct stat after;
	bool need_hash;
	int r = 0;

	for (;;) {
		if (entry->measured_pcrs & (1u << target->pcr))
			return 0;
		if (!entry->busy)
			break;
		cache_wait(*shard);
	}
	entry->busy = true;
	version = entry->version;
	need_hash = !entry->digest_valid || (need_sha1 && entry->sha1.len == 0);
	event.digest = entry->digest;
	event.sha1 = entry->sha1;
	cache_unlock(*shard);

	if (need_hash) {
		r = measure_hash(ctx, fd, need_sha1, &event.digest, &event.sha1);
		*ret_reason = "hash-failed";
	}
	if (r == 0) {
		r = measure_name(ctx, fd, name, sizeof(name));
		*ret_reason = "name-failed";
	}
	if (r == 0) {
		event.name = name;
		event.uid = st->st_uid;
		event.gid = st->st_gid;
		event.mode = st->st_mode;
		r = ima_log_append(ctx->log, target->pcr, target->desc, &event);
		*ret_reason = "log-failed";
	}

	/* A version that changed while we hashed keeps no result: the next open measures again. */
	entry = cache_lock(ctx->cache, &entry->key, shard);
	if (r == 0 && fstat(fd, &after) == 0) {
		struct cache_version now;

		cache_version_from_stat(&after, &now);
		if (cache_version_equal(&now, &version) &&
		    cache_version_equal(&entry->version, &version)) {
			entry->digest = event.digest;
			if (event.sha1.len)
				entry->sha1 = event.sha1;
			entry->digest_valid = true;
			entry->measured_pcrs |= 1u << target->pcr;
		}
	}
	entry->busy = false;
	cache_wake(*shard);
	if (r == 0) {
		*ret_measured = true;
		*ret_reason = NULL;
	}
	return r;
}

/* Collect the (PCR, template) pairs that the policy measures for these events. */
static unsigned int measure_targets(struct measure_ctx *ctx, const struct policy_event *events,
				    unsigned int nevents,
				    struct measure_target targets[MEASURE_MAX_EVENTS])
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nevents; i++) {
		struct policy_decision d;
		struct measure_target t;
		bool dup = false;

		policy_evaluate(ctx->policy, &events[i], &d);
		if (!d.measure)
			continue;
		t.pcr = d.pcr_set ? d.pcr : ctx->default_pcr;
		t.desc = d.template[0] ? template_lookup(d.template) : ctx->template;
		if (!t.desc)
			t.desc = ctx->template;
		for (unsigned int j = 0; j < n; j++)
			dup = dup || (targets[j].pcr == t.pcr && targets[j].desc == t.desc);
		if (!dup)
			targets[n++] = t;
	}
	return n;
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

int measure_open(struct measure_ctx *ctx, int fd, int open_flags,
		 const struct measure_subject *subject, struct measure_verdict *ret_verdict,
		 struct measure_open_state *ret_state)
{
	struct measure_verdict verdict = { 0 };
	struct measure_open_state state = { 0 };
	struct policy_event events[MEASURE_MAX_EVENTS];
	struct measure_target targets[MEASURE_MAX_EVENTS];
	struct cache_version version;
	struct cache_entry *entry;
	struct cache_shard *shard;
	unsigned int nevents, ntargets;
	const char *reason = NULL;
	bool owned = false;
	int hash_fd_ = fd;
	struct stat st;
	int r = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		*ret_verdict = verdict;
		*ret_state = state;
		return 0;
	}

	nevents = measure_events(open_flags, subject, &st, fd, events);
	ntargets = measure_targets(ctx, events, nevents, targets);
	if (ntargets > 0) {
		hash_fd_ = measure_readable_fd(fd, open_flags, &owned);
		if (hash_fd_ < 0)
			return hash_fd_;
	}

	state.dev = st.st_dev;
	state.ino = st.st_ino;
	state.writer = (open_flags & O_ACCMODE) != O_RDONLY || (open_flags & O_TRUNC);
	cache_version_from_stat(&st, &version);
	entry = cache_lock(ctx->cache, &(struct cache_key){ st.st_dev, st.st_ino }, &shard);
	if (!entry) {
		r = -ENOMEM;
		goto out_close;
	}
	while (!cache_version_equal(&entry->version, &version)) {
		if (!entry->busy) {
			cache_entry_reset(entry, &version);
			break;
		}
		cache_wait(shard);
	}
	verdict.keep_cache = entry->opened;
	entry->opened = true;

	for (unsigned int i = 0; i < ntargets && r == 0; i++)
		r = measure_into(ctx, hash_fd_, &st, entry, &shard, &targets[i], &verdict.measured,
				 &reason);
	if (r == 0) {
		r = measure_appraise(ctx, hash_fd_, entry);
		reason = "appraise-failed";
	}
	if (r == 0 && state.writer)
		entry->writers++;
	cache_unlock(shard);

	if (r < 0) {
		/* Fail closed: the file was to be measured and could not be. */
		log_debug("measure: %s: %s", reason, strerror(-r));
		verdict.error = -EACCES;
		verdict.reason = reason;
		verdict.keep_cache = false;
		state.writer = false;
		r = 0;
	}
	*ret_verdict = verdict;
	*ret_state = state;
out_close:
	if (owned)
		close(hash_fd_);
	return r;
}

void measure_release(struct measure_ctx *ctx, const struct measure_open_state *state)
{
	struct cache_shard *shard;
	struct cache_entry *entry;

	if (!state->writer)
		return;
	entry = cache_lock(ctx->cache, &(struct cache_key){ state->dev, state->ino }, &shard);
	if (!entry)
		return;
	if (entry->writers > 0)
		entry->writers--;
	/*
	 * The last writer closed after writing: timestamps are too coarse to
	 * prove the content unchanged, so forget this version and measure again
	 * on the next open. A writer that wrote nothing keeps the measurement.
	 */
	if (entry->writers == 0 && entry->modified)
		cache_entry_reset(entry, &(struct cache_version){ 0 });
	cache_unlock(shard);
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
