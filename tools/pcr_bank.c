/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCR banks for replaying IMA measurement lists, and the "PCR-NN: hex" text
 * format of evmctl's --pcrs files.
 *
 * Invariants:
 *  1. A bank's values are always exactly SIZE bytes; bytes past SIZE stay 0.
 *  2. A violation never extends its stored zero digest: the kernel extends
 *     ff bytes instead, and a replay that extended zeros would never match.
 *
 * Locking: none. Ownership: banks are caller-owned values.
 */
#include "tools/pcr_bank.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int pcr_bank_init(struct pcr_bank *bank, enum hash_algo algo)
{
	unsigned int size = hash_algo_size(algo);

	if (!size)
		return -EINVAL;
	memset(bank, 0, sizeof(*bank));
	bank->algo = algo;
	bank->size = size;
	return 0;
}

int pcr_bank_extend(struct pcr_bank *bank, unsigned int pcr, const uint8_t *value)
{
	uint8_t buf[2 * HASH_MAX_DIGEST_SIZE];
	struct hash_digest digest;
	int r;

	if (pcr >= IMA_PCR_MAX)
		return -EINVAL;
	memcpy(buf, bank->value[pcr], bank->size);
	memcpy(buf + bank->size, value, bank->size);
	r = hash_buffer(bank->algo, buf, 2 * (size_t)bank->size, &digest);
	if (r < 0)
		return r;
	memcpy(bank->value[pcr], digest.bytes, bank->size);
	bank->present |= UINT64_C(1) << pcr;
	return 0;
}

int pcr_bank_extend_record(struct pcr_bank *bank, const struct ima_record *record,
			   enum pcr_bank_rule rule)
{
	uint8_t value[HASH_MAX_DIGEST_SIZE] = { 0 };
	struct hash_digest digest;
	int r;

	switch (rule) {
	case PCR_BANK_PER_BANK:
		if (record->violation) {
			memset(value, 0xff, bank->size);
			break;
		}
		r = ima_record_digest(record, bank->algo, &digest);
		if (r < 0)
			return r;
		memcpy(value, digest.bytes, bank->size);
		break;
	case PCR_BANK_PADDED_SHA1:
		if (record->violation) {
			memset(value, 0xff, 20);
			break;
		}
		r = ima_record_digest(record, HASH_SHA1, &digest);
		if (r < 0)
			return r;
		memcpy(value, digest.bytes, digest.len < bank->size ? digest.len : bank->size);
		break;
	case PCR_BANK_STORED:
		if (record->digest_size != bank->size)
			return -EINVAL;
		if (record->violation)
			memset(value, 0xff, bank->size);
		else
			memcpy(value, record->digest, bank->size);
		break;
	}
	return pcr_bank_extend(bank, record->pcr, value);
}

bool pcr_bank_equal(const struct pcr_bank *a, const struct pcr_bank *b, unsigned int pcr)
{
	return a->size == b->size && !memcmp(a->value[pcr], b->value[pcr], a->size);
}

int pcr_bank_write(FILE *out, const struct pcr_bank *bank, unsigned int first, unsigned int last)
{
	char hex[2 * HASH_MAX_DIGEST_SIZE + 1];

	for (unsigned int pcr = first; pcr <= last && pcr < IMA_PCR_MAX; pcr++) {
		hash_to_hex(bank->value[pcr], bank->size, hex);
		fprintf(out, "PCR-%02u: %s\n", pcr, hex);
	}
	return ferror(out) ? -EIO : 0;
}

struct pcr_bank *pcr_bank_find(struct pcr_bank *banks, unsigned int count, enum hash_algo algo)
{
	for (unsigned int i = 0; i < count; i++) {
		if (banks[i].algo == algo)
			return &banks[i];
	}
	return NULL;
}

static struct pcr_bank *bank_get(struct pcr_bank *banks, unsigned int *count, enum hash_algo algo)
{
	struct pcr_bank *bank = pcr_bank_find(banks, *count, algo);

	if (bank)
		return bank;
	if (*count == PCR_BANK_SET_MAX || pcr_bank_init(&banks[*count], algo) < 0)
		return NULL;
	return &banks[(*count)++];
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parse "PCR-NN<sep>hex" into BANK. Returns NULL or the defect. */
static const char *parse_pcr_line(const char *line, struct pcr_bank *bank)
{
	uint8_t value[HASH_MAX_DIGEST_SIZE];
	unsigned int pcr = 0, digits = 0, len = 0;
	const char *p = line + 4;

	if (strncmp(line, "PCR-", 4) != 0)
		return "is not a 'PCR-NN: hex' line";
	for (; isdigit((unsigned char)*p) && digits < 2; p++, digits++)
		pcr = pcr * 10 + (unsigned int)(*p - '0');
	if (digits == 0 || pcr >= IMA_PCR_MAX)
		return "has no PCR number from 00 to 63 after 'PCR-'";
	if (*p == '\0')
		return "has no value";
	p++; /* the separator, ':' in evmctl's files */

	while (*p) {
		int hi, lo;

		if (*p == ' ')
			p++;
		hi = hex_value((unsigned char)p[0]);
		lo = hi < 0 ? -1 : hex_value((unsigned char)p[1]);
		if (hi < 0 || lo < 0)
			return "has a value that is not hex bytes";
		if (len == bank->size)
			return "has a value longer than the bank's digest size";
		value[len++] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
	if (len != bank->size)
		return "has a value shorter than the bank's digest size";
	if (bank->present & (UINT64_C(1) << pcr))
		return "repeats a PCR already given for this bank";
	memcpy(bank->value[pcr], value, len);
	bank->present |= UINT64_C(1) << pcr;
	return NULL;
}

/* Read the algorithm of a "# <algo>" line; -EINVAL for any other comment. */
static int header_algo(const char *line, enum hash_algo *ret_algo)
{
	while (*line == '#' || *line == ' ')
		line++;
	return hash_algo_from_name(line, ret_algo);
}

int pcr_bank_read(FILE *in, const char *name, enum hash_algo algo, struct pcr_bank *banks,
		  unsigned int *count, char *errbuf, size_t errlen)
{
	struct pcr_bank *bank = NULL;
	unsigned long lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int r = 0;

	while ((n = getline(&line, &cap, in)) >= 0) {
		const char *defect;
		enum hash_algo header;

		lineno++;
		while (n > 0 && strchr("\n\r\t ", line[n - 1]))
			line[--n] = '\0';
		if (line[0] == '#') {
			if (header_algo(line, &header) == 0) {
				algo = header;
				bank = NULL;
			}
			continue;
		}
		if (n == 0)
			continue;
		if (!bank)
			bank = bank_get(banks, count, algo);
		if (!bank) {
			snprintf(errbuf, errlen, "%s:%lu: too many banks, or bank '%s' unknown",
				 name, lineno, hash_algo_name(algo) ? hash_algo_name(algo) : "?");
			r = -EINVAL;
			goto out_free_line;
		}
		defect = parse_pcr_line(line, bank);
		if (defect) {
			snprintf(errbuf, errlen, "%s:%lu: line '%.40s' %s (%s, %u bytes)", name,
				 lineno, line, defect, hash_algo_name(bank->algo), bank->size);
			r = -EINVAL;
			goto out_free_line;
		}
	}
	if (ferror(in)) {
		snprintf(errbuf, errlen, "%s: read failed: %s", name, strerror(errno));
		r = -EIO;
	}
out_free_line:
	free(line);
	return r;
}
