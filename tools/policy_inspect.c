/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Facts about a file and a process for imafs-policy explain, read the way the daemon reads
 * them: stat, statfs, the mountinfo type, FS_IOC_GETFSUUID and xattrs of the backing file,
 * and /proc/PID files of the process.
 *
 * Invariants:
 * 1. A fact that cannot be read is marked unknown, never replaced by a guess. The one
 *    exception is the filesystem magic of a mount that covers its own source. It comes from a
 *    table, by the type name of the covered mount, and backing_hidden reports the case.
 * 2. An imafs mount has the type "fuse.imafs", and the daemon sets its source to the source
 *    directory. So the name a file gets in the measurement list is the mount point followed by
 *    the file's place in the source tree.
 *
 * Locking: none. Ownership: results are copied into the caller's structs.
 */
#include "tools/policy_inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

/* The uapi <linux/fs.h> of Linux 6.5 and later defines these; older headers lack them. */
struct inspect_fsuuid2 {
	uint8_t len;
	uint8_t uuid[16];
};
#ifndef FS_IOC_GETFSUUID
#define FS_IOC_GETFSUUID _IOR(0x15, 0, struct inspect_fsuuid2)
#endif

#define IMAFS_MOUNT_TYPE "fuse.imafs"

struct mount_entry {
	int id;
	char mountpoint[PATH_MAX];
	char fstype[128];
	char source[PATH_MAX];
};

/* statfs f_type by mountinfo type name, from the uapi header linux/magic.h. */
static const struct {
	const char *type;
	uint32_t magic;
} fs_magics[] = {
	{"ext2", 0xef53},      {"ext3", 0xef53},	 {"ext4", 0xef53},
	{"xfs", 0x58465342},   {"btrfs", 0x9123683e},	 {"f2fs", 0xf2f52010},
	{"erofs", 0xe0f5e1e2}, {"squashfs", 0x73717368}, {"overlay", 0x794c7630},
	{"nfs", 0x6969},       {"nfs4", 0x6969},	 {"cifs", 0xff534d42},
	{"smb3", 0xfe534d42},  {"vfat", 0x4d44},	 {"exfat", 0x2011bab0},
	{"iso9660", 0x9660},   {"tmpfs", 0x01021994},	 {"devtmpfs", 0x01021994},
	{"ramfs", 0x858458f6}, {"proc", 0x9fa0},	 {"sysfs", 0x62656572},
};

/* Undo the octal escapes (\040 for a blank) that mountinfo uses in paths, in place. */
static void unescape_octal(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
			s += 3;
			continue;
		}
		*out++ = *s;
	}
	*out = '\0';
}

/* Parse one mountinfo LINE (modified in place). Returns false for a line of another shape. */
static bool mount_parse(char *line, struct mount_entry *ret)
{
	char *fields[64];
	size_t n = 0, sep;
	char *save = NULL;

	for (char *tok = strtok_r(line, " \n", &save); tok && n < 64;
	     tok = strtok_r(NULL, " \n", &save))
		fields[n++] = tok;
	for (sep = 6; sep < n && strcmp(fields[sep], "-") != 0; sep++)
		;
	if (n < 5 || sep + 2 >= n)
		return false;
	ret->id = atoi(fields[0]);
	snprintf(ret->mountpoint, sizeof(ret->mountpoint), "%s", fields[4]);
	snprintf(ret->fstype, sizeof(ret->fstype), "%s", fields[sep + 1]);
	snprintf(ret->source, sizeof(ret->source), "%s", fields[sep + 2]);
	unescape_octal(ret->mountpoint);
	unescape_octal(ret->source);
	return true;
}

/* Whether PATH is DIR or lies below it. */
static bool path_under(const char *dir, const char *path)
{
	size_t len = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return path[0] == '/';
	return strncmp(dir, path, len) == 0 && (path[len] == '/' || path[len] == '\0');
}

/* The part of PATH below DIR ("" or "/x/y"); PATH must lie under DIR. */
static const char *path_rest(const char *dir, const char *path)
{
	return strcmp(dir, "/") == 0 ? path : path + strlen(dir);
}

/*
 * Find the mount that contains PATH, skipping mount SKIP_ID (-1 for none): the entry with the
 * longest mount point above PATH, the later one when mounts are stacked. With IMAFS_SOURCE
 * set, find instead an imafs mount whose source contains PATH. Returns 0 or -ENOENT.
 */
static int mount_find(const char *path, int skip_id, bool imafs_source, struct mount_entry *ret)
{
	struct mount_entry entry;
	size_t best = 0, linesize = 0;
	char *line = NULL;
	bool found = false;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (getline(&line, &linesize, f) > 0) {
		const char *dir;

		if (!mount_parse(line, &entry) || entry.id == skip_id)
			continue;
		if (imafs_source && strcmp(entry.fstype, IMAFS_MOUNT_TYPE) != 0)
			continue;
		dir = imafs_source ? entry.source : entry.mountpoint;
		if (!path_under(dir, path) || strlen(dir) < best)
			continue;
		best = strlen(dir);
		*ret = entry;
		found = true;
	}
	free(line);
	fclose(f);
	return found ? 0 : -ENOENT;
}

static void read_xattr(const char *path, struct inspect_xattr *x, const char *name)
{
	ssize_t n;

	memset(x, 0, sizeof(*x));
	x->name = name;
	n = getxattr(path, name, x->value, sizeof(x->value));
	if (n >= 0) {
		x->present = true;
		x->len = (size_t)n;
	} else if (errno != ENODATA) {
		x->error = -errno;
	}
}

/* Split a mountinfo type at the first '.', as the kernel's fsname and fs_subtype see it. */
static void file_set_fstype(struct inspect_file *f, const char *fstype)
{
	size_t dot = strcspn(fstype, ".");

	snprintf(f->fstype, sizeof(f->fstype), "%s", fstype);
	snprintf(f->fsname, sizeof(f->fsname), "%.*s", (int)dot, fstype);
	snprintf(f->fs_subtype, sizeof(f->fs_subtype), "%s", fstype[dot] ? fstype + dot + 1 : "");
	f->fstype_known = true;
}

static void file_read_fsuuid(struct inspect_file *f)
{
	struct inspect_fsuuid2 u = {.len = sizeof(u.uuid)};
	char dir[PATH_MAX];
	char *slash;
	int fd;

	/* The file's directory is on the same filesystem and more often readable. */
	snprintf(dir, sizeof(dir), "%s", f->backing);
	slash = strrchr(dir, '/');
	if (S_ISDIR(f->st.st_mode) || !slash)
		slash = NULL;
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	if (ioctl(fd, FS_IOC_GETFSUUID, &u) == 0 && u.len == sizeof(u.uuid)) {
		memcpy(f->fsuuid, u.uuid, sizeof(f->fsuuid));
		f->fsuuid_known = true;
	}
	close(fd);
}

/* Work out where the facts of F->path come from and which name the list records. */
static void file_locate(struct inspect_file *f, struct mount_entry *mount, bool *ret_mounted)
{
	struct stat st;

	*ret_mounted = false;
	snprintf(f->name, sizeof(f->name), "%s", f->path);
	snprintf(f->backing, sizeof(f->backing), "%s", f->path);
	if (mount_find(f->path, -1, false, mount) == 0 &&
	    strcmp(mount->fstype, IMAFS_MOUNT_TYPE) == 0) {
		*ret_mounted = true;
		f->through_mount = true;
		snprintf(f->mountpoint, sizeof(f->mountpoint), "%s", mount->mountpoint);
		if (strcmp(mount->source, mount->mountpoint) == 0) {
			f->backing_hidden = true;
			return;
		}
		if (snprintf(f->backing, sizeof(f->backing), "%s%s", mount->source,
			     path_rest(mount->mountpoint, f->path)) >= (int)sizeof(f->backing) ||
		    stat(f->backing, &st) < 0) {
			snprintf(f->backing, sizeof(f->backing), "%s", f->path);
			f->backing_hidden = true;
		}
		return;
	}
	if (mount_find(f->path, -1, true, mount) == 0) {
		*ret_mounted = true;
		snprintf(f->mountpoint, sizeof(f->mountpoint), "%s", mount->mountpoint);
		if (strcmp(mount->mountpoint, "/") == 0)
			snprintf(f->name, sizeof(f->name), "%s",
				 *path_rest(mount->source, f->path)
					 ? path_rest(mount->source, f->path)
					 : "/");
		else
			snprintf(f->name, sizeof(f->name), "%s%s", mount->mountpoint,
				 path_rest(mount->source, f->path));
	}
}

int inspect_file(const char *path, struct inspect_file *ret, char *errbuf, size_t errsize)
{
	struct mount_entry mount, under;
	struct statfs sfs;
	bool mounted;
	ssize_t n;

	memset(ret, 0, sizeof(*ret));
	if (!realpath(path, ret->path)) {
		int error = errno;

		snprintf(errbuf, errsize, "%s: %s", path, strerror(error));
		return -error;
	}
	file_locate(ret, &mount, &mounted);
	if (stat(ret->backing, &ret->st) < 0) {
		int error = errno;

		snprintf(errbuf, errsize, "%s: %s", ret->backing, strerror(error));
		return -error;
	}

	if (!ret->backing_hidden) {
		if (statfs(ret->backing, &sfs) == 0) {
			ret->fsmagic = (uint32_t)sfs.f_type;
			ret->fsmagic_known = true;
		}
		if (mount_find(ret->backing, -1, false, &under) == 0)
			file_set_fstype(ret, under.fstype);
		file_read_fsuuid(ret);
	} else if (mounted && mount_find(ret->path, mount.id, false, &under) == 0) {
		/* The covered mount contains the source, so its magic comes from the type name. */
		file_set_fstype(ret, under.fstype);
		for (size_t i = 0; i < sizeof(fs_magics) / sizeof(fs_magics[0]); i++) {
			if (strcmp(fs_magics[i].type, under.fstype) == 0) {
				ret->fsmagic = fs_magics[i].magic;
				ret->fsmagic_known = true;
			}
		}
	}

	read_xattr(ret->backing, &ret->ima, "security.ima");
	read_xattr(ret->backing, &ret->user_ima, "user.ima");
	n = getxattr(ret->backing, "security.selinux", ret->selinux, sizeof(ret->selinux) - 1);
	if (n > 0) {
		ret->selinux[n] = '\0';
		ret->selinux_known = true;
	}
	return 0;
}

/* Read a small /proc file into BUF without its final newline. Returns its length or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
		n--;
	buf[n] = '\0';
	return n;
}

static int subject_read_status(pid_t pid, struct inspect_subject *s, char *errbuf, size_t errsize)
{
	char path[64], line[256];
	bool have_uid = false, have_gid = false;
	unsigned long long capeff = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f) {
		int error = errno;

		snprintf(errbuf, errsize, "%s: %s", path, strerror(error));
		return -error;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned int real, eff, saved;

		if (sscanf(line, "Uid:\t%u\t%u\t%u", &real, &eff, &saved) == 3) {
			s->uid = real;
			s->euid = eff;
			s->suid = saved;
			have_uid = true;
		} else if (sscanf(line, "Gid:\t%u\t%u\t%u", &real, &eff, &saved) == 3) {
			s->gid = real;
			s->egid = eff;
			s->sgid = saved;
			have_gid = true;
		} else if (sscanf(line, "CapEff:\t%llx", &capeff) == 1) {
			s->cap_setgid = (capeff >> 6) & 1; /* CAP_SETGID */
			s->cap_setuid = (capeff >> 7) & 1; /* CAP_SETUID */
		}
	}
	fclose(f);
	if (!have_uid || !have_gid) {
		snprintf(errbuf, errsize, "%s: no Uid: or Gid: line", path);
		return -EINVAL;
	}
	return 0;
}

int inspect_subject(pid_t pid, struct inspect_subject *ret, char *errbuf, size_t errsize)
{
	char path[64], buf[PATH_MAX];
	ssize_t n;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->pid = pid;
	r = subject_read_status(pid, ret, errbuf, errsize);
	if (r < 0)
		return r;

	snprintf(path, sizeof(path), "/proc/%d/attr/current", (int)pid);
	n = read_small(path, ret->label, sizeof(ret->label));
	ret->label_known = n > 0 && strcmp(ret->label, "unconfined") != 0;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, ret->exe, sizeof(ret->exe) - 1);
	if (n > 0) {
		ret->exe[n] = '\0';
		ret->exe_known = true;
	}

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	ret->comm_known = read_small(path, ret->comm, sizeof(ret->comm)) >= 0;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (read_small(path, buf, sizeof(buf)) > 0) {
		/* The cgroup v2 entry is the line "0::PATH". */
		for (char *line = buf; line && *line;) {
			char *end = strchr(line, '\n');

			if (end)
				*end = '\0';
			if (strncmp(line, "0::", 3) == 0) {
				snprintf(ret->cgroup, sizeof(ret->cgroup), "%s", line + 3);
				ret->cgroup_known = true;
			}
			line = end ? end + 1 : NULL;
		}
	}
	return 0;
}

int inspect_measurements(const char *dir, const char *name, struct inspect_measurements *ret)
{
	size_t linesize = 0, namelen = strlen(name);
	char *line = NULL;
	FILE *f;

	memset(ret, 0, sizeof(*ret));
	snprintf(ret->list, sizeof(ret->list), "%s/ascii_runtime_measurements", dir);
	f = fopen(ret->list, "re");
	if (!f)
		return -errno;
	while (getline(&line, &linesize, f) > 0) {
		char tmpl[64], digest[200];
		unsigned int pcr;
		int rest = 0;

		line[strcspn(line, "\n")] = '\0';
		/* PCR, template digest, template name, file digest, then the name and extra fields.
		 */
		if (sscanf(line, "%u %*s %63s %199s %n", &pcr, tmpl, digest, &rest) != 3 || !rest)
			continue;
		if (strncmp(line + rest, name, namelen) != 0 ||
		    (line[rest + (int)namelen] != '\0' && line[rest + (int)namelen] != ' '))
			continue;
		ret->count++;
		ret->pcr = pcr;
		snprintf(ret->template, sizeof(ret->template), "%s", tmpl);
		snprintf(ret->digest, sizeof(ret->digest), "%s", digest);
	}
	free(line);
	fclose(f);
	return 0;
}
