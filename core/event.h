/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The facts a policy rule can test, gathered for one open: the subject's
 * ids and labels from the kernel, the object's owner, filesystem and label.
 *
 * Thread safety: event_fill() may be called from any thread at once; the
 * per-filesystem cache has its own mutex, taken briefly and never while
 * calling out.
 *
 * Ownership: event_ctx_new() returns a context freed by event_ctx_free()
 * (accepts NULL, returns NULL). The strings an event points to live in the
 * caller's struct event_strings.
 */
#ifndef IMAFS_CORE_EVENT_H
#define IMAFS_CORE_EVENT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "policy/policy.h"

struct event_ctx;

/* Storage for the strings of one event. */
struct event_strings {
	char fsname[64];
	char fs_subtype[64];
	uint8_t fsuuid[16];
	char obj_label[256];
	char subj_label[256];
	char exe[PATH_MAX];
	char comm[32];
	char cgroup[512];
};

/*
 * EXTENSIONS: fill the imafs extension fields (exe, comm, cgroup), which
 * cost extra reads of /proc on every open.
 */
int event_ctx_new(bool extensions, struct event_ctx **ret);
struct event_ctx *event_ctx_free(struct event_ctx *ctx);

/* True when the extension fields are filled: the caller then also sets PATH. */
bool event_wants_path(const struct event_ctx *ctx);

/*
 * Fill *RET (all but func and mask) for an open by thread PID with the
 * filesystem ids UID and GID of the file behind FD with status ST. Facts
 * that cannot be read stay unknown, so rules that test them do not match.
 * NEEDS (policy_needs() bits) names the facts to read; the others are not
 * read, because no rule tests them.
 */
void event_fill(struct event_ctx *ctx, unsigned int needs, pid_t pid, uid_t uid, gid_t gid,
		int fd, const struct stat *st, struct event_strings *strings,
		struct policy_event *ret);

#endif
