/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The appraisal keyring. Loading reads X.509 certificates (DER or PEM,
 * detected from the content) and checks that each one can verify IMA
 * signatures. It files each public key under the last 4 bytes of the
 * certificate's Subject Key Identifier, because the kernel matches those
 * bytes against the 4-byte key id of a signature header. Verification is
 * OpenSSL EVP_PKEY_verify() over a digest with the signature digest set, so
 * RSA gets PKCS#1 v1.5 with the algorithm's DigestInfo and ECDSA a DER
 * (r, s) pair.
 *
 * Invariants:
 *  1. Key ids in a keyring are unique, so a signature names at most one key;
 *     a second certificate with the same id is a load error, never a second
 *     candidate to try.
 *  2. ENTRIES is sorted by key id whenever keys_add_path() returns, which
 *     keys_find() relies on for its binary search.
 *  3. keys_add_path() changes the keyring only after every certificate under
 *     PATH passed its checks.
 *  4. MD[] contains the digests OpenSSL offered when the keyring was created.
 *     A NULL slot means the algorithm is unavailable, so verification with
 *     it fails.
 *
 * Locking: none. Loading happens before the keyring is shared, and after
 * that nothing writes to it. OpenSSL 3 allows concurrent verification with
 * one EVP_PKEY as long as each call has its own EVP_PKEY_CTX.
 *
 * Ownership: the keyring owns every EVP_PKEY, EVP_MD and origin string in it.
 */
#include "core/keys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/log.h"

/* Smallest RSA modulus accepted; smaller keys are too weak to sign with. */
#define KEYS_MIN_RSA_BITS 2048

/* Buffer size for a file name quoted by log_quote(), which truncates longer ones. */
#define KEYS_QUOTED_SIZE 600

/* Key id bytes taken from the end of the Subject Key Identifier. */
#define KEYS_ID_SIZE 4

struct keys_entry {
	uint32_t keyid;
	EVP_PKEY *pkey;
	char *origin; /* file the certificate came from, for messages */
};

struct keyring {
	struct keys_entry *entries;
	size_t count;
	EVP_MD *md[HASH_ALGO__MAX];
};

/* Certificates of one keys_add_path() call, added to the keyring only if all pass. */
struct keys_stage {
	struct keys_entry *entries;
	size_t count;
	size_t cap;
};

static const char *const keys_curves[] = { "prime256v1", "secp384r1", "secp521r1" };

static void keys_set_error(struct keys_error *reterr, const char *origin, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fill *RETERR with ORIGIN and a message "'ORIGIN': reason", ORIGIN escaped for a log line. */
static void keys_set_error(struct keys_error *reterr, const char *origin, const char *fmt, ...)
{
	char quoted[KEYS_QUOTED_SIZE];
	va_list ap;
	int n;

	if (!reterr)
		return;
	snprintf(reterr->origin, sizeof(reterr->origin), "%s", origin);
	log_quote(origin, quoted, sizeof(quoted));
	n = snprintf(reterr->message, sizeof(reterr->message), "%s: ", quoted);
	if (n < 0 || (size_t)n >= sizeof(reterr->message))
		return;
	va_start(ap, fmt);
	vsnprintf(reterr->message + n, sizeof(reterr->message) - (size_t)n, fmt, ap);
	va_end(ap);
}

static void keys_entry_done(struct keys_entry *entry)
{
	EVP_PKEY_free(entry->pkey);
	free(entry->origin);
}

int keys_new(struct keyring **ret)
{
	struct keyring *ring;

	ring = calloc(1, sizeof(*ring));
	if (!ring)
		return -ENOMEM;

	for (unsigned int i = 0; i < HASH_ALGO__MAX; i++) {
		const char *name = hash_algo_name((enum hash_algo)i);

		if (!name)
			continue;
		/* Fetching MD4 fails without OpenSSL's legacy provider; the slot stays NULL. */
		ring->md[i] = EVP_MD_fetch(NULL, name, NULL);
	}
	ERR_clear_error();

	*ret = ring;
	return 0;
}

struct keyring *keys_free(struct keyring *ring)
{
	if (!ring)
		return NULL;
	for (size_t i = 0; i < ring->count; i++)
		keys_entry_done(&ring->entries[i]);
	free(ring->entries);
	for (unsigned int i = 0; i < HASH_ALGO__MAX; i++)
		EVP_MD_free(ring->md[i]);
	free(ring);
	return NULL;
}

size_t keys_count(const struct keyring *ring)
{
	return ring ? ring->count : 0;
}

static const struct keys_entry *keys_find(const struct keyring *ring, uint32_t keyid)
{
	size_t lo = 0, hi = ring ? ring->count : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ring->entries[mid].keyid == keyid)
			return &ring->entries[mid];
		if (ring->entries[mid].keyid < keyid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool keys_has(const struct keyring *ring, uint32_t keyid)
{
	return keys_find(ring, keyid) != NULL;
}

/*
 * Read the whole file NAME (relative to DIR_FD) into a new buffer. Sets
 * *RET_SKIP instead when the entry is not a regular file, which a directory
 * scan ignores. O_NONBLOCK keeps a FIFO planted in a key directory from
 * blocking the daemon.
 */
static int keys_read_file(int dir_fd, const char *name, const char *origin, uint8_t **ret,
			  size_t *ret_len, bool *ret_skip, struct keys_error *reterr)
{
	uint8_t *buf = NULL;
	struct stat st;
	size_t len = 0;
	int fd, r;

	fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		keys_set_error(reterr, origin, "cannot open: %s", strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		keys_set_error(reterr, origin, "cannot stat: %s", strerror(-r));
		goto out_close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		*ret_skip = true;
		r = 0;
		goto out_close_fd;
	}
	if (st.st_size > (off_t)KEYS_MAX_FILE_SIZE) {
		keys_set_error(reterr, origin,
			       "file of %lld bytes, more than the limit of %u; a certificate is "
			       "a few kilobytes, check the path",
			       (long long)st.st_size, KEYS_MAX_FILE_SIZE);
		r = -E2BIG;
		goto out_close_fd;
	}

	/* One byte more than the limit detects a file that grew after fstat(). */
	buf = malloc(KEYS_MAX_FILE_SIZE + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out_close_fd;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, KEYS_MAX_FILE_SIZE + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			keys_set_error(reterr, origin, "cannot read: %s", strerror(-r));
			goto out_free_buf;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > KEYS_MAX_FILE_SIZE) {
			keys_set_error(reterr, origin,
				       "file larger than the limit of %u bytes; a certificate is "
				       "a few kilobytes, check the path",
				       KEYS_MAX_FILE_SIZE);
			r = -E2BIG;
			goto out_free_buf;
		}
	}

	*ret = buf;
	*ret_len = len;
	*ret_skip = false;
	close(fd);
	return 0;

out_free_buf:
	free(buf);
out_close_fd:
	close(fd);
	return r;
}

static int keys_stage_push(struct keys_stage *stage, uint32_t keyid, EVP_PKEY *pkey,
			   const char *origin)
{
	struct keys_entry *entry;

	if (stage->count == stage->cap) {
		size_t cap = stage->cap ? 2 * stage->cap : 8;
		struct keys_entry *grown = reallocarray(stage->entries, cap, sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		stage->entries = grown;
		stage->cap = cap;
	}
	entry = &stage->entries[stage->count];
	entry->origin = strdup(origin);
	if (!entry->origin)
		return -ENOMEM;
	entry->keyid = keyid;
	entry->pkey = pkey;
	stage->count++;
	return 0;
}

static void keys_stage_done(struct keys_stage *stage)
{
	for (size_t i = 0; i < stage->count; i++)
		keys_entry_done(&stage->entries[i]);
	free(stage->entries);
}

/* Check that PKEY is a type and size the kernel verifies IMA signatures with. */
static int keys_check_pkey(EVP_PKEY *pkey, const char *what, const char *origin,
			   struct keys_error *reterr)
{
	char group[64];

	if (EVP_PKEY_is_a(pkey, "RSA")) {
		if (EVP_PKEY_get_bits(pkey) < KEYS_MIN_RSA_BITS) {
			keys_set_error(reterr, origin,
				       "%s has a %d-bit RSA key; use a key of at least %d bits",
				       what, EVP_PKEY_get_bits(pkey), KEYS_MIN_RSA_BITS);
			return -EINVAL;
		}
		return 0;
	}
	if (EVP_PKEY_is_a(pkey, "EC")) {
		if (!EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL))
			snprintf(group, sizeof(group), "(unnamed curve)");
		for (size_t i = 0; i < sizeof(keys_curves) / sizeof(keys_curves[0]); i++) {
			if (!strcmp(group, keys_curves[i]))
				return 0;
		}
		keys_set_error(reterr, origin,
			       "%s has an EC key on curve '%s'; use P-256 (prime256v1), "
			       "P-384 or P-521",
			       what, group);
		return -EINVAL;
	}
	keys_set_error(reterr, origin,
		       "%s has a %s key; IMA signatures need an RSA (PKCS#1 v1.5) or "
		       "ECDSA key",
		       what, EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "?");
	return -EINVAL;
}

/* Tell in the debug log when evmctl's default key id would differ from the SKID's. */
static void keys_debug_pubkey_id(X509 *cert, uint32_t keyid, const char *origin)
{
	char quoted[KEYS_QUOTED_SIZE];
	const ASN1_BIT_STRING *bits;
	struct hash_digest sha1;
	uint32_t pubkey_id;

	if (!log_enabled(LOG_DEBUG))
		return;
	bits = X509_get0_pubkey_bitstr(cert);
	if (!bits || hash_buffer(HASH_SHA1, bits->data, (size_t)bits->length, &sha1) < 0)
		return;
	pubkey_id = (uint32_t)sha1.bytes[16] << 24 | (uint32_t)sha1.bytes[17] << 16 |
		    (uint32_t)sha1.bytes[18] << 8 | sha1.bytes[19];
	if (pubkey_id != keyid)
		log_debug("op=keys_load file=%s keyid=%08x pubkey_sha1_id=%08x "
			  "(evmctl without --keyid-from-cert signs with the second)",
			  log_quote(origin, quoted, sizeof(quoted)), keyid, pubkey_id);
}

/*
 * Check CERT (number INDEX in ORIGIN, from 1) and add its key to STAGE. The
 * key id comes from the SKID extension only: how the kernel names a key
 * without one is not established, so such certificates are rejected.
 */
static int keys_add_cert(X509 *cert, unsigned int index, const char *origin,
			 const struct keyring *ring, struct keys_stage *stage,
			 struct keys_error *reterr)
{
	const ASN1_OCTET_STRING *skid;
	const char *used_by = NULL;
	const unsigned char *id;
	char subject[256], what[320], other[KEYS_QUOTED_SIZE];
	EVP_PKEY *pkey;
	uint32_t keyid, flags;
	int r;

	X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
	snprintf(what, sizeof(what), "certificate %u (subject '%s')", index, subject);

	flags = X509_get_extension_flags(cert);
	if (flags & EXFLAG_INVALID) {
		keys_set_error(reterr, origin, "%s has malformed extensions; re-issue it", what);
		return -EINVAL;
	}
	skid = X509_get0_subject_key_id(cert);
	if (X509_get_ext_by_NID(cert, NID_subject_key_identifier, -1) < 0 || !skid) {
		keys_set_error(reterr, origin,
			       "%s has no Subject Key Identifier extension, which gives the key id "
			       "of IMA signatures; re-issue it with "
			       "'-addext subjectKeyIdentifier=hash'",
			       what);
		return -EINVAL;
	}
	if (ASN1_STRING_length(skid) < KEYS_ID_SIZE) {
		keys_set_error(reterr, origin,
			       "%s has a Subject Key Identifier of %d bytes, fewer than the %d "
			       "of a key id; re-issue it with '-addext subjectKeyIdentifier=hash'",
			       what, ASN1_STRING_length(skid), KEYS_ID_SIZE);
		return -EINVAL;
	}
	if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE)) {
		keys_set_error(reterr, origin,
			       "%s has a key usage extension without digitalSignature; re-issue "
			       "it with 'keyUsage=digitalSignature'",
			       what);
		return -EINVAL;
	}

	id = ASN1_STRING_get0_data(skid) + ASN1_STRING_length(skid) - KEYS_ID_SIZE;
	keyid = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];

	for (size_t i = 0; i < stage->count; i++) {
		if (stage->entries[i].keyid == keyid)
			used_by = stage->entries[i].origin;
	}
	if (!used_by && keys_find(ring, keyid))
		used_by = keys_find(ring, keyid)->origin;
	if (used_by) {
		log_quote(used_by, other, sizeof(other));
		keys_set_error(reterr, origin,
			       "%s has key id %08x, already used by a certificate in %s; remove "
			       "one of them (the same certificate in two files or formats counts "
			       "too)",
			       what, keyid, other);
		return -EINVAL;
	}

	pkey = X509_get_pubkey(cert);
	if (!pkey) {
		keys_set_error(reterr, origin,
			       "%s has a public key OpenSSL cannot decode; use an RSA or ECDSA key",
			       what);
		return -EINVAL;
	}
	r = keys_check_pkey(pkey, what, origin, reterr);
	if (r < 0)
		goto out_free_pkey;

	keys_debug_pubkey_id(cert, keyid, origin);
	r = keys_stage_push(stage, keyid, pkey, origin);
	if (r < 0)
		goto out_free_pkey;
	log_debug("op=keys_load file=%s keyid=%08x type=%s",
		  log_quote(origin, other, sizeof(other)), keyid, EVP_PKEY_get0_type_name(pkey));
	return 0;

out_free_pkey:
	EVP_PKEY_free(pkey);
	return r;
}

/* Never asked for certificates; stops OpenSSL from prompting on a terminal. */
static int keys_no_password(char *buf, int size, int rwflag, void *userdata)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)userdata;
	return -1;
}

static int keys_parse_pem(const uint8_t *data, size_t len, const char *origin,
			  const struct keyring *ring, struct keys_stage *stage,
			  struct keys_error *reterr)
{
	unsigned int index = 0;
	unsigned long err;
	X509 *cert;
	BIO *bio;
	int r = 0;

	if (len > INT32_MAX)
		return -E2BIG;
	bio = BIO_new_mem_buf(data, (int)len);
	if (!bio)
		return -ENOMEM;

	ERR_clear_error();
	while ((cert = PEM_read_bio_X509(bio, NULL, keys_no_password, NULL))) {
		r = keys_add_cert(cert, ++index, origin, ring, stage, reterr);
		X509_free(cert);
		if (r < 0)
			goto out_free_bio;
	}

	/* The loop ends at end of input (no further BEGIN line) or at a broken block. */
	err = ERR_peek_last_error();
	if (index == 0 || ERR_GET_REASON(err) != PEM_R_NO_START_LINE) {
		if (index == 0)
			keys_set_error(reterr, origin,
				       "no PEM CERTIFICATE block; give X.509 certificates in "
				       "PEM or DER form");
		else
			keys_set_error(reterr, origin,
				       "malformed PEM block after certificate %u; check the "
				       "file with 'openssl x509 -in FILE -noout -text'",
				       index);
		r = -EINVAL;
	}

out_free_bio:
	ERR_clear_error();
	BIO_free(bio);
	return r;
}

static int keys_parse_der(const uint8_t *data, size_t len, const char *origin,
			  const struct keyring *ring, struct keys_stage *stage,
			  struct keys_error *reterr)
{
	const unsigned char *p = data;
	X509 *cert;
	int r;

	if (len > INT32_MAX)
		return -E2BIG;
	cert = d2i_X509(NULL, &p, (long)len);
	ERR_clear_error();
	if (!cert || p != data + len) {
		if (cert)
			keys_set_error(reterr, origin,
				       "bytes after the DER certificate; give one certificate "
				       "per DER file");
		else
			keys_set_error(reterr, origin,
				       "neither a PEM nor a DER X.509 certificate; check it with "
				       "'openssl x509 -in FILE -noout -text'");
		X509_free(cert);
		return -EINVAL;
	}
	r = keys_add_cert(cert, 1, origin, ring, stage, reterr);
	X509_free(cert);
	return r;
}

/* Parse one certificate file's content; PEM is recognised by its BEGIN line. */
static int keys_parse_file(const uint8_t *data, size_t len, const char *origin,
			   const struct keyring *ring, struct keys_stage *stage,
			   struct keys_error *reterr)
{
	static const char private_marker[] = "PRIVATE KEY-----";
	static const char pem_marker[] = "-----BEGIN ";

	if (memmem(data, len, private_marker, strlen(private_marker))) {
		keys_set_error(reterr, origin,
			       "contains a private key; the keyring needs only certificates, "
			       "so move the private key elsewhere");
		return -EINVAL;
	}
	if (memmem(data, len, pem_marker, strlen(pem_marker)))
		return keys_parse_pem(data, len, origin, ring, stage, reterr);
	return keys_parse_der(data, len, origin, ring, stage, reterr);
}

static int keys_load_file(int dir_fd, const char *name, const char *origin, bool in_dir,
			  const struct keyring *ring, struct keys_stage *stage,
			  struct keys_error *reterr)
{
	uint8_t *data = NULL;
	size_t len = 0;
	bool skip = false;
	int r;

	r = keys_read_file(dir_fd, name, origin, &data, &len, &skip, reterr);
	if (r < 0)
		return r;
	if (skip) {
		if (in_dir) {
			char quoted[KEYS_QUOTED_SIZE];

			log_debug("op=keys_load file=%s skipped=not-a-regular-file",
				  log_quote(origin, quoted, sizeof(quoted)));
			return 0;
		}
		keys_set_error(reterr, origin,
			       "not a regular file or directory; give a certificate file or a "
			       "directory of them");
		return -EINVAL;
	}
	if (stage->count >= KEYS_MAX_KEYS) {
		keys_set_error(reterr, origin, "more than %u certificates; the limit is %u",
			       KEYS_MAX_KEYS, KEYS_MAX_KEYS);
		r = -E2BIG;
		goto out_free_data;
	}
	r = keys_parse_file(data, len, origin, ring, stage, reterr);

out_free_data:
	free(data);
	return r;
}

static int keys_compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List the names in DIR that do not start with '.', sorted. */
static int keys_list_dir(DIR *dir, const char *path, char ***ret, size_t *ret_count,
			 struct keys_error *reterr)
{
	char **names = NULL;
	size_t count = 0;
	struct dirent *de;
	int r;

	names = calloc(KEYS_MAX_DIR_ENTRIES, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (;;) {
		errno = 0;
		de = readdir(dir);
		if (!de)
			break;
		if (de->d_name[0] == '.')
			continue;
		if (count == KEYS_MAX_DIR_ENTRIES) {
			keys_set_error(reterr, path,
				       "key directory with more than %u entries; keep only "
				       "the certificates there",
				       KEYS_MAX_DIR_ENTRIES);
			r = -E2BIG;
			goto out_free_names;
		}
		names[count] = strdup(de->d_name);
		if (!names[count]) {
			r = -ENOMEM;
			goto out_free_names;
		}
		count++;
	}
	if (errno) {
		r = -errno;
		keys_set_error(reterr, path, "cannot read directory: %s", strerror(-r));
		goto out_free_names;
	}

	qsort(names, count, sizeof(*names), keys_compare_names);
	*ret = names;
	*ret_count = count;
	return 0;

out_free_names:
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return r;
}

static int keys_load_dir(int dir_fd, const char *path, const struct keyring *ring,
			 struct keys_stage *stage, struct keys_error *reterr)
{
	char **names = NULL;
	size_t count = 0;
	DIR *dir;
	int fd, r;

	/* fdopendir() takes over its descriptor, so it gets a copy of the caller's. */
	fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		close(fd);
		return r;
	}
	r = keys_list_dir(dir, path, &names, &count, reterr);
	if (r < 0)
		goto out_closedir;

	for (size_t i = 0; i < count && r == 0; i++) {
		char origin[sizeof(reterr->origin)];

		snprintf(origin, sizeof(origin), "%s/%s", path, names[i]);
		r = keys_load_file(dir_fd, names[i], origin, true, ring, stage, reterr);
	}
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);

out_closedir:
	closedir(dir);
	return r;
}

static int keys_compare_entries(const void *a, const void *b)
{
	const struct keys_entry *x = a, *y = b;

	return x->keyid < y->keyid ? -1 : x->keyid > y->keyid;
}

/* Move the staged keys into RING and keep it sorted (invariant 2). */
static int keys_commit(struct keyring *ring, struct keys_stage *stage)
{
	struct keys_entry *grown;

	if (stage->count == 0)
		return 0;
	if (ring->count + stage->count > KEYS_MAX_KEYS)
		return -E2BIG;
	grown = reallocarray(ring->entries, ring->count + stage->count, sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	ring->entries = grown;
	memcpy(ring->entries + ring->count, stage->entries, stage->count * sizeof(*grown));
	ring->count += stage->count;
	stage->count = 0;
	qsort(ring->entries, ring->count, sizeof(*ring->entries), keys_compare_entries);
	return 0;
}

int keys_add_path(struct keyring *ring, const char *path, struct keys_error *reterr)
{
	struct keys_stage stage = { 0 };
	struct stat st;
	int fd, r;

	/* O_PATH opens a file or a directory alike, without reading it yet. */
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		keys_set_error(reterr, path, "cannot open: %s", strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		keys_set_error(reterr, path, "cannot stat: %s", strerror(-r));
		goto out_close_fd;
	}

	if (S_ISDIR(st.st_mode)) {
		close(fd);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			keys_set_error(reterr, path, "cannot open directory: %s",
				       strerror(-r));
			return r;
		}
		r = keys_load_dir(fd, path, ring, &stage, reterr);
		if (r == 0 && stage.count == 0) {
			keys_set_error(reterr, path,
				       "key directory without certificates; add the "
				       "certificates of the signing keys");
			r = -ENOENT;
		}
	} else {
		r = keys_load_file(AT_FDCWD, path, path, false, ring, &stage, reterr);
	}
	if (r == 0 && stage.count + ring->count > KEYS_MAX_KEYS) {
		keys_set_error(reterr, path, "more than %u keys in total; the limit is %u",
			       KEYS_MAX_KEYS, KEYS_MAX_KEYS);
		r = -E2BIG;
	}
	if (r == 0)
		r = keys_commit(ring, &stage);
	keys_stage_done(&stage);

out_close_fd:
	close(fd);
	return r;
}

int keys_verify(const struct keyring *ring, uint32_t keyid, enum hash_algo algo,
		const uint8_t *digest, size_t digest_len, const uint8_t *sig, size_t sig_len)
{
	const struct keys_entry *entry;
	const EVP_MD *md;
	EVP_PKEY_CTX *ctx;
	int r;

	entry = keys_find(ring, keyid);
	if (!entry)
		return -ENOKEY;
	if ((unsigned int)algo >= HASH_ALGO__MAX || !ring->md[algo])
		return -EOPNOTSUPP;
	md = ring->md[algo];
	if (digest_len != (size_t)EVP_MD_get_size(md))
		return -EINVAL;

	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, entry->pkey, NULL);
	if (!ctx)
		return -ENOMEM;
	if (EVP_PKEY_verify_init(ctx) <= 0) {
		r = -EOPNOTSUPP;
		goto out_free_ctx;
	}
	if (EVP_PKEY_is_a(entry->pkey, "RSA") &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) {
		r = -EOPNOTSUPP;
		goto out_free_ctx;
	}
	if (EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0) {
		r = -EOPNOTSUPP;
		goto out_free_ctx;
	}

	/* 0 is a wrong signature and <0 a malformed one; both fail the same way. */
	r = EVP_PKEY_verify(ctx, sig, sig_len, digest, digest_len) == 1 ? 0 : -EBADMSG;

out_free_ctx:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	return r;
}

int keys_verify_xattr(const struct keyring *ring, const struct ima_xattr *sig,
		      const struct hash_digest *file_digest)
{
	struct hash_digest file_id;
	int r;

	if (sig->type != IMA_XATTR_DIGSIG && sig->type != IMA_XATTR_VERITY_DIGSIG)
		return -EINVAL;
	if (file_digest->algo != sig->algo || file_digest->len != hash_algo_size(sig->algo))
		return -EINVAL;

	if (sig->version == 2)
		return keys_verify(ring, sig->keyid, sig->algo, file_digest->bytes,
				   file_digest->len, sig->sig, sig->sig_len);

	r = ima_xattr_file_id_digest(sig->type, file_digest, &file_id);
	if (r < 0)
		return r;
	return keys_verify(ring, sig->keyid, sig->algo, file_id.bytes, file_id.len, sig->sig,
			   sig->sig_len);
}
