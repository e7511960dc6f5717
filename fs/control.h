/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Run-time control of a mounted imafs: SIGHUP reloads the policy, SIGUSR1
 * applies the appraisal mode written into the runtime directory's
 * appraise_mode file. The runtime directory also gets the daemon's pid and
 * the SHA-256 of the active policy.
 *
 * Thread safety: control_start() and control_stop() run on the main thread,
 * around the FUSE session loop. control_start() blocks SIGHUP and SIGUSR1 in
 * the calling thread, so it must run before the loop starts its workers,
 * which inherit that mask; the control thread alone receives them.
 */
#ifndef IMAFS_FS_CONTROL_H
#define IMAFS_FS_CONTROL_H

#include "policy/policy.h"

struct measure_ctx;
struct control;

/*
 * Write the pid, policy_sha256 and appraise_mode files into RUNTIME_DIR and
 * start the control thread. POLICY_SPEC is the --policy value to reload
 * with OPTIONS.
 * Returns 0 or a negative errno.
 */
int control_start(struct measure_ctx *ctx, const char *runtime_dir, const char *policy_spec,
		  const struct policy_options *options, struct control **ret);

/* Stop the control thread and remove the pid file. Accepts NULL, returns NULL. */
struct control *control_stop(struct control *control);

#endif
