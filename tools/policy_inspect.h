/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Facts about a file and a process for imafs-policy explain. These are the values the daemon
 * puts into a policy event (owner, filesystem magic, type, UUID, labels, ids), the file's IMA
 * xattrs, and its entries in an imafs measurement list. A file may be named through an imafs
 * mount or in the backing tree that a mount serves. Either way the facts come from the
 * backing file, as the daemon reads them.
 *
 * Thread safety: the functions keep no state; call them from one thread.
 */
#ifndef IMAFS_TOOLS_POLICY_INSPECT_H
#define IMAFS_TOOLS_POLICY_INSPECT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Largest xattr value read; IMA signatures are far smaller. */
#define INSPECT_XATTR_MAX 4096

/* One extended attribute of the backing file. */
struct inspect_xattr {
	const char *name; /* "security.ima" */
	bool present;
	int error; /* negative errno when reading failed for another reason than absence */
	size_t len;
	uint8_t value[INSPECT_XATTR_MAX];
};

struct inspect_file {
	char path[PATH_MAX];	   /* the path given, made absolute and free of symbolic links */
	char name[PATH_MAX];	   /* the name the measurement list records for it */
	char backing[PATH_MAX];	   /* the file the facts were read from */
	char mountpoint[PATH_MAX]; /* the imafs mount serving the file, "" if none */
	bool through_mount;	   /* PATH lies on that mount (else in its backing tree) */
	bool backing_hidden;	   /* the mount covers its own source, so facts come through it */
	struct stat st;
	bool fsmagic_known;
	uint32_t fsmagic;
	char fstype[128];     /* mountinfo type of the backing filesystem, "fuse.sshfs" */
	char fsname[128];     /* before the first '.' */
	char fs_subtype[128]; /* after it, "" if none */
	bool fstype_known;
	bool fsuuid_known;
	uint8_t fsuuid[16];
	bool selinux_known;
	char selinux[256];	       /* security.selinux of the backing file */
	struct inspect_xattr ima;      /* security.ima */
	struct inspect_xattr user_ima; /* user.ima */
};

/*
 * Gather the facts about PATH. Returns 0, or a negative errno with a message in ERRBUF when
 * the file itself cannot be found. Facts that are merely unavailable are marked unknown.
 */
int inspect_file(const char *path, struct inspect_file *ret, char *errbuf, size_t errsize);

struct inspect_subject {
	pid_t pid; /* 0 when the ids came from the command line */
	uid_t uid, euid, suid;
	gid_t gid, egid, sgid;
	bool cap_setuid, cap_setgid;
	bool label_known;
	char label[256]; /* /proc/PID/attr/current */
	bool exe_known;
	char exe[PATH_MAX];
	bool comm_known;
	char comm[64];
	bool cgroup_known;
	char cgroup[PATH_MAX]; /* the cgroup v2 path */
};

/*
 * Read the ids, capabilities, label, executable, command name and cgroup of process PID from
 * /proc. Returns 0, or a negative errno with a message in ERRBUF when /proc/PID/status cannot
 * be read; the other facts are marked unknown when unreadable.
 */
int inspect_subject(pid_t pid, struct inspect_subject *ret, char *errbuf, size_t errsize);

/* Entries of one file in an ascii_runtime_measurements list. */
struct inspect_measurements {
	char list[PATH_MAX]; /* the list file read */
	unsigned int count;  /* entries whose name equals the file's */
	unsigned int pcr;    /* of the last such entry */
	char template[64];
	char digest[200]; /* its file digest field, "sha256:<hex>" */
};

/*
 * Count the entries for NAME in DIR/ascii_runtime_measurements. Returns 0 or the negative
 * errno of opening the list.
 */
int inspect_measurements(const char *dir, const char *name, struct inspect_measurements *ret);

#endif
