/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attestation evidence files and their offline checks.
 *
 * The file is text with one "key: value" line per item in a fixed order, so
 * standard tools can read it. It contains the nonce, the quoted PCR values
 * per bank, the TPMS_ATTEST and TPMT_SIGNATURE bytes in hex, the AK public
 * key as PEM, and the binary measurement list in base64 (docs/EVIDENCE.md).
 *
 * Invariants:
 *  1. Fail closed: every check that cannot be completed (unknown algorithm,
 *     unparsable structure, OpenSSL error) fails the evidence. Nothing in
 *     the file is trusted before the signature over the attest bytes checks
 *     out with the AK, and the PCR values are trusted only because the
 *     signed PCR digest covers them.
 *  2. The parser accepts exactly one layout: items in the documented order,
 *     each once, nothing after "end". Unknown keys are errors, so a later
 *     format version cannot be half read.
 *  3. Template digests are recomputed from template data, never taken from
 *     the list, before they are replayed.
 *
 * Locking: none. Ownership: see evidence.h.
 */
#include "tools/evidence.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tpm2_types.h>

#define FORMAT_LINE "format: imafs-evidence 1"
/* Bytes of the list per base64 line: 57 bytes make 76 characters, as in PEM and MIME. */
#define LOG_LINE_BYTES 57
/* Maximum length of a record's name in messages. */
#define NAME_TEXT_MAX 256

__attribute__((format(printf, 3, 4))) static int fail(char *errbuf, size_t errlen, const char *fmt,
						      ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

void evidence_clear(struct evidence *ev)
{
	free(ev->attest);
	free(ev->signature);
	free(ev->ak_pem);
	free(ev->log);
	memset(ev, 0, sizeof(*ev));
}

static void write_hex(FILE *out, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fprintf(out, "%02x", data[i]);
}

int evidence_write(FILE *out, const struct evidence *ev)
{
	char line[4 * LOG_LINE_BYTES / 3 + 2];

	fprintf(out,
		"# imafs attestation evidence: TPM2 quote and IMA measurement list\n" FORMAT_LINE
		"\nnonce: ");
	write_hex(out, ev->nonce, ev->nonce_len);
	fputc('\n', out);
	for (unsigned int b = 0; b < ev->bank_count; b++) {
		const struct pcr_bank *bank = &ev->banks[b];

		for (unsigned int pcr = 0; pcr < IMA_PCR_MAX; pcr++) {
			if (!(bank->present & (UINT64_C(1) << pcr)))
				continue;
			fprintf(out, "pcr-%s-%02u: ", hash_algo_name(bank->algo), pcr);
			write_hex(out, bank->value[pcr], bank->size);
			fputc('\n', out);
		}
	}
	fputs("attest: ", out);
	write_hex(out, ev->attest, ev->attest_len);
	fputs("\nsignature: ", out);
	write_hex(out, ev->signature, ev->signature_len);
	fprintf(out, "\nak-public-key:\n%s", ev->ak_pem);
	fprintf(out, "log-bank: %s\nlog-size: %zu\nlog:\n", hash_algo_name(ev->log_bank),
		ev->log_len);
	for (size_t off = 0; off < ev->log_len; off += LOG_LINE_BYTES) {
		size_t n = ev->log_len - off < LOG_LINE_BYTES ? ev->log_len - off : LOG_LINE_BYTES;

		EVP_EncodeBlock((unsigned char *)line, ev->log + off, (int)n);
		fprintf(out, "%s\n", line);
	}
	fputs("end\n", out);
	return ferror(out) ? -EIO : 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int evidence_parse_hex(const char *hex, uint8_t *ret, size_t max)
{
	size_t len = strlen(hex);

	if (len % 2 || len / 2 > max)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		ret[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(len / 2);
}

/* --- parsing ---------------------------------------------------------------------------------- */

/* Line cursor over the evidence text; LINE is a NUL-terminated copy of the current line. */
struct cursor {
	const char *text;
	size_t len;
	size_t pos;
	unsigned long lineno;
	char *line;
	size_t cap;
	const char *name;
};

/* Advance to the next line. Returns 1, 0 at the end of the text, or -ENOMEM. */
static int next_line(struct cursor *c)
{
	const char *start = c->text + c->pos;
	const char *nl;
	size_t n;

	if (c->pos >= c->len)
		return 0;
	nl = memchr(start, '\n', c->len - c->pos);
	n = nl ? (size_t)(nl - start) : c->len - c->pos;
	if (n + 1 > c->cap) {
		char *p = realloc(c->line, n + 1);

		if (!p)
			return -ENOMEM;
		c->line = p;
		c->cap = n + 1;
	}
	memcpy(c->line, start, n);
	c->line[n] = '\0';
	if (n && c->line[n - 1] == '\r')
		c->line[n - 1] = '\0';
	c->pos += n + (nl ? 1 : 0);
	c->lineno++;
	return 1;
}

/* Next line that is not a comment. Returns as next_line(). */
static int next_item(struct cursor *c)
{
	int r;

	do
		r = next_line(c);
	while (r > 0 && c->line[0] == '#');
	return r;
}

__attribute__((format(printf, 4, 5))) static int bad_line(const struct cursor *c, char *errbuf,
							  size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(errbuf, errlen, "%s: line %lu: ", c->name, c->lineno);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(errbuf + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Read the item KEY and return its value, or NULL after writing the error to ERRBUF. */
static const char *expect_item(struct cursor *c, const char *key, int *r, char *errbuf,
			       size_t errlen)
{
	size_t klen = strlen(key);

	*r = next_item(c);
	if (*r < 0)
		return NULL;
	if (*r == 0) {
		(void)fail(errbuf, errlen, "%s: ends before the '%s:' line; the file is cut short",
			   c->name, key);
		*r = -EINVAL;
		return NULL;
	}
	if (strncmp(c->line, key, klen) != 0 || c->line[klen] != ':') {
		*r = bad_line(c, errbuf, errlen, "expected '%s:', found '%.40s'", key, c->line);
		return NULL;
	}
	return c->line[klen + 1] == ' ' ? c->line + klen + 2 : c->line + klen + 1;
}

static int parse_hex_alloc(const struct cursor *c, const char *value, const char *what,
			   uint8_t **ret, size_t *ret_len, char *errbuf, size_t errlen)
{
	size_t max = strlen(value) / 2 + 1;
	uint8_t *buf = malloc(max);
	int n;

	if (!buf)
		return -ENOMEM;
	n = evidence_parse_hex(value, buf, max);
	if (n <= 0) {
		free(buf);
		return bad_line(c, errbuf, errlen,
				"%s is not a non-empty even number of hex digits", what);
	}
	*ret = buf;
	*ret_len = (size_t)n;
	return 0;
}

/* Parse "pcr-ALGO-NN: hex" lines until the "attest:" line, which stays current. */
static int parse_pcrs(struct cursor *c, struct evidence *ev, char *errbuf, size_t errlen)
{
	for (;;) {
		char algo_name[16];
		unsigned int pcr;
		struct pcr_bank *bank;
		enum hash_algo algo;
		const char *colon;
		int consumed = 0, r;

		r = next_item(c);
		if (r < 0)
			return r;
		if (r == 0 || strncmp(c->line, "pcr-", 4) != 0)
			break;
		if (sscanf(c->line, "pcr-%15[a-z0-9_]-%2u%n", algo_name, &pcr, &consumed) != 2 ||
		    c->line[consumed] != ':' || c->line[consumed + 1] != ' ')
			return bad_line(c, errbuf, errlen, "expected 'pcr-<bank>-<NN>: <hex>'");
		colon = c->line + consumed;
		if (hash_algo_from_name(algo_name, &algo) < 0 || !hash_algo_size(algo))
			return bad_line(c, errbuf, errlen, "unknown PCR bank '%s'", algo_name);
		if (pcr >= TPM2_MAX_PCRS)
			return bad_line(c, errbuf, errlen, "PCR %u is past the last TPM PCR", pcr);
		bank = pcr_bank_find(ev->banks, ev->bank_count, algo);
		if (!bank) {
			if (ev->bank_count == EVIDENCE_BANKS)
				return bad_line(c, errbuf, errlen, "more than %d PCR banks",
						EVIDENCE_BANKS);
			bank = &ev->banks[ev->bank_count++];
			pcr_bank_init(bank, algo);
		}
		if (bank->present & (UINT64_C(1) << pcr))
			return bad_line(c, errbuf, errlen, "PCR %u of bank %s is given twice", pcr,
					algo_name);
		if (evidence_parse_hex(colon + 2, bank->value[pcr], bank->size) != (int)bank->size)
			return bad_line(c, errbuf, errlen, "the %s value is not %u bytes of hex",
					algo_name, bank->size);
		bank->present |= UINT64_C(1) << pcr;
	}
	if (ev->bank_count == 0)
		return bad_line(c, errbuf, errlen, "expected at least one 'pcr-<bank>-<NN>:' line");
	return 1;
}

static int parse_pem(struct cursor *c, struct evidence *ev, char *errbuf, size_t errlen)
{
	size_t start = c->pos, end = 0;
	int r;

	r = next_line(c);
	if (r <= 0 || strcmp(c->line, "-----BEGIN PUBLIC KEY-----") != 0)
		return r < 0 ? r : bad_line(c, errbuf, errlen, "expected the AK public key in PEM");
	while ((r = next_line(c)) > 0) {
		if (!strcmp(c->line, "-----END PUBLIC KEY-----")) {
			end = c->pos;
			break;
		}
	}
	if (r < 0)
		return r;
	if (!end)
		return bad_line(c, errbuf, errlen, "the AK public key has no END line");
	ev->ak_pem = strndup(c->text + start, end - start);
	return ev->ak_pem ? 0 : -ENOMEM;
}

static int parse_log(struct cursor *c, struct evidence *ev, char *errbuf, size_t errlen)
{
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	unsigned long long size;
	const char *value;
	size_t used = 0;
	char *end;
	int r, n;

	if (!ctx)
		return -ENOMEM;
	value = expect_item(c, "log-size", &r, errbuf, errlen);
	if (!value)
		goto out_free_ctx;
	errno = 0;
	size = strtoull(value, &end, 10);
	if (errno || *end || end == value || size > EVIDENCE_LOG_MAX) {
		r = bad_line(c, errbuf, errlen, "log-size '%s' is not a byte count up to %lu",
			     value, EVIDENCE_LOG_MAX);
		goto out_free_ctx;
	}
	if (!expect_item(c, "log", &r, errbuf, errlen))
		goto out_free_ctx;

	/* Room for the decoder's last partial block, which it writes whole. */
	ev->log = malloc(size + 4 * LOG_LINE_BYTES);
	if (!ev->log) {
		r = -ENOMEM;
		goto out_free_ctx;
	}
	EVP_DecodeInit(ctx);
	while ((r = next_line(c)) > 0 && strcmp(c->line, "end") != 0) {
		size_t len = strlen(c->line);

		if (len > 4 * LOG_LINE_BYTES / 3 || used + 3 * len / 4 > size + 3) {
			r = bad_line(c, errbuf, errlen, "the base64 list is longer than log-size");
			goto out_free_ctx;
		}
		if (EVP_DecodeUpdate(ctx, ev->log + used, &n, (const unsigned char *)c->line,
				     (int)len) < 0) {
			r = bad_line(c, errbuf, errlen, "invalid base64 in the measurement list");
			goto out_free_ctx;
		}
		used += (size_t)n;
	}
	if (r < 0)
		goto out_free_ctx;
	if (r == 0) {
		r = bad_line(c, errbuf, errlen,
			     "the measurement list has no 'end' line; the file is "
			     "cut short");
		goto out_free_ctx;
	}
	if (EVP_DecodeFinal(ctx, ev->log + used, &n) < 0) {
		r = bad_line(c, errbuf, errlen,
			     "invalid base64 at the end of the measurement list");
		goto out_free_ctx;
	}
	used += (size_t)n;
	if (used != size) {
		r = bad_line(c, errbuf, errlen,
			     "the measurement list has %zu bytes, log-size says %llu", used, size);
		goto out_free_ctx;
	}
	ev->log_len = used;
	r = 0;
out_free_ctx:
	EVP_ENCODE_CTX_free(ctx);
	return r;
}

static int parse_items(struct cursor *c, struct evidence *ev, char *errbuf, size_t errlen)
{
	const char *value;
	int r;

	r = next_item(c);
	if (r <= 0 || strcmp(c->line, FORMAT_LINE) != 0)
		return r < 0 ? r
			     : bad_line(c, errbuf, errlen,
					"expected '" FORMAT_LINE "': this is "
					"not an imafs evidence file, or a newer format");
	value = expect_item(c, "nonce", &r, errbuf, errlen);
	if (!value)
		return r;
	r = evidence_parse_hex(value, ev->nonce, sizeof(ev->nonce));
	if (r <= 0)
		return bad_line(c, errbuf, errlen, "the nonce is not 1 to %d bytes of hex",
				EVIDENCE_NONCE_MAX);
	ev->nonce_len = (size_t)r;

	r = parse_pcrs(c, ev, errbuf, errlen);
	if (r < 0)
		return r;
	if (strncmp(c->line, "attest: ", 8) != 0)
		return bad_line(c, errbuf, errlen, "expected 'attest:' after the PCR values");
	r = parse_hex_alloc(c, c->line + 8, "attest", &ev->attest, &ev->attest_len, errbuf, errlen);
	if (r < 0)
		return r;
	value = expect_item(c, "signature", &r, errbuf, errlen);
	if (!value)
		return r;
	r = parse_hex_alloc(c, value, "signature", &ev->signature, &ev->signature_len, errbuf,
			    errlen);
	if (r < 0)
		return r;
	if (!expect_item(c, "ak-public-key", &r, errbuf, errlen))
		return r;
	r = parse_pem(c, ev, errbuf, errlen);
	if (r < 0)
		return r;
	value = expect_item(c, "log-bank", &r, errbuf, errlen);
	if (!value)
		return r;
	if (hash_algo_from_name(value, &ev->log_bank) < 0 || !hash_algo_size(ev->log_bank))
		return bad_line(c, errbuf, errlen, "unknown log-bank '%s'", value);
	r = parse_log(c, ev, errbuf, errlen);
	if (r < 0)
		return r;
	while ((r = next_line(c)) > 0) {
		if (c->line[0] != '\0')
			return bad_line(c, errbuf, errlen, "text after the 'end' line");
	}
	return r;
}

int evidence_parse(const char *text, size_t len, const char *name, struct evidence *ret,
		   char *errbuf, size_t errlen)
{
	struct cursor c = { .text = text, .len = len, .name = name };
	struct evidence ev = { 0 };
	int r;

	r = parse_items(&c, &ev, errbuf, errlen);
	free(c.line);
	if (r == -ENOMEM)
		snprintf(errbuf, errlen, "%s: out of memory", name);
	if (r < 0) {
		evidence_clear(&ev);
		return r;
	}
	*ret = ev;
	return 0;
}

/* --- the quote -------------------------------------------------------------------------------- */

static bool tpm_alg_to_hash(TPM2_ALG_ID alg, enum hash_algo *ret)
{
	switch (alg) {
	case TPM2_ALG_SHA1:
		*ret = HASH_SHA1;
		return true;
	case TPM2_ALG_SHA256:
		*ret = HASH_SHA256;
		return true;
	case TPM2_ALG_SHA384:
		*ret = HASH_SHA384;
		return true;
	case TPM2_ALG_SHA512:
		*ret = HASH_SHA512;
		return true;
	case TPM2_ALG_SM3_256:
		*ret = HASH_SM3;
		return true;
	default:
		return false;
	}
}

static EVP_PKEY *load_pem(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pkey;

	if (!bio)
		return NULL;
	pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return pkey;
}

/* Convert the TPM's signature to the encoding OpenSSL verifies. Returns its length or -1. */
static int signature_der(const TPMT_SIGNATURE *sig, uint8_t **ret)
{
	const TPMS_SIGNATURE_ECC *ecc = &sig->signature.ecdsa;
	ECDSA_SIG *esig;
	BIGNUM *r, *s;
	int len;

	if (sig->sigAlg == TPM2_ALG_RSASSA || sig->sigAlg == TPM2_ALG_RSAPSS) {
		*ret = malloc(sig->signature.rsassa.sig.size);
		if (!*ret)
			return -1;
		memcpy(*ret, sig->signature.rsassa.sig.buffer, sig->signature.rsassa.sig.size);
		return sig->signature.rsassa.sig.size;
	}
	esig = ECDSA_SIG_new();
	r = BN_bin2bn(ecc->signatureR.buffer, ecc->signatureR.size, NULL);
	s = BN_bin2bn(ecc->signatureS.buffer, ecc->signatureS.size, NULL);
	if (!esig || !r || !s || ECDSA_SIG_set0(esig, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(esig);
		return -1;
	}
	*ret = NULL;
	len = i2d_ECDSA_SIG(esig, ret);
	ECDSA_SIG_free(esig);
	return len;
}

/* Describe PKEY for messages: "ECC NIST P-256" or "RSA 2048". */
static void describe_key(EVP_PKEY *pkey, char *buf, size_t len)
{
	char group[64] = "";

	if (EVP_PKEY_is_a(pkey, "EC")) {
		EVP_PKEY_get_utf8_string_param(pkey, "group", group, sizeof(group), NULL);
		snprintf(buf, len, "ECC %.40s",
			 !strcmp(group, "prime256v1")  ? "NIST P-256"
			 : !strcmp(group, "secp384r1") ? "NIST P-384"
			 : !strcmp(group, "secp521r1") ? "NIST P-521"
						       : group);
	} else {
		snprintf(buf, len, "%s %d", EVP_PKEY_get0_type_name(pkey), EVP_PKEY_get_bits(pkey));
	}
}

/* Verify SIG over the attest bytes of EV with PKEY. */
static int check_signature(const struct evidence *ev, EVP_PKEY *pkey, const TPMT_SIGNATURE *sig,
			   struct evidence_quote_info *info, char *errbuf, size_t errlen)
{
	const char *scheme;
	enum hash_algo hash;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *md_ctx;
	uint8_t *der = NULL;
	int der_len, ok = 0;

	switch (sig->sigAlg) {
	case TPM2_ALG_ECDSA:
		scheme = "ECDSA";
		break;
	case TPM2_ALG_RSASSA:
		scheme = "RSASSA";
		break;
	case TPM2_ALG_RSAPSS:
		scheme = "RSAPSS";
		break;
	default:
		return fail(errbuf, errlen,
			    "signature algorithm 0x%04x is not supported; make the "
			    "AK an RSASSA, RSAPSS or ECDSA signing key",
			    sig->sigAlg);
	}
	/* The hash field sits at the same place for every scheme of TPMU_SIGNATURE. */
	if (!tpm_alg_to_hash(sig->signature.any.hashAlg, &hash) || hash == HASH_SM3)
		return fail(errbuf, errlen,
			    "the signature's hash algorithm 0x%04x is not supported",
			    sig->signature.any.hashAlg);
	snprintf(info->scheme, sizeof(info->scheme), "%s-%s", scheme, hash_algo_name(hash));
	for (char *p = info->scheme; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);

	if ((sig->sigAlg == TPM2_ALG_ECDSA) != (EVP_PKEY_is_a(pkey, "EC") != 0))
		return fail(errbuf, errlen, "the signature is %s, but the AK public key is %s",
			    scheme, info->key);
	der_len = signature_der(sig, &der);
	md_ctx = EVP_MD_CTX_new();
	if (der_len > 0 && md_ctx &&
	    EVP_DigestVerifyInit_ex(md_ctx, &pctx, hash_algo_name(hash), NULL, NULL, pkey, NULL) ==
		    1 &&
	    (sig->sigAlg != TPM2_ALG_RSAPSS ||
	     (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1)))
		ok = EVP_DigestVerify(md_ctx, der, (size_t)der_len, ev->attest, ev->attest_len) ==
		     1;
	EVP_MD_CTX_free(md_ctx);
	OPENSSL_free(der);
	if (!ok)
		return fail(errbuf, errlen,
			    "the %s signature over the quote does not verify with the "
			    "AK public key (%s): the quote or the key was changed",
			    info->scheme, info->key);
	return 0;
}

/* Check the quote's PCR selection and digest against the PCR values EV lists. */
static int check_pcr_digest(const struct evidence *ev, const TPMS_QUOTE_INFO *quote,
			    const TPMT_SIGNATURE *sig, char *errbuf, size_t errlen)
{
	const TPML_PCR_SELECTION *sel = &quote->pcrSelect;
	enum hash_algo digest_algo;
	struct hash_digest digest;
	uint8_t *concat;
	size_t used = 0;
	int r;

	tpm_alg_to_hash(sig->signature.any.hashAlg, &digest_algo);
	if (sel->count != ev->bank_count)
		return fail(errbuf, errlen,
			    "the quote selects PCRs of %u banks, the evidence lists "
			    "%u",
			    sel->count, ev->bank_count);
	concat = malloc((size_t)EVIDENCE_BANKS * TPM2_MAX_PCRS * HASH_MAX_DIGEST_SIZE);
	if (!concat)
		return -ENOMEM;
	for (uint32_t i = 0; i < sel->count; i++) {
		const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
		const struct pcr_bank *bank = NULL;
		enum hash_algo algo;
		uint64_t mask = 0;

		for (unsigned int b = 0; b < ev->bank_count; b++) {
			if (tpm_alg_to_hash(s->hash, &algo) && ev->banks[b].algo == algo)
				bank = &ev->banks[b];
		}
		if (!bank) {
			free(concat);
			return fail(errbuf, errlen,
				    "the quote selects bank 0x%04x, for which the "
				    "evidence lists no PCR values",
				    s->hash);
		}
		for (unsigned int byte = 0; byte < s->sizeofSelect && byte < TPM2_PCR_SELECT_MAX;
		     byte++)
			mask |= (uint64_t)s->pcrSelect[byte] << (8 * byte);
		if (mask != bank->present) {
			free(concat);
			return fail(errbuf, errlen,
				    "the quote covers %s PCR mask 0x%llx, the evidence "
				    "lists PCR mask 0x%llx",
				    hash_algo_name(algo), (unsigned long long)mask,
				    (unsigned long long)bank->present);
		}
		/* The TPM hashes the selected PCRs bank by bank, lowest PCR first. */
		for (unsigned int pcr = 0; pcr < TPM2_MAX_PCRS; pcr++) {
			if (!(mask & (UINT64_C(1) << pcr)))
				continue;
			memcpy(concat + used, bank->value[pcr], bank->size);
			used += bank->size;
		}
	}
	r = hash_buffer(digest_algo, concat, used, &digest);
	free(concat);
	if (r < 0)
		return fail(errbuf, errlen, "cannot compute the %s PCR digest: %s",
			    hash_algo_name(digest_algo), strerror(-r));
	if (digest.len != quote->pcrDigest.size ||
	    CRYPTO_memcmp(digest.bytes, quote->pcrDigest.buffer, digest.len) != 0)
		return fail(errbuf, errlen,
			    "the PCR values in the evidence do not hash to the PCR "
			    "digest the TPM signed: a PCR value was changed");
	return 0;
}

static int check_attest(const struct evidence *ev, const TPMS_ATTEST *attest,
			const TPMT_SIGNATURE *sig, struct evidence_quote_info *info, char *errbuf,
			size_t errlen)
{
	if (attest->magic != TPM2_GENERATED_VALUE)
		return fail(errbuf, errlen,
			    "the attest structure's magic is 0x%08x, not the TPM's "
			    "0xff544347: the TPM did not generate it",
			    attest->magic);
	if (attest->type != TPM2_ST_ATTEST_QUOTE)
		return fail(errbuf, errlen,
			    "the attest structure is of type 0x%04x, not a quote "
			    "(0x8018)",
			    attest->type);
	if (attest->extraData.size != ev->nonce_len ||
	    CRYPTO_memcmp(attest->extraData.buffer, ev->nonce, ev->nonce_len) != 0)
		return fail(errbuf, errlen,
			    "the quote's qualifying data differs from the nonce in "
			    "the evidence: the nonce line was changed");
	info->clock = attest->clockInfo.clock;
	info->reset_count = attest->clockInfo.resetCount;
	info->restart_count = attest->clockInfo.restartCount;
	info->firmware_version = attest->firmwareVersion;
	return check_pcr_digest(ev, &attest->attested.quote, sig, errbuf, errlen);
}

int evidence_check_quote(const struct evidence *ev, const char *ak_pem,
			 struct evidence_quote_info *ret, char *errbuf, size_t errlen)
{
	struct evidence_quote_info info = { 0 };
	EVP_PKEY *pkey, *trusted = NULL;
	TPMT_SIGNATURE sig;
	TPMS_ATTEST attest;
	size_t off = 0;
	int r;

	pkey = load_pem(ev->ak_pem);
	if (!pkey)
		return fail(errbuf, errlen,
			    "the AK public key in the evidence is not a PEM public key");
	describe_key(pkey, info.key, sizeof(info.key));
	if (ak_pem) {
		trusted = load_pem(ak_pem);
		if (!trusted || EVP_PKEY_eq(pkey, trusted) != 1) {
			r = fail(errbuf, errlen,
				 "the AK public key in the evidence is not the trusted "
				 "AK given with --ak-public");
			goto out_free_keys;
		}
	}
	if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(ev->signature, ev->signature_len, &off, &sig) !=
		    TSS2_RC_SUCCESS ||
	    off != ev->signature_len) {
		r = fail(errbuf, errlen, "the signature is not a TPMT_SIGNATURE structure");
		goto out_free_keys;
	}
	r = check_signature(ev, pkey, &sig, &info, errbuf, errlen);
	if (r < 0)
		goto out_free_keys;

	/* Only now that the TPM's signature checked out are the attest bytes worth parsing. */
	off = 0;
	if (Tss2_MU_TPMS_ATTEST_Unmarshal(ev->attest, ev->attest_len, &off, &attest) !=
		    TSS2_RC_SUCCESS ||
	    off != ev->attest_len) {
		r = fail(errbuf, errlen, "the signed attest bytes are not a TPMS_ATTEST structure");
		goto out_free_keys;
	}
	r = check_attest(ev, &attest, &sig, &info, errbuf, errlen);
	if (r == 0)
		*ret = info;
out_free_keys:
	EVP_PKEY_free(trusted);
	EVP_PKEY_free(pkey);
	return r;
}

/* --- the measurement list --------------------------------------------------------------------- */

/* True when every quoted PCR in USED has its quoted value in every bank of REPLAY. */
static bool replay_matches(const struct evidence *ev, const struct pcr_bank *replay, uint64_t used)
{
	for (unsigned int b = 0; b < ev->bank_count; b++) {
		for (unsigned int pcr = 0; pcr < IMA_PCR_MAX; pcr++) {
			if ((used & (UINT64_C(1) << pcr)) &&
			    !pcr_bank_equal(&replay[b], &ev->banks[b], pcr))
				return false;
		}
	}
	return true;
}

/* Check the stored template digest of RECORD against its template data. */
static int check_stored_digest(const struct evidence *ev, const struct ima_record *record,
			       char *errbuf, size_t errlen)
{
	char name[NAME_TEXT_MAX], have[2 * HASH_MAX_DIGEST_SIZE + 1];
	char want[2 * HASH_MAX_DIGEST_SIZE + 1];
	struct hash_digest digest;
	int r;

	if (record->violation)
		return 0;
	r = ima_record_digest(record, ev->log_bank, &digest);
	if (r < 0)
		return fail(errbuf, errlen, "record %lu: %s digest failed: %s", record->number,
			    hash_algo_name(ev->log_bank), strerror(-r));
	if (digest.len == record->digest_size &&
	    !CRYPTO_memcmp(digest.bytes, record->digest, digest.len))
		return 0;
	hash_to_hex(record->digest, record->digest_size, have);
	hash_to_hex(digest.bytes, digest.len, want);
	return fail(errbuf, errlen,
		    "first bad entry: record %lu at byte offset %zu ('%s'): its "
		    "stored %s template digest %s differs from the digest of its template data, "
		    "%s, so the record was changed after it was measured",
		    record->number, record->offset, ima_record_name(record, name, sizeof(name)),
		    hash_algo_name(ev->log_bank), have, want);
}

/* Parse, check and replay the list; set RET->records, ->matched_at and *RET_USED. */
static int replay_log(const struct evidence *ev, struct evidence_log_result *ret,
		      uint64_t *ret_used, char *errbuf, size_t errlen)
{
	struct pcr_bank replay[EVIDENCE_BANKS];
	struct ima_parse *parse;
	struct ima_record record;
	uint64_t quoted = ~UINT64_C(0);
	char perr[512];
	int r;

	for (unsigned int b = 0; b < ev->bank_count; b++) {
		pcr_bank_init(&replay[b], ev->banks[b].algo);
		quoted &= ev->banks[b].present;
	}
	parse = ima_parse_new(ev->log, ev->log_len, ev->log_bank, IMA_ORDER_AUTO);
	if (!parse)
		return -ENOMEM;
	*ret_used = 0;
	while ((r = ima_parse_next(parse, &record, perr, sizeof(perr))) > 0) {
		ret->records++;
		r = check_stored_digest(ev, &record, errbuf, errlen);
		if (r < 0)
			goto out_free_parse;
		if (!(quoted & (UINT64_C(1) << record.pcr))) {
			r = fail(errbuf, errlen,
				 "first bad entry: record %lu extends PCR %u, which "
				 "the quote does not cover; quote it with --pcr including %u",
				 record.number, record.pcr, record.pcr);
			goto out_free_parse;
		}
		*ret_used |= UINT64_C(1) << record.pcr;
		for (unsigned int b = 0; b < ev->bank_count; b++) {
			r = pcr_bank_extend_record(&replay[b], &record, PCR_BANK_PER_BANK);
			if (r < 0) {
				r = fail(errbuf, errlen, "record %lu: %s extend failed: %s",
					 record.number, hash_algo_name(replay[b].algo),
					 strerror(-r));
				goto out_free_parse;
			}
		}
		if (!ret->matched_at && record.violation)
			ret->violations++;
		if (!ret->matched_at && replay_matches(ev, replay, *ret_used))
			ret->matched_at = record.number;
	}
	if (r < 0) {
		r = fail(errbuf, errlen, "first bad entry: %s", perr);
		goto out_free_parse;
	}
	if (ret->records == 0) {
		r = fail(errbuf, errlen, "the measurement list in the evidence is empty");
		goto out_free_parse;
	}
	if (!ret->matched_at) {
		char have[2 * HASH_MAX_DIGEST_SIZE + 1], want[2 * HASH_MAX_DIGEST_SIZE + 1];
		unsigned int pcr = (unsigned int)__builtin_ctzll(*ret_used);
		const struct pcr_bank *quoted_bank = &ev->banks[ev->bank_count - 1];

		hash_to_hex(replay[ev->bank_count - 1].value[pcr], quoted_bank->size, have);
		hash_to_hex(quoted_bank->value[pcr], quoted_bank->size, want);
		r = fail(errbuf, errlen,
			 "the list does not reach the quoted PCR values after any of its %lu "
			 "records: after the last one PCR-%02u %s is %s, the quote holds %s; "
			 "records were removed, reordered, or changed together with their "
			 "stored digests, or the list belongs to another TPM or boot",
			 ret->records, pcr, hash_algo_name(quoted_bank->algo), have, want);
		goto out_free_parse;
	}
	r = 0;
out_free_parse:
	ima_parse_free(parse);
	return r;
}

/* Check one covered record against ALLOW. */
static int check_allowed(const struct ima_record *record, const struct allowlist *allow,
			 char *errbuf, size_t errlen)
{
	char name[NAME_TEXT_MAX], hex[2 * HASH_MAX_DIGEST_SIZE + 1];
	struct ima_file_digest digest;
	int r;

	ima_record_name(record, name, sizeof(name));
	if (record->violation)
		return fail(errbuf, errlen,
			    "first bad entry: record %lu ('%s') is a violation "
			    "(ToMToU or open_writers): the file changed while it was measured, so "
			    "no allowlist can vouch for what was read",
			    record->number, name);
	r = ima_record_file_digest(record, &digest);
	if (r == -ENOENT)
		return fail(errbuf, errlen,
			    "first bad entry: record %lu ('%s', template %s) has no "
			    "file digest to look up",
			    record->number, name, record->template_name);
	if (r < 0)
		return fail(errbuf, errlen,
			    "first bad entry: record %lu ('%s') has a file digest "
			    "of an algorithm imafs-log does not know",
			    record->number, name);
	if (digest.len > HASH_MAX_DIGEST_SIZE)
		digest.len = HASH_MAX_DIGEST_SIZE;
	hash_to_hex(digest.bytes, digest.len, hex);
	if (digest.verity)
		return fail(errbuf, errlen,
			    "first bad entry: record %lu ('%s') holds an fs-verity "
			    "digest, which a sha256sum allowlist does not contain",
			    record->number, name);
	if (!allowlist_contains(allow, digest.algo, digest.bytes, digest.len))
		return fail(errbuf, errlen,
			    "first bad entry: record %lu ('%s'): file digest %s:%s "
			    "is not in the allowlist",
			    record->number, name, hash_algo_name(digest.algo), hex);
	return 0;
}

static int check_allowlist(const struct evidence *ev, const struct allowlist *allow,
			   struct evidence_log_result *ret, char *errbuf, size_t errlen)
{
	struct ima_parse *parse = ima_parse_new(ev->log, ev->log_len, ev->log_bank, IMA_ORDER_AUTO);
	char name[NAME_TEXT_MAX], perr[512];
	struct ima_record record;
	int r;

	if (!parse)
		return -ENOMEM;
	while ((r = ima_parse_next(parse, &record, perr, sizeof(perr))) > 0 &&
	       record.number <= ret->matched_at) {
		/* The boot aggregate digests PCRs, not a file. */
		if (!strcmp(ima_record_name(&record, name, sizeof(name)), "boot_aggregate"))
			continue;
		r = check_allowed(&record, allow, errbuf, errlen);
		if (r < 0)
			break;
		ret->files_checked++;
	}
	ima_parse_free(parse);
	return r < 0 ? r : 0;
}

int evidence_check_log(const struct evidence *ev, const struct allowlist *allow,
		       struct evidence_log_result *ret, char *errbuf, size_t errlen)
{
	uint64_t used;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = replay_log(ev, ret, &used, errbuf, errlen);
	ret->pcrs_used = used;
	if (r < 0 || !allow)
		return r;
	return check_allowlist(ev, allow, ret, errbuf, errlen);
}
