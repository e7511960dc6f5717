/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel IMA policy language. This module parses rule text into a rule set as a chosen
 * kernel version would, and builds the built-in policies and the imafs extension conditions.
 * It evaluates a rule set for one event and can explain that evaluation rule by rule. It also
 * checks a policy for errors and warnings and prints it back in the kernel's canonical form.
 *
 * Thread safety: a struct policy is immutable after loading, so any number of threads may call
 * policy_evaluate() and policy_explain() on it at once. Replacing the active policy is the
 * caller's job (swap a pointer, free the old set when no evaluation uses it).
 *
 * Ownership: the loaders return a rule set that the caller frees with policy_free(), which
 * accepts NULL and returns NULL. Strings returned by accessors belong to the policy. Pointers
 * in struct policy_event belong to the caller and are read only during the call.
 */
#ifndef IMAFS_POLICY_POLICY_H
#define IMAFS_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* Kernel versions are written major * 100 + minor: 619 is Linux 6.19. */
#define POLICY_KERNEL_VERSION_DEFAULT 619
#define POLICY_KERNEL_VERSION_MIN 300

/* How to parse: which kernel to imitate, and whether imafs extensions are allowed. */
struct policy_options {
	unsigned int kernel_version; /* major * 100 + minor; 0 selects the default, 6.19 */
	bool extensions;	     /* accept path=, path^=, exe=, comm= and cgroup= */
};

/*
 * One event as the daemon observes it: the hook, mask, subject and object. Fields added after
 * the first release mean "known" and "capability not held" when left zero, and a NULL string
 * means unknown. A condition on an unknown value never counts as true. The rule then does not
 * match, and the decision is marked inexact.
 */
struct policy_event {
	enum policy_func func;
	unsigned int mask;   /* POLICY_MAY_* bits */
	uid_t uid;	     /* subject real uid */
	uid_t euid;	     /* subject effective uid */
	gid_t gid;	     /* subject real gid */
	gid_t egid;	     /* subject effective gid */
	bool has_cap_setuid; /* euid= then also matches the real and saved uid */
	uid_t suid;	     /* subject saved uid */
	uid_t fowner;	     /* file owner */
	gid_t fgroup;
	uint32_t fsmagic; /* statfs f_type of the backing file, low 32 bits */

	gid_t sgid;	     /* subject saved gid */
	bool has_cap_setgid; /* egid= then also matches the real and saved gid */
	bool ids_unknown;    /* uid, euid, gid and egid could not be read (process gone) */
	bool fsmagic_unknown;
	const char *fsname;	/* filesystem type name ("ext4"), NULL if unknown */
	const char *fs_subtype; /* part after the '.' of the type ("sshfs"), "" if none */
	const uint8_t *fsuuid;	/* 16 bytes of the superblock UUID, NULL if unknown */
	const char *obj_label;	/* SELinux context "user:role:type[:level]" of the file */
	const char *subj_label; /* SELinux context of the subject */

	/* imafs extensions. */
	const char *path;   /* the file's name as the measurement list records it */
	const char *exe;    /* the subject's executable (/proc/PID/exe) */
	const char *comm;   /* the subject's command name (/proc/PID/comm) */
	const char *cgroup; /* the subject's cgroup v2 path ("/system.slice/x.service") */
};

/*
 * Result of evaluating one event. For each kind, the *_line field is the line of the do rule
 * that decided it, and dont_line[kind] is the line of the dont_ rule that decided it. Both are
 * 0 when no rule of that kind matched.
 */
struct policy_decision {
	bool measure;		   /* a measure rule decided MEASURE */
	bool pcr_set;		   /* the deciding measure rule had pcr= */
	unsigned int pcr;	   /* its value when PCR_SET */
	char template[64];	   /* template= of the deciding measure rule, else "" */
	unsigned int measure_line; /* line of the rule that decided MEASURE, 0 if none */
	bool appraise;		   /* an appraise rule decided APPRAISE */
	unsigned int appraise_line;
	bool appraise_sig_required;    /* appraise_type= of the deciding appraise rule */
	bool appraise_check_blocklist; /* the digest is checked against the deny list */
	uint32_t appraise_algos;       /* appraise_algos=: bit N = kernel hash id N; 0 = any */

	bool appraise_modsig; /* appraise_type=imasig|modsig */
	bool appraise_verity; /* digest_type=verity with appraise_type=sigv3 */
	bool fail_securely;   /* an appraise rule matched and the policy has fail_securely */
	bool audit;	      /* an audit rule decided AUDIT */
	unsigned int audit_line;
	bool hash; /* a hash rule decided HASH and no later appraise rule cancelled it */
	unsigned int hash_line;
	unsigned int hash_cancel_line; /* the appraise rule that cancelled HASH, 0 if none */
	unsigned int dont_line[POLICY_KIND__MAX];
	bool permit_directio; /* a rule of an undecided kind with permit_directio matched */

	/*
	 * A rule of an undecided kind was skipped because one of its conditions could not be
	 * evaluated (and none was false): the kernel might have decided otherwise.
	 */
	bool inexact;
	unsigned int inexact_line;   /* line of the first such rule */
	const char *inexact_keyword; /* its first unknown condition, "fsname=" */
};

/* Location and reason of a failed policy load. */
struct policy_error {
	char origin[256];  /* file name, or "builtin:NAME" */
	unsigned int line; /* 1-based; 0 when the whole text is at fault */
	unsigned int col;  /* 1-based column of the offending token */
	char message[512]; /* names the token and the fix */
	char token[128];   /* the offending token as written, "" if none */
	char kernel[320];  /* what the kernel does with the same text, "" if not applicable */
};

struct policy;

/*
 * Parse TEXT (LEN bytes, kernel policy syntax, one rule per line) named ORIGIN in messages,
 * with OPTIONS (NULL for the defaults). All or nothing: on the first bad rule nothing is
 * returned and *RETERR describes the error. Returns 0 or -EINVAL / -ENOMEM.
 */
int policy_parse_ex(const char *text, size_t len, const char *origin,
		    const struct policy_options *options, struct policy **ret,
		    struct policy_error *reterr);

/* policy_parse_ex() with the default options. */
int policy_parse(const char *text, size_t len, const char *origin, struct policy **ret,
		 struct policy_error *reterr);

/* Read and parse the file at PATH. -errno of open/read, or as policy_parse_ex(). */
int policy_load_file_ex(const char *path, const struct policy_options *options, struct policy **ret,
			struct policy_error *reterr);
int policy_load_file(const char *path, struct policy **ret, struct policy_error *reterr);

/*
 * Build a built-in policy. NAMES is a list like the kernel's ima_policy= value: tcb,
 * appraise_tcb, secure_boot, fail_securely and critical_data separated by '|' (or blanks).
 * The rules come in the kernel's boot order whatever the order in NAMES. -ENOENT for an
 * unknown name. The rule lists follow OPTIONS->kernel_version where kernels differ.
 */
int policy_load_builtin_ex(const char *names, const struct policy_options *options,
			   struct policy **ret, struct policy_error *reterr);
int policy_load_builtin(const char *names, struct policy **ret, struct policy_error *reterr);

/* Load SPEC: "builtin:NAMES" or a file path. The daemon's --policy value. */
int policy_load_ex(const char *spec, const struct policy_options *options, struct policy **ret,
		   struct policy_error *reterr);
int policy_load(const char *spec, struct policy **ret, struct policy_error *reterr);

struct policy *policy_free(struct policy *policy);

/* Parse "6.14" or "6.14.2" into 614. Returns 0 or -EINVAL. */
int policy_kernel_version_parse(const char *text, unsigned int *ret);

/* Number of rules in POLICY. */
unsigned int policy_rule_count(const struct policy *policy);

/* Line number, text as written (without the line end) of rule INDEX; 0 / NULL if out of range. */
unsigned int policy_rule_line(const struct policy *policy, unsigned int index);
const char *policy_rule_text(const struct policy *policy, unsigned int index);

/* Whether the policy includes the fail_securely built-in. */
bool policy_fail_securely(const struct policy *policy);

/* SHA-256 of the text the policy was parsed from (32 bytes), or NULL for a NULL policy. */
const uint8_t *policy_sha256(const struct policy *policy);

/* Facts of an event that some rule of a policy tests (bits of policy_needs()). */
#define POLICY_NEEDS_SUBJECT_IDS 0x1u /* uid=, euid=, gid=, egid= */
#define POLICY_NEEDS_FSMAGIC 0x2u
#define POLICY_NEEDS_FS 0x4u          /* fsname=, fs_subtype=, fsuuid= */
#define POLICY_NEEDS_OBJ_LABEL 0x8u
#define POLICY_NEEDS_SUBJ_LABEL 0x10u

/*
 * Which event facts the rules of POLICY test, so that a caller may skip
 * reading the others (they then stay at their defaults, never tested).
 */
unsigned int policy_needs(const struct policy *policy);

/* Whether some do rule (not dont_) of KIND exists. The kernel evaluates only such kinds. */
bool policy_has_kind(const struct policy *policy, enum policy_kind kind);

/* Evaluate EVENT against POLICY for all four kinds. */
void policy_evaluate(const struct policy *policy, const struct policy_event *event,
		     struct policy_decision *ret);

/* Explanation */

enum policy_step_result {
	POLICY_STEP_NO_MATCH, /* a condition is false; REASON names the first one */
	POLICY_STEP_UNKNOWN,  /* no condition is false, but one could not be evaluated */
	POLICY_STEP_MATCH,    /* every condition holds: this rule decided its kind */
};

/* One rule visited by the first-match walk. */
struct policy_step {
	unsigned int index; /* rule index, for policy_rule_text() */
	unsigned int line;
	enum policy_kind kind;
	bool negated; /* dont_ action */
	enum policy_step_result result;
	const char *keyword; /* the failing or unknown condition ("uid="), NULL on a match */
	char reason[224];    /* "uid=0: subject uid is 1000"; "" on a match */
};

typedef void (*policy_step_fn)(const struct policy_step *step, void *data);

/*
 * Evaluate EVENT as policy_evaluate() does and call FN for every rule of a kind that was still
 * undecided when the walk reached it: the rules that did not match and why, then the rule that
 * decided the kind. Rules of a kind that is already decided are not reported.
 */
void policy_explain(const struct policy *policy, const struct policy_event *event,
		    policy_step_fn fn, void *data, struct policy_decision *ret);

/* Checking */

enum policy_diag_severity {
	POLICY_DIAG_ERROR,   /* the load fails */
	POLICY_DIAG_WARNING, /* the load succeeds, but the rule may not do what it seems to */
};

/* One finding of policy_check(). Strings are valid only during the callback. */
struct policy_diag {
	enum policy_diag_severity severity;
	const char *code; /* stable identifier, see policy_check() */
	unsigned int line;
	unsigned int col;
	const char *token;	   /* the offending token, "" if none */
	const char *message;	   /* what is wrong and how to fix it */
	const char *kernel;	   /* what the kernel does with it, "" if nothing to say */
	unsigned int related_line; /* "shadowed": the earlier rule that hides this one */
};

typedef void (*policy_diag_fn)(const struct policy_diag *diag, void *data);

/* policy_check() flags. */
#define POLICY_CHECK_KERNEL 0x1u /* report each extension condition as an error */

/*
 * Check TEXT as policy_parse_ex() would load it, but go on after a bad line so that every bad
 * line is reported, and warn about rules that parse but may mislead. Codes:
 *   errors:   "invalid-rule", "empty-policy", "extension" (POLICY_CHECK_KERNEL only),
 *             "text" (NUL bytes, size)
 *   warnings: "shadowed", "unevaluable", "kernel-config", "lsm-label", "never-matches",
 *             "no-final-newline", "no-do-rule"
 * Returns 0 when the text loads, -EINVAL when it does not, -ENOMEM.
 */
int policy_check(const char *text, size_t len, const char *origin,
		 const struct policy_options *options, unsigned int flags, policy_diag_fn fn,
		 void *data);

/* Printing */

/*
 * Write rule INDEX in the kernel's canonical form (what reading the policy file back prints):
 * fixed keyword order, each element followed by one space, no comments, no newline.
 * Returns the length written, or -ENOBUFS / -ERANGE.
 */
int policy_format_rule(const struct policy *policy, unsigned int index, char *buf, size_t size);

/* Write every rule in canonical form, one per line. Returns 0 or -errno of the write. */
int policy_print(const struct policy *policy, FILE *out);

/* Name of FUNC as in policy text ("FILE_CHECK"), or NULL. */
const char *policy_func_name(enum policy_func func);

/* Parse a hook name as func= accepts it (aliases included). Returns 0 or -EINVAL. */
int policy_func_from_name(const char *name, enum policy_func *ret);

/* Name of KIND ("measure"), or NULL. */
const char *policy_kind_name(enum policy_kind kind);

/* Write MASK as "MAY_READ|MAY_WRITE" ("0" when empty) into BUF. */
void policy_mask_format(unsigned int mask, char *buf, size_t size);

/* Parse a MAY_* name, or several joined by '|' or ','. Returns 0 or -EINVAL. */
int policy_mask_parse(const char *text, unsigned int *ret);

#endif
