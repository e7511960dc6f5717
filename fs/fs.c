/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libfuse low-level handlers of imafs: a passthrough of one source
 * directory in which every open of a regular file first gets a verdict from
 * measure_open(). Files are reached through the O_PATH descriptors of the
 * inode table (fs/inode.c), so the source may be the mount point itself.
 *
 * Invariants:
 *  1. Every handler sends exactly one reply (fuse_reply_none for forget),
 *     and never while holding a lock.
 *  2. An open of a regular file is served only after measure_open() returned
 *     0 with verdict.error == 0. Any other outcome closes the backing
 *     descriptor and replies with an error: no error path allows.
 *  3. Every struct fs_file with measured == true gets exactly one
 *     measure_release(): on release, when the open reply did not arrive, or
 *     in fs_free() for files whose release never came.
 *  4. No side effect happens before a verdict that could deny it. For that
 *     reason atomic O_TRUNC is not negotiated: the kernel truncates with a
 *     separate setattr after a successful open.
 *  5. The daemon runs as root and acts with its own credentials. It checks
 *     no permissions itself, because main.c always mounts with
 *     default_permissions and so the kernel checks them. A new object from
 *     create, mkdir, mknod or symlink gets the caller as owner through
 *     fchownat() before the reply. The setuid and setgid bits of a new
 *     regular file are applied only after that change of owner. A failed
 *     change of owner removes the new object and fails the request. link
 *     makes no new inode and changes no owner.
 *
 * Locking: the inode table has its lock, and FILES_LOCK guards the list of open
 * files. A struct fs_file or fs_dir is
 * used by one request at a time as far as this code relies on it: the
 * kernel serialises readdir on one open directory and sends release after
 * the last request on a file handle.
 *
 * Ownership: struct fs borrows the measure context and the strings of its
 * config and owns the inode table (and through it the source descriptor).
 */
#include "fs/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/log.h"
#include "core/measure.h"
#include "fs/inode.h"

_Static_assert(INODE_ROOT_ID == FUSE_ROOT_ID, "inode.h must agree with libfuse on the root id");
_Static_assert(sizeof(uintptr_t) <= sizeof(uint64_t), "a pointer must fit in fi->fh");

/*
 * Open flags passed on to the backing open. The rest are dropped: O_CREAT,
 * O_EXCL and O_NOCTTY were handled by the kernel or create, O_NOFOLLOW would
 * make the /proc/self/fd reopen fail, and 0x20 is the kernel's FMODE_EXEC.
 * That bit is no open(2) flag (x86 leaves octal 040 unused), and only marks
 * for measure_open() an open done by execve. O_DIRECT
 * becomes fi->direct_io instead (see fs_set_direct_io()).
 */
#define FS_OPEN_FLAGS_PASSED                                                                       \
	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC | O_LARGEFILE | O_NOATIME)

/* Size of a "/proc/self/fd/N" path. */
#define FS_PROC_PATH_MAX 32

/* Size of a quoted path in a log line. log_quote() shortens longer ones with "...". */
#define FS_LOG_PATH_MAX 1024

struct fs {
	struct inode_table *inodes;
	struct measure_ctx *measure;
	const char *source;
	size_t source_len;
	const char *mountpoint;
	double entry_timeout;
	double attr_timeout;
	/*
	 * Open files, so that fs_free() releases those whose release never
	 * arrived (a lazy unmount can end the session first).
	 */
	pthread_mutex_t files_lock;
	struct fs_file *files; /* protected by FILES_LOCK */
};

/* One open regular file; fi->fh points to it. */
struct fs_file {
	struct fs_file *prev, *next; /* in fs->files, under fs->files_lock */
	bool linked;
	int fd;
	bool measured; /* measure_open() allowed it: measure_release() is owed */
	struct measure_open_state state;
};

/* One open directory; fi->fh points to it. */
struct fs_dir {
	DIR *dp;
	off_t offset;         /* telldir() position of ENTRY, or of the next entry to read */
	struct dirent *entry; /* read but not yet sent (it did not fit), or NULL */
};

static struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct inode *fs_inode(fuse_req_t req, fuse_ino_t ino)
{
	return inode_table_get(fs_of(req)->inodes, ino);
}

static struct fs_file *fs_file_of(const struct fuse_file_info *fi)
{
	return (struct fs_file *)(uintptr_t)fi->fh;
}

static struct fs_dir *fs_dir_of(const struct fuse_file_info *fi)
{
	return (struct fs_dir *)(uintptr_t)fi->fh;
}

/* Path through which path-only calls (xattrs, chmod, truncate) reach an O_PATH descriptor. */
static void fs_proc_path(int fd, char buf[FS_PROC_PATH_MAX])
{
	(void)snprintf(buf, FS_PROC_PATH_MAX, "/proc/self/fd/%d", fd);
}

static int fs_stat_fd(int fd, struct stat *st)
{
	if (fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

/*
 * Write into BUF the mount point path of the backing file FD, for log lines.
 * Uses the kernel's name of the descriptor, so a renamed file shows its
 * current name and a deleted one ends in " (deleted)". A path longer than
 * BUF is cut short.
 */
static void fs_describe_fd(const struct fs *fs, int fd, char *buf, size_t size)
{
	char proc[FS_PROC_PATH_MAX];
	char target[PATH_MAX];
	const char *prefix = "";
	const char *rest = target;
	ssize_t n;

	fs_proc_path(fd, proc);
	n = readlink(proc, target, sizeof(target) - 1);
	if (n < 0)
		n = snprintf(target, sizeof(target), "?");
	target[n] = '\0';

	if (strncmp(target, fs->source, fs->source_len) == 0) {
		const char *below = target + fs->source_len;

		if (fs->source_len == 1)
			below--; /* the source is "/": keep the slash that starts BELOW */
		if (*below == '\0') {
			prefix = fs->mountpoint;
			rest = "";
		} else if (*below == '/') {
			prefix = strcmp(fs->mountpoint, "/") == 0 ? "" : fs->mountpoint;
			rest = below;
		}
	}
	if (snprintf(buf, size, "%s%s", prefix, rest) < 0)
		buf[0] = '\0';
}

/* --- lookup and the inode table ------------------------------------------------------------ */

static void fs_fill_entry(const struct fs *fs, const struct inode *inode, const struct stat *st,
			  struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = inode_id(inode);
	e->attr = *st;
	e->attr_timeout = fs->attr_timeout;
	e->entry_timeout = fs->entry_timeout;
}

/*
 * Take a lookup reference on the backing file O_PATH descriptor FD and fill E.
 * Consumes FD. Returns 0 or a negative errno.
 */
static int fs_enter_fd(struct fs *fs, int fd, struct fuse_entry_param *e, struct inode **ret)
{
	struct inode *inode;
	struct stat st;
	int r;

	r = fs_stat_fd(fd, &st);
	if (r < 0) {
		(void)close(fd);
		return r;
	}
	r = inode_table_insert(fs->inodes, fd, &st, &inode);
	if (r < 0)
		return r;

	fs_fill_entry(fs, inode, &st, e);
	if (ret)
		*ret = inode;
	return 0;
}

/* Look NAME up in PARENT and take a lookup reference on it. Returns 0 or a negative errno. */
static int fs_do_lookup(struct fs *fs, struct inode *parent, const char *name,
			struct fuse_entry_param *e, struct inode **ret)
{
	int fd;

	/* The kernel resolves "." and ".." itself; a ".." here could leave the source. */
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;

	fd = openat(inode_fd(parent), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fs_enter_fd(fs, fd, e, ret);
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	int r;

	r = fs_do_lookup(fs_of(req), fs_inode(req, parent), name, &e, NULL);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fuse_reply_entry(req, &e);
}

static void fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	inode_table_forget(fs_of(req)->inodes, fs_inode(req, ino), nlookup);
	fuse_reply_none(req);
}

static void fs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct fs *fs = fs_of(req);
	size_t i;

	for (i = 0; i < count; i++)
		inode_table_forget(fs->inodes, inode_table_get(fs->inodes, forgets[i].ino),
				   forgets[i].nlookup);
	fuse_reply_none(req);
}

/* --- attributes ----------------------------------------------------------------------------- */

static void fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	int r;

	(void)fi;
	r = fs_stat_fd(inode_fd(fs_inode(req, ino)), &st);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fuse_reply_attr(req, &st, fs_of(req)->attr_timeout);
}

static int fs_set_mode(const struct inode *inode, const struct fs_file *file, mode_t mode)
{
	char proc[FS_PROC_PATH_MAX];
	int r;

	if (file) {
		r = fchmod(file->fd, mode);
	} else if (S_ISLNK(inode_type(inode))) {
		return -EOPNOTSUPP; /* Linux has no mode bits on symlinks */
	} else {
		fs_proc_path(inode_fd(inode), proc);
		r = chmod(proc, mode);
	}
	return r < 0 ? -errno : 0;
}

static int fs_set_size(const struct inode *inode, const struct fs_file *file, off_t size)
{
	char proc[FS_PROC_PATH_MAX];
	int r;

	if (file) {
		r = ftruncate(file->fd, size);
	} else {
		fs_proc_path(inode_fd(inode), proc);
		r = truncate(proc, size);
	}
	return r < 0 ? -errno : 0;
}

static int fs_set_times(const struct inode *inode, const struct fs_file *file,
			const struct stat *attr, int to_set)
{
	char proc[FS_PROC_PATH_MAX];
	struct timespec tv[2];
	int r;

	tv[0].tv_sec = 0;
	tv[0].tv_nsec = UTIME_OMIT;
	tv[1] = tv[0];
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		tv[0].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_ATIME)
		tv[0] = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		tv[1].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_MTIME)
		tv[1] = attr->st_mtim;

	if (file) {
		r = futimens(file->fd, tv);
	} else if (S_ISLNK(inode_type(inode))) {
		r = utimensat(inode_fd(inode), "", tv, AT_EMPTY_PATH);
	} else {
		fs_proc_path(inode_fd(inode), proc);
		r = utimensat(AT_FDCWD, proc, tv, 0);
	}
	return r < 0 ? -errno : 0;
}

static int fs_do_setattr(const struct inode *inode, const struct fs_file *file,
			 const struct stat *attr, int to_set)
{
	int r;

	if (to_set & FUSE_SET_ATTR_MODE) {
		r = fs_set_mode(inode, file, attr->st_mode);
		if (r < 0)
			return r;
	}
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid = (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
		gid_t gid = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;

		int flags = AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW;

		if (fchownat(inode_fd(inode), "", uid, gid, flags) < 0)
			return -errno;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		r = fs_set_size(inode, file, attr->st_size);
		if (r < 0)
			return r;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
		      FUSE_SET_ATTR_MTIME_NOW)) {
		r = fs_set_times(inode, file, attr, to_set);
		if (r < 0)
			return r;
	}
	return 0;
}

static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct inode *inode = fs_inode(req, ino);
	/* fi is set only for an open regular file: directories never reach setattr with one. */
	struct fs_file *file = fi ? fs_file_of(fi) : NULL;
	struct stat st;
	int r;

	r = fs_do_setattr(inode, file, attr, to_set);

	/* Tell the measurement cache even after an error: part of the change may be done. */
	if (to_set & FUSE_SET_ATTR_SIZE)
		measure_note_write(fs->measure, file ? file->fd : inode_fd(inode));
	else
		measure_note_attr(fs->measure, file ? file->fd : inode_fd(inode));

	if (r == 0)
		r = fs_stat_fd(inode_fd(inode), &st);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fuse_reply_attr(req, &st, fs->attr_timeout);
}

/* True when the caller of REQ is in group GID. False when its groups cannot be read. */
static bool fs_caller_in_group(fuse_req_t req, gid_t gid)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	bool member = false;
	gid_t *groups;
	int n;
	int i;

	if (ctx->gid == gid)
		return true;
	groups = malloc(NGROUPS_MAX * sizeof(*groups));
	if (!groups)
		return false;
	n = fuse_req_getgroups(req, NGROUPS_MAX, groups);
	for (i = 0; !member && i < n && i < NGROUPS_MAX; i++)
		member = groups[i] == gid;
	free(groups);
	return member;
}

static void fs_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	unsigned int allowed;
	struct stat st;
	int r;

	r = fs_stat_fd(inode_fd(fs_inode(req, ino)), &st);
	if (r < 0 || mask == F_OK) {
		fuse_reply_err(req, -r);
		return;
	}

	/* With default_permissions the kernel checks access(2) itself, so this is a fallback. */
	if (ctx->uid == 0) {
		bool exec_denied = (mask & X_OK) && !S_ISDIR(st.st_mode) &&
				   !(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH));

		fuse_reply_err(req, exec_denied ? EACCES : 0);
		return;
	}
	if (st.st_uid == ctx->uid)
		allowed = (st.st_mode >> 6) & 7u;
	else if (fs_caller_in_group(req, st.st_gid))
		allowed = (st.st_mode >> 3) & 7u;
	else
		allowed = st.st_mode & 7u;
	fuse_reply_err(req, ((unsigned int)mask & ~allowed) ? EACCES : 0);
}

static void fs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[PATH_MAX + 1];
	ssize_t n;

	n = readlinkat(inode_fd(fs_inode(req, ino)), "", buf, sizeof(buf));
	if (n < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	if ((size_t)n >= sizeof(buf)) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	buf[n] = '\0';
	fuse_reply_readlink(req, buf);
}

static void fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	if (fstatvfs(inode_fd(fs_inode(req, ino)), &sv) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	fuse_reply_statfs(req, &sv);
}

/* --- creating and removing names ------------------------------------------------------------- */

/*
 * Hand the object FD (O_PATH or open), just created in the directory with
 * stat PARENT_ST, to the caller of REQ. A setgid parent already gave it the
 * parent's group, which stays. Returns 0 or a negative errno.
 */
static int fs_give_to_caller(fuse_req_t req, int fd, const struct stat *parent_st)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	uid_t uid = ctx->uid == 0 ? (uid_t)-1 : ctx->uid;
	gid_t gid = ctx->gid == 0 || (parent_st->st_mode & S_ISGID) ? (gid_t)-1 : ctx->gid;

	if (uid == (uid_t)-1 && gid == (gid_t)-1)
		return 0;
	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

/*
 * Apply the setuid and setgid bits of MODE to the new regular file FD now
 * that the caller owns it. The setgid bit stays off unless the file's group
 * is the caller's primary group, which is stricter than the kernel (it also
 * accepts supplementary groups).
 */
static int fs_apply_special_bits(fuse_req_t req, int fd, mode_t mode)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	char proc[FS_PROC_PATH_MAX];
	struct stat st;
	int r;

	if (!(mode & (S_ISUID | S_ISGID)))
		return 0;
	r = fs_stat_fd(fd, &st);
	if (r < 0)
		return r;
	if (st.st_gid != ctx->gid && ctx->uid != 0)
		mode &= (mode_t)~S_ISGID;

	fs_proc_path(fd, proc);
	if (chmod(proc, mode & 07777) < 0)
		return -errno;
	return 0;
}

enum fs_make_kind {
	FS_MAKE_NODE,
	FS_MAKE_DIR,
	FS_MAKE_SYMLINK,
};

struct fs_make_request {
	enum fs_make_kind kind;
	mode_t mode;        /* FS_MAKE_NODE and FS_MAKE_DIR */
	dev_t rdev;         /* FS_MAKE_NODE */
	const char *target; /* FS_MAKE_SYMLINK */
};

static int fs_make_name(int parent_fd, const char *name, const struct fs_make_request *make)
{
	int r;

	switch (make->kind) {
	case FS_MAKE_NODE:
		/* setuid and setgid wait until the caller owns the file (fs_apply_special_bits). */
		r = mknodat(parent_fd, name, make->mode & (mode_t) ~(S_ISUID | S_ISGID),
			    make->rdev);
		break;
	case FS_MAKE_DIR:
		r = mkdirat(parent_fd, name, make->mode);
		break;
	case FS_MAKE_SYMLINK:
		r = symlinkat(make->target, parent_fd, name);
		break;
	default:
		return -EINVAL;
	}
	return r < 0 ? -errno : 0;
}

/* Create NAME in PARENT as MAKE describes, give it to the caller, then reply with its entry. */
static void fs_make(fuse_req_t req, fuse_ino_t parent, const char *name,
		    const struct fs_make_request *make)
{
	struct fs *fs = fs_of(req);
	struct inode *dir = fs_inode(req, parent);
	struct fuse_entry_param e;
	struct inode *inode;
	struct stat parent_st;
	int r;

	r = fs_stat_fd(inode_fd(dir), &parent_st);
	if (r < 0)
		goto out_reply;
	r = fs_make_name(inode_fd(dir), name, make);
	if (r < 0)
		goto out_reply;

	/* The kernel holds the parent locked, so no other request can replace NAME meanwhile. */
	r = fs_do_lookup(fs, dir, name, &e, &inode);
	if (r < 0)
		goto out_unlink;
	r = fs_give_to_caller(req, inode_fd(inode), &parent_st);
	if (r == 0 && make->kind == FS_MAKE_NODE && S_ISREG(make->mode))
		r = fs_apply_special_bits(req, inode_fd(inode), make->mode);
	if (r == 0)
		r = fs_stat_fd(inode_fd(inode), &e.attr);
	if (r < 0)
		goto out_forget;

	fuse_reply_entry(req, &e);
	return;

out_forget:
	inode_table_forget(fs->inodes, inode, 1);
out_unlink:
	/* Fail closed: no object stays behind that root owns but the caller asked for. */
	(void)unlinkat(inode_fd(dir), name, make->kind == FS_MAKE_DIR ? AT_REMOVEDIR : 0);
out_reply:
	fuse_reply_err(req, -r);
}

static void fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct fs_make_request make = { .kind = FS_MAKE_NODE, .mode = mode, .rdev = rdev };

	fs_make(req, parent, name, &make);
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fs_make_request make = { .kind = FS_MAKE_DIR, .mode = mode };

	fs_make(req, parent, name, &make);
}

static void fs_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
{
	struct fs_make_request make = { .kind = FS_MAKE_SYMLINK, .target = target };

	fs_make(req, parent, name, &make);
}

static void fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct inode *dir = fs_inode(req, newparent);
	struct fuse_entry_param e;
	int r = 0;

	/* AT_EMPTY_PATH on an O_PATH descriptor needs CAP_DAC_READ_SEARCH, which root has. */
	if (linkat(inode_fd(fs_inode(req, ino)), "", inode_fd(dir), newname, AT_EMPTY_PATH) < 0)
		r = -errno;
	if (r == 0)
		r = fs_do_lookup(fs_of(req), dir, newname, &e, NULL);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fuse_reply_entry(req, &e);
}

static void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (unlinkat(inode_fd(fs_inode(req, parent)), name, 0) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	fuse_reply_err(req, 0);
}

static void fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (unlinkat(inode_fd(fs_inode(req, parent)), name, AT_REMOVEDIR) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	fuse_reply_err(req, 0);
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	/* renameat2() checks FLAGS itself: RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT. */
	if (renameat2(inode_fd(fs_inode(req, parent)), name, inode_fd(fs_inode(req, newparent)),
		      newname, flags) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	fuse_reply_err(req, 0);
}

/* --- opening files: the measurement point ---------------------------------------------------- */

static void fs_file_link(struct fs *fs, struct fs_file *file)
{
	pthread_mutex_lock(&fs->files_lock);
	file->next = fs->files;
	if (fs->files)
		fs->files->prev = file;
	fs->files = file;
	file->linked = true;
	pthread_mutex_unlock(&fs->files_lock);
}

static void fs_file_unlink(struct fs *fs, struct fs_file *file)
{
	pthread_mutex_lock(&fs->files_lock);
	if (file->linked) {
		if (file->prev)
			file->prev->next = file->next;
		else
			fs->files = file->next;
		if (file->next)
			file->next->prev = file->prev;
		file->linked = false;
	}
	pthread_mutex_unlock(&fs->files_lock);
}

static void fs_file_free(struct fs *fs, struct fs_file *file)
{
	if (!file)
		return;
	fs_file_unlink(fs, file);
	if (file->measured) {
		int r = measure_release(fs->measure, file->fd, &file->state);

		if (r < 0)
			log_msg(LOG_ERR, "op=update-xattr result=failed ino=%llu error='%s'",
				(unsigned long long)file->state.ino, strerror(-r));
	}
	(void)close(file->fd);
	free(file);
}

/*
 * Write the audit line of an audit rule, with the fields of the kernel's
 * INTEGRITY_RULE record: file, hash, and the task's pid, uid and exe.
 */
static void fs_log_audit(fuse_req_t req, const char *quoted_path,
			 const struct measure_verdict *verdict)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	char hex[2 * HASH_MAX_DIGEST_SIZE + 1], link[64], exe[PATH_MAX], quoted_exe[FS_LOG_PATH_MAX];
	ssize_t n;

	hash_to_hex(verdict->audit_digest.bytes, verdict->audit_digest.len, hex);
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)ctx->pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	log_quote(exe, quoted_exe, sizeof(quoted_exe));
	log_msg(LOG_NOTICE, "op=audit file=%s hash=%s:%s rule=%u pid=%d uid=%u gid=%u exe=%s",
		quoted_path, hash_algo_name(verdict->audit_digest.algo), hex, verdict->audit_line,
		(int)ctx->pid, (unsigned int)ctx->uid, (unsigned int)ctx->gid, quoted_exe);
}

/*
 * Log the security event of an open of FD: at NOTICE for a denial or an
 * appraisal failure that the mode allowed, at ERR when no verdict could be
 * reached (R < 0). Denials are rate-limited by measure_open() (REPORT).
 */
static void fs_log_verdict(fuse_req_t req, int fd, int r, const struct measure_verdict *verdict)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	char path[PATH_MAX];
	char quoted[FS_LOG_PATH_MAX];
	char suppressed[48] = "";

	if (r >= 0 && !verdict->report && !verdict->violation && !verdict->audit &&
	    !verdict->inexact_line)
		return;
	fs_describe_fd(fs_of(req), fd, path, sizeof(path));
	log_quote(path, quoted, sizeof(quoted));
	if (r >= 0 && verdict->inexact_line)
		log_msg(LOG_NOTICE, "op=policy result=inexact rule=%u condition=%s path=%s pid=%d "
				    "reason=condition-not-evaluable",
			verdict->inexact_line, verdict->inexact_keyword, quoted, (int)ctx->pid);
	if (r >= 0 && verdict->audit)
		fs_log_audit(req, quoted, verdict);
	if (r >= 0 && verdict->violation)
		log_msg(LOG_NOTICE, "op=violation cause=%s path=%s pid=%d uid=%u",
			verdict->violation, quoted, (int)ctx->pid, (unsigned int)ctx->uid);
	if (r >= 0 && !verdict->report)
		return;
	if (r < 0) {
		log_msg(LOG_ERR,
			"op=open result=denied reason=measure-failed path=%s pid=%d uid=%u "
			"error='%s'",
			quoted, (int)ctx->pid, (unsigned int)ctx->uid, strerror(-r));
		return;
	}
	if (verdict->suppressed)
		snprintf(suppressed, sizeof(suppressed), " suppressed=%u", verdict->suppressed);
	log_msg(LOG_NOTICE, "op=%s result=%s reason=%s path=%s pid=%d uid=%u%s",
		verdict->op ? verdict->op : "open",
		verdict->error ? "denied" : (verdict->fixed ? "fixed" : "allowed"),
		verdict->reason ? verdict->reason : "denied", quoted, (int)ctx->pid,
		(unsigned int)ctx->uid, suppressed);
}

/*
 * Ask measure_open() about the backing descriptor FD of a regular file and,
 * when allowed, wrap FD into a new struct fs_file. Consumes FD in every case.
 * Returns 0 with fi->fh and fi->keep_cache set, or the negative errno to reply.
 */
static int fs_attach_file(fuse_req_t req, int fd, bool regular, bool created,
			  struct fuse_file_info *fi)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fs *fs = fs_of(req);
	struct measure_subject subject = { .uid = ctx->uid, .gid = ctx->gid, .pid = ctx->pid };
	struct measure_verdict verdict = { 0 };
	struct fs_file *file;
	int r;

	file = calloc(1, sizeof(*file));
	if (!file) {
		(void)close(fd);
		return -ENOMEM;
	}
	file->fd = fd;

	if (regular) {
		if (created)
			r = measure_create(fs->measure, fd, fi->flags, &subject, &verdict,
					   &file->state);
		else
			r = measure_open(fs->measure, fd, fi->flags, &subject, &verdict,
					 &file->state);
		fs_log_verdict(req, fd, r, &verdict);
		if (r < 0 || verdict.error != 0) {
			fs_file_free(fs, file);
			if (r >= 0)
				r = verdict.error;
			/* A verdict error that is not a negative errno still denies. */
			return r < 0 ? r : -EACCES;
		}
		file->measured = true;
		fi->keep_cache = verdict.keep_cache;
		/* A reader has nothing to flush on close: save the FLUSH round trip. */
		if ((fi->flags & O_ACCMODE) == O_RDONLY)
			fi->noflush = 1;
	}
	fs_file_link(fs, file);
	fi->fh = (uint64_t)(uintptr_t)file;
	return 0;
}

/*
 * Serve an O_DIRECT open without the kernel's page cache. The backing file is
 * opened without O_DIRECT: the data libfuse hands over is not aligned as
 * O_DIRECT requires, so writes would fail with EINVAL.
 */
static void fs_set_direct_io(struct fuse_file_info *fi)
{
	if (fi->flags & O_DIRECT)
		fi->direct_io = 1;
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct inode *inode = fs_inode(req, ino);
	char proc[FS_PROC_PATH_MAX];
	int fd;
	int r;

	log_debug("fs: open ino=%llu flags=0x%x%s", (unsigned long long)ino,
		  (unsigned int)fi->flags, (fi->flags & MEASURE_FMODE_EXEC) ? " (exec)" : "");

	fs_proc_path(inode_fd(inode), proc);
	fd = open(proc, (fi->flags & FS_OPEN_FLAGS_PASSED) | O_CLOEXEC);
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}

	r = fs_attach_file(req, fd, S_ISREG(inode_type(inode)), false, fi);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fs_set_direct_io(fi);
	if (fuse_reply_open(req, fi) == -ENOENT) {
		/* The open was interrupted: no release will come for this handle. */
		fs_file_free(fs_of(req), fs_file_of(fi));
	}
}

/*
 * Open NAME in DIR_FD for create when it turned out to exist already (another
 * process made it after the kernel's lookup). Refuses anything but a regular
 * file, and leaves O_TRUNC to the caller so that it follows the verdict.
 * Returns the descriptor or a negative errno.
 */
static int fs_open_existing(int dir_fd, const char *name, int flags)
{
	struct stat st;
	int fd;

	/* O_NONBLOCK so that a FIFO that appeared under NAME cannot block this thread. */
	fd = openat(dir_fd, name,
		    (flags & FS_OPEN_FLAGS_PASSED) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		return -EEXIST;
	}
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags & (O_APPEND | O_NOATIME)) < 0) {
		int err = -errno;

		(void)close(fd);
		return err;
	}
	return fd;
}

/*
 * Create NAME in DIR for create(), setting *RET_CREATED when this call made
 * the file. Returns the open descriptor or a negative errno.
 */
static int fs_create_file(fuse_req_t req, struct inode *dir, const char *name, mode_t mode,
			  int flags, bool *ret_created)
{
	struct stat parent_st;
	int fd;
	int r;

	r = fs_stat_fd(inode_fd(dir), &parent_st);
	if (r < 0)
		return r;

	/* setuid and setgid wait until the caller owns the file (fs_apply_special_bits). */
	fd = openat(inode_fd(dir), name,
		    (flags & FS_OPEN_FLAGS_PASSED) | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    mode & (mode_t) ~(S_ISUID | S_ISGID));
	if (fd < 0 && errno == EEXIST && !(flags & O_EXCL)) {
		*ret_created = false;
		return fs_open_existing(inode_fd(dir), name, flags);
	}
	if (fd < 0)
		return -errno;

	r = fs_give_to_caller(req, fd, &parent_st);
	if (r == 0)
		r = fs_apply_special_bits(req, fd, mode);
	if (r < 0) {
		(void)close(fd);
		(void)unlinkat(inode_fd(dir), name, 0);
		return r;
	}
	*ret_created = true;
	return fd;
}

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct inode *dir = fs_inode(req, parent);
	char proc[FS_PROC_PATH_MAX];
	struct fuse_entry_param e;
	struct inode *inode;
	bool created = false;
	int path_fd;
	int fd;
	int r;

	log_debug("fs: create parent=%llu flags=0x%x mode=0%o", (unsigned long long)parent,
		  (unsigned int)fi->flags, (unsigned int)mode);

	fd = fs_create_file(req, dir, name, mode, fi->flags, &created);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}

	/* Reopen through /proc, not by NAME, which another process may have renamed by now. */
	fs_proc_path(fd, proc);
	path_fd = open(proc, O_PATH | O_CLOEXEC);
	if (path_fd < 0) {
		r = -errno;
		(void)close(fd);
		goto out_reply;
	}
	r = fs_enter_fd(fs, path_fd, &e, &inode);
	if (r < 0) {
		(void)close(fd);
		goto out_reply;
	}

	/* A denied open leaves the new empty file, as the kernel does when IMA denies one. */
	r = fs_attach_file(req, fd, true, created, fi);
	if (r < 0)
		goto out_forget;

	/* An existing file opened with O_TRUNC is truncated only after an allowing verdict. */
	if (!created && (fi->flags & O_TRUNC)) {
		r = ftruncate(fs_file_of(fi)->fd, 0) < 0 ? -errno : 0;
		measure_note_write(fs->measure, fs_file_of(fi)->fd);
		if (r == 0)
			r = fs_stat_fd(fs_file_of(fi)->fd, &e.attr);
		if (r < 0) {
			fs_file_free(fs, fs_file_of(fi));
			goto out_forget;
		}
	}

	fs_set_direct_io(fi);
	if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		/* Interrupted: the kernel neither keeps the handle nor counts the lookup. */
		fs_file_free(fs, fs_file_of(fi));
		inode_table_forget(fs->inodes, inode, 1);
	}
	return;

out_forget:
	inode_table_forget(fs->inodes, inode, 1);
out_reply:
	fuse_reply_err(req, -r);
}

static void fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	fs_file_free(fs_of(req), fs_file_of(fi));
	fuse_reply_err(req, 0);
}

/* --- data ------------------------------------------------------------------------------------ */

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);

	(void)ino;
	/* libfuse splices from the descriptor when it can; fuse_reply_data replies on error too. */
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = fs_file_of(fi)->fd;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

static void fs_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in, off_t off,
			 struct fuse_file_info *fi)
{
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
	ssize_t n;

	(void)ino;
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = fs_file_of(fi)->fd;
	out.buf[0].pos = off;
	n = fuse_buf_copy(&out, in, 0);
	if (n < 0) {
		fuse_reply_err(req, (int)-n);
		return;
	}
	if (n > 0)
		measure_note_write(fs_of(req)->measure, out.buf[0].fd);
	fuse_reply_write(req, (size_t)n);
}

static void fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int fd;

	(void)ino;
	/* Closing a duplicate runs the backing file system's close-time work (NFS writes back). */
	fd = fcntl(fs_file_of(fi)->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	fuse_reply_err(req, close(fd) < 0 ? errno : 0);
}

static void fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	int fd = fs_file_of(fi)->fd;
	int r;

	(void)ino;
	r = datasync ? fdatasync(fd) : fsync(fd);
	fuse_reply_err(req, r < 0 ? errno : 0);
}

static void fs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
			 struct fuse_file_info *fi)
{
	(void)ino;
	if (fallocate(fs_file_of(fi)->fd, mode, offset, length) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	measure_note_write(fs_of(req)->measure, fs_file_of(fi)->fd);
	fuse_reply_err(req, 0);
}

static void fs_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			       struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			       struct fuse_file_info *fi_out, size_t len, int flags)
{
	ssize_t n;

	(void)ino_in;
	(void)ino_out;
	n = copy_file_range(fs_file_of(fi_in)->fd, &off_in, fs_file_of(fi_out)->fd, &off_out, len,
			    (unsigned int)flags);
	if (n < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	if (n > 0)
		measure_note_write(fs_of(req)->measure, fs_file_of(fi_out)->fd);
	fuse_reply_write(req, (size_t)n);
}

static void fs_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	off_t pos;

	(void)ino;
	/* Moving the backing offset is harmless: reads and writes pass explicit offsets. */
	pos = lseek(fs_file_of(fi)->fd, off, whence);
	if (pos < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	fuse_reply_lseek(req, pos);
}

/* --- directories ----------------------------------------------------------------------------- */

static void fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_dir *d;
	int fd;
	int err;

	d = calloc(1, sizeof(*d));
	if (!d) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fd = openat(inode_fd(fs_inode(req, ino)), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		goto out_free_dir;
	}
	d->dp = fdopendir(fd);
	if (!d->dp) {
		err = errno;
		(void)close(fd);
		goto out_free_dir;
	}

	fi->fh = (uint64_t)(uintptr_t)d;
	/*
	 * Let the kernel cache the listing. It drops the cache when the
	 * directory's mtime changes, which it notices within the attribute
	 * timeout for changes made behind the mount.
	 */
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	if (fuse_reply_open(req, fi) == -ENOENT) {
		(void)closedir(d->dp);
		free(d);
	}
	return;

out_free_dir:
	free(d);
	fuse_reply_err(req, err);
}

static bool fs_is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/*
 * Add the pending entry of D to the reply buffer P of REM bytes. Returns the
 * size used, 0 when the entry does not fit, or a negative errno.
 * For readdirplus (PLUS) the entry gets a lookup reference, as if looked up;
 * an entry that has vanished meanwhile is skipped (size 0 and *SKIPPED).
 */
static ssize_t fs_add_dirent(fuse_req_t req, struct inode *dir, struct fs_dir *d, bool plus,
			     char *p, size_t rem, bool *skipped)
{
	const char *name = d->entry->d_name;
	off_t next = d->entry->d_off;
	struct fuse_entry_param e;
	struct inode *child = NULL;
	size_t size;
	int r;

	*skipped = false;
	if (!plus) {
		struct stat st = { .st_ino = d->entry->d_ino,
				   .st_mode = (mode_t)DTTOIF(d->entry->d_type) };

		size = fuse_add_direntry(req, p, rem, name, &st, next);
		return size > rem ? 0 : (ssize_t)size;
	}

	if (fs_is_dot_or_dotdot(name)) {
		/* For node id 0 the kernel creates no dentry and expects no forget. */
		memset(&e, 0, sizeof(e));
		e.attr.st_ino = d->entry->d_ino;
		e.attr.st_mode = (mode_t)DTTOIF(d->entry->d_type);
	} else {
		r = fs_do_lookup(fs_of(req), dir, name, &e, &child);
		if (r == -ENOENT) {
			*skipped = true;
			return 0;
		}
		if (r < 0)
			return r;
	}
	size = fuse_add_direntry_plus(req, p, rem, name, &e, next);
	if (size > rem) {
		if (child)
			inode_table_forget(fs_of(req)->inodes, child, 1);
		return 0;
	}
	return (ssize_t)size;
}

static void fs_do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			  struct fuse_file_info *fi, bool plus)
{
	struct inode *dir = fs_inode(req, ino);
	struct fs_dir *d = fs_dir_of(fi);
	size_t used = 0;
	char *buf;
	int err = 0;

	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (off != d->offset) {
		seekdir(d->dp, off);
		d->entry = NULL;
		d->offset = off;
	}

	for (;;) {
		bool skipped;
		ssize_t n;

		if (!d->entry) {
			errno = 0;
			d->entry = readdir(d->dp);
			if (!d->entry) {
				err = errno;
				break;
			}
		}
		n = fs_add_dirent(req, dir, d, plus, buf + used, size - used, &skipped);
		if (n < 0) {
			err = (int)-n;
			break;
		}
		if (n == 0 && !skipped)
			break; /* the reply is full; keep the entry for the next call */
		used += (size_t)n;
		d->offset = d->entry->d_off;
		d->entry = NULL;
	}

	/* An error after some entries is reported on the next call, which meets it again. */
	if (err && used == 0)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, used);
	free(buf);
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	fs_do_readdir(req, ino, size, off, fi, false);
}

static void fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	fs_do_readdir(req, ino, size, off, fi, true);
}

static void fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_dir *d = fs_dir_of(fi);

	(void)ino;
	(void)closedir(d->dp);
	free(d);
	fuse_reply_err(req, 0);
}

static void fs_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	int fd = dirfd(fs_dir_of(fi)->dp);
	int r;

	(void)ino;
	r = datasync ? fdatasync(fd) : fsync(fd);
	fuse_reply_err(req, r < 0 ? errno : 0);
}

/* --- extended attributes --------------------------------------------------------------------- */

/*
 * Extended attributes go through /proc/self/fd/N, because the f*xattr calls
 * reject O_PATH descriptors. For a symlink that path reaches the symlink
 * itself, not its target (the walk ends where the /proc link jumps to, as
 * checked on Linux 6.18), so the kernel's own rules for symlinks apply.
 */

static void fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	char proc[FS_PROC_PATH_MAX];
	char *value;
	ssize_t n;

	fs_proc_path(inode_fd(fs_inode(req, ino)), proc);
	if (size == 0) {
		n = getxattr(proc, name, NULL, 0);
		if (n < 0)
			fuse_reply_err(req, errno);
		else
			fuse_reply_xattr(req, (size_t)n);
		return;
	}

	value = malloc(size);
	if (!value) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = getxattr(proc, name, value, size);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, value, (size_t)n);
	free(value);
}

static void fs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char proc[FS_PROC_PATH_MAX];
	char *list;
	ssize_t n;

	fs_proc_path(inode_fd(fs_inode(req, ino)), proc);
	if (size == 0) {
		n = listxattr(proc, NULL, 0);
		if (n < 0)
			fuse_reply_err(req, errno);
		else
			fuse_reply_xattr(req, (size_t)n);
		return;
	}

	list = malloc(size);
	if (!list) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = listxattr(proc, list, size);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, list, (size_t)n);
	free(list);
}

/* Setting or removing the IMA xattr needs CAP_SYS_ADMIN in the caller; log a refusal. */
static int fs_check_ima_xattr_write(fuse_req_t req, fuse_ino_t ino, const char *name,
				    const char *op)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	char path[PATH_MAX], quoted[FS_LOG_PATH_MAX];
	int r;

	r = measure_check_xattr_write(fs_of(req)->measure, name, ctx->pid);
	if (r == 0)
		return 0;
	fs_describe_fd(fs_of(req), inode_fd(fs_inode(req, ino)), path, sizeof(path));
	log_quote(path, quoted, sizeof(quoted));
	log_msg(LOG_NOTICE, "op=%s result=denied reason=missing-cap-sys-admin name=%s path=%s "
		"pid=%d uid=%u", op, name, quoted, (int)ctx->pid, (unsigned int)ctx->uid);
	return r;
}

static void fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	char proc[FS_PROC_PATH_MAX];
	int r;

	r = fs_check_ima_xattr_write(req, ino, name, "setxattr");
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fs_proc_path(inode_fd(fs_inode(req, ino)), proc);
	if (setxattr(proc, name, value, size, flags) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	fuse_reply_err(req, 0);
}

static void fs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	char proc[FS_PROC_PATH_MAX];
	int r;

	r = fs_check_ima_xattr_write(req, ino, name, "removexattr");
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fs_proc_path(inode_fd(fs_inode(req, ino)), proc);
	if (removexattr(proc, name) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	fuse_reply_err(req, 0);
}

/* --- session --------------------------------------------------------------------------------- */

static void fs_init(void *userdata, struct fuse_conn_info *conn)
{
	unsigned int splice = FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE;

	(void)userdata;
	conn->want |= conn->capable & splice;

	/* Truncating inside OPEN would happen before the verdict (invariant 4). */
	conn->want &= ~(unsigned int)FUSE_CAP_ATOMIC_O_TRUNC;
	/*
	 * The daemon writes as root, and a write by root keeps setuid bits that a
	 * write by the caller would clear. Without this capability the kernel
	 * clears them itself with a setattr.
	 */
	conn->want &= ~(unsigned int)FUSE_CAP_HANDLE_KILLPRIV;
	/* Every open must reach fs_open() to be measured. */
	conn->want &= ~(unsigned int)(FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_NO_OPEN_SUPPORT);

	log_debug("fs: FUSE protocol 7.%u, capable 0x%x, want 0x%x", conn->proto_minor,
		  conn->capable, conn->want);
}

static const struct fuse_lowlevel_ops fs_ops = {
	.init = fs_init,
	.lookup = fs_lookup,
	.forget = fs_forget,
	.forget_multi = fs_forget_multi,
	.getattr = fs_getattr,
	.setattr = fs_setattr,
	.readlink = fs_readlink,
	.mknod = fs_mknod,
	.mkdir = fs_mkdir,
	.unlink = fs_unlink,
	.rmdir = fs_rmdir,
	.symlink = fs_symlink,
	.rename = fs_rename,
	.link = fs_link,
	.open = fs_open,
	.read = fs_read,
	.write_buf = fs_write_buf,
	.flush = fs_flush,
	.release = fs_release,
	.fsync = fs_fsync,
	.opendir = fs_opendir,
	.readdir = fs_readdir,
	.readdirplus = fs_readdirplus,
	.releasedir = fs_releasedir,
	.fsyncdir = fs_fsyncdir,
	.statfs = fs_statfs,
	.setxattr = fs_setxattr,
	.getxattr = fs_getxattr,
	.listxattr = fs_listxattr,
	.removexattr = fs_removexattr,
	.access = fs_access,
	.create = fs_create,
	.fallocate = fs_fallocate,
	.copy_file_range = fs_copy_file_range,
	.lseek = fs_lseek,
};

const struct fuse_lowlevel_ops *fs_operations(void)
{
	return &fs_ops;
}

int fs_new(const struct fs_config *config, struct fs **ret)
{
	struct fs *fs;
	int r;

	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	r = inode_table_new(config->source_fd, &fs->inodes);
	if (r < 0) {
		free(fs);
		return r;
	}
	fs->measure = config->measure;
	fs->source = config->source;
	fs->source_len = strlen(config->source);
	fs->mountpoint = config->mountpoint;
	fs->entry_timeout = config->entry_timeout;
	fs->attr_timeout = config->attr_timeout;
	pthread_mutex_init(&fs->files_lock, NULL);

	*ret = fs;
	return 0;
}

struct fs *fs_free(struct fs *fs)
{
	if (!fs)
		return NULL;
	while (fs->files)
		fs_file_free(fs, fs->files);
	pthread_mutex_destroy(&fs->files_lock);
	inode_table_free(fs->inodes);
	free(fs);
	return NULL;
}
