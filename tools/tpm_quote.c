/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCR reads and TPM2 quotes for imafs-log, through tpm2-tss ESYS.
 *
 * Invariants:
 *  1. The PCR values returned with a quote are the ones it signed. A PCR
 *     extended between the read and the quote changes the quote's PCR
 *     digest, so the quote is taken again until the digest of the values
 *     read just before it matches and the result passes
 *     evidence_check_quote().
 *  2. Only a restricted signing key signs a quote. The TPM signs with such
 *     a key only digests it computed itself, so the signature proves that
 *     the attest bytes came from the TPM.
 *  3. Every transient object this module loads or creates is flushed before
 *     it returns, also on errors, so TPM object slots do not leak.
 *
 * Locking: none; one ESYS context per call. Ownership: see tpm_quote.h.
 */
#include "tools/tpm_quote.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

/* Quotes taken before giving up on PCRs that change between the read and the quote. */
#define QUOTE_ATTEMPTS 20
/* tpm2-tools writes transient key contexts with this magic and version, big-endian. */
#define CONTEXT_FILE_MAGIC 0xbadcc0deU
#define CONTEXT_FILE_VERSION 1
/* Maximum size of an AK context file; tpm2-tools 5.4 writes 574 bytes (ECC) to 1566 (RSA 2048). */
#define CONTEXT_FILE_MAX (64 * 1024)

struct session {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
};

__attribute__((format(printf, 4, 5))) static int fail(int r, char *errbuf, size_t errlen,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	return r;
}

static void disconnect(struct session *s)
{
	if (s->esys)
		Esys_Finalize(&s->esys);
	if (s->tcti)
		Tss2_TctiLdr_Finalize(&s->tcti);
}

static int connect_tpm(const char *tcti, struct session *s, char *errbuf, size_t errlen)
{
	TSS2_RC rc;

	/* Silence tpm2-tss's stderr output unless TSS2_LOG is set: our messages name the cause. */
	(void)setenv("TSS2_LOG", "all+none", 0);
	memset(s, 0, sizeof(*s));
	rc = Tss2_TctiLdr_Initialize(tcti, &s->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		s->tcti = NULL;
		return fail(
			-EIO, errbuf, errlen,
			"cannot open TCTI '%s': %s; check the TCTI string "
			"(such as device:/dev/tpmrm0 or swtpm:host=127.0.0.1,port=2321) and that "
			"no other client holds a single-client TPM such as swtpm",
			tcti, Tss2_RC_Decode(rc));
	}
	rc = Esys_Initialize(&s->esys, s->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		s->esys = NULL;
		disconnect(s);
		return fail(-EIO, errbuf, errlen, "Esys_Initialize on TCTI '%s' failed: %s", tcti,
			    Tss2_RC_Decode(rc));
	}
	rc = Esys_Startup(s->esys, TPM2_SU_CLEAR);
	if (rc != TSS2_RC_SUCCESS && rc != TPM2_RC_INITIALIZE) {
		disconnect(s);
		return fail(-EIO, errbuf, errlen, "TPM2_Startup on TCTI '%s' failed: %s", tcti,
			    Tss2_RC_Decode(rc));
	}
	return 0;
}

static void select_pcrs(TPML_PCR_SELECTION *sel, const TPMI_ALG_HASH *algs, unsigned int count,
			const uint64_t *masks)
{
	memset(sel, 0, sizeof(*sel));
	for (unsigned int i = 0; i < count; i++) {
		TPMS_PCR_SELECTION *s = &sel->pcrSelections[sel->count];

		if (!masks[i])
			continue;
		s->hash = algs[i];
		s->sizeofSelect = 3;
		for (unsigned int byte = 0; byte < 3; byte++)
			s->pcrSelect[byte] = (BYTE)(masks[i] >> (8 * byte));
		sel->count++;
	}
}

/*
 * Read the PCRs of MASK in the sha1 and sha256 banks. TPM2_PCR_Read returns
 * at most eight values per call, so this repeats until every PCR was
 * returned, or a call returns nothing more (an unallocated bank).
 */
static int read_pcrs(struct session *s, uint64_t mask, struct pcr_bank *banks,
		     unsigned int *ret_count, char *errbuf, size_t errlen)
{
	static const TPMI_ALG_HASH algs[EVIDENCE_BANKS] = { TPM2_ALG_SHA1, TPM2_ALG_SHA256 };
	static const enum hash_algo hashes[EVIDENCE_BANKS] = { HASH_SHA1, HASH_SHA256 };
	uint64_t left[EVIDENCE_BANKS] = { mask, mask };
	struct pcr_bank read[EVIDENCE_BANKS];
	unsigned int count = 0;

	for (unsigned int b = 0; b < EVIDENCE_BANKS; b++)
		pcr_bank_init(&read[b], hashes[b]);
	while (left[0] || left[1]) {
		TPML_PCR_SELECTION sel, *out = NULL;
		TPML_DIGEST *values = NULL;
		UINT32 counter;
		uint32_t used = 0;
		TSS2_RC rc;

		select_pcrs(&sel, algs, EVIDENCE_BANKS, left);
		rc = Esys_PCR_Read(s->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel,
				   &counter, &out, &values);
		if (rc != TSS2_RC_SUCCESS)
			return fail(-EIO, errbuf, errlen, "TPM2_PCR_Read failed: %s",
				    Tss2_RC_Decode(rc));
		for (uint32_t i = 0; i < out->count; i++) {
			const TPMS_PCR_SELECTION *o = &out->pcrSelections[i];
			unsigned int b = o->hash == TPM2_ALG_SHA1 ? 0 : 1;

			for (unsigned int pcr = 0; pcr < 8u * o->sizeofSelect; pcr++) {
				if (!(o->pcrSelect[pcr / 8] & (1u << (pcr % 8))))
					continue;
				if (used >= values->count ||
				    values->digests[used].size != read[b].size) {
					Esys_Free(out);
					Esys_Free(values);
					return fail(-EIO, errbuf, errlen,
						    "TPM2_PCR_Read returned "
						    "fewer or shorter values than it selected");
				}
				memcpy(read[b].value[pcr], values->digests[used++].buffer,
				       read[b].size);
				read[b].present |= UINT64_C(1) << pcr;
				left[b] &= ~(UINT64_C(1) << pcr);
			}
		}
		Esys_Free(out);
		Esys_Free(values);
		if (used == 0)
			break; /* the rest belongs to banks the TPM has not allocated */
	}
	for (unsigned int b = 0; b < EVIDENCE_BANKS; b++) {
		if (read[b].present == mask)
			banks[count++] = read[b];
	}
	if (count == 0)
		return fail(-ENOENT, errbuf, errlen,
			    "the TPM has neither a sha1 nor a sha256 PCR "
			    "bank with the PCRs requested");
	*ret_count = count;
	return 0;
}

int tpm_quote_read_pcrs(const char *tcti, uint64_t pcr_mask, struct pcr_bank *banks,
			unsigned int *ret_count, char *errbuf, size_t errlen)
{
	struct session s;
	int r;

	r = connect_tpm(tcti, &s, errbuf, errlen);
	if (r < 0)
		return r;
	r = read_pcrs(&s, pcr_mask, banks, ret_count, errbuf, errlen);
	disconnect(&s);
	return r;
}

/* --- the attestation key ---------------------------------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int read_small_file(const char *path, uint8_t **ret, size_t *ret_len, char *errbuf,
			   size_t errlen)
{
	uint8_t *buf = malloc(CONTEXT_FILE_MAX + 1);
	size_t len = 0;
	int fd, r = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		free(buf);
		return fail(r, errbuf, errlen, "cannot open AK context '%s': %s", path,
			    strerror(-r));
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, CONTEXT_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		len += (size_t)n;
		if (len > CONTEXT_FILE_MAX) {
			r = -EFBIG;
			break;
		}
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return fail(r, errbuf, errlen, "cannot read AK context '%s': %s", path,
			    r == -EFBIG ? "larger than 64 KiB, so not a context file"
					: strerror(-r));
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/*
 * Load the AK saved in PATH: a tpm2-tools context file (magic, version,
 * then the TPMS_CONTEXT fields hierarchy, savedHandle, sequence and the
 * context blob, all big-endian), or a serialized ESYS_TR of a persistent key.
 * *RET_FLUSH is set when the handle is a transient object to flush.
 */
static int load_ak(struct session *s, const char *path, ESYS_TR *ret, bool *ret_flush, char *errbuf,
		   size_t errlen)
{
	TPMS_CONTEXT context = { 0 };
	uint8_t *buf;
	size_t len;
	TSS2_RC rc;
	int r;

	r = read_small_file(path, &buf, &len, errbuf, errlen);
	if (r < 0)
		return r;
	if (len < 8 || be32(buf) != CONTEXT_FILE_MAGIC) {
		*ret_flush = false;
		rc = Esys_TR_Deserialize(s->esys, buf, len, ret);
		free(buf);
		if (rc != TSS2_RC_SUCCESS)
			return fail(-EINVAL, errbuf, errlen,
				    "'%s' is neither a tpm2-tools context "
				    "file nor a serialized persistent handle: %s",
				    path, Tss2_RC_Decode(rc));
		return 0;
	}
	if (be32(buf + 4) != CONTEXT_FILE_VERSION || len < 26) {
		uint32_t version = be32(buf + 4);

		free(buf);
		return fail(-EINVAL, errbuf, errlen,
			    "'%s': context file version %u is not "
			    "supported; save the AK again with tpm2-tools 5",
			    path, version);
	}
	context.hierarchy = be32(buf + 8);
	context.savedHandle = be32(buf + 12);
	context.sequence = (uint64_t)be32(buf + 16) << 32 | be32(buf + 20);
	context.contextBlob.size = (UINT16)(buf[24] << 8 | buf[25]);
	if (context.contextBlob.size > sizeof(context.contextBlob.buffer) ||
	    len != 26u + context.contextBlob.size) {
		free(buf);
		return fail(-EINVAL, errbuf, errlen,
			    "'%s': the context blob size does not match "
			    "the file; the file is damaged",
			    path);
	}
	memcpy(context.contextBlob.buffer, buf + 26, context.contextBlob.size);
	free(buf);
	rc = Esys_ContextLoad(s->esys, &context, ret);
	if (rc != TSS2_RC_SUCCESS)
		return fail(-EIO, errbuf, errlen,
			    "TPM2_ContextLoad of '%s' failed: %s; a saved "
			    "context is valid only until the TPM resets",
			    path, Tss2_RC_Decode(rc));
	*ret_flush = true;
	return 0;
}

/* Create the ECC NIST P-256 restricted signing key used when no AK context is given. */
static int create_ak(struct session *s, ESYS_TR *ret, char *errbuf, size_t errlen)
{
	TPM2B_PUBLIC template = {
		.publicArea = {
			.type = TPM2_ALG_ECC,
			.nameAlg = TPM2_ALG_SHA256,
			.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
					    TPMA_OBJECT_SENSITIVEDATAORIGIN |
					    TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED |
					    TPMA_OBJECT_SIGN_ENCRYPT,
			.parameters.eccDetail = {
				.symmetric.algorithm = TPM2_ALG_NULL,
				.scheme = { .scheme = TPM2_ALG_ECDSA,
					    .details.ecdsa.hashAlg = TPM2_ALG_SHA256 },
				.curveID = TPM2_ECC_NIST_P256,
				.kdf.scheme = TPM2_ALG_NULL,
			},
		},
	};
	TPM2B_SENSITIVE_CREATE sensitive = { 0 };
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION creation_pcrs = { 0 };
	TSS2_RC rc;

	rc = Esys_CreatePrimary(s->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				ESYS_TR_NONE, &sensitive, &template, &outside, &creation_pcrs, ret,
				NULL, NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS)
		return fail(-EIO, errbuf, errlen,
			    "TPM2_CreatePrimary of the AK in the endorsement "
			    "hierarchy failed: %s; if the hierarchy has a password, create an AK "
			    "with tpm2_createak and pass --ak-context",
			    Tss2_RC_Decode(rc));
	return 0;
}

/* Build the OpenSSL key of the TPM public area PUB. */
static EVP_PKEY *public_to_pkey(const TPMT_PUBLIC *pub)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *n = NULL, *e = NULL;
	uint8_t point[1 + 2 * 66];
	const char *type;
	int ok = bld != NULL;

	if (pub->type == TPM2_ALG_ECC) {
		const TPMS_ECC_POINT *p = &pub->unique.ecc;
		const char *group;
		size_t size;

		type = "EC";
		switch (pub->parameters.eccDetail.curveID) {
		case TPM2_ECC_NIST_P256:
			group = "prime256v1";
			size = 32;
			break;
		case TPM2_ECC_NIST_P384:
			group = "secp384r1";
			size = 48;
			break;
		case TPM2_ECC_NIST_P521:
			group = "secp521r1";
			size = 66;
			break;
		default:
			group = NULL;
			size = 0;
			break;
		}
		/* The uncompressed point, each coordinate left-padded to the curve size. */
		ok = ok && group && p->x.size <= size && p->y.size <= size;
		if (ok) {
			memset(point, 0, sizeof(point));
			point[0] = 0x04;
			memcpy(point + 1 + size - p->x.size, p->x.buffer, p->x.size);
			memcpy(point + 1 + 2 * size - p->y.size, p->y.buffer, p->y.size);
			ok = OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group,
							     0) &&
			     OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
							      1 + 2 * size);
		}
	} else if (pub->type == TPM2_ALG_RSA) {
		UINT32 exponent = pub->parameters.rsaDetail.exponent;

		type = "RSA";
		n = BN_bin2bn(pub->unique.rsa.buffer, pub->unique.rsa.size, NULL);
		e = BN_new();
		/* An exponent of 0 in the public area means the default, 65537. */
		ok = ok && n && e && BN_set_word(e, exponent ? exponent : 65537) &&
		     OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
		     OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
	} else {
		type = NULL;
		ok = 0;
	}
	if (ok)
		params = OSSL_PARAM_BLD_to_param(bld);
	if (params)
		ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pkey;
}

/* Read the AK's public area, check that it may sign quotes, and write its key as PEM. */
static int ak_public_pem(struct session *s, ESYS_TR ak, char **ret, char *errbuf, size_t errlen)
{
	const TPMA_OBJECT need = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
	TPM2B_PUBLIC *pub = NULL;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	char *data;
	long len;
	TSS2_RC rc;
	int r = 0;

	rc = Esys_ReadPublic(s->esys, ak, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL,
			     NULL);
	if (rc != TSS2_RC_SUCCESS)
		return fail(-EIO, errbuf, errlen, "TPM2_ReadPublic of the AK failed: %s",
			    Tss2_RC_Decode(rc));
	if ((pub->publicArea.objectAttributes & need) != need ||
	    (pub->publicArea.objectAttributes & TPMA_OBJECT_DECRYPT)) {
		r = fail(-EINVAL, errbuf, errlen,
			 "the AK is not a restricted signing key, so its "
			 "signature would not prove that the TPM produced the quote; create one "
			 "with tpm2_createak");
		goto out_free;
	}
	pkey = public_to_pkey(&pub->publicArea);
	bio = BIO_new(BIO_s_mem());
	if (!pkey || !bio || PEM_write_bio_PUBKEY(bio, pkey) != 1) {
		r = fail(-EINVAL, errbuf, errlen,
			 "cannot convert the AK public key (TPM type "
			 "0x%04x) to PEM; use an RSA or NIST P-256/384/521 ECC key",
			 pub->publicArea.type);
		goto out_free;
	}
	len = BIO_get_mem_data(bio, &data);
	*ret = strndup(data, (size_t)len);
	if (!*ret)
		r = -ENOMEM;
out_free:
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	Esys_Free(pub);
	return r;
}

/* --- the quote -------------------------------------------------------------------------------- */

/* Take one quote of the PCRs in BANKS (with the values read just before) into RET. */
static int quote_once(struct session *s, ESYS_TR ak, const struct pcr_bank *banks,
		      unsigned int count, struct evidence *ret, char *errbuf, size_t errlen)
{
	TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	TPMI_ALG_HASH algs[EVIDENCE_BANKS];
	uint64_t masks[EVIDENCE_BANKS];
	TPM2B_DATA qualifying = { 0 };
	TPML_PCR_SELECTION sel;
	TPM2B_ATTEST *quoted = NULL;
	TPMT_SIGNATURE *sig = NULL;
	uint8_t buf[sizeof(TPMT_SIGNATURE)];
	size_t off = 0;
	TSS2_RC rc;
	int r = 0;

	for (unsigned int b = 0; b < count; b++) {
		algs[b] = banks[b].algo == HASH_SHA1 ? TPM2_ALG_SHA1 : TPM2_ALG_SHA256;
		masks[b] = banks[b].present;
		ret->banks[b] = banks[b];
	}
	ret->bank_count = count;
	select_pcrs(&sel, algs, count, masks);
	qualifying.size = (UINT16)ret->nonce_len;
	memcpy(qualifying.buffer, ret->nonce, ret->nonce_len);

	rc = Esys_Quote(s->esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qualifying,
			&scheme, &sel, &quoted, &sig);
	if (rc != TSS2_RC_SUCCESS)
		return fail(-EIO, errbuf, errlen, "TPM2_Quote failed: %s", Tss2_RC_Decode(rc));
	rc = Tss2_MU_TPMT_SIGNATURE_Marshal(sig, buf, sizeof(buf), &off);
	free(ret->attest);
	free(ret->signature);
	ret->attest = malloc(quoted->size);
	ret->signature = malloc(off);
	if (rc != TSS2_RC_SUCCESS || !ret->attest || !ret->signature) {
		r = fail(-ENOMEM, errbuf, errlen, "cannot store the quote: out of memory");
		goto out_free;
	}
	memcpy(ret->attest, quoted->attestationData, quoted->size);
	ret->attest_len = quoted->size;
	memcpy(ret->signature, buf, off);
	ret->signature_len = off;
out_free:
	Esys_Free(quoted);
	Esys_Free(sig);
	return r;
}

static int quote_with(struct session *s, ESYS_TR ak, uint64_t pcr_mask, struct evidence *ret,
		      char *errbuf, size_t errlen)
{
	struct pcr_bank banks[EVIDENCE_BANKS];
	struct evidence_quote_info info;
	char last[512] = "";
	unsigned int count;
	int r;

	r = ak_public_pem(s, ak, &ret->ak_pem, errbuf, errlen);
	if (r < 0)
		return r;
	for (unsigned int attempt = 0; attempt < QUOTE_ATTEMPTS; attempt++) {
		r = read_pcrs(s, pcr_mask, banks, &count, errbuf, errlen);
		if (r < 0)
			return r;
		r = quote_once(s, ak, banks, count, ret, errbuf, errlen);
		if (r < 0)
			return r;
		/* Fails when a PCR was extended between the read and the quote: try again. */
		r = evidence_check_quote(ret, NULL, &info, last, sizeof(last));
		if (r == 0)
			return 0;
	}
	return fail(-EAGAIN, errbuf, errlen,
		    "the quote never matched the PCR values read just "
		    "before it in %d attempts (%s); the PCRs change too often",
		    QUOTE_ATTEMPTS, last);
}

int tpm_quote_take(const char *tcti, const char *ak_context, const uint8_t *nonce, size_t nonce_len,
		   uint64_t pcr_mask, struct evidence *ret, char *errbuf, size_t errlen)
{
	ESYS_TR ak = ESYS_TR_NONE;
	bool flush = true;
	struct session s;
	int r;

	if (nonce_len == 0 || nonce_len > EVIDENCE_NONCE_MAX)
		return fail(-EINVAL, errbuf, errlen, "the nonce must be 1 to %d bytes",
			    EVIDENCE_NONCE_MAX);
	memcpy(ret->nonce, nonce, nonce_len);
	ret->nonce_len = nonce_len;

	r = connect_tpm(tcti, &s, errbuf, errlen);
	if (r < 0)
		return r;
	if (ak_context)
		r = load_ak(&s, ak_context, &ak, &flush, errbuf, errlen);
	else
		r = create_ak(&s, &ak, errbuf, errlen);
	if (r < 0)
		goto out_disconnect;
	r = quote_with(&s, ak, pcr_mask, ret, errbuf, errlen);
	if (flush)
		(void)Esys_FlushContext(s.esys, ak);
out_disconnect:
	disconnect(&s);
	return r;
}
