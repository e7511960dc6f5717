/* SPDX-License-Identifier: Apache-2.0 */
/*
 * imafs-ctl: control a running imafs through its runtime directory.
 *
 *   imafs-ctl [-r RUNDIR | MOUNTPOINT] status
 *   imafs-ctl [-r RUNDIR | MOUNTPOINT] reload
 *   imafs-ctl [-r RUNDIR | MOUNTPOINT] appraise enforce|log|fix|off
 *
 * reload sends SIGHUP; appraise writes the mode into appraise_mode and sends
 * SIGUSR1. Both then wait for the daemon's confirmation (a new policy_sha256,
 * or the appraise_mode file replaced) and print the result.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/appraise.h"
#include "core/rundir.h"

static char arg_rundir[PATH_MAX];

static void usage(const char *complaint)
{
	if (complaint)
		fprintf(stderr, "imafs-ctl: %s\n", complaint);
	fprintf(stderr, "usage: imafs-ctl [-r RUNDIR | MOUNTPOINT] status\n"
			"       imafs-ctl [-r RUNDIR | MOUNTPOINT] reload\n"
			"       imafs-ctl [-r RUNDIR | MOUNTPOINT] appraise enforce|log|fix|off\n");
	exit(2);
}

/* Read the first line of RUNDIR/NAME into BUF; false when it is missing. */
static bool read_line(const char *name, char *buf, size_t size)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", arg_rundir, name);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(buf, (int)size, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return true;
}

static pid_t daemon_pid(void)
{
	char text[32];
	long pid;

	if (!read_line("pid", text, sizeof(text)))
		err(1, "%s/pid", arg_rundir);
	pid = strtol(text, NULL, 10);
	if (pid <= 1 || kill((pid_t)pid, 0) < 0)
		errx(1, "%s/pid: no running imafs with pid '%s'; is the file system mounted?",
		     arg_rundir, text);
	return (pid_t)pid;
}

static void write_mode(const char *mode)
{
	char path[PATH_MAX + 64], tmp[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/appraise_mode", arg_rundir);
	snprintf(tmp, sizeof(tmp), "%s/.appraise_mode.ctl", arg_rundir);
	f = fopen(tmp, "we");
	if (!f || fprintf(f, "%s\n", mode) < 0 || fclose(f) != 0 || rename(tmp, path) < 0)
		err(1, "%s", path);
}

/* Wait up to 5 s for RUNDIR/NAME to read differently from BEFORE. */
static bool wait_change(const char *name, const char *before, char *now, size_t size)
{
	struct timespec step = { 0, 50 * 1000 * 1000 };

	for (int i = 0; i < 100; i++) {
		if (read_line(name, now, size) && strcmp(now, before) != 0)
			return true;
		nanosleep(&step, NULL);
	}
	return false;
}

static int cmd_status(void)
{
	static const char *const names[] = { "pid", "tpm", "appraise_mode", "policy_sha256",
					     "runtime_measurements_count", "violations" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char value[256];

		if (read_line(names[i], value, sizeof(value)))
			printf("%s: %s\n", names[i], value);
	}
	return 0;
}

static int cmd_reload(void)
{
	char before[80] = "", now[80];
	pid_t pid = daemon_pid();

	(void)read_line("policy_sha256", before, sizeof(before));
	if (kill(pid, SIGHUP) < 0)
		err(1, "kill %d", (int)pid);
	if (!wait_change("policy_sha256", before, now, sizeof(now))) {
		fprintf(stderr, "imafs-ctl: the policy did not change: it failed to load (the "
				"daemon's log names the line) or is the same text; active sha256 %s\n",
			before);
		return 1;
	}
	printf("policy reloaded: sha256 %s\n", now);
	return 0;
}

static ino_t mode_inode(void)
{
	char path[PATH_MAX + 64];
	struct stat st;

	snprintf(path, sizeof(path), "%s/appraise_mode", arg_rundir);
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

static int cmd_appraise(const char *mode)
{
	struct timespec step = { 0, 50 * 1000 * 1000 };
	enum appraise_mode parsed;
	char now[32];
	ino_t ours;
	pid_t pid;

	if (appraise_mode_from_name(mode, &parsed) < 0)
		usage("appraise: give enforce, log, fix or off");
	pid = daemon_pid();
	write_mode(mode);
	ours = mode_inode();
	if (kill(pid, SIGUSR1) < 0)
		err(1, "kill %d", (int)pid);
	/* The daemon replaces the file once it has handled the signal. */
	for (int i = 0; i < 100 && mode_inode() == ours; i++)
		nanosleep(&step, NULL);
	if (mode_inode() == ours || !read_line("appraise_mode", now, sizeof(now)))
		errx(1, "the daemon did not confirm appraise mode '%s' within 5 s", mode);
	if (strcmp(now, mode) != 0)
		errx(1, "the daemon kept appraise mode '%s'", now);
	printf("appraise mode: %s\n", now);
	return 0;
}

int main(int argc, char **argv)
{
	const char *rundir = NULL;
	int c;

	while ((c = getopt(argc, argv, "r:h")) != -1) {
		if (c == 'r')
			rundir = optarg;
		else
			usage(NULL);
	}
	argc -= optind;
	argv += optind;
	if (!rundir) {
		char mountpoint[PATH_MAX];

		if (argc < 2)
			usage("give -r RUNDIR or a mount point, then a command");
		if (!realpath(argv[0], mountpoint))
			err(1, "%s", argv[0]);
		if (rundir_default(mountpoint, arg_rundir, sizeof(arg_rundir)) < 0)
			errx(1, "%s: path too long", argv[0]);
		argc--;
		argv++;
	} else if (snprintf(arg_rundir, sizeof(arg_rundir), "%s", rundir) >=
		   (int)sizeof(arg_rundir)) {
		errx(1, "%s: path too long", rundir);
	}
	if (argc < 1)
		usage("missing command");

	if (!strcmp(argv[0], "status") && argc == 1)
		return cmd_status();
	if (!strcmp(argv[0], "reload") && argc == 1)
		return cmd_reload();
	if (!strcmp(argv[0], "appraise") && argc == 2)
		return cmd_appraise(argv[1]);
	usage("unknown command or wrong number of arguments");
}
