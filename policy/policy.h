/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel IMA policy language: parsing rule text into a rule set, the
 * built-in policies, and evaluating a rule set for one event.
 *
 * Thread safety: a struct policy is immutable after loading, so any number of
 * threads may call policy_evaluate() on it at once. Replacing the active
 * policy is the caller's job (swap a pointer, free the old set when no
 * evaluation uses it).
 *
 * Ownership: the loaders return a rule set that the caller frees with
 * policy_free(), which accepts NULL and returns NULL.
 */
#ifndef IMAFS_POLICY_POLICY_H
#define IMAFS_POLICY_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Hooks (func= values). */
enum policy_func {
	POLICY_FUNC_NONE = 0,
	POLICY_FUNC_FILE_CHECK,
	POLICY_FUNC_MMAP_CHECK,
	POLICY_FUNC_MMAP_CHECK_REQPROT,
	POLICY_FUNC_BPRM_CHECK,
	POLICY_FUNC_CREDS_CHECK,
	POLICY_FUNC_POST_SETATTR,
	POLICY_FUNC_MODULE_CHECK,
	POLICY_FUNC_FIRMWARE_CHECK,
	POLICY_FUNC_KEXEC_KERNEL_CHECK,
	POLICY_FUNC_KEXEC_INITRAMFS_CHECK,
	POLICY_FUNC_POLICY_CHECK,
	POLICY_FUNC_KEXEC_CMDLINE,
	POLICY_FUNC_KEY_CHECK,
	POLICY_FUNC_CRITICAL_DATA,
	POLICY_FUNC_SETXATTR_CHECK,
	POLICY_FUNC__MAX,
};

/* Access mask bits, with the kernel's MAY_* values. */
#define POLICY_MAY_EXEC 0x1u
#define POLICY_MAY_WRITE 0x2u
#define POLICY_MAY_READ 0x4u
#define POLICY_MAY_APPEND 0x8u

/* Action kinds; each is decided by the first matching rule of its kind. */
enum policy_kind {
	POLICY_KIND_MEASURE,
	POLICY_KIND_APPRAISE,
	POLICY_KIND_AUDIT,
	POLICY_KIND_HASH,
	POLICY_KIND__MAX,
};

/* One event as the daemon sees it: the hook, mask, subject and object. */
struct policy_event {
	enum policy_func func;
	unsigned int mask; /* POLICY_MAY_* bits */
	uid_t uid;         /* subject real uid */
	uid_t euid;        /* subject effective uid */
	gid_t gid;
	gid_t egid;
	bool has_cap_setuid; /* euid= then also matches real and saved uid */
	uid_t suid;
	uid_t fowner; /* file owner */
	gid_t fgroup;
	uint32_t fsmagic; /* statfs f_type of the backing file, low 32 bits */
};

/* Result of evaluating one event. */
struct policy_decision {
	bool measure;         /* a measure rule decided MEASURE */
	bool pcr_set;         /* the deciding measure rule had pcr= */
	unsigned int pcr;     /* its value when PCR_SET */
	char template[64];    /* template= of the deciding measure rule, else "" */
	unsigned int measure_line; /* line of the rule that decided MEASURE, 0 if none */
	bool appraise;        /* an appraise rule decided APPRAISE */
	unsigned int appraise_line;
	bool appraise_sig_required;    /* appraise_type=imasig of the deciding appraise rule */
	bool appraise_check_blocklist; /* appraise_flag=check_blacklist */
	uint32_t appraise_algos;       /* appraise_algos=: bit N = kernel hash id N; 0 = any */
};

/* Where and why a policy load failed. */
struct policy_error {
	char origin[256];  /* file name, or "builtin:NAME" */
	unsigned int line; /* 1-based */
	unsigned int col;  /* 1-based column of the offending token */
	char message[512]; /* names the token and the fix */
};

struct policy;

/*
 * Parse TEXT (LEN bytes, kernel policy syntax, one rule per line) named
 * ORIGIN in messages. All or nothing: on the first bad rule nothing is
 * returned and *RETERR describes the error. Returns 0 or -EINVAL / -ENOMEM.
 */
int policy_parse(const char *text, size_t len, const char *origin, struct policy **ret,
		 struct policy_error *reterr);

/* Read and parse the file at PATH. -errno of open/read, or as policy_parse(). */
int policy_load_file(const char *path, struct policy **ret, struct policy_error *reterr);

/* Build a built-in policy by name: "tcb". -ENOENT for an unknown name. */
int policy_load_builtin(const char *name, struct policy **ret, struct policy_error *reterr);

/*
 * Load SPEC: "builtin:NAME" or a file path. The daemon's --policy value.
 */
int policy_load(const char *spec, struct policy **ret, struct policy_error *reterr);

struct policy *policy_free(struct policy *policy);

/* Number of rules in POLICY. */
unsigned int policy_rule_count(const struct policy *policy);

/* Evaluate EVENT against POLICY for the measure and appraise kinds. */
void policy_evaluate(const struct policy *policy, const struct policy_event *event,
		     struct policy_decision *ret);

/* Name of FUNC as in policy text ("FILE_CHECK"), or NULL. */
const char *policy_func_name(enum policy_func func);

#endif
