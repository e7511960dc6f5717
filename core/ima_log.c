/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The measurement list and its PCR. Files in the runtime directory:
 *
 *   binary_runtime_measurements_<bank>  records with that bank's digests
 *   ascii_runtime_measurements_<bank>   the same records, one line each
 *   binary_runtime_measurements         symbolic link to the _sha1 file
 *   ascii_runtime_measurements          symbolic link to the _sha1 file
 *   runtime_measurements_count          decimal record count
 *   violations                          decimal violation count
 *   tpm                                 the TCTI in use, or "software"
 *   pcrs_sha1, pcrs_sha256, pcrs        software bank only: simulated PCR
 *                                       values as "PCR-NN: hex" lines
 *
 * Invariants:
 *  1. The list only grows. Records are appended whole, each file with one
 *     write(2).
 *  2. A record is durable (fdatasync) in every file before its PCR extend,
 *     and the extend completes before ima_log_append() returns: the list is
 *     never behind the PCR.
 *  3. The _sha1 pair exists even when the TPM has no SHA-1 bank, because the
 *     classic names (which evmctl reads) point to it.
 *  4. After an error that may leave the list and the PCR out of step, the
 *     list is failed for good (ima_log_fail()); every later append fails.
 *
 * Locking: LOCK covers every field below it and is held across the PCR
 * extend, so the TPM module's lock nests inside it.
 *
 * Ownership: the log owns its file descriptors; the TPM belongs to the caller.
 */
#include "core/ima_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ima_resume.h"
#include "core/log.h"
#include "core/tpm.h"

struct ima_log_bank {
	bool enabled; /* a list pair exists for this bank */
	int binary_fd;
	int ascii_fd;
};

struct ima_log {
	pthread_mutex_t lock;
	int dir_fd;
	struct tpm *tpm;
	enum hash_algo hash;
	const struct template_desc *template;
	unsigned int pcr;
	struct ima_log_bank banks[TPM_BANK__MAX];
	uint64_t count;
	uint64_t violations;
	bool failed;
	struct ima_resume_result resume; /* what ima_log_open() found */
};

static int ima_log_write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Replace the small file NAME with TEXT atomically (temporary file + rename). */
static int ima_log_replace_file(int dir_fd, const char *name, const char *text)
{
	char tmp[128];
	int fd, r;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	r = ima_log_write_all(fd, text, strlen(text));
	close(fd);
	if (r < 0)
		goto out_unlink;
	if (renameat(dir_fd, tmp, dir_fd, name) < 0) {
		r = -errno;
		goto out_unlink;
	}
	return 0;
out_unlink:
	(void)unlinkat(dir_fd, tmp, 0);
	return r;
}

/*
 * Overwrite the small file NAME with TEXT in place: one pwrite of less than a
 * page, which readers see whole, and no new inode. Replacing the file by
 * rename cost a journal commit on every record.
 */
static int ima_log_overwrite(int dir_fd, const char *name, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;
	int fd, r = 0;

	fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	n = pwrite(fd, text, len, 0);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != len)
		r = -EIO;
	else if (ftruncate(fd, (off_t)len) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int ima_log_write_counter(int dir_fd, const char *name, uint64_t value)
{
	char text[32];

	snprintf(text, sizeof(text), "%" PRIu64 "\n", value);
	return ima_log_overwrite(dir_fd, name, text);
}

/* Write the simulated PCR values of the software bank in evmctl's --pcrs format. */
static int ima_log_write_pcrs(struct ima_log *log)
{
	static const enum tpm_bank banks[] = { TPM_BANK_SHA1, TPM_BANK_SHA256 };

	for (size_t b = 0; b < sizeof(banks) / sizeof(banks[0]); b++) {
		char text[TPM_PCR_COUNT * (8 + 2 * HASH_MAX_DIGEST_SIZE + 1) + 1];
		char name[32];
		size_t off = 0;

		for (unsigned int pcr = 0; pcr < TPM_PCR_COUNT; pcr++) {
			char hex[2 * HASH_MAX_DIGEST_SIZE + 1];
			struct hash_digest value;
			int r;

			r = tpm_read_pcr(log->tpm, banks[b], pcr, &value);
			if (r < 0)
				return r;
			hash_to_hex(value.bytes, value.len, hex);
			off += (size_t)snprintf(text + off, sizeof(text) - off, "PCR-%02u: %s\n",
						pcr, hex);
		}
		snprintf(name, sizeof(name), "pcrs_%s", tpm_bank_name(banks[b]));
		int r = ima_log_overwrite(log->dir_fd, name, text);
		if (r < 0)
			return r;
	}
	return 0;
}

static int ima_log_open_bank(struct ima_log *log, enum tpm_bank bank, bool keep)
{
	struct ima_log_bank *b = &log->banks[bank];
	const int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW |
			  (keep ? 0 : O_TRUNC);
	char name[64];

	snprintf(name, sizeof(name), "binary_runtime_measurements_%s", tpm_bank_name(bank));
	b->binary_fd = openat(log->dir_fd, name, flags, 0644);
	if (b->binary_fd < 0)
		return -errno;
	snprintf(name, sizeof(name), "ascii_runtime_measurements_%s", tpm_bank_name(bank));
	b->ascii_fd = openat(log->dir_fd, name, flags, 0644);
	if (b->ascii_fd < 0)
		return -errno;
	b->enabled = true;
	return 0;
}

static int ima_log_link_classic(int dir_fd)
{
	static const char *const names[] = { "binary_runtime_measurements",
					     "ascii_runtime_measurements" };

	for (size_t i = 0; i < 2; i++) {
		char target[64];

		snprintf(target, sizeof(target), "%s_sha1", names[i]);
		if (unlinkat(dir_fd, names[i], 0) < 0 && errno != ENOENT)
			return -errno;
		if (symlinkat(target, dir_fd, names[i]) < 0)
			return -errno;
	}
	if (unlinkat(dir_fd, "pcrs", 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int ima_log_mkdir_p(const char *dir)
{
	char path[4096];

	if (strlen(dir) >= sizeof(path))
		return -ENAMETOOLONG;
	strcpy(path, dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Mark the list failed for good: it may now be out of step with the PCR. */
static int ima_log_fail(struct ima_log *log, int error)
{
	if (!log->failed)
		log_debug("ima_log: list failed for good: %s", strerror(-error));
	log->failed = true;
	return error;
}

/* Build the per-bank digests of RECORD: the stored ones and the extended ones. */
static int ima_log_digests(struct ima_log *log, const struct template_record *record,
			   struct hash_digest stored[TPM_BANK__MAX],
			   struct hash_digest extend[TPM_BANK__MAX])
{
	for (int bank = 0; bank < TPM_BANK__MAX; bank++) {
		enum hash_algo algo = tpm_bank_algo((enum tpm_bank)bank);
		int r;

		if (!log->banks[bank].enabled && !tpm_has_bank(log->tpm, (enum tpm_bank)bank))
			continue;
		r = template_record_digest(record, algo, &stored[bank]);
		if (r < 0)
			return r;
		extend[bank] = stored[bank];
		/* A violation stores zeros but extends 0xff bytes, as the kernel does. */
		if (record->violation)
			memset(extend[bank].bytes, 0xff, extend[bank].len);
	}
	return 0;
}

static void ima_log_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static int ima_log_write_record(struct ima_log *log, unsigned int pcr,
				const struct template_record *record,
				const struct hash_digest stored[TPM_BANK__MAX])
{
	const char *tname = template_name(record->desc);
	size_t tlen = strlen(tname);

	for (int bank = 0; bank < TPM_BANK__MAX; bank++) {
		struct ima_log_bank *b = &log->banks[bank];
		const struct hash_digest *d = &stored[bank];
		char hex[2 * HASH_MAX_DIGEST_SIZE + 1];
		uint8_t head[4 + HASH_MAX_DIGEST_SIZE + 4];
		size_t head_len = 0;
		char *line = NULL;
		uint8_t *rec;
		size_t rec_len;
		int r;

		if (!b->enabled)
			continue;

		/* Binary: pcr, digest, name length, name, then the template data. */
		ima_log_put_le32(head, pcr);
		memcpy(head + 4, d->bytes, d->len);
		head_len = 4 + d->len;
		ima_log_put_le32(head + head_len, (uint32_t)tlen);
		head_len += 4;
		rec_len = head_len + tlen + record->data_len;
		rec = malloc(rec_len);
		if (!rec)
			return -ENOMEM;
		memcpy(rec, head, head_len);
		memcpy(rec + head_len, tname, tlen);
		memcpy(rec + head_len + tlen, record->data, record->data_len);
		r = ima_log_write_all(b->binary_fd, rec, rec_len);
		free(rec);
		if (r < 0)
			return r;

		hash_to_hex(d->bytes, d->len, hex);
		if (asprintf(&line, "%2u %s %s%s\n", pcr, hex, tname, record->ascii_fields) < 0)
			return -ENOMEM;
		r = ima_log_write_all(b->ascii_fd, line, strlen(line));
		free(line);
		if (r < 0)
			return r;
	}

	for (int bank = 0; bank < TPM_BANK__MAX; bank++) {
		if (!log->banks[bank].enabled)
			continue;
		if (fdatasync(log->banks[bank].binary_fd) < 0 ||
		    fdatasync(log->banks[bank].ascii_fd) < 0)
			return -errno;
	}
	return 0;
}

static int ima_log_append_locked(struct ima_log *log, unsigned int pcr,
				 const struct template_desc *desc,
				 const struct template_event *event)
{
	struct hash_digest stored[TPM_BANK__MAX] = { 0 }, extend[TPM_BANK__MAX] = { 0 };
	struct template_record record;
	int r;

	if (log->failed)
		return -EIO;
	if (pcr >= TPM_PCR_COUNT)
		return -EINVAL;

	r = template_record_build(desc, event, &record);
	if (r < 0)
		return r;
	r = ima_log_digests(log, &record, stored, extend);
	if (r < 0)
		goto out_done;

	r = ima_log_write_record(log, pcr, &record, stored);
	if (r < 0) {
		r = ima_log_fail(log, r);
		goto out_done;
	}
	r = tpm_extend(log->tpm, pcr, extend);
	if (r < 0) {
		r = ima_log_fail(log, r);
		goto out_done;
	}

	log->count++;
	if (event->violation)
		log->violations++;
	r = ima_log_write_counter(log->dir_fd, "runtime_measurements_count", log->count);
	if (r == 0 && event->violation)
		r = ima_log_write_counter(log->dir_fd, "violations", log->violations);
	if (r == 0 && tpm_is_software(log->tpm))
		r = ima_log_write_pcrs(log);
	if (r < 0)
		r = ima_log_fail(log, r);
out_done:
	template_record_done(&record);
	return r;
}

int ima_log_append(struct ima_log *log, unsigned int pcr, const struct template_desc *desc,
		   const struct template_event *event)
{
	int r;

	pthread_mutex_lock(&log->lock);
	r = ima_log_append_locked(log, pcr, desc ? desc : log->template, event);
	pthread_mutex_unlock(&log->lock);
	return r;
}

const char *ima_log_start_note(struct ima_log *log)
{
	return log->resume.message;
}

uint64_t ima_log_count(struct ima_log *log)
{
	uint64_t count;

	pthread_mutex_lock(&log->lock);
	count = log->count;
	pthread_mutex_unlock(&log->lock);
	return count;
}

/* The first record: boot_aggregate over the TPM's boot PCRs, as the kernel computes it. */
static int ima_log_boot_aggregate(struct ima_log *log)
{
	struct template_event event = { .name = "boot_aggregate", .no_file = true };
	int r;

	r = tpm_boot_aggregate(log->tpm, log->hash, &event.digest);
	if (r < 0)
		return r;
	if (template_needs_sha1(log->template)) {
		/* The 'd' field is SHA-1 over SHA-1 PCRs 0-7, or zeros without that bank. */
		if (tpm_has_bank(log->tpm, TPM_BANK_SHA1)) {
			r = tpm_boot_aggregate(log->tpm, HASH_SHA1, &event.sha1);
			if (r < 0)
				return r;
		}
		if (event.sha1.algo != HASH_SHA1 || event.sha1.len != 20) {
			memset(&event.sha1, 0, sizeof(event.sha1));
			event.sha1.algo = HASH_SHA1;
			event.sha1.len = 20;
		}
	}
	return ima_log_append(log, log->pcr, log->template, &event);
}

static int ima_log_create_files(struct ima_log *log, bool keep, const char **reterr_msg)
{
	char text[512];
	int r;

	for (int bank = 0; bank < TPM_BANK__MAX; bank++) {
		if (bank != TPM_BANK_SHA1 && !tpm_has_bank(log->tpm, (enum tpm_bank)bank))
			continue;
		r = ima_log_open_bank(log, (enum tpm_bank)bank, keep);
		if (r < 0) {
			*reterr_msg = "cannot create the measurement list files";
			return r;
		}
	}
	r = ima_log_link_classic(log->dir_fd);
	if (r < 0) {
		*reterr_msg = "cannot link the classic measurement list names";
		return r;
	}
	snprintf(text, sizeof(text), "%s\n",
		 tpm_is_software(log->tpm) ? "software" : tpm_describe(log->tpm));
	r = ima_log_replace_file(log->dir_fd, "tpm", text);
	if (r == 0)
		r = ima_log_write_counter(log->dir_fd, "runtime_measurements_count", log->count);
	if (r == 0)
		r = ima_log_write_counter(log->dir_fd, "violations", log->violations);
	if (r == 0 && tpm_is_software(log->tpm)) {
		r = ima_log_write_pcrs(log);
		if (r == 0 && symlinkat("pcrs_sha1", log->dir_fd, "pcrs") < 0)
			r = -errno;
	}
	if (r < 0)
		*reterr_msg = "cannot write the runtime directory files";
	return r;
}

int ima_log_open(const struct ima_log_config *config, struct ima_log **ret,
		 const char **reterr_msg)
{
	const char *msg = NULL;
	struct ima_log *log;
	int r;

	log = calloc(1, sizeof(*log));
	if (!log)
		return -ENOMEM;
	pthread_mutex_init(&log->lock, NULL);
	log->dir_fd = -1;
	for (int bank = 0; bank < TPM_BANK__MAX; bank++) {
		log->banks[bank].binary_fd = -1;
		log->banks[bank].ascii_fd = -1;
	}
	log->tpm = config->tpm;
	log->hash = config->hash;
	log->template = config->template;
	log->pcr = config->pcr;

	r = ima_log_mkdir_p(config->dir);
	if (r < 0) {
		msg = "cannot create the runtime directory";
		goto out_close;
	}
	log->dir_fd = open(config->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (log->dir_fd < 0) {
		r = -errno;
		msg = "cannot open the runtime directory";
		goto out_close;
	}
	r = ima_resume(log->dir_fd, log->tpm, config->new_log, &log->resume);
	if (r < 0) {
		msg = log->resume.message;
		goto out_close;
	}
	log->count = log->resume.count;
	log->violations = log->resume.violations;
	r = ima_log_create_files(log, log->resume.action == IMA_RESUME_CONTINUE, &msg);
	if (r < 0)
		goto out_close;
	if (log->resume.action == IMA_RESUME_CONTINUE)
		goto out_done;
	r = ima_log_boot_aggregate(log);
	if (r < 0) {
		msg = "cannot append the boot_aggregate record";
		goto out_close;
	}
out_done:
	*ret = log;
	return 0;

out_close:
	/* The message may live in LOG, which is freed below: keep a copy per thread. */
	if (reterr_msg) {
		static _Thread_local char copy[sizeof(log->resume.message)];

		snprintf(copy, sizeof(copy), "%s", msg ? msg : "");
		*reterr_msg = copy;
	}
	ima_log_close(log);
	return r;
}

struct ima_log *ima_log_close(struct ima_log *log)
{
	if (!log)
		return NULL;
	for (int bank = 0; bank < TPM_BANK__MAX; bank++) {
		if (log->banks[bank].binary_fd >= 0)
			close(log->banks[bank].binary_fd);
		if (log->banks[bank].ascii_fd >= 0)
			close(log->banks[bank].ascii_fd);
	}
	if (log->dir_fd >= 0)
		close(log->dir_fd);
	pthread_mutex_destroy(&log->lock);
	free(log);
	return NULL;
}
