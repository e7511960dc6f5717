/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The benchmark driver: runs one workload against one directory in a tight
 * loop of system calls and prints one result line. A shell loop would
 * measure fork and exec; this program issues only the calls being measured
 * between its two clock reads.
 *
 * Output: "RESULT <workload> <value> <unit>", where unit is us/op, ms or
 * MB/s (1 MB = 10^6 bytes), followed by optional key=value details. Errors go
 * to stderr with exit status 1, so the caller never records a timing of a
 * run that failed.
 *
 * Invariants:
 *  1. Every timed loop checks each call: a short read or a failed open ends
 *     the run with an error, never with a fast number.
 *  2. Preparation (warm-up passes, mtime bumps, cache drops, mkdir) happens
 *     before the first clock read.
 *  3. A workload given a BACKING path only reads, fadvises or touches the
 *     times of that file; it never writes its data.
 *
 * Threads: the two threaded workloads start their workers at a barrier and
 * join them before the second clock read. Workers share only read-only
 * arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DRIVER_SMALL_SIZE 4096u
#define DRIVER_BIG_BUF (1u << 20)
#define DRIVER_MAX_THREADS 64u
#define DRIVER_EXEC_WARMUP 5u

/* Name of small file I of a set: the same in every directory the script uses. */
#define DRIVER_NAME_FMT "%s/f%06u"

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("driver: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned int parse_count(const char *arg, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || *end || end == arg || v == 0 || v > UINT_MAX)
		die("invalid %s '%s': give a positive integer", what, arg);
	return (unsigned int)v;
}

static void small_name(char *buf, size_t size, const char *dir, unsigned int i)
{
	if (snprintf(buf, size, DRIVER_NAME_FMT, dir, i) >= (int)size)
		die("path too long under '%s'", dir);
}

static void write_all(int fd, const void *buf, size_t len, const char *path)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write '%s': %s", path, n < 0 ? strerror(errno) : "wrote nothing");
		p += n;
		len -= (size_t)n;
	}
}

/* Read FD to its end with BUF; returns the number of bytes read. */
static uint64_t read_to_end(int fd, char *buf, size_t size, const char *path)
{
	uint64_t total = 0;

	for (;;) {
		ssize_t n = read(fd, buf, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read '%s': %s", path, strerror(errno));
		if (n == 0)
			return total;
		total += (uint64_t)n;
	}
}

static uint64_t read_file(const char *path, char *buf, size_t size)
{
	uint64_t total;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open '%s': %s", path, strerror(errno));
	total = read_to_end(fd, buf, size, path);
	close(fd);
	return total;
}

static char *big_buffer(void)
{
	void *buf;

	if (posix_memalign(&buf, 4096, DRIVER_BIG_BUF) != 0)
		die("out of memory for a %u byte buffer", DRIVER_BIG_BUF);
	return buf;
}

/* Give PATH a new mtime (and so a new ctime), which makes it a new version to measure. */
static void bump_mtime(const char *path)
{
	struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_NOW } };

	if (utimensat(AT_FDCWD, path, times, 0) < 0)
		die("utimensat '%s': %s", path, strerror(errno));
}

static void drop_caches(const char *backing)
{
	int fd;

	sync();
	if (backing) {
		fd = open(backing, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die("open '%s': %s", backing, strerror(errno));
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		close(fd);
	}
	/* Without root only the fadvise above applies, and the result line reports dropped=no. */
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	write_all(fd, "3", 1, "/proc/sys/vm/drop_caches");
	close(fd);
}

/* The dropped= field of a result: "-" for a warm run, else whether drop_caches was writable. */
static const char *dropped_field(bool cold)
{
	if (!cold)
		return "-";
	return access("/proc/sys/vm/drop_caches", W_OK) == 0 ? "yes" : "no";
}

/* --- small files ------------------------------------------------------------------------------ */

struct small_job {
	const char *dir;
	unsigned int first;
	unsigned int end;
	bool stat_only;
	pthread_barrier_t *start;
};

static void small_open_read(const char *dir, unsigned int i)
{
	char path[PATH_MAX];
	char buf[DRIVER_SMALL_SIZE];
	ssize_t n;
	int fd;

	small_name(path, sizeof(path), dir, i);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open '%s': %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf));
	if (n != (ssize_t)sizeof(buf))
		die("read '%s': %s", path, n < 0 ? strerror(errno) : "short read");
	close(fd);
}

static void small_stat(const char *dir, unsigned int i)
{
	char path[PATH_MAX];
	struct stat st;

	small_name(path, sizeof(path), dir, i);
	if (stat(path, &st) < 0)
		die("stat '%s': %s", path, strerror(errno));
	if (st.st_size != DRIVER_SMALL_SIZE)
		die("stat '%s': size %lld, expected %u", path, (long long)st.st_size,
		    DRIVER_SMALL_SIZE);
}

static void *small_worker(void *arg)
{
	const struct small_job *job = arg;

	if (job->start)
		pthread_barrier_wait(job->start);
	for (unsigned int i = job->first; i < job->end; i++) {
		if (job->stat_only)
			small_stat(job->dir, i);
		else
			small_open_read(job->dir, i);
	}
	return NULL;
}

/* One pass over files 0..COUNT-1 of DIR split over THREADS threads; returns seconds. */
static double small_pass(const char *dir, unsigned int count, unsigned int threads, bool stat_only)
{
	struct small_job jobs[DRIVER_MAX_THREADS];
	pthread_t tids[DRIVER_MAX_THREADS];
	pthread_barrier_t start;
	double t0;

	if (threads == 1) {
		struct small_job job = { dir, 0, count, stat_only, NULL };

		t0 = now_sec();
		small_worker(&job);
		return now_sec() - t0;
	}

	pthread_barrier_init(&start, NULL, threads + 1);
	for (unsigned int k = 0; k < threads; k++) {
		jobs[k] = (struct small_job){ dir, (unsigned int)((uint64_t)count * k / threads),
					      (unsigned int)((uint64_t)count * (k + 1) / threads),
					      stat_only, &start };
		if (pthread_create(&tids[k], NULL, small_worker, &jobs[k]) != 0)
			die("cannot start thread %u", k);
	}
	pthread_barrier_wait(&start);
	t0 = now_sec();
	for (unsigned int k = 0; k < threads; k++)
		pthread_join(tids[k], NULL);
	t0 = now_sec() - t0;
	pthread_barrier_destroy(&start);
	return t0;
}

/* read-small DIR COUNT THREADS warm|cold: open+read 4 KiB+close of every file. */
static void cmd_read_small(char **argv)
{
	const char *dir = argv[0];
	unsigned int count = parse_count(argv[1], "file count");
	unsigned int threads = parse_count(argv[2], "thread count");
	bool cold = strcmp(argv[3], "cold") == 0;
	double secs;

	if (threads > DRIVER_MAX_THREADS)
		die("invalid thread count %u: the maximum is %u", threads, DRIVER_MAX_THREADS);
	if (cold)
		drop_caches(NULL);
	else
		(void)small_pass(dir, count, threads, false);
	secs = small_pass(dir, count, threads, false);
	printf("RESULT read-small-%s-%ut %.3f us/op dropped=%s\n", cold ? "cold" : "warm",
	       threads, secs * 1e6 / count, dropped_field(cold));
}

/* stat-small DIR COUNT: stat of every file right after a read pass over them. */
static void cmd_stat_small(char **argv)
{
	const char *dir = argv[0];
	unsigned int count = parse_count(argv[1], "file count");
	double secs;

	(void)small_pass(dir, count, 1, false);
	secs = small_pass(dir, count, 1, true);
	printf("RESULT stat-small %.3f us/op\n", secs * 1e6 / count);
}

/* create-small DIR COUNT: create, write 4 KiB and close COUNT new files in the new DIR. */
static void cmd_create_small(char **argv)
{
	const char *dir = argv[0];
	unsigned int count = parse_count(argv[1], "file count");
	char buf[DRIVER_SMALL_SIZE];
	char path[PATH_MAX];
	double t0;

	memset(buf, 'c', sizeof(buf));
	if (mkdir(dir, 0755) < 0)
		die("mkdir '%s': %s", dir, strerror(errno));

	t0 = now_sec();
	for (unsigned int i = 0; i < count; i++) {
		int fd;

		small_name(path, sizeof(path), dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			die("create '%s': %s", path, strerror(errno));
		write_all(fd, buf, sizeof(buf), path);
		if (close(fd) < 0)
			die("close '%s': %s", path, strerror(errno));
	}
	t0 = now_sec() - t0;
	printf("RESULT create-small %.3f us/op\n", t0 * 1e6 / count);
}

/* setup-small DIR COUNT: make COUNT files of 4 KiB in DIR, each with its own content. */
static void cmd_setup_small(char **argv)
{
	const char *dir = argv[0];
	unsigned int count = parse_count(argv[1], "file count");
	char buf[DRIVER_SMALL_SIZE];
	char path[PATH_MAX];

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		die("mkdir '%s': %s", dir, strerror(errno));
	for (unsigned int i = 0; i < count; i++) {
		struct stat st;
		int fd;

		small_name(path, sizeof(path), dir, i);
		if (stat(path, &st) == 0 && st.st_size == DRIVER_SMALL_SIZE)
			continue;
		memset(buf, 's', sizeof(buf));
		snprintf(buf, sizeof(buf), "file %u of %s\n", i, dir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			die("create '%s': %s", path, strerror(errno));
		write_all(fd, buf, sizeof(buf), path);
		close(fd);
	}
}

/* open-new DIR COUNT: open and close COUNT files never opened before (one measurement each). */
static void cmd_open_new(char **argv)
{
	const char *dir = argv[0];
	unsigned int count = parse_count(argv[1], "file count");
	char path[PATH_MAX];
	double t0;

	t0 = now_sec();
	for (unsigned int i = 0; i < count; i++) {
		int fd;

		small_name(path, sizeof(path), dir, i);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die("open '%s': %s", path, strerror(errno));
		close(fd);
	}
	t0 = now_sec() - t0;
	printf("RESULT open-new %.3f us/op per_second=%.0f\n", t0 * 1e6 / count, count / t0);
}

/* --- directories ------------------------------------------------------------------------------ */

static unsigned long list_dir(const char *dir, char *buf)
{
	unsigned long entries = 0;
	int fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die("open '%s': %s", dir, strerror(errno));
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, DRIVER_BIG_BUF);

		if (n < 0)
			die("getdents64 '%s': %s", dir, strerror(errno));
		if (n == 0)
			break;
		for (long off = 0; off < n;) {
			/* struct linux_dirent64: d_reclen is the u16 at byte 16. */
			unsigned short reclen;

			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			off += reclen;
			entries++;
		}
	}
	close(fd);
	return entries;
}

/* readdir DIR REPEAT: list DIR REPEAT times after one untimed listing. */
static void cmd_readdir(char **argv)
{
	const char *dir = argv[0];
	unsigned int repeat = parse_count(argv[1], "repeat count");
	char *buf = big_buffer();
	unsigned long entries;
	double t0;

	entries = list_dir(dir, buf);
	t0 = now_sec();
	for (unsigned int i = 0; i < repeat; i++) {
		if (list_dir(dir, buf) != entries)
			die("listing '%s' changed between passes", dir);
	}
	t0 = now_sec() - t0;
	printf("RESULT readdir %.3f ms entries=%lu\n", t0 * 1e3 / repeat, entries);
	free(buf);
}

/* --- large files ------------------------------------------------------------------------------ */

/* setup-large FILE MB: make FILE exactly MB MiB of non-repeating data. */
static void cmd_setup_large(char **argv)
{
	const char *path = argv[0];
	unsigned int mb = parse_count(argv[1], "size in MiB");
	uint64_t x = 0x9e3779b97f4a7c15u;
	char *buf = big_buffer();
	struct stat st;
	int fd;

	if (stat(path, &st) == 0 && st.st_size == (off_t)mb << 20)
		goto out_free;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("create '%s': %s", path, strerror(errno));
	for (unsigned int i = 0; i < mb; i++) {
		for (size_t j = 0; j < DRIVER_BIG_BUF; j += sizeof(x)) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(buf + j, &x, sizeof(x));
		}
		write_all(fd, buf, DRIVER_BIG_BUF, path);
	}
	if (fsync(fd) < 0 || close(fd) < 0)
		die("close '%s': %s", path, strerror(errno));
out_free:
	free(buf);
}

static double mb_per_s(uint64_t bytes, double secs)
{
	return (double)bytes / 1e6 / secs;
}

/* first-open FILE BACKING: time the first open of a new version of FILE (data in page cache). */
static void cmd_first_open(char **argv)
{
	const char *file = argv[0];
	const char *backing = argv[1];
	char *buf = big_buffer();
	uint64_t size;
	double t0;
	int fd;

	size = read_file(backing, buf, DRIVER_BIG_BUF);
	bump_mtime(backing);

	t0 = now_sec();
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open '%s': %s", file, strerror(errno));
	close(fd);
	t0 = now_sec() - t0;
	printf("RESULT first-open %.3f ms MBps=%.1f\n", t0 * 1e3, mb_per_s(size, t0));
	free(buf);
}

/* command FILE PROGRAM ARGS...: time PROGRAM (stdout discarded) after warming FILE. */
static void cmd_command(char **argv)
{
	const char *file = argv[0];
	char *buf = big_buffer();
	uint64_t size;
	double t0;
	pid_t pid;
	int status;

	size = read_file(file, buf, DRIVER_BIG_BUF);
	t0 = now_sec();
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execvp(argv[1], &argv[1]);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("'%s' failed", argv[1]);
	t0 = now_sec() - t0;
	printf("RESULT command %.3f ms MBps=%.1f\n", t0 * 1e3, mb_per_s(size, t0));
	free(buf);
}

/* seq-read FILE BACKING warm|cold: read FILE to its end with 1 MiB reads. */
static void cmd_seq_read(char **argv)
{
	const char *file = argv[0];
	const char *backing = argv[1];
	bool cold = strcmp(argv[2], "cold") == 0;
	char *buf = big_buffer();
	uint64_t size;
	double t0;

	if (cold)
		drop_caches(backing);
	else
		(void)read_file(file, buf, DRIVER_BIG_BUF);

	t0 = now_sec();
	size = read_file(file, buf, DRIVER_BIG_BUF);
	t0 = now_sec() - t0;
	printf("RESULT seq-read-%s %.1f MB/s bytes=%llu dropped=%s\n", cold ? "cold" : "warm",
	       mb_per_s(size, t0), (unsigned long long)size, dropped_field(cold));
	free(buf);
}

/* seq-write FILE MB: write a new FILE of MB MiB with 1 MiB writes, then close (no fsync). */
static void cmd_seq_write(char **argv)
{
	const char *path = argv[0];
	unsigned int mb = parse_count(argv[1], "size in MiB");
	char *buf = big_buffer();
	double t0;
	int fd;

	memset(buf, 'w', DRIVER_BIG_BUF);
	t0 = now_sec();
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		die("create '%s': %s", path, strerror(errno));
	for (unsigned int i = 0; i < mb; i++)
		write_all(fd, buf, DRIVER_BIG_BUF, path);
	if (close(fd) < 0)
		die("close '%s': %s", path, strerror(errno));
	t0 = now_sec() - t0;
	printf("RESULT seq-write %.1f MB/s\n", mb_per_s((uint64_t)mb << 20, t0));
	free(buf);
}

struct open_job {
	const char *file;
	pthread_barrier_t *start;
	int error;
};

static void *open_worker(void *arg)
{
	struct open_job *job = arg;
	int fd;

	pthread_barrier_wait(job->start);
	fd = open(job->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		job->error = errno;
		return NULL;
	}
	close(fd);
	return NULL;
}

/* open-threads FILE BACKING THREADS: THREADS threads open a new version of FILE at once. */
static void cmd_open_threads(char **argv)
{
	const char *file = argv[0];
	const char *backing = argv[1];
	unsigned int threads = parse_count(argv[2], "thread count");
	struct open_job jobs[DRIVER_MAX_THREADS];
	pthread_t tids[DRIVER_MAX_THREADS];
	pthread_barrier_t start;
	char *buf = big_buffer();
	double t0;

	if (threads > DRIVER_MAX_THREADS)
		die("invalid thread count %u: the maximum is %u", threads, DRIVER_MAX_THREADS);
	(void)read_file(backing, buf, DRIVER_BIG_BUF);
	bump_mtime(backing);

	pthread_barrier_init(&start, NULL, threads + 1);
	for (unsigned int k = 0; k < threads; k++) {
		jobs[k] = (struct open_job){ file, &start, 0 };
		if (pthread_create(&tids[k], NULL, open_worker, &jobs[k]) != 0)
			die("cannot start thread %u", k);
	}
	pthread_barrier_wait(&start);
	t0 = now_sec();
	for (unsigned int k = 0; k < threads; k++)
		pthread_join(tids[k], NULL);
	t0 = now_sec() - t0;
	pthread_barrier_destroy(&start);
	for (unsigned int k = 0; k < threads; k++) {
		if (jobs[k].error)
			die("open '%s' in thread %u: %s", file, k, strerror(jobs[k].error));
	}
	printf("RESULT open-threads %.3f ms threads=%u\n", t0 * 1e3, threads);
	free(buf);
}

/* --- exec ------------------------------------------------------------------------------------- */

static void run_once(const char *bin)
{
	char *const args[] = { (char *)(uintptr_t)bin, NULL };
	char *const env[] = { NULL };
	pid_t pid;
	int status;

	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		execve(bin, args, env);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("'%s' failed (wait status 0x%x)", bin, (unsigned int)status);
}

/* exec BIN COUNT: fork, execve BIN and wait, COUNT times after a few untimed runs. */
static void cmd_exec(char **argv)
{
	const char *bin = argv[0];
	unsigned int count = parse_count(argv[1], "exec count");
	double t0;

	for (unsigned int i = 0; i < DRIVER_EXEC_WARMUP; i++)
		run_once(bin);
	t0 = now_sec();
	for (unsigned int i = 0; i < count; i++)
		run_once(bin);
	t0 = now_sec() - t0;
	printf("RESULT exec %.3f us/op\n", t0 * 1e6 / count);
}

/* --- main ------------------------------------------------------------------------------------- */

static const struct driver_command {
	const char *name;
	int nargs; /* at least this many; -1 marks "command", which takes more */
	void (*run)(char **argv);
	const char *usage;
} driver_commands[] = {
	{ "setup-small", 2, cmd_setup_small, "DIR COUNT" },
	{ "setup-large", 2, cmd_setup_large, "FILE MIB" },
	{ "read-small", 4, cmd_read_small, "DIR COUNT THREADS warm|cold" },
	{ "stat-small", 2, cmd_stat_small, "DIR COUNT" },
	{ "readdir", 2, cmd_readdir, "DIR REPEAT" },
	{ "first-open", 2, cmd_first_open, "FILE BACKING" },
	{ "command", -1, cmd_command, "FILE PROGRAM [ARG...]" },
	{ "seq-read", 3, cmd_seq_read, "FILE BACKING warm|cold" },
	{ "seq-write", 2, cmd_seq_write, "NEWFILE MIB" },
	{ "open-threads", 3, cmd_open_threads, "FILE BACKING THREADS" },
	{ "exec", 2, cmd_exec, "BINARY COUNT" },
	{ "create-small", 2, cmd_create_small, "NEWDIR COUNT" },
	{ "open-new", 2, cmd_open_new, "DIR COUNT" },
};

static void usage(void)
{
	fputs("usage: driver WORKLOAD ARGS...\n", stderr);
	for (size_t i = 0; i < sizeof(driver_commands) / sizeof(driver_commands[0]); i++)
		fprintf(stderr, "  driver %s %s\n", driver_commands[i].name,
			driver_commands[i].usage);
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	for (size_t i = 0; i < sizeof(driver_commands) / sizeof(driver_commands[0]); i++) {
		const struct driver_command *c = &driver_commands[i];
		int given = argc - 2;

		if (strcmp(argv[1], c->name) != 0)
			continue;
		if ((c->nargs >= 0 && given != c->nargs) || (c->nargs < 0 && given < 2))
			usage();
		c->run(&argv[2]);
		fflush(stdout);
		return 0;
	}
	usage();
}
