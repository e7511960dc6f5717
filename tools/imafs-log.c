/* SPDX-License-Identifier: Apache-2.0 */
/*
 * imafs-log: read binary IMA measurement lists (the kernel's or imafs's).
 *
 *   dump    print the list in the kernel's ASCII format
 *   replay  recompute the PCR values the list produces, per bank
 *   verify  replay and compare with PCR values from files or a TPM, or check
 *           an evidence file offline
 *   quote   write an evidence file: a TPM2 quote of the IMA PCRs with the list
 *
 * Invariants:
 *  1. Fail closed: a malformed record, a stored template digest that differs
 *     from the digest of its template data, or a PCR value the list does not
 *     reach makes the command exit 1. verify prints "verified:" lines only
 *     when every bank given matched and every record checked out.
 *  2. Template digests are always recomputed from the template data; stored
 *     digests are only compared with them, or replayed to locate a change.
 *  3. quote reads the list after the quote, so the list contains every
 *     record the quote covers. Records appended in between come after the
 *     matching position, which verify accepts.
 *
 * Exit status: 0 success, 1 failure, 2 usage error.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/allowlist.h"
#include "core/hash.h"
#include "tools/evidence.h"
#include "tools/ima_parse.h"
#include "tools/pcr_bank.h"
#include "tools/tpm_quote.h"

/* Largest list read: far above real lists, small enough to hold in memory. */
#define LOG_SIZE_MAX (1UL << 30)

#define ERRBUF_SIZE 512

/* Digest mismatches printed one by one; the count covers the rest. */
#define MISMATCH_REPORT_MAX 10

enum {
	OPT_BANK = 0x100,
	OPT_LOG_BANK,
	OPT_BIG_ENDIAN,
	OPT_AUTO_ENDIAN,
	OPT_PCR,
	OPT_PCRS,
	OPT_TPM,
	OPT_AK_CONTEXT,
	OPT_AK_CREATE,
	OPT_NONCE,
	OPT_RUNTIME_DIR,
	OPT_LOG,
	OPT_EVIDENCE,
	OPT_ALLOWLIST,
	OPT_AK_PUBLIC,
};

enum verb { VERB_DUMP, VERB_REPLAY, VERB_VERIFY, VERB_QUOTE, VERB__MAX };

/* The kernel's list, which quote reads unless --runtime-dir or --log names another. */
#define KERNEL_LIST "/sys/kernel/security/ima/binary_runtime_measurements"

static enum ima_byte_order arg_order = IMA_ORDER_LITTLE;
static bool arg_log_bank_set;
static enum hash_algo arg_log_bank;
static enum hash_algo arg_banks[PCR_BANK_SET_MAX];
static unsigned int arg_bank_count;
static int arg_pcr = -1;
static const char *arg_output;
static struct pcr_bank arg_expected[PCR_BANK_SET_MAX];
static unsigned int arg_expected_count;
static uint64_t arg_pcr_mask; /* quote: the PCRs to quote */
static const char *arg_tpm;
static const char *arg_ak_context;
static bool arg_ak_create;
static uint8_t arg_nonce[EVIDENCE_NONCE_MAX];
static size_t arg_nonce_len;
static const char *arg_runtime_dir;
static const char *arg_log;
static const char *arg_evidence;
static const char *arg_allowlist;
static const char *arg_ak_public;

/* Result of a pass over the whole list. */
struct scan {
	unsigned long records;
	unsigned long mismatches;
	unsigned long first_mismatch;
	size_t first_mismatch_offset;
	uint64_t pcrs_used;
	unsigned int pcr_last;
};

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: imafs-log dump [--bank ALGO] [--big-endian | --auto-endian] FILE\n"
		"       imafs-log replay [--bank ALGO[,ALGO...]] [--pcr N] [-o PREFIX]\n"
		"                        [--log-bank ALGO] [--big-endian | --auto-endian] FILE\n"
		"       imafs-log verify --pcrs [ALGO,]PCRFILE [--pcrs [ALGO,]PCRFILE ...]\n"
		"                        [--log-bank ALGO] [--big-endian | --auto-endian] FILE\n"
		"       imafs-log verify --tpm TCTI [--log-bank ALGO]\n"
		"                        [--big-endian | --auto-endian] FILE\n"
		"       imafs-log verify --evidence EVIDENCE [--nonce HEX] [--allowlist FILE]\n"
		"                        [--ak-public PEMFILE]\n"
		"       imafs-log quote --tpm TCTI (--ak-context FILE | --ak-create) --nonce HEX\n"
		"                       [--pcr N[,N...]] [--runtime-dir DIR | --log FILE]\n"
		"                       -o EVIDENCE\n"
		"\n"
		"FILE is a binary measurement list, or - for standard input. Its template\n"
		"digests are those of the bank its name ends with (_sha256: 32 bytes), else\n"
		"sha1; dump --bank or --log-bank sets the bank. Integers are little-endian\n"
		"unless --big-endian is given; --auto-endian takes the byte order in which\n"
		"the first PCR index is below 64.\n"
		"\n"
		"dump    print the list in the kernel's ASCII format\n"
		"replay  print the PCR values the list produces as 'PCR-NN: hex' lines,\n"
		"        PCR 0 to 23: the sha1 and sha256 banks with '# ALGO' headers, or\n"
		"        the banks given with --bank (sha1, sha256, sha384, sha512, ...);\n"
		"        --pcr N prints PCR N only; -o PREFIX writes PREFIX_ALGO files\n"
		"verify  replay and compare each PCR the list extends with PCRFILE (lines\n"
		"        'PCR-NN: hex', bank ALGO, default sha1), or with the sha1 and sha256\n"
		"        PCRs read from the TPM at TCTI; a match after any record counts,\n"
		"        since a list may be longer than the quote\n"
		"verify --evidence\n"
		"        check an evidence file offline: the quote's signature with the AK\n"
		"        public key it contains (which must equal PEMFILE if given), the\n"
		"        nonce (against HEX if given), the PCR digest, the replay of the list\n"
		"        to the quoted PCRs, and with --allowlist every file digest the quote\n"
		"        covers (sha256sum-style lines); names the first bad record\n"
		"quote   quote PCR 10 (or the PCRs of --pcr) in the sha1 and sha256 banks\n"
		"        with NONCE as qualifying data, signed by the AK saved by tpm2-tools in\n"
		"        FILE or by an ECC P-256 AK created in the endorsement hierarchy, and\n"
		"        write the quote, PCR values, AK public key, nonce and the list\n"
		"        (DIR/binary_runtime_measurements, FILE, or the kernel's list) to\n"
		"        EVIDENCE\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n");
}

__attribute__((noreturn)) static void usage(const char *complaint)
{
	if (complaint)
		warnx("%s", complaint);
	print_usage(stderr);
	exit(2);
}

__attribute__((noreturn)) static void help(void)
{
	print_usage(stdout);
	exit(fflush(stdout) == 0 ? 0 : 1);
}

static enum hash_algo parse_algo(const char *name)
{
	enum hash_algo algo;

	if (hash_algo_from_name(name, &algo) < 0 || !hash_algo_size(algo)) {
		warnx("unknown hash algorithm '%s'; use a kernel name such "
		      "as sha1, sha256, sha384 or sha512",
		      name);
		usage(NULL);
	}
	return algo;
}

static void add_banks(const char *list)
{
	char *copy = strdup(list);
	char *save = NULL;

	if (!copy)
		err(1, "strdup");
	for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		enum hash_algo algo = parse_algo(name);
		bool seen = false;

		for (unsigned int i = 0; i < arg_bank_count; i++)
			seen = seen || arg_banks[i] == algo;
		if (seen)
			continue;
		if (arg_bank_count == PCR_BANK_SET_MAX)
			usage("too many banks: at most 8");
		arg_banks[arg_bank_count++] = algo;
	}
	free(copy);
}

/* Read the PCR values of one --pcrs [ALGO,]FILE option. */
static void add_pcrs(const char *arg)
{
	enum hash_algo algo = HASH_SHA1;
	const char *comma = strchr(arg, ',');
	const char *path = arg;
	char errbuf[ERRBUF_SIZE];
	FILE *in;

	if (comma && comma - arg < 32) {
		char name[32];

		memcpy(name, arg, (size_t)(comma - arg));
		name[comma - arg] = '\0';
		if (hash_algo_from_name(name, &algo) == 0) {
			path = comma + 1;
		} else {
			algo = HASH_SHA1;
		}
	}
	in = fopen(path, "re");
	if (!in)
		err(1, "%s", path);
	if (pcr_bank_read(in, path, algo, arg_expected, &arg_expected_count, errbuf,
			  sizeof(errbuf)) < 0)
		errx(1, "%s", errbuf);
	fclose(in);
}

/*
 * Read the whole list. Input files are not opened with O_NOFOLLOW: the
 * kernel's classic list names are symbolic links to the _sha1 files.
 */
static uint8_t *readlog(const char *path, size_t *ret_len)
{
	bool use_stdin = !strcmp(path, "-");
	size_t len = 0, cap = 0;
	uint8_t *buf = NULL;
	int fd = STDIN_FILENO;

	if (!use_stdin) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			err(1, "%s", path);
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			if (cap >= LOG_SIZE_MAX)
				errx(1, "%s: larger than %lu bytes; split the list", path,
				     LOG_SIZE_MAX);
			cap = cap ? 2 * cap : 1 << 16;
			buf = realloc(buf, cap);
			if (!buf)
				err(1, "%s", path);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err(1, "%s", path);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (!use_stdin)
		close(fd);
	*ret_len = len;
	return buf;
}

static enum hash_algo log_bank(const char *path)
{
	enum hash_algo bank;

	if (arg_log_bank_set)
		return arg_log_bank;
	if (ima_parse_bank_from_path(path, &bank) < 0)
		errx(1,
		     "%s: the digests of _tpm_alg_ lists differ between kernel versions; "
		     "give their bank with --log-bank",
		     path);
	return bank;
}

static struct ima_parse *xparse(const char *path, const uint8_t *buf, size_t len)
{
	struct ima_parse *parse = ima_parse_new(buf, len, log_bank(path), arg_order);

	if (!parse)
		err(1, "%s", path);
	return parse;
}

/* Lowercase hex of a digest or PCR value. */
struct hex {
	char text[2 * HASH_MAX_DIGEST_SIZE + 1];
};

static struct hex to_hex(const uint8_t *bytes, size_t len)
{
	struct hex hex;

	hash_to_hex(bytes, len, hex.text);
	return hex;
}

/* Compare RECORD's stored digest with the digest of its template data; REPORT prints a mismatch. */
static bool check_record(const char *path, const struct ima_record *record, enum hash_algo bank,
			 bool report)
{
	struct hash_digest digest;
	int r;

	if (record->violation)
		return true; /* the kernel does not hash the template data of violations */
	r = ima_record_digest(record, bank, &digest);
	if (r < 0)
		errx(1, "%s: record %lu: %s digest failed: %s", path, record->number,
		     hash_algo_name(bank), strerror(-r));
	if (digest.len == record->digest_size &&
	    !CRYPTO_memcmp(digest.bytes, record->digest, digest.len))
		return true;
	if (!report)
		return false;

	warnx("%s: record %lu at byte offset %zu: stored %s template digest %s differs from "
	      "the digest of its template data, %s",
	      path, record->number, record->offset, hash_algo_name(bank),
	      to_hex(record->digest, record->digest_size).text,
	      to_hex(digest.bytes, digest.len).text);
	return false;
}

/* Check every record of the list and note which PCRs it extends. */
static void scan(const char *path, const uint8_t *buf, size_t len, struct scan *ret)
{
	struct ima_parse *parse = xparse(path, buf, len);
	enum hash_algo bank = log_bank(path);
	char errbuf[ERRBUF_SIZE];
	struct ima_record record;
	struct scan s = { 0 };
	int r;

	while ((r = ima_parse_next(parse, &record, errbuf, sizeof(errbuf))) > 0) {
		s.records++;
		s.pcrs_used |= UINT64_C(1) << record.pcr;
		if (record.pcr > s.pcr_last)
			s.pcr_last = record.pcr;
		if (!check_record(path, &record, bank, s.mismatches < MISMATCH_REPORT_MAX) &&
		    s.mismatches++ == 0) {
			s.first_mismatch = record.number;
			s.first_mismatch_offset = record.offset;
		}
	}
	if (r < 0)
		errx(1, "%s: %s", path, errbuf);
	if (s.mismatches > MISMATCH_REPORT_MAX)
		warnx("%s: %lu more records do not match their stored "
		      "template digests",
		      path, s.mismatches - MISMATCH_REPORT_MAX);
	ima_parse_free(parse);
	*ret = s;
}

static int dump(const char *path)
{
	char errbuf[ERRBUF_SIZE];
	struct ima_record record;
	struct ima_parse *parse;
	uint8_t *buf;
	size_t len;
	int r;

	buf = readlog(path, &len);
	parse = xparse(path, buf, len);
	while ((r = ima_parse_next(parse, &record, errbuf, sizeof(errbuf))) > 0) {
		if (ima_record_print(stdout, &record) < 0)
			err(1, "stdout");
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		err(1, "stdout");
	if (r < 0)
		errx(1, "%s: %s", path, errbuf);
	ima_parse_free(parse);
	free(buf);
	return 0;
}

/* Replay the list into BANKS (COUNT of them) under RULES. */
static void replay_into(const char *path, const uint8_t *buf, size_t len, struct pcr_bank *banks,
			const enum pcr_bank_rule *rules, unsigned int count)
{
	struct ima_parse *parse = xparse(path, buf, len);
	char errbuf[ERRBUF_SIZE];
	struct ima_record record;
	int r;

	while ((r = ima_parse_next(parse, &record, errbuf, sizeof(errbuf))) > 0) {
		for (unsigned int i = 0; i < count; i++) {
			r = pcr_bank_extend_record(&banks[i], &record, rules[i]);
			if (r < 0)
				errx(1, "%s: record %lu: %s extend failed: %s", path, record.number,
				     hash_algo_name(banks[i].algo), strerror(-r));
		}
	}
	if (r < 0)
		errx(1, "%s: %s", path, errbuf);
	ima_parse_free(parse);
}

static void write_bank_file(const struct pcr_bank *bank, unsigned int first, unsigned int last)
{
	char name[4096];
	FILE *out;
	int fd, n;

	n = snprintf(name, sizeof(name), "%s_%s", arg_output, hash_algo_name(bank->algo));
	if (n < 0 || (size_t)n >= sizeof(name))
		errx(1, "%s: output file name too long", arg_output);
	fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		err(1, "%s", name);
	out = fdopen(fd, "w");
	if (!out)
		err(1, "%s", name);
	if (pcr_bank_write(out, bank, first, last) < 0 || fclose(out) != 0)
		err(1, "%s", name);
}

static int replay(const char *path)
{
	enum pcr_bank_rule rules[PCR_BANK_SET_MAX];
	struct pcr_bank banks[PCR_BANK_SET_MAX];
	unsigned int first = 0, last;
	struct scan s;
	uint8_t *buf;
	size_t len;

	if (arg_bank_count == 0)
		add_banks("sha1,sha256");
	buf = readlog(path, &len);
	scan(path, buf, len, &s);
	if (s.mismatches)
		errx(1,
		     "%s: %lu of %lu records do not match their stored template digests; "
		     "no PCR values printed",
		     path, s.mismatches, s.records);

	for (unsigned int i = 0; i < arg_bank_count; i++) {
		if (pcr_bank_init(&banks[i], arg_banks[i]) < 0)
			errx(1, "bank %s has no known digest size", hash_algo_name(arg_banks[i]));
		rules[i] = PCR_BANK_PER_BANK;
	}
	replay_into(path, buf, len, banks, rules, arg_bank_count);

	last = s.pcr_last > PCR_BANK_TPM_PCRS - 1 ? s.pcr_last : PCR_BANK_TPM_PCRS - 1;
	if (arg_pcr >= 0)
		first = last = (unsigned int)arg_pcr;
	for (unsigned int i = 0; i < arg_bank_count; i++) {
		if (arg_output) {
			write_bank_file(&banks[i], first, last);
			continue;
		}
		if (arg_bank_count > 1)
			printf("# %s\n", hash_algo_name(banks[i].algo));
		if (pcr_bank_write(stdout, &banks[i], first, last) < 0)
			err(1, "stdout");
	}
	if (fflush(stdout) != 0)
		err(1, "stdout");
	free(buf);
	return 0;
}

/* True when every PCR in USED has the same value in REPLAYED and EXPECTED. */
static bool bank_matches(const struct pcr_bank *replayed, const struct pcr_bank *expected,
			 uint64_t used)
{
	for (unsigned int pcr = 0; pcr < IMA_PCR_MAX; pcr++) {
		if ((used & (UINT64_C(1) << pcr)) && !pcr_bank_equal(replayed, expected, pcr))
			return false;
	}
	return true;
}

/* Match positions (record numbers, 0 = none) of one expected bank under each rule. */
struct bank_result {
	unsigned long per_bank;
	unsigned long padded;
	unsigned long stored;
	struct pcr_bank final; /* per-bank replay after the last record */
};

/*
 * Replay record by record and note, for every expected bank, the first
 * record after which all PCRs in USED equal the expected values.
 */
static void find_matches(const char *path, const uint8_t *buf, size_t len, uint64_t used,
			 struct bank_result *results)
{
	struct pcr_bank replay[PCR_BANK_SET_MAX][3];
	static const enum pcr_bank_rule rules[3] = { PCR_BANK_PER_BANK, PCR_BANK_PADDED_SHA1,
						     PCR_BANK_STORED };
	struct ima_parse *parse = xparse(path, buf, len);
	enum hash_algo bank = log_bank(path);
	char errbuf[ERRBUF_SIZE];
	struct ima_record record;
	int r;

	for (unsigned int i = 0; i < arg_expected_count; i++) {
		for (unsigned int k = 0; k < 3; k++)
			pcr_bank_init(&replay[i][k], arg_expected[i].algo);
		results[i] = (struct bank_result){ 0 };
	}
	while ((r = ima_parse_next(parse, &record, errbuf, sizeof(errbuf))) > 0) {
		for (unsigned int i = 0; i < arg_expected_count; i++) {
			unsigned long *found[3] = { &results[i].per_bank, &results[i].padded,
						    &results[i].stored };

			for (unsigned int k = 0; k < 3; k++) {
				if (k == 1 && arg_expected[i].algo == HASH_SHA1)
					continue; /* for sha1 the padded rule equals the per-bank rule */
				if (k == 2 && arg_expected[i].algo != bank)
					continue; /* stored digests exist for the list's bank */
				r = pcr_bank_extend_record(&replay[i][k], &record, rules[k]);
				if (r < 0)
					errx(1, "%s: record %lu: %s extend failed: %s", path,
					     record.number, hash_algo_name(arg_expected[i].algo),
					     strerror(-r));
				if (!*found[k] &&
				    bank_matches(&replay[i][k], &arg_expected[i], used))
					*found[k] = record.number;
			}
		}
	}
	if (r < 0)
		errx(1, "%s: %s", path, errbuf);
	for (unsigned int i = 0; i < arg_expected_count; i++)
		results[i].final = replay[i][0];
	ima_parse_free(parse);
}

/* Print the "verified:" lines of one bank that matched after record AT. */
static void report_match(const struct pcr_bank *expected, uint64_t used, unsigned long at,
			 unsigned long records, const char *rule)
{
	for (unsigned int pcr = 0; pcr < IMA_PCR_MAX; pcr++) {
		if (used & (UINT64_C(1) << pcr))
			printf("verified: PCR-%02u %s matches after record %lu of %lu%s\n", pcr,
			       hash_algo_name(expected->algo), at, records, rule);
	}
	if (at < records)
		printf("note: records %lu to %lu came after these PCR values and are not "
		       "covered by them\n",
		       at + 1, records);
}

static void report_mismatch(const char *path, const struct pcr_bank *expected, uint64_t used,
			    const struct bank_result *result, const struct scan *s)
{
	const char *algo = hash_algo_name(expected->algo);

	for (unsigned int pcr = 0; pcr < IMA_PCR_MAX; pcr++) {
		if (!(used & (UINT64_C(1) << pcr)))
			continue;
		if (pcr_bank_equal(&result->final, expected, pcr)) {
			warnx("%s: PCR-%02u %s: expected value reached after the last record, "
			      "but no record position matches all PCRs of the bank",
			      path, pcr, algo);
			continue;
		}
		warnx("%s: PCR-%02u %s: the expected value is not reached after any record; "
		      "after the last record (%lu) the replay gives %s, expected %s",
		      path, pcr, algo, s->records,
		      to_hex(result->final.value[pcr], expected->size).text,
		      to_hex(expected->value[pcr], expected->size).text);
	}
	if (result->stored && s->mismatches)
		warnx("%s: %s: the stored template digests do reach the "
		      "expected values after record %lu, so the template data of the "
		      "records reported above changed after it was measured",
		      path, algo, result->stored);
	else if (!s->mismatches)
		warnx("%s: %s: every stored template digest matches its "
		      "template data, so these PCR values belong to another list, or "
		      "records were removed, reordered or rewritten with new digests",
		      path, algo);
}

static int verify(const char *path)
{
	struct bank_result results[PCR_BANK_SET_MAX];
	bool ok;
	struct scan s;
	uint8_t *buf;
	size_t len;

	buf = readlog(path, &len);
	scan(path, buf, len, &s);
	if (s.records == 0)
		errx(1, "%s: the list has no records, so there is nothing to verify", path);
	for (unsigned int i = 0; i < arg_expected_count; i++) {
		uint64_t missing = s.pcrs_used & ~arg_expected[i].present;

		if (missing)
			errx(1,
			     "%s: the list extends PCR %d, which the %s PCR values given do "
			     "not contain",
			     path, __builtin_ctzll(missing), hash_algo_name(arg_expected[i].algo));
	}

	find_matches(path, buf, len, s.pcrs_used, results);
	ok = s.mismatches == 0;
	for (unsigned int i = 0; i < arg_expected_count; i++)
		ok = ok && (results[i].per_bank || results[i].padded);

	for (unsigned int i = 0; i < arg_expected_count; i++) {
		const struct bank_result *result = &results[i];
		unsigned long at = result->per_bank ? result->per_bank : result->padded;
		const char *rule = result->per_bank ? ""
						    : " (pre-5.8 kernel rule: zero-padded "
						      "SHA-1 template digests)";

		if (!at)
			report_mismatch(path, &arg_expected[i], s.pcrs_used, result, &s);
		else if (ok)
			report_match(&arg_expected[i], s.pcrs_used, at, s.records, rule);
		else
			warnx("%s: %s: the PCR values are reached after "
			      "record %lu of %lu%s, but the other checks failed",
			      path, hash_algo_name(arg_expected[i].algo), at, s.records, rule);
	}
	if (s.mismatches)
		warnx("%s: %lu of %lu records do not match their stored template "
		      "digests; the first is record %lu at byte offset %zu",
		      path, s.mismatches, s.records, s.first_mismatch, s.first_mismatch_offset);
	if (fflush(stdout) != 0)
		err(1, "stdout");
	free(buf);
	if (!ok)
		warnx("%s: verification failed", path);
	return ok ? 0 : 1;
}

/* Read the sha1 and sha256 PCRs 0 to 23 from the TPM at arg_tpm as expected values. */
static void add_tpm_pcrs(void)
{
	struct pcr_bank banks[EVIDENCE_BANKS];
	char errbuf[ERRBUF_SIZE];
	unsigned int count;

	if (tpm_quote_read_pcrs(arg_tpm, (UINT64_C(1) << TPM_QUOTE_PCRS) - 1, banks, &count, errbuf,
				sizeof(errbuf)) < 0)
		errx(1, "%s", errbuf);
	for (unsigned int i = 0; i < count; i++) {
		if (pcr_bank_find(arg_expected, arg_expected_count, banks[i].algo))
			usage("--pcrs and --tpm give the same bank; give one of them");
		if (arg_expected_count == PCR_BANK_SET_MAX)
			usage("too many banks: at most 8");
		arg_expected[arg_expected_count++] = banks[i];
	}
}

/* Length of the whole records at the start of the list BUF; the rest is still being written. */
static size_t whole_records(const char *path, const uint8_t *buf, size_t len, enum hash_algo bank,
			    unsigned long *ret_records)
{
	struct ima_parse *parse = ima_parse_new(buf, len, bank, arg_order);
	char errbuf[ERRBUF_SIZE];
	struct ima_record record;
	size_t end = 0;

	if (!parse)
		err(1, "%s", path);
	*ret_records = 0;
	while (ima_parse_next(parse, &record, errbuf, sizeof(errbuf)) > 0) {
		end = record.offset + record.size;
		(*ret_records)++;
	}
	ima_parse_free(parse);
	return end;
}

static void write_evidence(const struct evidence *ev)
{
	FILE *out;
	int fd;

	fd = open(arg_output, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		err(1, "%s", arg_output);
	out = fdopen(fd, "w");
	if (!out)
		err(1, "%s", arg_output);
	if (evidence_write(out, ev) < 0 || fflush(out) != 0 || fsync(fd) < 0)
		err(1, "%s", arg_output);
	if (fclose(out) != 0)
		err(1, "%s", arg_output);
}

static int quote(void)
{
	uint64_t mask = arg_pcr_mask ? arg_pcr_mask : UINT64_C(1) << 10;
	char errbuf[ERRBUF_SIZE], path[4096];
	const char *list = KERNEL_LIST;
	struct evidence ev = { 0 };
	unsigned long records;
	size_t len, whole;
	int n;

	if (arg_log) {
		list = arg_log;
	} else if (arg_runtime_dir) {
		n = snprintf(path, sizeof(path), "%s/binary_runtime_measurements", arg_runtime_dir);
		if (n < 0 || (size_t)n >= sizeof(path))
			errx(1, "%s: runtime directory name too long", arg_runtime_dir);
		list = path;
	}

	if (tpm_quote_take(arg_tpm, arg_ak_context, arg_nonce, arg_nonce_len, mask, &ev, errbuf,
			   sizeof(errbuf)) < 0)
		errx(1, "%s", errbuf);

	/* After the quote (invariant 3). */
	ev.log = readlog(list, &len);
	ev.log_bank = log_bank(list);
	whole = whole_records(list, ev.log, len, ev.log_bank, &records);
	if (whole < len)
		warnx("%s: left out the last %zu bytes, which are not a whole record: a record "
		      "still being written, which the quote cannot cover, or a damaged list",
		      list, len - whole);
	ev.log_len = whole;
	write_evidence(&ev);

	printf("quoted PCR mask 0x%06llx in %u bank%s; list '%s' of %lu records; wrote '%s'\n",
	       (unsigned long long)mask, ev.bank_count, ev.bank_count > 1 ? "s" : "", list,
	       records, arg_output);
	evidence_clear(&ev);
	if (fflush(stdout) != 0)
		err(1, "stdout");
	return 0;
}

/* Read the PEM file of --ak-public as a string. */
static char *read_pem(const char *path)
{
	size_t len;
	uint8_t *buf = readlog(path, &len);
	char *pem = malloc(len + 1);

	if (!pem)
		err(1, "%s", path);
	memcpy(pem, buf, len);
	pem[len] = '\0';
	free(buf);
	return pem;
}

static struct allowlist *load_allowlist(void)
{
	struct allowlist_error error;
	struct allowlist *allow;
	int r;

	r = allowlist_load_file(arg_allowlist, &allow, &error);
	if (r < 0) {
		if (error.line)
			errx(1, "%s: line %u: %s", error.origin, error.line, error.message);
		errx(1, "%s: %s", arg_allowlist, error.message[0] ? error.message : strerror(-r));
	}
	return allow;
}

static void report_evidence(const struct evidence *ev, const struct evidence_quote_info *info,
			    const struct evidence_log_result *res)
{
	printf("quote: the %s signature by the AK (%s) verifies; TPM clock %llu ms, "
	       "reset count %u, restart count %u\n",
	       info->scheme, info->key, (unsigned long long)info->clock, info->reset_count,
	       info->restart_count);
	printf("nonce: %s %s\n", to_hex(ev->nonce, ev->nonce_len).text,
	       arg_nonce_len ? "matches --nonce"
			     : "(not checked: give --nonce to check freshness)");
	for (unsigned int pcr = 0; pcr < IMA_PCR_MAX; pcr++) {
		if (!(res->pcrs_used & (UINT64_C(1) << pcr)))
			continue;
		for (unsigned int b = 0; b < ev->bank_count; b++)
			printf("verified: PCR-%02u %s matches after record %lu of %lu\n", pcr,
			       hash_algo_name(ev->banks[b].algo), res->matched_at, res->records);
	}
	if (res->matched_at < res->records)
		printf("note: records %lu to %lu came after the quote and are not covered by it\n",
		       res->matched_at + 1, res->records);
	if (arg_allowlist)
		printf("allowlist: all %lu file records the quote covers are in '%s'\n",
		       res->files_checked, arg_allowlist);
	else if (res->violations)
		printf("note: %lu of the covered records are violations (ToMToU or open_writers)\n",
		       res->violations);
}

static int verify_evidence(void)
{
	struct allowlist *allow = NULL;
	struct evidence_quote_info info;
	struct evidence_log_result res;
	char errbuf[2 * ERRBUF_SIZE];
	struct evidence ev;
	char *trusted = NULL;
	uint8_t *buf;
	size_t len;
	int r;

	buf = readlog(arg_evidence, &len);
	r = evidence_parse((const char *)buf, len, arg_evidence, &ev, errbuf, sizeof(errbuf));
	free(buf);
	if (r < 0)
		errx(1, "%s", errbuf);
	if (arg_nonce_len && (arg_nonce_len != ev.nonce_len ||
			      CRYPTO_memcmp(arg_nonce, ev.nonce, ev.nonce_len) != 0)) {
		warnx("%s: the evidence answers nonce %s, not %s: it is stale or replayed",
		      arg_evidence, to_hex(ev.nonce, ev.nonce_len).text,
		      to_hex(arg_nonce, arg_nonce_len).text);
		r = -EBADMSG;
		goto out_clear;
	}
	if (arg_ak_public)
		trusted = read_pem(arg_ak_public);
	r = evidence_check_quote(&ev, trusted, &info, errbuf, sizeof(errbuf));
	if (r < 0) {
		warnx("%s: %s", arg_evidence, errbuf);
		goto out_clear;
	}
	if (arg_allowlist)
		allow = load_allowlist();
	r = evidence_check_log(&ev, allow, &res, errbuf, sizeof(errbuf));
	if (r < 0) {
		warnx("%s: %s", arg_evidence, errbuf);
		goto out_clear;
	}
	report_evidence(&ev, &info, &res);
	if (fflush(stdout) != 0)
		err(1, "stdout");
out_clear:
	allowlist_free(allow);
	free(trusted);
	evidence_clear(&ev);
	if (r < 0)
		warnx("%s: verification failed", arg_evidence);
	return r < 0 ? 1 : 0;
}

/* Parse --pcr: one PCR for replay, a comma-separated list for quote. */
static void parse_pcr_option(enum verb verb, const char *arg)
{
	char *copy = strdup(arg);
	char *save = NULL;

	if (!copy)
		err(1, "strdup");
	for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		unsigned int limit = verb == VERB_QUOTE ? TPM_QUOTE_PCRS : IMA_PCR_MAX;
		char *end;
		long pcr;

		errno = 0;
		pcr = strtol(item, &end, 10);
		if (errno || *end || end == item || pcr < 0 || pcr >= (long)limit)
			usage(verb == VERB_QUOTE
				      ? "--pcr takes PCR numbers from 0 to 23, such as 10 or 10,11"
				      : "--pcr takes a PCR number from 0 to 63");
		arg_pcr = (int)pcr;
		arg_pcr_mask |= UINT64_C(1) << pcr;
	}
	free(copy);
	if (verb == VERB_REPLAY && __builtin_popcountll(arg_pcr_mask) != 1)
		usage("replay --pcr takes one PCR number");
}

static void parse_nonce(const char *arg)
{
	int n = evidence_parse_hex(arg, arg_nonce, sizeof(arg_nonce));

	if (n <= 0)
		usage("--nonce takes 1 to 64 bytes in hex, such as the output of "
		      "'openssl rand -hex 20'");
	arg_nonce_len = (size_t)n;
}

/* Options each verb takes; each list ends with 0. */
static bool verb_takes(enum verb verb, int option)
{
	static const int dump[] = { OPT_BANK, OPT_LOG_BANK, OPT_BIG_ENDIAN, OPT_AUTO_ENDIAN, 0 };
	static const int replay[] = { OPT_BANK, OPT_LOG_BANK, OPT_BIG_ENDIAN, OPT_AUTO_ENDIAN,
				      OPT_PCR, 'o', 0 };
	static const int verify[] = { OPT_LOG_BANK, OPT_BIG_ENDIAN, OPT_AUTO_ENDIAN, OPT_PCRS,
				      OPT_TPM, OPT_EVIDENCE, OPT_NONCE, OPT_ALLOWLIST,
				      OPT_AK_PUBLIC, 0 };
	static const int quote[] = { OPT_TPM, OPT_AK_CONTEXT, OPT_AK_CREATE, OPT_NONCE, OPT_PCR,
				     OPT_RUNTIME_DIR, OPT_LOG, OPT_BIG_ENDIAN, OPT_AUTO_ENDIAN,
				     'o', 0 };
	static const int *const table[VERB__MAX] = {
		[VERB_DUMP] = dump, [VERB_REPLAY] = replay, [VERB_VERIFY] = verify,
		[VERB_QUOTE] = quote,
	};

	for (const int *p = table[verb]; *p; p++) {
		if (*p == option)
			return true;
	}
	return false;
}

static void parse_options(enum verb verb, int argc, char **argv)
{
	static const struct option options[] = {
		{ "bank", required_argument, NULL, OPT_BANK },
		{ "log-bank", required_argument, NULL, OPT_LOG_BANK },
		{ "big-endian", no_argument, NULL, OPT_BIG_ENDIAN },
		{ "auto-endian", no_argument, NULL, OPT_AUTO_ENDIAN },
		{ "pcr", required_argument, NULL, OPT_PCR },
		{ "pcrs", required_argument, NULL, OPT_PCRS },
		{ "tpm", required_argument, NULL, OPT_TPM },
		{ "ak-context", required_argument, NULL, OPT_AK_CONTEXT },
		{ "ak-create", no_argument, NULL, OPT_AK_CREATE },
		{ "nonce", required_argument, NULL, OPT_NONCE },
		{ "runtime-dir", required_argument, NULL, OPT_RUNTIME_DIR },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "evidence", required_argument, NULL, OPT_EVIDENCE },
		{ "allowlist", required_argument, NULL, OPT_ALLOWLIST },
		{ "ak-public", required_argument, NULL, OPT_AK_PUBLIC },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool order_set = false;
	int c;

	while ((c = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
		if (c == 'h')
			help();
		if (c == '?')
			usage(NULL);
		if (!verb_takes(verb, c)) {
			const char *name = "-o";

			for (const struct option *o = options; o->name; o++) {
				if (o->val == c)
					name = o->name;
			}
			warnx("option '%s%s' does not apply to %s", c == 'o' ? "" : "--", name,
			      argv[0]);
			usage(NULL);
		}
		switch (c) {
		case OPT_BANK:
			if (verb == VERB_DUMP) {
				arg_log_bank = parse_algo(optarg);
				arg_log_bank_set = true;
			} else {
				add_banks(optarg);
			}
			break;
		case OPT_LOG_BANK:
			arg_log_bank = parse_algo(optarg);
			arg_log_bank_set = true;
			break;
		case OPT_BIG_ENDIAN:
		case OPT_AUTO_ENDIAN:
			if (order_set)
				usage("give one of --big-endian and --auto-endian");
			order_set = true;
			arg_order = c == OPT_BIG_ENDIAN ? IMA_ORDER_BIG : IMA_ORDER_AUTO;
			break;
		case OPT_PCR:
			parse_pcr_option(verb, optarg);
			break;
		case OPT_PCRS:
			add_pcrs(optarg);
			break;
		case OPT_TPM:
			arg_tpm = optarg;
			break;
		case OPT_AK_CONTEXT:
			arg_ak_context = optarg;
			break;
		case OPT_AK_CREATE:
			arg_ak_create = true;
			break;
		case OPT_NONCE:
			parse_nonce(optarg);
			break;
		case OPT_RUNTIME_DIR:
			arg_runtime_dir = optarg;
			break;
		case OPT_LOG:
			arg_log = optarg;
			break;
		case OPT_EVIDENCE:
			arg_evidence = optarg;
			break;
		case OPT_ALLOWLIST:
			arg_allowlist = optarg;
			break;
		case OPT_AK_PUBLIC:
			arg_ak_public = optarg;
			break;
		case 'o':
			arg_output = optarg;
			break;
		default:
			usage(NULL);
		}
	}
}

/* Check the combinations of options and return the number of list files VERB takes. */
static int check_options(enum verb verb)
{
	if (verb == VERB_QUOTE) {
		if (!arg_tpm)
			usage("quote needs --tpm TCTI");
		if (!arg_ak_context == !arg_ak_create)
			usage("quote needs one of --ak-context FILE and --ak-create");
		if (!arg_nonce_len)
			usage("quote needs --nonce HEX, the verifier's challenge");
		if (!arg_output)
			usage("quote needs -o EVIDENCE, the evidence file to write");
		if (arg_runtime_dir && arg_log)
			usage("give one of --runtime-dir and --log");
		return 0;
	}
	if (verb != VERB_VERIFY)
		return 1;
	if (arg_evidence) {
		if (arg_tpm || arg_expected_count || arg_log_bank_set)
			usage("verify --evidence takes the PCR values and the list from the "
			      "evidence file; leave out --pcrs, --tpm and --log-bank");
		return 0;
	}
	if (arg_nonce_len || arg_allowlist || arg_ak_public)
		usage("--nonce, --allowlist and --ak-public apply to verify --evidence");
	if (arg_tpm)
		add_tpm_pcrs();
	if (arg_expected_count == 0)
		usage("verify needs PCR values: --pcrs [ALGO,]FILE, --tpm TCTI or --evidence FILE");
	return 1;
}

int main(int argc, char *argv[])
{
	static const char *const verbs[VERB__MAX] = {
		[VERB_DUMP] = "dump",
		[VERB_REPLAY] = "replay",
		[VERB_VERIFY] = "verify",
		[VERB_QUOTE] = "quote",
	};
	enum verb verb;
	unsigned int i;
	int files;

	if (argc < 2)
		usage(NULL);
	for (i = 0; i < VERB__MAX && strcmp(argv[1], verbs[i]) != 0; i++)
		;
	if (i == VERB__MAX) {
		if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
			help();
		warnx("unknown command '%s'", argv[1]);
		usage(NULL);
	}
	verb = (enum verb)i;

	parse_options(verb, argc - 1, argv + 1);
	files = check_options(verb);
	if (files == 0 && optind != argc - 1)
		usage("this command takes no list file argument");
	if (files == 1 && optind != argc - 2)
		usage(optind == argc - 1 ? "no list file given" : "more than one list file given");

	switch (verb) {
	case VERB_DUMP:
		return dump(argv[argc - 1]);
	case VERB_REPLAY:
		return replay(argv[argc - 1]);
	case VERB_VERIFY:
		return arg_evidence ? verify_evidence() : verify(argv[argc - 1]);
	case VERB_QUOTE:
		return quote();
	case VERB__MAX:
		break;
	}
	return 2;
}
