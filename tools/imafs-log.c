/* SPDX-License-Identifier: Apache-2.0 */
/*
 * imafs-log: read binary IMA measurement lists (the kernel's or imafs's).
 *
 *   dump    print the list in the kernel's ASCII format
 *   replay  recompute the PCR values the list produces, per bank
 *   verify  replay and compare with PCR values read from a TPM
 *
 * Invariants:
 *  1. Fail closed: a malformed record, a stored template digest that differs
 *     from the digest of its template data, or a PCR value the list does not
 *     reach makes the command exit 1. verify prints "verified:" lines only
 *     when every bank given matched and every record checked out.
 *  2. Template digests are always recomputed from the template data; stored
 *     digests are only compared with them, or replayed to locate a change.
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

#include "core/hash.h"
#include "tools/ima_parse.h"
#include "tools/pcr_bank.h"

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
};

enum verb { VERB_DUMP, VERB_REPLAY, VERB_VERIFY };

static enum ima_byte_order arg_order = IMA_ORDER_LITTLE;
static bool arg_log_bank_set;
static enum hash_algo arg_log_bank;
static enum hash_algo arg_banks[PCR_BANK_SET_MAX];
static unsigned int arg_bank_count;
static int arg_pcr = -1;
static const char *arg_output;
static struct pcr_bank arg_expected[PCR_BANK_SET_MAX];
static unsigned int arg_expected_count;

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
		"        'PCR-NN: hex', bank ALGO, default sha1); a match after any record\n"
		"        counts, since a list may be longer than the quote\n"
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

	if (arg_expected_count == 0)
		usage("verify needs PCR values: --pcrs [ALGO,]FILE");
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

static void parse_options(enum verb verb, int argc, char **argv)
{
	static const struct option options[] = {
		{ "bank", required_argument, NULL, OPT_BANK },
		{ "log-bank", required_argument, NULL, OPT_LOG_BANK },
		{ "big-endian", no_argument, NULL, OPT_BIG_ENDIAN },
		{ "auto-endian", no_argument, NULL, OPT_AUTO_ENDIAN },
		{ "pcr", required_argument, NULL, OPT_PCR },
		{ "pcrs", required_argument, NULL, OPT_PCRS },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool order_set = false;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
		switch (c) {
		case OPT_BANK:
			if (verb == VERB_VERIFY)
				usage("verify takes its banks from --pcrs");
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
			if (verb != VERB_REPLAY)
				usage("--pcr is an option of replay");
			errno = 0;
			arg_pcr = (int)strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || arg_pcr < 0 || arg_pcr >= IMA_PCR_MAX)
				usage("--pcr takes a PCR number from 0 to 63");
			break;
		case OPT_PCRS:
			if (verb != VERB_VERIFY)
				usage("--pcrs is an option of verify");
			add_pcrs(optarg);
			break;
		case 'o':
			if (verb != VERB_REPLAY)
				usage("-o is an option of replay");
			arg_output = optarg;
			break;
		case 'h':
			help();
		default:
			usage(NULL);
		}
	}
}

int main(int argc, char *argv[])
{
	static const char *const verbs[] = {
		[VERB_DUMP] = "dump", [VERB_REPLAY] = "replay", [VERB_VERIFY] = "verify"
	};
	enum verb verb;
	unsigned int i;

	if (argc < 2)
		usage(NULL);
	for (i = 0; i < 3 && strcmp(argv[1], verbs[i]) != 0; i++)
		;
	if (i == 3) {
		if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
			help();
		warnx("unknown command '%s'", argv[1]);
		usage(NULL);
	}
	verb = (enum verb)i;

	parse_options(verb, argc - 1, argv + 1);
	if (optind != argc - 2)
		usage(optind == argc - 1 ? "no list file given" : "more than one list file given");

	switch (verb) {
	case VERB_DUMP:
		return dump(argv[argc - 1]);
	case VERB_REPLAY:
		return replay(argv[argc - 1]);
	case VERB_VERIFY:
		return verify(argv[argc - 1]);
	}
	return 2;
}
