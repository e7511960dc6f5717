/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The open path of imafs: for each open of a regular file the fs/ layer gets
 * a verdict from measure_open() and only acts on it. This module runs
 * policy -> cache -> hash -> appraise -> IMA log append -> PCR extend.
 *
 * Thread safety: measure_open() and measure_release() may be called from any
 * FUSE thread at once. measure_ctx_new() and measure_ctx_free() run before
 * the session starts and after it ends.
 *
 * Ownership: measure_ctx_new() takes ownership of CONFIG->policy and
 * CONFIG->tpm on success (and only then). measure_ctx_free() accepts NULL and
 * returns NULL.
 */
#ifndef IMAFS_CORE_MEASURE_H
#define IMAFS_CORE_MEASURE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/appraise.h"
#include "core/hash.h"

struct policy;
struct tpm;
struct measure_ctx;

struct measure_config {
	enum hash_algo hash;       /* file hash algorithm (--hash) */
	const char *template_name; /* default template: "ima-ng" or "ima" */
	const char *runtime_dir;   /* where the measurement list files live */
	const char *source;        /* backing directory, absolute */
	const char *mountpoint;    /* mount point, absolute; names in the log start here */
	struct policy *policy;     /* active policy */
	struct tpm *tpm;           /* TPM or software bank */
	unsigned int default_pcr;  /* PCR for rules without pcr= (--pcr, 10) */
	enum appraise_mode appraise_mode;  /* --appraise */
	struct keyring *keys;              /* --keys, or NULL; owned on success */
	struct allowlist *allowlist;       /* --allowlist, or NULL; owned on success */
	struct allowlist *blocklist;       /* --blocklist, or NULL; owned on success */
	bool xattr_user;                   /* appraise from user.ima instead of security.ima */
	bool new_log;                      /* archive a list left in RUNTIME_DIR (--new-log) */
	bool policy_extensions;            /* fill exe, comm, cgroup and path for the policy */
};

/* The caller of open(), from the FUSE request context. */
struct measure_subject {
	uid_t uid;
	gid_t gid;
	pid_t pid;
};

/* The decision on one open, and the events the fs layer logs for it. */
struct measure_verdict {
	int error;        /* 0: allow; else the negative errno to reply (-EACCES) */
	const char *reason; /* cause when denied, or of an appraisal failure that was allowed */
	bool report;      /* log a security event for REASON (already rate-limited) */
	unsigned int suppressed; /* events of this file and cause not reported since the last */
	bool fixed;       /* fix mode rewrote the hash xattr */
	bool measured;    /* this open added a measurement to the log */
	bool keep_cache;  /* file content unchanged since the last open: keep the page cache */
	const char *op;   /* "measure", "appraise" or "open": the step REASON belongs to */
	const char *violation; /* "ToMToU" or "open_writers" when this open logged one */
	bool audit;       /* an audit rule requests the audit line of this file version */
	unsigned int audit_line;
	struct hash_digest audit_digest;
	unsigned int inexact_line; /* report: this rule was skipped on a fact imafs cannot read */
	const char *inexact_keyword;
};

/* State of one open file that measure_release() needs back. */
struct measure_open_state {
	dev_t dev;
	ino_t ino;
	bool writer;
	bool reader; /* counted as a reader for violation checks */
};

/*
 * Create the context and open the measurement list. Returns 0 or a negative
 * errno. For a list that cannot be continued, *RETERR_MSG (if not NULL) then
 * gives the reason and the fix, valid until the next call.
 */
int measure_ctx_new(const struct measure_config *config, struct measure_ctx **ret,
		    const char **reterr_msg);
struct measure_ctx *measure_ctx_free(struct measure_ctx *ctx);

/*
 * Decide on an open of the regular file behind FD (the backing descriptor the
 * caller will serve from), opened with the FUSE open flags OPEN_FLAGS (which
 * carry the kernel's exec bit 0x20 for an execve). Fills *RET_STATE for
 * measure_release(). Returns 0 with *RET_VERDICT filled (which may deny), or
 * a negative errno when the verdict itself could not be reached; callers
 * then deny with that errno, never allow.
 */
int measure_open(struct measure_ctx *ctx, int fd, int open_flags,
		 const struct measure_subject *subject, struct measure_verdict *ret_verdict,
		 struct measure_open_state *ret_state);

/* As measure_open(), for a file that this open created: a new empty file passes appraisal. */
int measure_create(struct measure_ctx *ctx, int fd, int open_flags,
		   const struct measure_subject *subject, struct measure_verdict *ret_verdict,
		   struct measure_open_state *ret_state);

/*
 * Note the close of FD, a file opened with measure_open(). When the last
 * writer of an appraised file closes after writing, its hash xattr is
 * rewritten (unless it contains a signature). Returns 0, or a negative errno
 * when that rewrite failed (the caller logs it).
 */
int measure_release(struct measure_ctx *ctx, int fd, const struct measure_open_state *state);

/*
 * Decide whether the caller PID may set or remove the xattr NAME: the IMA
 * xattr (security.ima, or user.ima with xattr_user) needs CAP_SYS_ADMIN.
 * Returns 0 or -EPERM.
 */
int measure_check_xattr_write(struct measure_ctx *ctx, const char *name, pid_t pid);

/* The appraisal mode in force, and switching it at run time (any thread). */
enum appraise_mode measure_get_appraise_mode(struct measure_ctx *ctx);
void measure_set_appraise_mode(struct measure_ctx *ctx, enum appraise_mode mode);

/*
 * Replace the active policy with POLICY (taking ownership) and free the old
 * one once no open evaluates it. Opens in flight finish under the old
 * policy; every later open uses the new one. Nothing cached depends on the
 * policy: measurements already in the list stay, and appraisal results are
 * cached together with the rule options they were decided under.
 */
void measure_replace_policy(struct measure_ctx *ctx, struct policy *policy);

/* What opening the list did: continued, archived, ... ("" for a new directory). */
const char *measure_start_note(struct measure_ctx *ctx);

/* Write the SHA-256 of the active policy text as hex into HEX (65 bytes). */
void measure_policy_sha256(struct measure_ctx *ctx, char hex[65]);

/* Name of the xattr that contains the IMA value: "security.ima" or "user.ima". */
const char *measure_xattr_name(const struct measure_ctx *ctx);

/*
 * Note a change of content through the mount (write, truncate, fallocate,
 * copy_file_range into the file): the version measured before it is no longer
 * valid once the last writer closes. FD is the backing file.
 */
void measure_note_write(struct measure_ctx *ctx, int fd);

/*
 * Note a metadata-only change through the mount (chmod, chown, utimens
 * without content change) of the backing file FD: a cached measurement
 * stays valid for the file's new ctime, as the kernel keeps it across a
 * chmod.
 */
void measure_note_attr(struct measure_ctx *ctx, int fd);

/* The kernel's __FMODE_EXEC, seen in FUSE open flags for execve opens. */
#define MEASURE_FMODE_EXEC 0x20

#endif
