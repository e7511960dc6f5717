/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Continuing a measurement list after a restart or a crash.
 *
 * The list files were written by ima_log.c: per bank a binary and an ASCII
 * file, records appended in the same order to each, made durable, then
 * extended. A crash can therefore leave (a) a torn record at the end of some
 * files, and (b) whole records that are durable but were never extended.
 *
 * Invariants:
 *  1. Only bytes past the last record that every list file contains whole
 *     are cut. Nothing else of an old list is ever changed or dropped. A list
 *     that is not continued is moved into an archive-* subdirectory.
 *  2. The list is continued only when replaying it reaches the PCRs the
 *     TPM holds now, either after its last record, or after an earlier one
 *     (case b), in which case the remaining records are extended first.
 *  3. A real TPM whose PCRs are back at their reset values went through a
 *     reboot: its old list describes another boot and is archived. The
 *     software bank always starts at reset values, so its list is replayed
 *     into it and continued.
 *
 * Locking: none; this runs before any other list access.
 */
#include "core/ima_resume.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/tpm.h"

/* One list file, mapped, with the byte offset where each whole record ends. */
struct resume_file {
	char name[64];
	uint8_t *map;
	size_t size;
	uint64_t *ends; /* ends[i]: offset just past record i */
	uint64_t count;
	bool present;
};

/* One record of a binary list. */
struct resume_record {
	uint32_t pcr;
	const uint8_t *digest; /* stored template digest */
	const uint8_t *data;   /* template data after the length word (non-"ima") */
	size_t data_len;
	bool legacy;           /* the "ima" layout */
	const uint8_t *legacy_d;
	const uint8_t *legacy_n;
	size_t legacy_nlen;
};

static uint32_t resume_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Parse the record at BUF (LEN bytes left) with digest size DSIZE. Returns
 * its length, 0 when it is cut short, or -EBADMSG when it is malformed.
 */
static ssize_t resume_parse_record(const uint8_t *buf, size_t len, unsigned int dsize,
				   struct resume_record *rec)
{
	size_t off = 0, name_len;

	if (len < 4 + dsize + 4)
		return 0;
	rec->pcr = resume_le32(buf);
	rec->digest = buf + 4;
	off = 4 + dsize;
	name_len = resume_le32(buf + off);
	off += 4;
	if (rec->pcr >= TPM_PCR_COUNT || name_len == 0 || name_len > 255)
		return -EBADMSG;
	if (len < off + name_len + 4)
		return 0;
	rec->legacy = name_len == 3 && !memcmp(buf + off, "ima", 3);
	off += name_len;
	if (rec->legacy) {
		if (len < off + 24)
			return 0;
		rec->legacy_d = buf + off;
		rec->legacy_nlen = resume_le32(buf + off + 20);
		if (rec->legacy_nlen > 255)
			return -EBADMSG;
		if (len < off + 24 + rec->legacy_nlen)
			return 0;
		rec->legacy_n = buf + off + 24;
		return (ssize_t)(off + 24 + rec->legacy_nlen);
	}
	rec->data_len = resume_le32(buf + off);
	off += 4;
	if (len - off < rec->data_len)
		return 0;
	rec->data = buf + off;
	return (ssize_t)(off + rec->data_len);
}

static int resume_map(int dir_fd, struct resume_file *f)
{
	struct stat st;
	int fd, r = 0;

	fd = openat(dir_fd, f->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	f->present = true;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out_close;
	}
	f->size = (size_t)st.st_size;
	if (f->size) {
		f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (f->map == MAP_FAILED) {
			f->map = NULL;
			r = -errno;
		}
	}
out_close:
	close(fd);
	return r;
}

static int resume_push_end(struct resume_file *f, uint64_t end, size_t *cap)
{
	if (f->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		uint64_t *ends = realloc(f->ends, ncap * sizeof(*ends));

		if (!ends)
			return -ENOMEM;
		f->ends = ends;
		*cap = ncap;
	}
	f->ends[f->count++] = end;
	return 0;
}

/* Find the whole records of a binary list with digest size DSIZE. */
static int resume_scan_binary(struct resume_file *f, unsigned int dsize, char *msg, size_t n)
{
	size_t off = 0, cap = 0;

	while (off < f->size) {
		struct resume_record rec;
		ssize_t len = resume_parse_record(f->map + off, f->size - off, dsize, &rec);

		if (len == 0)
			break; /* torn tail */
		if (len < 0) {
			snprintf(msg, n, "'%s': record %" PRIu64 " at byte offset %zu is malformed",
				 f->name, f->count + 1, off);
			return -EBADMSG;
		}
		off += (size_t)len;
		if (resume_push_end(f, off, &cap) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Find the whole lines of an ASCII list. */
static int resume_scan_ascii(struct resume_file *f)
{
	size_t cap = 0;

	for (size_t off = 0; off < f->size; off++) {
		if (f->map[off] == '\n' && resume_push_end(f, off + 1, &cap) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void resume_unmap(struct resume_file *f)
{
	if (f->map)
		munmap(f->map, f->size);
	free(f->ends);
	memset(f, 0, sizeof(*f));
}

/* The list files: binary and ASCII per bank. Index 2 * bank + (ascii ? 1 : 0). */
#define RESUME_FILES (2 * TPM_BANK__MAX)

static int resume_truncate(int dir_fd, struct resume_file *f, uint64_t records,
			   uint64_t *truncated)
{
	uint64_t end;
	int fd;

	if (!f->present)
		return 0;
	end = records ? f->ends[records - 1] : 0;
	if (end == f->size)
		return 0;
	fd = openat(dir_fd, f->name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)end) < 0 || fsync(fd) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	close(fd);
	*truncated += f->size - end;
	return 0;
}

/* Digest of REC for bank BANK as the list extends it (0xff for violations). */
static int resume_extend_value(const struct resume_record *rec, enum tpm_bank bank,
			       struct hash_digest *ret)
{
	enum hash_algo algo = tpm_bank_algo(bank);
	static const uint8_t zero[20];
	int r;

	if (!memcmp(rec->digest, zero, sizeof(zero))) {
		memset(ret, 0, sizeof(*ret));
		ret->algo = algo;
		ret->len = hash_algo_size(algo);
		memset(ret->bytes, 0xff, ret->len);
		return 0;
	}
	if (rec->legacy) {
		uint8_t buf[20 + 256] = { 0 };

		memcpy(buf, rec->legacy_d, 20);
		memcpy(buf + 20, rec->legacy_n, rec->legacy_nlen);
		r = hash_buffer(algo, buf, sizeof(buf), ret);
	} else {
		r = hash_buffer(algo, rec->data, rec->data_len, ret);
	}
	return r;
}

/* PCR values per bank for the PCRs a list touches. */
struct resume_pcrs {
	struct hash_digest value[TPM_BANK__MAX][TPM_PCR_COUNT];
};

static void resume_extend(struct hash_digest *pcr, const struct hash_digest *value)
{
	uint8_t buf[2 * HASH_MAX_DIGEST_SIZE];

	memcpy(buf, pcr->bytes, pcr->len);
	memcpy(buf + pcr->len, value->bytes, value->len);
	(void)hash_buffer(pcr->algo, buf, pcr->len + value->len, pcr);
}

static bool resume_equal(struct tpm *tpm, const struct resume_pcrs *a,
			 const struct resume_pcrs *b, uint32_t touched)
{
	for (int bank = 0; bank < TPM_BANK__MAX; bank++) {
		if (!tpm_has_bank(tpm, (enum tpm_bank)bank))
			continue;
		for (unsigned int pcr = 0; pcr < TPM_PCR_COUNT; pcr++) {
			if ((touched & (1u << pcr)) &&
			    memcmp(a->value[bank][pcr].bytes, b->value[bank][pcr].bytes,
				   a->value[bank][pcr].len) != 0)
				return false;
		}
	}
	return true;
}

static void resume_file_name(char *buf, size_t n, int index)
{
	enum tpm_bank bank = (enum tpm_bank)(index / 2);

	snprintf(buf, n, "%s_runtime_measurements_%s", index % 2 ? "ascii" : "binary",
		 tpm_bank_name(bank));
}

/* Move every list file into a new archive-* subdirectory. */
static int resume_archive(int dir_fd, struct ima_resume_result *ret)
{
	static const char *const counters[] = { "runtime_measurements_count", "violations" };
	time_t now = time(NULL);
	char stamp[32], path[160];
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (unsigned int i = 0;; i++) {
		snprintf(ret->archive, sizeof(ret->archive), "archive-%s-%u", stamp, i);
		if (mkdirat(dir_fd, ret->archive, 0755) == 0)
			break;
		if (errno != EEXIST || i > 1000)
			return -errno;
	}
	for (int i = 0; i < RESUME_FILES + 2; i++) {
		char name[64];

		if (i < RESUME_FILES)
			resume_file_name(name, sizeof(name), i);
		else
			snprintf(name, sizeof(name), "%s", counters[i - RESUME_FILES]);
		snprintf(path, sizeof(path), "%s/%s", ret->archive, name);
		if (renameat(dir_fd, name, dir_fd, path) < 0 && errno != ENOENT)
			return -errno;
	}
	return 0;
}

/* Extend records FROM..TO-1 of the sha1 list into the TPM. */
static int resume_extend_rest(struct tpm *tpm, const struct resume_file *sha1, uint64_t from,
			      uint64_t to)
{
	for (uint64_t i = from; i < to; i++) {
		struct hash_digest values[TPM_BANK__MAX] = { 0 };
		size_t off = i ? sha1->ends[i - 1] : 0;
		struct resume_record rec;
		int r;

		(void)resume_parse_record(sha1->map + off, sha1->size - off, 20, &rec);
		for (int bank = 0; bank < TPM_BANK__MAX; bank++) {
			if (!tpm_has_bank(tpm, (enum tpm_bank)bank))
				continue;
			r = resume_extend_value(&rec, (enum tpm_bank)bank, &values[bank]);
			if (r < 0)
				return r;
		}
		r = tpm_extend(tpm, rec.pcr, values);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Replay the first N records of SHA1 and find the record count K after
 * which the replay equals the TPM's PCRs now. Returns 0 with *RET_K, or
 * -ESTALE when no K matches. REPLAY then contains the values after all N
 * records and NOW the TPM's.
 */
static int resume_find_prefix(struct tpm *tpm, const struct resume_file *sha1, uint64_t n,
			      uint64_t *ret_k, uint64_t *ret_violations, uint32_t *ret_touched,
			      struct resume_pcrs *replay, struct resume_pcrs *now, char *msg,
			      size_t msg_size)
{
	static const uint8_t zero[20];
	uint32_t touched = 0;
	uint64_t violations = 0;
	bool found = false;
	uint64_t k = 0;
	int r;

	memset(replay, 0, sizeof(*replay));
	memset(now, 0, sizeof(*now));
	for (uint64_t i = 0; i < n; i++) {
		struct resume_record rec;
		size_t off = i ? sha1->ends[i - 1] : 0;

		struct hash_digest computed;

		(void)resume_parse_record(sha1->map + off, sha1->size - off, 20, &rec);
		touched |= 1u << rec.pcr;
		if (!memcmp(rec.digest, zero, sizeof(zero))) {
			violations++;
			continue;
		}
		/* The stored digest must be that of the record's data, or the list was changed. */
		r = resume_extend_value(&rec, TPM_BANK_SHA1, &computed);
		if (r < 0)
			return r;
		if (memcmp(computed.bytes, rec.digest, 20) != 0) {
			snprintf(msg, msg_size,
				 "record %" PRIu64 " at byte offset %zu of '%s': its stored sha1 "
				 "template digest differs from the digest of its data, so the list "
				 "was changed; start with --new-log to archive it and begin a new one",
				 i + 1, off, sha1->name);
			return -EBADMSG;
		}
	}
	for (int bank = 0; bank < TPM_BANK__MAX; bank++) {
		if (!tpm_has_bank(tpm, (enum tpm_bank)bank))
			continue;
		for (unsigned int pcr = 0; pcr < TPM_PCR_COUNT; pcr++) {
			replay->value[bank][pcr].algo = tpm_bank_algo((enum tpm_bank)bank);
			replay->value[bank][pcr].len = hash_algo_size(tpm_bank_algo((enum tpm_bank)bank));
			if (!(touched & (1u << pcr)))
				continue;
			r = tpm_read_pcr(tpm, (enum tpm_bank)bank, pcr, &now->value[bank][pcr]);
			if (r < 0)
				return r;
		}
	}

	for (uint64_t i = 0;; i++) {
		struct hash_digest value;
		struct resume_record rec;
		size_t off;

		if (resume_equal(tpm, replay, now, touched)) {
			found = true;
			k = i;
		}
		if (i == n)
			break;
		off = i ? sha1->ends[i - 1] : 0;
		(void)resume_parse_record(sha1->map + off, sha1->size - off, 20, &rec);
		for (int bank = 0; bank < TPM_BANK__MAX; bank++) {
			if (!tpm_has_bank(tpm, (enum tpm_bank)bank))
				continue;
			r = resume_extend_value(&rec, (enum tpm_bank)bank, &value);
			if (r < 0)
				return r;
			resume_extend(&replay->value[bank][rec.pcr], &value);
		}
	}
	*ret_k = k;
	*ret_violations = violations;
	*ret_touched = touched;
	return found ? 0 : -ESTALE;
}

/* Describe the first PCR where the replay and the TPM differ. */
static void resume_describe_mismatch(struct tpm *tpm, const struct resume_pcrs *replay,
				     const struct resume_pcrs *now, uint32_t touched, char *msg,
				     size_t n, uint64_t records)
{
	for (int bank = TPM_BANK__MAX - 1; bank >= 0; bank--) {
		if (!tpm_has_bank(tpm, (enum tpm_bank)bank))
			continue;
		for (unsigned int pcr = 0; pcr < TPM_PCR_COUNT; pcr++) {
			char want[2 * HASH_MAX_DIGEST_SIZE + 1], have[2 * HASH_MAX_DIGEST_SIZE + 1];
			const struct hash_digest *a = &replay->value[bank][pcr];

			if (!(touched & (1u << pcr)) ||
			    !memcmp(a->bytes, now->value[bank][pcr].bytes, a->len))
				continue;
			hash_to_hex(a->bytes, a->len, want);
			hash_to_hex(now->value[bank][pcr].bytes, a->len, have);
			snprintf(msg, n,
				 "the list's %" PRIu64 " records replay to PCR-%02u %s %s, but the "
				 "TPM holds %s, and no shorter prefix of the list matches either: "
				 "the PCR was extended by something else or the list was changed; "
				 "start with --new-log to archive this list and begin a new one",
				 records, pcr, tpm_bank_name((enum tpm_bank)bank), want, have);
			return;
		}
	}
	snprintf(msg, n, "the list does not replay to the TPM's PCRs; start with --new-log");
}

int ima_resume(int dir_fd, struct tpm *tpm, bool new_log, struct ima_resume_result *ret)
{
	struct resume_file files[RESUME_FILES];
	struct resume_pcrs *replay = NULL, *now = NULL;
	uint64_t n = UINT64_MAX, k = 0;
	uint32_t touched = 0;
	bool any = false;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	memset(files, 0, sizeof(files));
	for (int i = 0; i < RESUME_FILES; i++) {
		resume_file_name(files[i].name, sizeof(files[i].name), i);
		r = resume_map(dir_fd, &files[i]);
		if (r < 0) {
			snprintf(ret->message, sizeof(ret->message), "cannot read '%s': %s",
				 files[i].name, strerror(-r));
			goto out_unmap;
		}
		any = any || files[i].present;
	}
	if (!any)
		goto out_unmap; /* a new runtime directory */
	if (new_log || !files[0].present) {
		r = resume_archive(dir_fd, ret);
		snprintf(ret->message, sizeof(ret->message), "archived the previous list in %s%s",
			 ret->archive, new_log ? " (--new-log)" : " (it had no sha1 list)");
		goto out_unmap;
	}

	for (int i = 0; i < RESUME_FILES; i++) {
		enum tpm_bank bank = (enum tpm_bank)(i / 2);

		if (!files[i].present) {
			if (bank != TPM_BANK_SHA1 && tpm_has_bank(tpm, bank)) {
				r = -ESTALE;
				snprintf(ret->message, sizeof(ret->message),
					 "the TPM's %s bank is active but the list has no '%s': "
					 "start with --new-log to begin a new list",
					 tpm_bank_name(bank), files[i].name);
				goto out_unmap;
			}
			continue;
		}
		if (i % 2)
			r = resume_scan_ascii(&files[i]);
		else
			r = resume_scan_binary(&files[i], hash_algo_size(tpm_bank_algo(bank)),
					       ret->message, sizeof(ret->message));
		if (r < 0)
			goto out_unmap;
		if (files[i].count < n)
			n = files[i].count;
	}

	/* Cut the records that not every file contains whole: none of them was extended. */
	for (int i = 0; i < RESUME_FILES; i++) {
		r = resume_truncate(dir_fd, &files[i], n, &ret->truncated);
		if (r < 0) {
			snprintf(ret->message, sizeof(ret->message), "cannot cut the torn record "
				 "of '%s': %s", files[i].name, strerror(-r));
			goto out_unmap;
		}
	}

	replay = calloc(1, sizeof(*replay));
	now = calloc(1, sizeof(*now));
	if (!replay || !now) {
		r = -ENOMEM;
		goto out_unmap;
	}
	r = resume_find_prefix(tpm, &files[0], n, &k, &ret->violations, &touched, replay, now,
			       ret->message, sizeof(ret->message));
	if (r == -EBADMSG)
		goto out_unmap;
	if (r == -ESTALE) {
		resume_describe_mismatch(tpm, replay, now, touched, ret->message,
					 sizeof(ret->message), n);
		goto out_unmap;
	}
	if (r < 0) {
		snprintf(ret->message, sizeof(ret->message), "cannot read the TPM's PCRs: %s",
			 strerror(-r));
		goto out_unmap;
	}

	if (n == 0 || (k == 0 && !tpm_is_software(tpm))) {
		r = resume_archive(dir_fd, ret);
		if (n == 0)
			snprintf(ret->message, sizeof(ret->message),
				 "the previous list had no whole record: archived it in %s",
				 ret->archive);
		else
			snprintf(ret->message, sizeof(ret->message),
				 "the TPM's PCRs are at their reset values, so this is a new boot: "
				 "archived the previous list of %" PRIu64 " records in %s",
				 n, ret->archive);
		goto out_unmap;
	}
	r = resume_extend_rest(tpm, &files[0], k, n);
	if (r < 0) {
		snprintf(ret->message, sizeof(ret->message), "cannot extend the %" PRIu64
			 " records that were logged but not extended: %s", n - k, strerror(-r));
		goto out_unmap;
	}
	ret->action = IMA_RESUME_CONTINUE;
	ret->count = n;
	ret->extended = n - k;
	if (tpm_is_software(tpm))
		snprintf(ret->message, sizeof(ret->message),
			 "continuing the list of %" PRIu64 " records, replayed into the software "
			 "PCR bank; cut %" PRIu64 " bytes of a torn record",
			 n, ret->truncated);
	else
		snprintf(ret->message, sizeof(ret->message),
			 "continuing the list of %" PRIu64 " records; extended %" PRIu64
			 " logged but unextended records; cut %" PRIu64 " bytes of a torn record",
			 n, ret->extended, ret->truncated);
out_unmap:
	free(replay);
	free(now);
	for (int i = 0; i < RESUME_FILES; i++)
		resume_unmap(&files[i]);
	return r;
}
