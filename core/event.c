/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gathering the facts of one open for policy evaluation.
 *
 * Sources: the FUSE request (filesystem ids, thread id), a pidfd or
 * /proc/TID (real, effective and saved ids, capabilities, SELinux context,
 * and for the extensions exe, comm and cgroup), fstat/fstatfs and xattrs of
 * the backing file, and /proc/self/mountinfo for the filesystem type.
 *
 * Invariants:
 *  1. A fact that cannot be read is left unknown (NULL string, or the
 *     *_unknown flag), never guessed, so rules testing it do not match.
 *  2. Per-filesystem facts (type name, subtype, UUID) are read once per
 *     st_dev and cached; a filesystem does not change type while mounted.
 *  3. Only the facts that some rule of the active policy tests are read.
 *
 * Locking: FS_LOCK guards the filesystem cache.
 *
 * Ownership: the context owns its cache.
 */
#include "core/event.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Filesystems remembered; a mount serves one source tree, which spans few. */
#define EVENT_FS_CACHE 16

struct event_fs {
	dev_t dev;
	bool valid;
	bool uuid_known;
	char fsname[64];
	char fs_subtype[64];
	uint8_t fsuuid[16];
};

struct event_ctx {
	bool extensions;
	bool selinux; /* the host runs SELinux: subject contexts can be read */
	pthread_mutex_t fs_lock;
	unsigned int fs_next; /* slot replaced on the next miss */
	struct event_fs fs[EVENT_FS_CACHE];
};

int event_ctx_new(bool extensions, struct event_ctx **ret)
{
	struct event_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return -ENOMEM;
	ctx->extensions = extensions;
	ctx->selinux = access("/sys/fs/selinux/enforce", F_OK) == 0;
	pthread_mutex_init(&ctx->fs_lock, NULL);
	*ret = ctx;
	return 0;
}

struct event_ctx *event_ctx_free(struct event_ctx *ctx)
{
	if (!ctx)
		return NULL;
	pthread_mutex_destroy(&ctx->fs_lock);
	free(ctx);
	return NULL;
}

bool event_wants_path(const struct event_ctx *ctx)
{
	return ctx->extensions;
}

/*
 * The pidfd ioctl that returns a task's credentials (Linux 6.13 and later),
 * with the first version of its argument, which later kernels still accept.
 * Declared here because the C library headers of Debian 12 predate it.
 */
struct event_pidfd_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t spare0[1];
};
#define EVENT_PIDFD_GET_INFO _IOWR(0xFF, 11, struct event_pidfd_info)
#define EVENT_PIDFD_INFO_CREDS (1ull << 1)
#define EVENT_PIDFD_THREAD O_EXCL

/* Read the ids of thread PID through a pidfd. Returns 0, or -errno on older kernels. */
static int event_read_ids_pidfd(pid_t pid, struct policy_event *ev)
{
	struct event_pidfd_info info = { .mask = EVENT_PIDFD_INFO_CREDS };
	int fd, r = 0;

	/* FUSE passes a thread id: PIDFD_THREAD (6.9) accepts any thread. */
	fd = (int)syscall(SYS_pidfd_open, pid, EVENT_PIDFD_THREAD);
	if (fd < 0 && errno == EINVAL)
		fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, EVENT_PIDFD_GET_INFO, &info) < 0)
		r = -errno;
	else if (!(info.mask & EVENT_PIDFD_INFO_CREDS))
		r = -EOPNOTSUPP;
	close(fd);
	if (r < 0)
		return r;
	ev->uid = info.ruid;
	ev->euid = info.euid;
	ev->suid = info.suid;
	ev->gid = info.rgid;
	ev->egid = info.egid;
	ev->sgid = info.sgid;
	return 0;
}

/*
 * Read from /proc/PID/status the ids (unless IDS_KNOWN) and whether the task
 * has CAP_SETUID and CAP_SETGID, which make euid= and egid= also match the
 * real and saved ids. Returns 0 or -errno (-ENOENT without the ids).
 */
static int event_read_status(pid_t pid, bool ids_known, struct policy_event *ev)
{
	char path[64], line[256];
	unsigned long capeff = 0;
	bool found = ids_known;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned int real, eff, saved;

		if (!ids_known && sscanf(line, "Uid:\t%u\t%u\t%u", &real, &eff, &saved) == 3) {
			found = true;
			ev->uid = real;
			ev->euid = eff;
			ev->suid = saved;
		} else if (!ids_known &&
			   sscanf(line, "Gid:\t%u\t%u\t%u", &real, &eff, &saved) == 3) {
			ev->gid = real;
			ev->egid = eff;
			ev->sgid = saved;
		} else if (sscanf(line, "CapEff:\t%lx", &capeff) == 1) {
			ev->has_cap_setgid = (capeff >> 6) & 1; /* CAP_SETGID is bit 6 */
			ev->has_cap_setuid = (capeff >> 7) & 1; /* CAP_SETUID is bit 7 */
		}
	}
	fclose(f);
	return found ? 0 : -ENOENT;
}

/*
 * Fill the real, effective and saved ids of PID: FUSE passes only the
 * filesystem ids. When the task is gone the ids are marked unknown. The
 * capabilities matter only when a real or saved id differs from the
 * effective one, so the slower /proc read is skipped otherwise.
 */
static void event_read_ids(pid_t pid, struct policy_event *ev)
{
	bool ids_known = event_read_ids_pidfd(pid, ev) == 0;

	if (ids_known && ev->uid == ev->euid && ev->suid == ev->euid && ev->gid == ev->egid &&
	    ev->sgid == ev->egid)
		return;
	if (event_read_status(pid, ids_known, ev) < 0 && !ids_known)
		ev->ids_unknown = true;
}

/*
 * Read the filesystem type of device DEV from /proc/self/mountinfo: the
 * field after " - ", split at '.' into name and subtype ("fuse.sshfs").
 */
static void event_read_fstype(dev_t dev, struct event_fs *fs)
{
	char line[4096];
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned int major_id, minor_id;
		char type[128], *sep, *dot;

		if (sscanf(line, "%*u %*u %u:%u", &major_id, &minor_id) != 2 ||
		    makedev(major_id, minor_id) != dev)
			continue;
		sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%127s", type) != 1)
			continue;
		dot = strchr(type, '.');
		if (dot)
			*dot++ = '\0';
		snprintf(fs->fsname, sizeof(fs->fsname), "%.63s", type);
		snprintf(fs->fs_subtype, sizeof(fs->fs_subtype), "%.63s", dot ? dot : "");
		break;
	}
	fclose(f);
}

/* The superblock UUID IMA compares (FS_IOC_GETFSUUID, Linux 6.5 and later). */
struct event_fsuuid2 {
	uint8_t len;
	uint8_t uuid[16];
};
#define EVENT_FS_IOC_GETFSUUID _IOR(0x15, 0, struct event_fsuuid2)

static void event_read_fsuuid(int fd, struct event_fs *fs)
{
	struct event_fsuuid2 u = { 0 };

	if (ioctl(fd, EVENT_FS_IOC_GETFSUUID, &u) == 0 && u.len <= sizeof(u.uuid)) {
		memset(fs->fsuuid, 0, sizeof(fs->fsuuid));
		memcpy(fs->fsuuid, u.uuid, u.len);
		fs->uuid_known = true;
	}
}

/* Copy the cached facts of FD's filesystem into STRINGS, reading them on a miss. */
static void event_fill_fs(struct event_ctx *ctx, int fd, dev_t dev,
			  struct event_strings *strings, struct policy_event *ev)
{
	struct event_fs found = { 0 };
	bool hit = false;

	pthread_mutex_lock(&ctx->fs_lock);
	for (unsigned int i = 0; i < EVENT_FS_CACHE; i++) {
		if (ctx->fs[i].valid && ctx->fs[i].dev == dev) {
			found = ctx->fs[i];
			hit = true;
			break;
		}
	}
	pthread_mutex_unlock(&ctx->fs_lock);

	if (!hit) {
		found.dev = dev;
		found.valid = true;
		event_read_fstype(dev, &found);
		event_read_fsuuid(fd, &found);
		pthread_mutex_lock(&ctx->fs_lock);
		ctx->fs[ctx->fs_next] = found;
		ctx->fs_next = (ctx->fs_next + 1) % EVENT_FS_CACHE;
		pthread_mutex_unlock(&ctx->fs_lock);
	}

	if (found.fsname[0]) {
		memcpy(strings->fsname, found.fsname, sizeof(strings->fsname));
		memcpy(strings->fs_subtype, found.fs_subtype, sizeof(strings->fs_subtype));
		ev->fsname = strings->fsname;
		ev->fs_subtype = strings->fs_subtype;
	}
	if (found.uuid_known) {
		memcpy(strings->fsuuid, found.fsuuid, sizeof(strings->fsuuid));
		ev->fsuuid = strings->fsuuid;
	}
}

/* Read a small /proc/PID file into BUF without its line end; false when unreadable. */
static bool event_read_proc(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return true;
}

static void event_fill_labels(struct event_ctx *ctx, unsigned int needs, pid_t pid, int fd,
			      struct event_strings *strings, struct policy_event *ev)
{
	ssize_t n = 0;

	if (needs & POLICY_NEEDS_OBJ_LABEL)
		n = fgetxattr(fd, "security.selinux", strings->obj_label,
			      sizeof(strings->obj_label) - 1);
	if (n > 0) {
		strings->obj_label[n] = '\0';
		ev->obj_label = strings->obj_label;
	}
	if ((needs & POLICY_NEEDS_SUBJ_LABEL) && ctx->selinux && pid > 0 &&
	    event_read_proc(pid, "attr/current", strings->subj_label, sizeof(strings->subj_label)))
		ev->subj_label = strings->subj_label;
}

static void event_fill_extensions(pid_t pid, struct event_strings *strings,
				  struct policy_event *ev)
{
	char path[64];
	ssize_t n;

	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, strings->exe, sizeof(strings->exe) - 1);
	if (n > 0) {
		strings->exe[n] = '\0';
		ev->exe = strings->exe;
	}
	if (event_read_proc(pid, "comm", strings->comm, sizeof(strings->comm)))
		ev->comm = strings->comm;
	/* cgroup v2: the single line "0::/path". */
	if (event_read_proc(pid, "cgroup", strings->cgroup, sizeof(strings->cgroup)) &&
	    !strncmp(strings->cgroup, "0::", 3)) {
		memmove(strings->cgroup, strings->cgroup + 3, strlen(strings->cgroup + 3) + 1);
		ev->cgroup = strings->cgroup;
	}
}

void event_fill(struct event_ctx *ctx, unsigned int needs, pid_t pid, uid_t uid, gid_t gid,
		int fd, const struct stat *st, struct event_strings *strings,
		struct policy_event *ret)
{
	struct policy_event ev = {
		.uid = uid,
		.euid = uid,
		.suid = uid,
		.gid = gid,
		.egid = gid,
		.sgid = gid,
		.fowner = st->st_uid,
		.fgroup = st->st_gid,
	};
	struct statfs sfs;

	if (needs & POLICY_NEEDS_SUBJECT_IDS) {
		if (pid > 0)
			event_read_ids(pid, &ev);
		else
			ev.ids_unknown = true;
	}
	if (needs & POLICY_NEEDS_FSMAGIC) {
		if (fstatfs(fd, &sfs) == 0)
			ev.fsmagic = (uint32_t)sfs.f_type;
		else
			ev.fsmagic_unknown = true;
	}
	if (needs & POLICY_NEEDS_FS)
		event_fill_fs(ctx, fd, st->st_dev, strings, &ev);
	if (needs & (POLICY_NEEDS_OBJ_LABEL | POLICY_NEEDS_SUBJ_LABEL))
		event_fill_labels(ctx, needs, pid, fd, strings, &ev);
	if (ctx->extensions)
		event_fill_extensions(pid, strings, &ev);
	*ret = ev;
}
