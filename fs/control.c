/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Run-time control of the daemon through signals and small files in the
 * runtime directory:
 *
 *   pid              the daemon's pid, for kill(1)
 *   policy_sha256    SHA-256 of the active policy text
 *   appraise_mode    the mode in force; write a new one and send SIGUSR1.
 *                    The daemon replaces the file after handling the
 *                    signal, with the mode then in force.
 *
 * SIGHUP reads the --policy file again. A policy that fails to load keeps
 * the old one active and logs one error with file:line:col.
 *
 * Invariants:
 *  1. Only the control thread receives SIGHUP, SIGUSR1 and SIGUSR2: every
 *     other thread has them blocked (control_start() blocks them before the
 *     FUSE workers exist).
 *  2. A reload is all or nothing: measure_replace_policy() runs only with a
 *     policy that loaded completely.
 *
 * Locking: the control thread owns every field after control_start(); the
 * main thread touches the struct again only after joining it.
 *
 * Ownership: the struct control belongs to the caller of control_start();
 * the measure context is borrowed.
 */
#include "fs/control.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/log.h"
#include "core/measure.h"
#include "policy/policy.h"

struct control {
	struct measure_ctx *ctx;
	pthread_t thread;
	int dir_fd;
	char *policy_spec;
	struct policy_options policy_options;
	char policy_sha256[65];
};

/* Replace the small file NAME in the runtime directory with TEXT. */
static int control_write_file(struct control *c, const char *name, const char *text)
{
	char tmp[64];
	ssize_t n;
	int fd;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	fd = openat(c->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	if (n != (ssize_t)strlen(text) || renameat(c->dir_fd, tmp, c->dir_fd, name) < 0) {
		(void)unlinkat(c->dir_fd, tmp, 0);
		return n < 0 ? -errno : -EIO;
	}
	return 0;
}

static void control_write_mode(struct control *c)
{
	char text[16];

	snprintf(text, sizeof(text), "%s\n",
		 appraise_mode_name(measure_get_appraise_mode(c->ctx)));
	if (control_write_file(c, "appraise_mode", text) < 0)
		log_msg(LOG_WARNING, "cannot write appraise_mode in the runtime directory, "
				     "continuing");
}

static void control_reload_policy(struct control *c)
{
	struct policy_error perr;
	struct policy *policy = NULL;
	char sha[65], text[80], spec[512];
	int r;

	log_quote(c->policy_spec, spec, sizeof(spec));
	memset(&perr, 0, sizeof(perr));
	r = policy_load_ex(c->policy_spec, &c->policy_options, &policy, &perr);
	if (r < 0) {
		log_msg(LOG_ERR,
			"op=policy-reload result=failed policy=%s where=%s:%u:%u error='%s' "
			"active_sha256=%s, keeping the active policy",
			spec, perr.origin[0] ? perr.origin : c->policy_spec, perr.line,
			perr.col, perr.message[0] ? perr.message : strerror(-r), c->policy_sha256);
		return;
	}
	hash_to_hex(policy_sha256(policy), 32, sha);
	measure_replace_policy(c->ctx, policy);
	log_msg(LOG_NOTICE, "op=policy-reload result=loaded policy=%s rules=%u sha256=%s "
			    "previous_sha256=%s",
		spec, policy_rule_count(policy), sha, c->policy_sha256);
	memcpy(c->policy_sha256, sha, sizeof(sha));
	snprintf(text, sizeof(text), "%s\n", sha);
	if (control_write_file(c, "policy_sha256", text) < 0)
		log_msg(LOG_WARNING, "cannot write policy_sha256 in the runtime directory, "
				     "continuing");
}

static void control_apply_mode(struct control *c)
{
	enum appraise_mode old = measure_get_appraise_mode(c->ctx), mode;
	char word[32] = "";
	ssize_t n;
	int fd;

	fd = openat(c->dir_fd, "appraise_mode", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	n = fd < 0 ? -1 : read(fd, word, sizeof(word) - 1);
	if (fd >= 0)
		close(fd);
	word[n > 0 ? n : 0] = '\0';
	word[strcspn(word, " \t\r\n")] = '\0';
	if (appraise_mode_from_name(word, &mode) < 0) {
		log_msg(LOG_ERR, "op=appraise-mode result=failed requested='%s' error='not one of "
				 "enforce, log, fix, off' active=%s",
			word, appraise_mode_name(old));
		control_write_mode(c);
		return;
	}
	measure_set_appraise_mode(c->ctx, mode);
	log_msg(LOG_NOTICE, "op=appraise-mode result=changed from=%s to=%s",
		appraise_mode_name(old), appraise_mode_name(mode));
	/* A new file (a new inode) signals a waiting imafs-ctl that the request was handled. */
	control_write_mode(c);
}

static void control_signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
}

static void *control_main(void *arg)
{
	struct control *c = arg;
	sigset_t set;
	int sig;

	control_signal_set(&set);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGUSR2)
			break; /* control_stop() */
		if (sig == SIGHUP)
			control_reload_policy(c);
		else if (sig == SIGUSR1)
			control_apply_mode(c);
	}
	return NULL;
}

int control_start(struct measure_ctx *ctx, const char *runtime_dir, const char *policy_spec,
		  const struct policy_options *options, struct control **ret)
{
	struct control *c;
	char text[80];
	sigset_t set;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ctx = ctx;
	c->policy_spec = strdup(policy_spec);
	c->dir_fd = open(runtime_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!c->policy_spec || c->dir_fd < 0) {
		r = c->policy_spec ? -errno : -ENOMEM;
		goto out_free;
	}
	c->policy_options = *options;
	measure_policy_sha256(ctx, c->policy_sha256);

	snprintf(text, sizeof(text), "%d\n", (int)getpid());
	r = control_write_file(c, "pid", text);
	if (r == 0) {
		snprintf(text, sizeof(text), "%s\n", c->policy_sha256);
		r = control_write_file(c, "policy_sha256", text);
	}
	if (r < 0)
		goto out_free;
	control_write_mode(c);

	control_signal_set(&set);
	r = -pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (r == 0)
		r = -pthread_create(&c->thread, NULL, control_main, c);
	if (r < 0)
		goto out_free;
	*ret = c;
	return 0;

out_free:
	if (c->dir_fd >= 0)
		close(c->dir_fd);
	free(c->policy_spec);
	free(c);
	return r;
}

struct control *control_stop(struct control *c)
{
	if (!c)
		return NULL;
	pthread_kill(c->thread, SIGUSR2);
	pthread_join(c->thread, NULL);
	(void)unlinkat(c->dir_fd, "pid", 0);
	close(c->dir_fd);
	free(c->policy_spec);
	free(c);
	return NULL;
}
