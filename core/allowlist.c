/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Digest sets from sha256sum-style lists. Parsing collects every digest in
 * ENTRIES, then an open-addressing hash table (linear probing) indexes the
 * distinct ones. Lookups compare digests with CRYPTO_memcmp(), so the time a
 * lookup takes does not depend on how many leading bytes of a digest match.
 *
 * Invariants:
 *  1. SLOTS has a power-of-two size of at least twice the entry count, so
 *     the table always has an empty slot and every probe sequence ends.
 *  2. A slot contains 0 (empty) or 1 + the index of an entry. No two slots
 *     name equal (algorithm, digest) pairs.
 *  3. Every entry's LEN equals hash_algo_size() of its ALGO.
 *
 * Locking: none; a set is immutable once a loader returns it.
 *
 * Ownership: the set owns ENTRIES and SLOTS.
 */
#include "core/allowlist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/log.h"

struct allowlist_entry {
	uint8_t algo; /* enum hash_algo */
	uint8_t len;
	uint8_t bytes[HASH_MAX_DIGEST_SIZE];
};

struct allowlist {
	struct allowlist_entry *entries;
	size_t count;    /* entries parsed, duplicates included */
	size_t distinct; /* entries indexed in SLOTS */
	uint32_t *slots;
	size_t slot_mask; /* number of slots - 1 */
	uint32_t algos;
};

/* Buffer size for a file name quoted by log_quote(), which truncates longer ones. */
#define ALLOWLIST_QUOTED_SIZE 600

/* Most entries a set can index: slot values are 1 + a 32-bit index. */
#define ALLOWLIST_MAX_ENTRIES (UINT32_MAX / 4)

static void allowlist_set_error(struct allowlist_error *reterr, const char *origin,
				unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void allowlist_set_error(struct allowlist_error *reterr, const char *origin,
				unsigned int line, const char *fmt, ...)
{
	char quoted[ALLOWLIST_QUOTED_SIZE];
	va_list ap;
	int n;

	if (!reterr)
		return;
	snprintf(reterr->origin, sizeof(reterr->origin), "%s", origin);
	reterr->line = line;
	log_quote(origin, quoted, sizeof(quoted));
	if (line)
		n = snprintf(reterr->message, sizeof(reterr->message), "%s line %u: ", quoted,
			     line);
	else
		n = snprintf(reterr->message, sizeof(reterr->message), "%s: ", quoted);
	if (n < 0 || (size_t)n >= sizeof(reterr->message))
		return;
	va_start(ap, fmt);
	vsnprintf(reterr->message + n, sizeof(reterr->message) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Algorithm of a digest of HEX_LEN hex digits, as the *sum tools print it. */
static int allowlist_algo_for_length(size_t hex_len, enum hash_algo *ret)
{
	switch (hex_len) {
	case 40:
		*ret = HASH_SHA1;
		return 0;
	case 64:
		*ret = HASH_SHA256;
		return 0;
	case 96:
		*ret = HASH_SHA384;
		return 0;
	case 128:
		*ret = HASH_SHA512;
		return 0;
	default:
		return -EINVAL;
	}
}

static int allowlist_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t allowlist_hash(enum hash_algo algo, const uint8_t *digest)
{
	uint64_t word;

	/* Digests are uniformly distributed, so their first bytes make a good hash. */
	memcpy(&word, digest, sizeof(word));
	return (size_t)((word ^ (uint64_t)algo) * 0x9e3779b97f4a7c15ull >> 16);
}

static bool allowlist_entry_equal(const struct allowlist_entry *entry, enum hash_algo algo,
				  const uint8_t *digest, size_t len)
{
	return entry->algo == (uint8_t)algo && entry->len == len &&
	       CRYPTO_memcmp(entry->bytes, digest, len) == 0;
}

/* Slot for DIGEST: the one naming it, or the empty slot where it would go. */
static size_t allowlist_probe(const struct allowlist *list, enum hash_algo algo,
			      const uint8_t *digest, size_t len)
{
	size_t i = allowlist_hash(algo, digest) & list->slot_mask;

	while (list->slots[i] &&
	       !allowlist_entry_equal(&list->entries[list->slots[i] - 1], algo, digest, len))
		i = (i + 1) & list->slot_mask;
	return i;
}

static int allowlist_index(struct allowlist *list)
{
	size_t size = 16;

	while (size < 2 * list->count)
		size *= 2;
	list->slots = calloc(size, sizeof(*list->slots));
	if (!list->slots)
		return -ENOMEM;
	list->slot_mask = size - 1;

	for (size_t i = 0; i < list->count; i++) {
		const struct allowlist_entry *entry = &list->entries[i];
		size_t slot = allowlist_probe(list, entry->algo, entry->bytes, entry->len);

		if (list->slots[slot])
			continue;
		list->slots[slot] = (uint32_t)(i + 1);
		list->distinct++;
		list->algos |= 1u << entry->algo;
	}
	return 0;
}

static int allowlist_push(struct allowlist *list, size_t *cap, const struct allowlist_entry *entry)
{
	if (list->count == ALLOWLIST_MAX_ENTRIES)
		return -E2BIG;
	if (list->count == *cap) {
		size_t grown_cap = *cap ? 2 * *cap : 64;
		struct allowlist_entry *grown;

		grown = reallocarray(list->entries, grown_cap, sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		list->entries = grown;
		*cap = grown_cap;
	}
	list->entries[list->count++] = *entry;
	return 0;
}

/*
 * Parse one line (without its line end) into *RET. Returns 1 for an entry,
 * 0 for a blank or comment line, -EINVAL with *RETERR filled for a bad one.
 */
static int allowlist_parse_line(const char *line, size_t len, const char *origin,
				unsigned int line_no, struct allowlist_entry *ret,
				struct allowlist_error *reterr)
{
	char copy[ALLOWLIST_MAX_LINE + 1], quoted[160];
	enum hash_algo algo;
	size_t pos = 0, hex_len = 0;

	if (memchr(line, '\0', len)) {
		allowlist_set_error(reterr, origin, line_no,
				    "NUL byte in the line; give a text file in sha256sum format");
		return -EINVAL;
	}
	memcpy(copy, line, len);
	copy[len] = '\0';
	log_quote(copy, quoted, sizeof(quoted));

	while (pos < len && (line[pos] == ' ' || line[pos] == '\t'))
		pos++;
	if (pos == len || line[pos] == '#')
		return 0;
	/* sha256sum starts a line with '\' when it escaped the name that follows. */
	if (line[pos] == '\\')
		pos++;

	while (pos + hex_len < len && allowlist_hex_value(line[pos + hex_len]) >= 0)
		hex_len++;
	if (hex_len == 0 || (pos + hex_len < len && line[pos + hex_len] != ' ')) {
		/* "SHA256 (name) = digest" is what sha256sum --tag prints. */
		const char *hint = strstr(copy, ") = ") ? "; make the list without "
							  "'sha256sum --tag'"
							: "";

		allowlist_set_error(reterr, origin, line_no,
				    "expected a hex digest, two spaces (or a space and '*') and "
				    "a file name as sha256sum prints them, got %s%s",
				    quoted, hint);
		return -EINVAL;
	}
	if (allowlist_algo_for_length(hex_len, &algo) < 0) {
		allowlist_set_error(reterr, origin, line_no,
				    "digest of %zu hex digits in %s; expected 40 (sha1), 64 "
				    "(sha256), 96 (sha384) or 128 (sha512)",
				    hex_len, quoted);
		return -EINVAL;
	}
	if (pos + hex_len + 2 > len ||
	    (line[pos + hex_len + 1] != ' ' && line[pos + hex_len + 1] != '*')) {
		allowlist_set_error(reterr, origin, line_no,
				    "expected two spaces or ' *' after the digest in %s, as "
				    "sha256sum prints them",
				    quoted);
		return -EINVAL;
	}
	if (pos + hex_len + 2 == len) {
		allowlist_set_error(reterr, origin, line_no,
				    "file name missing after the digest in %s", quoted);
		return -EINVAL;
	}

	ret->algo = (uint8_t)algo;
	ret->len = (uint8_t)(hex_len / 2);
	for (size_t i = 0; i < ret->len; i++)
		ret->bytes[i] = (uint8_t)(allowlist_hex_value(line[pos + 2 * i]) << 4 |
					  allowlist_hex_value(line[pos + 2 * i + 1]));
	return 1;
}

static int allowlist_parse_lines(struct allowlist *list, const char *text, size_t len,
				 const char *origin, struct allowlist_error *reterr)
{
	unsigned int line_no = 0;
	size_t cap = 0, start = 0;
	int r;

	while (start < len) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t line_len = end - start;
		struct allowlist_entry entry;

		line_no++;
		if (line_len > 0 && text[end - 1] == '\r')
			line_len--;
		if (line_len > ALLOWLIST_MAX_LINE) {
			allowlist_set_error(reterr, origin, line_no,
					    "line of %zu bytes, more than the limit of %u",
					    line_len, ALLOWLIST_MAX_LINE);
			return -EINVAL;
		}
		r = allowlist_parse_line(text + start, line_len, origin, line_no, &entry,
					 reterr);
		if (r < 0)
			return r;
		if (r > 0) {
			r = allowlist_push(list, &cap, &entry);
			if (r == -E2BIG)
				allowlist_set_error(reterr, origin, line_no,
						    "more than %u digests; split the list",
						    ALLOWLIST_MAX_ENTRIES);
			if (r < 0)
				return r;
		}
		start = end + 1;
	}
	return 0;
}

int allowlist_parse(const char *text, size_t len, const char *origin, struct allowlist **ret,
		    struct allowlist_error *reterr)
{
	struct allowlist *list;
	int r;

	list = calloc(1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	r = allowlist_parse_lines(list, text, len, origin, reterr);
	if (r < 0)
		goto out_free_list;
	r = allowlist_index(list);
	if (r < 0)
		goto out_free_list;

	if (log_enabled(LOG_DEBUG)) {
		char quoted[ALLOWLIST_QUOTED_SIZE];

		log_debug("op=allowlist_load origin=%s digests=%zu distinct=%zu",
			  log_quote(origin, quoted, sizeof(quoted)), list->count, list->distinct);
	}
	*ret = list;
	return 0;

out_free_list:
	allowlist_free(list);
	return r;
}

static int allowlist_read_file(const char *path, char **ret, size_t *ret_len,
			       struct allowlist_error *reterr)
{
	struct stat st;
	size_t len = 0, size;
	char *buf;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		allowlist_set_error(reterr, path, 0, "cannot open: %s", strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		allowlist_set_error(reterr, path, 0, "cannot stat: %s", strerror(-r));
		goto out_close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		allowlist_set_error(reterr, path, 0, "not a regular file");
		r = -EINVAL;
		goto out_close_fd;
	}
	if (st.st_size > (off_t)ALLOWLIST_MAX_FILE_SIZE) {
		allowlist_set_error(reterr, path, 0,
				    "file of %lld bytes, more than the limit of %u; split the list",
				    (long long)st.st_size, ALLOWLIST_MAX_FILE_SIZE);
		r = -E2BIG;
		goto out_close_fd;
	}

	/* One byte of room past the size fstat() gave shows whether the file grew. */
	size = (size_t)st.st_size + 1;
	buf = malloc(size);
	if (!buf) {
		r = -ENOMEM;
		goto out_close_fd;
	}
	while (len < size) {
		ssize_t n = read(fd, buf + len, size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			allowlist_set_error(reterr, path, 0, "cannot read: %s", strerror(-r));
			goto out_free_buf;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == size) {
		allowlist_set_error(reterr, path, 0,
				    "file grew while it was read; load it again once it is "
				    "complete");
		r = -EAGAIN;
		goto out_free_buf;
	}

	*ret = buf;
	*ret_len = len;
	close(fd);
	return 0;

out_free_buf:
	free(buf);
out_close_fd:
	close(fd);
	return r;
}

int allowlist_load_file(const char *path, struct allowlist **ret, struct allowlist_error *reterr)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	r = allowlist_read_file(path, &text, &len, reterr);
	if (r < 0)
		return r;
	r = allowlist_parse(text, len, path, ret, reterr);
	free(text);
	return r;
}

struct allowlist *allowlist_free(struct allowlist *list)
{
	if (!list)
		return NULL;
	free(list->entries);
	free(list->slots);
	free(list);
	return NULL;
}

size_t allowlist_count(const struct allowlist *list)
{
	return list ? list->distinct : 0;
}

uint32_t allowlist_algos(const struct allowlist *list)
{
	return list ? list->algos : 0;
}

bool allowlist_contains(const struct allowlist *list, enum hash_algo algo, const uint8_t *digest,
			size_t len)
{
	size_t slot;

	if (!list || list->distinct == 0)
		return false;
	if (len < sizeof(uint64_t) || len > HASH_MAX_DIGEST_SIZE || len != hash_algo_size(algo))
		return false;
	slot = allowlist_probe(list, algo, digest, len);
	return list->slots[slot] != 0;
}
