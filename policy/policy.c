/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel IMA policy language. This module parses rule text into an immutable rule set and
 * reproduces the verdicts of the Linux 6.19 parser (struct policy_profile). It also provides
 * the built-in rule sets and evaluates a rule set for one event with the kernel's per-kind
 * first-match walk.
 *
 * Invariants:
 * 1. One keyword table, policy_keywords[], lists every token of the language, actions
 *    included. The parser recognises tokens only through it, and a policy printer must print
 *    through it too, so the two cannot drift apart.
 * 2. A load is all or nothing. policy_parse() returns a rule set only when every line parsed
 *    and validated and at least one rule exists. On the first bad line it returns nothing,
 *    as the kernel discards the whole load.
 * 3. A returned rule set never changes, so evaluation takes no lock.
 * 4. Evaluation counts a condition as true only after checking it against event data. The
 *    event does not carry fsname=, fs_subtype=, fsuuid=, LSM labels, keyrings= or label=
 *    data, so a rule with any of them never matches, whatever its action. The same holds for
 *    the sgid and CAP_SETGID parts of egid= (see rule_match_ids()).
 * 5. Every rejected load fills one struct policy_error: origin, line, column of the offending
 *    token (0 and 0 when the whole text is at fault) and a message naming the token and a fix.
 *
 * Locking: none. Ownership: a struct policy owns its rules and their strings; policy_free()
 * releases all of them.
 */
#include "policy/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

/* Largest policy text accepted, from a file or from a caller. */
#define POLICY_TEXT_MAX (1024u * 1024u)

/* Maximum token length shown in an error message; longer tokens end in "...". */
#define QUOTE_MAX 64

#define POLICY_KERNEL(major, minor) (((major) << 8) | (minor))

/* Kernel version and build options that change parser verdicts. */
struct policy_profile {
	unsigned int version; /* POLICY_KERNEL(major, minor) */
	bool key_check;	      /* CONFIG_IMA_MEASURE_ASYMMETRIC_KEYS: func=KEY_CHECK, keyrings= */
	bool modsig;	      /* CONFIG_IMA_APPRAISE_MODSIG: appraise_type=imasig|modsig */
	unsigned int pcr_max; /* largest pcr=: bits in the kernel's unsigned long, minus one */
};

/*
 * The baseline: Linux 6.19 built like a typical 64-bit distribution kernel, with asymmetric
 * key measurement and appended signatures enabled.
 */
static const struct policy_profile policy_baseline = {
	.version = POLICY_KERNEL(6, 19),
	.key_check = true,
	.modsig = true,
	.pcr_max = 63,
};

/* Since 6.14 a token that starts with '#' ends the rule. */
#define POLICY_SUFFIX_COMMENTS_SINCE POLICY_KERNEL(6, 14)

/*
 * Rule features: the conditions and options a rule holds, after parsing. Validation and
 * matching use these bits; the kernel keeps the same facts in its rule flags.
 */
#define POLICY_F_FUNC (1u << 0)
#define POLICY_F_MASK (1u << 1)
#define POLICY_F_FSMAGIC (1u << 2)
#define POLICY_F_FSNAME (1u << 3)
#define POLICY_F_FS_SUBTYPE (1u << 4)
#define POLICY_F_FSUUID (1u << 5)
#define POLICY_F_UID (1u << 6)
#define POLICY_F_EUID (1u << 7)
#define POLICY_F_GID (1u << 8)
#define POLICY_F_EGID (1u << 9)
#define POLICY_F_FOWNER (1u << 10)
#define POLICY_F_FGROUP (1u << 11)
#define POLICY_F_PCR (1u << 12)
#define POLICY_F_SIG_REQUIRED (1u << 13) /* any appraise_type= */
#define POLICY_F_MODSIG (1u << 14)	 /* appraise_type=imasig|modsig */
#define POLICY_F_DENYLIST (1u << 15)	 /* digest checked against the kernel deny list */
#define POLICY_F_VERITY (1u << 16)	 /* digest_type=verity */
#define POLICY_F_ALGOS (1u << 17)	 /* appraise_algos= */
#define POLICY_F_DIRECTIO (1u << 18)	 /* permit_directio */
#define POLICY_F_KEYRINGS (1u << 19)
#define POLICY_F_LABEL (1u << 20)

/*
 * Keyword slots. Each keyword fills one slot; the slot decides what counts as a repeated
 * keyword (uid= and euid< share one) and remembers where the token stood for messages.
 */
enum policy_slot {
	POLICY_SLOT_ACTION,
	POLICY_SLOT_FUNC,
	POLICY_SLOT_MASK,
	POLICY_SLOT_FSMAGIC,
	POLICY_SLOT_FSNAME,
	POLICY_SLOT_FS_SUBTYPE,
	POLICY_SLOT_FSUUID,
	POLICY_SLOT_UID, /* the four identifier slots follow enum policy_id order */
	POLICY_SLOT_GID,
	POLICY_SLOT_FOWNER,
	POLICY_SLOT_FGROUP,
	POLICY_SLOT_OBJ_USER, /* the six LSM slots follow enum policy_lsm order */
	POLICY_SLOT_OBJ_ROLE,
	POLICY_SLOT_OBJ_TYPE,
	POLICY_SLOT_SUBJ_USER,
	POLICY_SLOT_SUBJ_ROLE,
	POLICY_SLOT_SUBJ_TYPE,
	POLICY_SLOT_APPRAISE_TYPE,
	POLICY_SLOT_APPRAISE_FLAG,
	POLICY_SLOT_APPRAISE_ALGOS,
	POLICY_SLOT_DIGEST_TYPE,
	POLICY_SLOT_PERMIT_DIRECTIO,
	POLICY_SLOT_PCR,
	POLICY_SLOT_TEMPLATE,
	POLICY_SLOT_KEYRINGS,
	POLICY_SLOT_LABEL,
	POLICY_SLOT__MAX,
};

enum policy_id {
	POLICY_ID_UID, /* uid and euid */
	POLICY_ID_GID, /* gid and egid */
	POLICY_ID_FOWNER,
	POLICY_ID_FGROUP,
	POLICY_ID__MAX,
};

enum policy_lsm {
	POLICY_LSM_OBJ_USER,
	POLICY_LSM_OBJ_ROLE,
	POLICY_LSM_OBJ_TYPE,
	POLICY_LSM_SUBJ_USER,
	POLICY_LSM_SUBJ_ROLE,
	POLICY_LSM_SUBJ_TYPE,
	POLICY_LSM__MAX,
};

/* Treatment of a keyword that appears twice in one rule, following the kernel. */
enum policy_dup {
	POLICY_DUP_REJECT,    /* always invalid */
	POLICY_DUP_BY_VALUE,  /* invalid only if the stored value is non-zero (fsmagic, fsuuid) */
	POLICY_DUP_LAST_WINS, /* accepted; the later value replaces the earlier (fsname, pcr) */
	POLICY_DUP_ADD_UP,    /* accepted; the effects add up (appraise_type, permit_directio) */
};

/* Every token of the language; the order is the matching order of policy_keywords[]. */
enum policy_token {
	POLICY_TOK_MEASURE,
	POLICY_TOK_DONT_MEASURE,
	POLICY_TOK_APPRAISE,
	POLICY_TOK_DONT_APPRAISE,
	POLICY_TOK_AUDIT,
	POLICY_TOK_DONT_AUDIT,
	POLICY_TOK_HASH,
	POLICY_TOK_DONT_HASH,
	POLICY_TOK_FUNC,
	POLICY_TOK_MASK,
	POLICY_TOK_FSMAGIC,
	POLICY_TOK_FSNAME,
	POLICY_TOK_FS_SUBTYPE,
	POLICY_TOK_FSUUID,
	POLICY_TOK_UID_EQ,
	POLICY_TOK_EUID_EQ,
	POLICY_TOK_GID_EQ,
	POLICY_TOK_EGID_EQ,
	POLICY_TOK_FOWNER_EQ,
	POLICY_TOK_FGROUP_EQ,
	POLICY_TOK_UID_GT,
	POLICY_TOK_EUID_GT,
	POLICY_TOK_GID_GT,
	POLICY_TOK_EGID_GT,
	POLICY_TOK_FOWNER_GT,
	POLICY_TOK_FGROUP_GT,
	POLICY_TOK_UID_LT,
	POLICY_TOK_EUID_LT,
	POLICY_TOK_GID_LT,
	POLICY_TOK_EGID_LT,
	POLICY_TOK_FOWNER_LT,
	POLICY_TOK_FGROUP_LT,
	POLICY_TOK_OBJ_USER,
	POLICY_TOK_OBJ_ROLE,
	POLICY_TOK_OBJ_TYPE,
	POLICY_TOK_SUBJ_USER,
	POLICY_TOK_SUBJ_ROLE,
	POLICY_TOK_SUBJ_TYPE,
	POLICY_TOK_APPRAISE_TYPE,
	POLICY_TOK_APPRAISE_FLAG,
	POLICY_TOK_APPRAISE_ALGOS,
	POLICY_TOK_DIGEST_TYPE,
	POLICY_TOK_PERMIT_DIRECTIO,
	POLICY_TOK_PCR,
	POLICY_TOK_TEMPLATE,
	POLICY_TOK_KEYRINGS,
	POLICY_TOK_LABEL,
	POLICY_TOK__MAX,
};

/* One identifier comparison: the value and the operator '=', '<' or '>'. */
struct policy_id_cond {
	uint32_t value;
	char op;
};

struct policy_template {
	const char *name;
	const char *fmt; /* field string; template= accepts either */
};

struct policy_rule {
	unsigned int line;
	enum policy_kind kind;
	bool negated;	   /* dont_measure, dont_appraise, dont_audit, dont_hash */
	uint32_t features; /* POLICY_F_* */
	enum policy_func func;
	unsigned int mask;  /* one POLICY_MAY_* bit */
	bool mask_contains; /* mask=^MAY_x: the event mask contains the bit */
	uint64_t fsmagic;   /* the kernel stores an unsigned long */
	char *fsname;
	char *fs_subtype;
	uint8_t fsuuid[16];
	struct policy_id_cond ids[POLICY_ID__MAX];
	char *lsm[POLICY_LSM__MAX];
	uint32_t appraise_algos; /* bit n: policy_hash_algos[n] */
	unsigned int pcr;
	const struct policy_template *template;
	char *keyrings; /* '|'-separated, as written */
	char *label;
};

struct policy {
	unsigned int nrules;
	struct policy_rule *rules;
};

/* State while one rule is parsed. */
struct rule_parser {
	const struct policy_profile *profile;
	struct policy_rule *rule;
	const char *origin;
	unsigned int line;
	struct policy_error *err;
	/* The token that filled each slot, and its column; NULL while the slot is empty. */
	struct {
		const char *token;
		unsigned int col;
	} seen[POLICY_SLOT__MAX];
	const char *token; /* token being parsed */
	unsigned int col;
};

struct policy_keyword {
	const char *text; /* the whole token, or its key up to and including '=', '<' or '>' */
	bool has_value;	  /* a non-empty value follows TEXT */
	enum policy_slot slot;
	enum policy_dup dup;
	unsigned int since;  /* first kernel that accepts it; 0 for every supported kernel */
	const char *example; /* a valid token, for messages */
	int (*parse)(struct rule_parser *rp, const struct policy_keyword *kw, const char *value);
	/* Actions: the kind they decide and whether they are dont_ actions. */
	enum policy_kind kind;
	bool negated;
	/* Identifier conditions: euid or egid, and the operator. */
	bool effective;
	char op;
};

static int parse_action(struct rule_parser *rp, const struct policy_keyword *kw, const char *value);
static int parse_func(struct rule_parser *rp, const struct policy_keyword *kw, const char *value);
static int parse_mask(struct rule_parser *rp, const struct policy_keyword *kw, const char *value);
static int parse_fsmagic(struct rule_parser *rp, const struct policy_keyword *kw,
			 const char *value);
static int parse_string(struct rule_parser *rp, const struct policy_keyword *kw, const char *value);
static int parse_fsuuid(struct rule_parser *rp, const struct policy_keyword *kw, const char *value);
static int parse_id(struct rule_parser *rp, const struct policy_keyword *kw, const char *value);
static int parse_appraise_type(struct rule_parser *rp, const struct policy_keyword *kw,
			       const char *value);
static int parse_appraise_flag(struct rule_parser *rp, const struct policy_keyword *kw,
			       const char *value);
static int parse_appraise_algos(struct rule_parser *rp, const struct policy_keyword *kw,
				const char *value);
static int parse_digest_type(struct rule_parser *rp, const struct policy_keyword *kw,
			     const char *value);
static int parse_permit_directio(struct rule_parser *rp, const struct policy_keyword *kw,
				 const char *value);
static int parse_pcr(struct rule_parser *rp, const struct policy_keyword *kw, const char *value);
static int parse_template(struct rule_parser *rp, const struct policy_keyword *kw,
			  const char *value);
static int parse_name_list(struct rule_parser *rp, const struct policy_keyword *kw,
			   const char *value);

#define KW_ACTION(tok, text_, kind_, negated_, since_)                                             \
	[tok] = {.text = text_,                                                                    \
		 .slot = POLICY_SLOT_ACTION,                                                       \
		 .dup = POLICY_DUP_REJECT,                                                         \
		 .since = since_,                                                                  \
		 .example = text_,                                                                 \
		 .parse = parse_action,                                                            \
		 .kind = kind_,                                                                    \
		 .negated = negated_}
#define KW_VALUE(tok, text_, slot_, dup_, since_, example_, parse_)                                \
	[tok] = {.text = text_,                                                                    \
		 .has_value = true,                                                                \
		 .slot = slot_,                                                                    \
		 .dup = dup_,                                                                      \
		 .since = since_,                                                                  \
		 .example = example_,                                                              \
		 .parse = parse_}
#define KW_ID(tok, text_, slot_, effective_, op_)                                                  \
	[tok] = {.text = text_,                                                                    \
		 .has_value = true,                                                                \
		 .slot = slot_,                                                                    \
		 .dup = POLICY_DUP_REJECT,                                                         \
		 .example = text_ "1000",                                                          \
		 .parse = parse_id,                                                                \
		 .effective = effective_,                                                          \
		 .op = op_}
#define KW_LSM(tok, text_, slot_, example_)                                                        \
	KW_VALUE(tok, text_, slot_, POLICY_DUP_REJECT, 0, example_, parse_string)

/*
 * The token table. A token matches the first entry whose TEXT equals it (entries without a
 * value) or starts it and is followed by at least one more character (entries with a value).
 * So "uid>=1000" is uid> with the value "=1000", and an empty value such as "func=" matches
 * nothing, as in the kernel.
 */
static const struct policy_keyword policy_keywords[POLICY_TOK__MAX] = {
	KW_ACTION(POLICY_TOK_MEASURE, "measure", POLICY_KIND_MEASURE, false, 0),
	KW_ACTION(POLICY_TOK_DONT_MEASURE, "dont_measure", POLICY_KIND_MEASURE, true, 0),
	KW_ACTION(POLICY_TOK_APPRAISE, "appraise", POLICY_KIND_APPRAISE, false, 0),
	KW_ACTION(POLICY_TOK_DONT_APPRAISE, "dont_appraise", POLICY_KIND_APPRAISE, true, 0),
	KW_ACTION(POLICY_TOK_AUDIT, "audit", POLICY_KIND_AUDIT, false, 0),
	KW_ACTION(POLICY_TOK_DONT_AUDIT, "dont_audit", POLICY_KIND_AUDIT, true,
		  POLICY_KERNEL(6, 19)),
	KW_ACTION(POLICY_TOK_HASH, "hash", POLICY_KIND_HASH, false, 0),
	KW_ACTION(POLICY_TOK_DONT_HASH, "dont_hash", POLICY_KIND_HASH, true, 0),
	KW_VALUE(POLICY_TOK_FUNC, "func=", POLICY_SLOT_FUNC, POLICY_DUP_REJECT, 0,
		 "func=BPRM_CHECK", parse_func),
	KW_VALUE(POLICY_TOK_MASK, "mask=", POLICY_SLOT_MASK, POLICY_DUP_REJECT, 0, "mask=^MAY_READ",
		 parse_mask),
	KW_VALUE(POLICY_TOK_FSMAGIC, "fsmagic=", POLICY_SLOT_FSMAGIC, POLICY_DUP_BY_VALUE, 0,
		 "fsmagic=0x9fa0", parse_fsmagic),
	KW_VALUE(POLICY_TOK_FSNAME, "fsname=", POLICY_SLOT_FSNAME, POLICY_DUP_LAST_WINS, 0,
		 "fsname=ext4", parse_string),
	KW_VALUE(POLICY_TOK_FS_SUBTYPE, "fs_subtype=", POLICY_SLOT_FS_SUBTYPE, POLICY_DUP_REJECT,
		 POLICY_KERNEL(6, 19), "fs_subtype=sshfs", parse_string),
	KW_VALUE(POLICY_TOK_FSUUID, "fsuuid=", POLICY_SLOT_FSUUID, POLICY_DUP_BY_VALUE, 0,
		 "fsuuid=28b23254-9467-44c0-b6ba-34b12e85a26d", parse_fsuuid),
	KW_ID(POLICY_TOK_UID_EQ, "uid=", POLICY_SLOT_UID, false, '='),
	KW_ID(POLICY_TOK_EUID_EQ, "euid=", POLICY_SLOT_UID, true, '='),
	KW_ID(POLICY_TOK_GID_EQ, "gid=", POLICY_SLOT_GID, false, '='),
	KW_ID(POLICY_TOK_EGID_EQ, "egid=", POLICY_SLOT_GID, true, '='),
	KW_ID(POLICY_TOK_FOWNER_EQ, "fowner=", POLICY_SLOT_FOWNER, false, '='),
	KW_ID(POLICY_TOK_FGROUP_EQ, "fgroup=", POLICY_SLOT_FGROUP, false, '='),
	KW_ID(POLICY_TOK_UID_GT, "uid>", POLICY_SLOT_UID, false, '>'),
	KW_ID(POLICY_TOK_EUID_GT, "euid>", POLICY_SLOT_UID, true, '>'),
	KW_ID(POLICY_TOK_GID_GT, "gid>", POLICY_SLOT_GID, false, '>'),
	KW_ID(POLICY_TOK_EGID_GT, "egid>", POLICY_SLOT_GID, true, '>'),
	KW_ID(POLICY_TOK_FOWNER_GT, "fowner>", POLICY_SLOT_FOWNER, false, '>'),
	KW_ID(POLICY_TOK_FGROUP_GT, "fgroup>", POLICY_SLOT_FGROUP, false, '>'),
	KW_ID(POLICY_TOK_UID_LT, "uid<", POLICY_SLOT_UID, false, '<'),
	KW_ID(POLICY_TOK_EUID_LT, "euid<", POLICY_SLOT_UID, true, '<'),
	KW_ID(POLICY_TOK_GID_LT, "gid<", POLICY_SLOT_GID, false, '<'),
	KW_ID(POLICY_TOK_EGID_LT, "egid<", POLICY_SLOT_GID, true, '<'),
	KW_ID(POLICY_TOK_FOWNER_LT, "fowner<", POLICY_SLOT_FOWNER, false, '<'),
	KW_ID(POLICY_TOK_FGROUP_LT, "fgroup<", POLICY_SLOT_FGROUP, false, '<'),
	KW_LSM(POLICY_TOK_OBJ_USER, "obj_user=", POLICY_SLOT_OBJ_USER, "obj_user=system_u"),
	KW_LSM(POLICY_TOK_OBJ_ROLE, "obj_role=", POLICY_SLOT_OBJ_ROLE, "obj_role=object_r"),
	KW_LSM(POLICY_TOK_OBJ_TYPE, "obj_type=", POLICY_SLOT_OBJ_TYPE, "obj_type=var_log_t"),
	KW_LSM(POLICY_TOK_SUBJ_USER, "subj_user=", POLICY_SLOT_SUBJ_USER, "subj_user=system_u"),
	KW_LSM(POLICY_TOK_SUBJ_ROLE, "subj_role=", POLICY_SLOT_SUBJ_ROLE, "subj_role=system_r"),
	KW_LSM(POLICY_TOK_SUBJ_TYPE, "subj_type=", POLICY_SLOT_SUBJ_TYPE, "subj_type=init_t"),
	KW_VALUE(POLICY_TOK_APPRAISE_TYPE, "appraise_type=", POLICY_SLOT_APPRAISE_TYPE,
		 POLICY_DUP_ADD_UP, 0, "appraise_type=imasig", parse_appraise_type),
	KW_VALUE(POLICY_TOK_APPRAISE_FLAG, "appraise_flag=", POLICY_SLOT_APPRAISE_FLAG,
		 POLICY_DUP_ADD_UP, 0, "appraise_flag=check_blacklist", parse_appraise_flag),
	KW_VALUE(POLICY_TOK_APPRAISE_ALGOS, "appraise_algos=", POLICY_SLOT_APPRAISE_ALGOS,
		 POLICY_DUP_REJECT, 0, "appraise_algos=sha256,sha512", parse_appraise_algos),
	KW_VALUE(POLICY_TOK_DIGEST_TYPE, "digest_type=", POLICY_SLOT_DIGEST_TYPE, POLICY_DUP_ADD_UP,
		 0, "digest_type=verity", parse_digest_type),
	[POLICY_TOK_PERMIT_DIRECTIO] = {.text = "permit_directio",
					.slot = POLICY_SLOT_PERMIT_DIRECTIO,
					.dup = POLICY_DUP_ADD_UP,
					.example = "permit_directio",
					.parse = parse_permit_directio},
	KW_VALUE(POLICY_TOK_PCR, "pcr=", POLICY_SLOT_PCR, POLICY_DUP_LAST_WINS, 0, "pcr=10",
		 parse_pcr),
	KW_VALUE(POLICY_TOK_TEMPLATE, "template=", POLICY_SLOT_TEMPLATE, POLICY_DUP_REJECT, 0,
		 "template=ima-ng", parse_template),
	KW_VALUE(POLICY_TOK_KEYRINGS, "keyrings=", POLICY_SLOT_KEYRINGS, POLICY_DUP_REJECT, 0,
		 "keyrings=.ima|.builtin_trusted_keys", parse_name_list),
	KW_VALUE(POLICY_TOK_LABEL, "label=", POLICY_SLOT_LABEL, POLICY_DUP_REJECT, 0,
		 "label=selinux", parse_name_list),
};

static const char *const policy_func_names[POLICY_FUNC__MAX] = {
	[POLICY_FUNC_FILE_CHECK] = "FILE_CHECK",
	[POLICY_FUNC_MMAP_CHECK] = "MMAP_CHECK",
	[POLICY_FUNC_MMAP_CHECK_REQPROT] = "MMAP_CHECK_REQPROT",
	[POLICY_FUNC_BPRM_CHECK] = "BPRM_CHECK",
	[POLICY_FUNC_CREDS_CHECK] = "CREDS_CHECK",
	[POLICY_FUNC_POST_SETATTR] = "POST_SETATTR",
	[POLICY_FUNC_MODULE_CHECK] = "MODULE_CHECK",
	[POLICY_FUNC_FIRMWARE_CHECK] = "FIRMWARE_CHECK",
	[POLICY_FUNC_KEXEC_KERNEL_CHECK] = "KEXEC_KERNEL_CHECK",
	[POLICY_FUNC_KEXEC_INITRAMFS_CHECK] = "KEXEC_INITRAMFS_CHECK",
	[POLICY_FUNC_POLICY_CHECK] = "POLICY_CHECK",
	[POLICY_FUNC_KEXEC_CMDLINE] = "KEXEC_CMDLINE",
	[POLICY_FUNC_KEY_CHECK] = "KEY_CHECK",
	[POLICY_FUNC_CRITICAL_DATA] = "CRITICAL_DATA",
	[POLICY_FUNC_SETXATTR_CHECK] = "SETXATTR_CHECK",
};

/* func= values the parser accepts. POST_SETATTR is internal to the kernel and absent. */
static const struct {
	const char *text;
	enum policy_func func;
	bool alias; /* old spelling, left out of the list in messages */
} policy_func_words[] = {
	{"FILE_CHECK", POLICY_FUNC_FILE_CHECK, false},
	{"PATH_CHECK", POLICY_FUNC_FILE_CHECK, true},
	{"MMAP_CHECK", POLICY_FUNC_MMAP_CHECK, false},
	{"FILE_MMAP", POLICY_FUNC_MMAP_CHECK, true},
	{"MMAP_CHECK_REQPROT", POLICY_FUNC_MMAP_CHECK_REQPROT, false},
	{"BPRM_CHECK", POLICY_FUNC_BPRM_CHECK, false},
	{"CREDS_CHECK", POLICY_FUNC_CREDS_CHECK, false},
	{"MODULE_CHECK", POLICY_FUNC_MODULE_CHECK, false},
	{"FIRMWARE_CHECK", POLICY_FUNC_FIRMWARE_CHECK, false},
	{"KEXEC_KERNEL_CHECK", POLICY_FUNC_KEXEC_KERNEL_CHECK, false},
	{"KEXEC_INITRAMFS_CHECK", POLICY_FUNC_KEXEC_INITRAMFS_CHECK, false},
	{"POLICY_CHECK", POLICY_FUNC_POLICY_CHECK, false},
	{"KEXEC_CMDLINE", POLICY_FUNC_KEXEC_CMDLINE, false},
	{"KEY_CHECK", POLICY_FUNC_KEY_CHECK, false},
	{"CRITICAL_DATA", POLICY_FUNC_CRITICAL_DATA, false},
	{"SETXATTR_CHECK", POLICY_FUNC_SETXATTR_CHECK, false},
};

static const struct {
	const char *text;
	unsigned int mask;
} policy_mask_words[] = {
	{"MAY_EXEC", POLICY_MAY_EXEC},
	{"MAY_WRITE", POLICY_MAY_WRITE},
	{"MAY_READ", POLICY_MAY_READ},
	{"MAY_APPEND", POLICY_MAY_APPEND},
};

/* The kernel's built-in templates (ima_template.c); there is no ima-sigv3. */
static const struct policy_template policy_templates[] = {
	{"ima", "d|n"},
	{"ima-ng", "d-ng|n-ng"},
	{"ima-sig", "d-ng|n-ng|sig"},
	{"ima-ngv2", "d-ngv2|n-ng"},
	{"ima-sigv2", "d-ngv2|n-ng|sig"},
	{"ima-buf", "d-ng|n-ng|buf"},
	{"ima-modsig", "d-ng|n-ng|sig|d-modsig|modsig"},
	{"evm-sig", "d-ng|n-ng|evmsig|xattrnames|xattrlengths|xattrvalues|iuid|igid|imode"},
};

/*
 * Hash names for appraise_algos=, in the kernel's numbering (crypto/hash_info.c, checked
 * against Linux 6.x sources). The kernel also requires its crypto layer to provide the
 * algorithm. The daemon must compute the digest itself, so "available" here means OpenSSL
 * provides it; names OpenSSL lacks have no OpenSSL name and are always unavailable.
 */
static const struct {
	const char *name;
	const char *openssl;
} policy_hash_algos[] = {
	{"md4", "MD4"},		  {"md5", "MD5"},	    {"sha1", "SHA1"},
	{"rmd160", "RIPEMD160"},  {"sha256", "SHA256"},	    {"sha384", "SHA384"},
	{"sha512", "SHA512"},	  {"sha224", "SHA224"},	    {"rmd128", NULL},
	{"rmd256", NULL},	  {"rmd320", NULL},	    {"wp256", NULL},
	{"wp384", NULL},	  {"wp512", "WHIRLPOOL"},   {"tgr128", NULL},
	{"tgr160", NULL},	  {"tgr192", NULL},	    {"sm3", "SM3"},
	{"streebog256", NULL},	  {"streebog512", NULL},    {"sha3-256", "SHA3-256"},
	{"sha3-384", "SHA3-384"}, {"sha3-512", "SHA3-512"},
};

/*
 * Built-in rule sets, parsed by the same parser. "tcb" is the kernel's ima_policy=tcb list
 * as of Linux 6.14 and later (security/integrity/ima/ima_policy.c): the pseudo filesystems
 * first, then the measure rules.
 */
static const char policy_builtin_tcb[] =
	"dont_measure fsmagic=0x9fa0 # proc\n"
	"dont_measure fsmagic=0x62656572 # sysfs\n"
	"dont_measure fsmagic=0x64626720 # debugfs\n"
	"dont_measure fsmagic=0x1021994 func=FILE_CHECK # tmpfs; exec from tmpfs is measured\n"
	"dont_measure fsmagic=0x1cd1 # devpts\n"
	"dont_measure fsmagic=0x42494e4d # binfmt_misc\n"
	"dont_measure fsmagic=0x73636673 # securityfs\n"
	"dont_measure fsmagic=0xf97cff8c # selinuxfs\n"
	"dont_measure fsmagic=0x43415d53 # smackfs\n"
	"dont_measure fsmagic=0x27e0eb # cgroup v1\n"
	"dont_measure fsmagic=0x63677270 # cgroup v2\n"
	"dont_measure fsmagic=0x6e736673 # nsfs\n"
	"dont_measure fsmagic=0xde5e81e4 # efivarfs\n"
	"measure func=MMAP_CHECK mask=MAY_EXEC\n"
	"measure func=BPRM_CHECK mask=MAY_EXEC\n"
	"measure func=FILE_CHECK mask=^MAY_READ euid=0\n"
	"measure func=FILE_CHECK mask=^MAY_READ uid=0\n"
	"measure func=MODULE_CHECK\n"
	"measure func=FIRMWARE_CHECK\n"
	"measure func=POLICY_CHECK\n";

static const struct {
	const char *name;
	const char *text;
} policy_builtins[] = {
	{"tcb", policy_builtin_tcb},
};

/* Messages */

static void error_vset(struct policy_error *err, const char *origin, unsigned int line,
		       unsigned int col, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

static void error_vset(struct policy_error *err, const char *origin, unsigned int line,
		       unsigned int col, const char *fmt, va_list ap)
{
	if (!err)
		return;
	memset(err, 0, sizeof(*err));
	snprintf(err->origin, sizeof(err->origin), "%s", origin);
	err->line = line;
	err->col = col;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

static void error_set(struct policy_error *err, const char *origin, unsigned int line,
		      unsigned int col, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void error_set(struct policy_error *err, const char *origin, unsigned int line,
		      unsigned int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, origin, line, col, fmt, ap);
	va_end(ap);
}

/* Record an error at column COL of the rule being parsed; returns -EINVAL. */
static int rule_error(struct rule_parser *rp, unsigned int col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int rule_error(struct rule_parser *rp, unsigned int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(rp->err, rp->origin, rp->line, col, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * Copy S into BUF for a message: control and non-ASCII bytes become escapes, so a carriage
 * return shows as \r, and long tokens are cut with "...".
 */
static const char *quote(char *buf, size_t size, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (n + 8 >= size || n >= QUOTE_MAX) {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		if (c == '\r' || c == '\t') {
			buf[n++] = '\\';
			buf[n++] = c == '\r' ? 'r' : 't';
		} else if (c < 0x20 || c >= 0x7f) {
			buf[n++] = '\\';
			buf[n++] = 'x';
			buf[n++] = hex[c >> 4];
			buf[n++] = hex[c & 0xf];
		} else {
			buf[n++] = (char)c;
		}
	}
	buf[n] = '\0';
	return buf;
}

/* Append to the message of ERR a hint for characters that often end up in values by mistake. */
static void error_add_value_hint(struct policy_error *err, const char *value)
{
	const char *hint = NULL;
	size_t len;

	if (!err)
		return;
	if (strchr(value, '\r'))
		hint = "; the line ends with a carriage return, so convert the file to Unix (LF) "
		       "line endings";
	else if (strchr(value, '#'))
		hint = "; '#' starts a comment only at the beginning of a token, so put a blank "
		       "before it";
	if (!hint)
		return;
	len = strlen(err->message);
	snprintf(err->message + len, sizeof(err->message) - len, "%s", hint);
}

/* Numbers, parsed like the kernel's kstrto*() helpers */

static unsigned int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (unsigned int)(c - 'A' + 10);
	return 16;
}

/*
 * Parse S as the kernel's kstrtoull() does: an optional '+', for base 16 an optional "0x" or
 * "0X", then at least one digit and nothing else. Returns -EINVAL or -ERANGE on failure.
 */
static int parse_kernel_ull(const char *s, unsigned int base, uint64_t *ret)
{
	uint64_t value = 0;
	bool digits = false;

	if (*s == '+')
		s++;
	if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s; s++) {
		unsigned int d = digit_value(*s);

		if (d >= base)
			return -EINVAL;
		if (value > (UINT64_MAX - d) / base)
			return -ERANGE;
		value = value * base + d;
		digits = true;
	}
	if (!digits)
		return -EINVAL;
	*ret = value;
	return 0;
}

/* Keyword lookup and suggestions */

static const struct policy_keyword *keyword_match(const char *token, const char **ret_value)
{
	for (size_t i = 0; i < POLICY_TOK__MAX; i++) {
		const struct policy_keyword *kw = &policy_keywords[i];
		size_t n = strlen(kw->text);

		if (!kw->has_value) {
			if (strcmp(token, kw->text) == 0) {
				*ret_value = NULL;
				return kw;
			}
			continue;
		}
		if (strncmp(token, kw->text, n) == 0 && token[n] != '\0') {
			*ret_value = token + n;
			return kw;
		}
	}
	return NULL;
}

/* Edit distance of A and B, or a large number when either is long. */
static unsigned int edit_distance(const char *a, const char *b)
{
	unsigned int row[33];
	size_t la = strlen(a), lb = strlen(b);

	if (la > 32 || lb > 32)
		return UINT_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned int)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned int diagonal = row[0];

		row[0] = (unsigned int)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned int above = row[j];
			unsigned int best = diagonal + (a[i - 1] != b[j - 1]);

			if (above + 1 < best)
				best = above + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diagonal = above;
		}
	}
	return row[lb];
}

/* Copy into KEY the keyword part of TOKEN: up to and including the first '=', '<' or '>'. */
static void token_key(const char *token, char *key, size_t size)
{
	size_t n = strcspn(token, "=<>");

	if (token[n] != '\0')
		n++;
	if (n >= size)
		n = size - 1;
	memcpy(key, token, n);
	key[n] = '\0';
}

/* The closest keyword to TOKEN, or NULL; *RET_CASE is set when only letter case differs. */
static const struct policy_keyword *keyword_suggest(const char *token, bool *ret_case)
{
	const struct policy_keyword *best = NULL;
	unsigned int best_distance = 3;
	char key[40];

	token_key(token, key, sizeof(key));
	*ret_case = false;
	for (size_t i = 0; i < POLICY_TOK__MAX; i++) {
		const struct policy_keyword *kw = &policy_keywords[i];
		const char *candidate = kw->has_value ? key : token;
		unsigned int d;

		if (strcasecmp(candidate, kw->text) == 0) {
			*ret_case = true;
			return kw;
		}
		d = edit_distance(candidate, kw->text);
		if (d < best_distance) {
			best = kw;
			best_distance = d;
		}
	}
	return best;
}

/* Write the keyword list for messages; '<' and '>' forms are left out to keep it short. */
static void keyword_list(char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < POLICY_TOK__MAX && n < size; i++) {
		const struct policy_keyword *kw = &policy_keywords[i];
		int r;

		if (kw->op == '<' || kw->op == '>')
			continue;
		r = snprintf(buf + n, size - n, "%s%s", n ? ", " : "", kw->text);
		if (r < 0)
			break;
		n += (size_t)r;
	}
}

static int unknown_token_error(struct rule_parser *rp, const char *token)
{
	const struct policy_keyword *kw;
	char q[QUOTE_MAX + 8];
	char list[448];
	bool case_only;

	quote(q, sizeof(q), token);
	if (strcmp(token, "\\") == 0)
		return rule_error(rp, rp->col,
				  "unknown keyword '\\'; a rule cannot continue on the next line, "
				  "so join the lines into one rule");
	if (strchr(token, '\r'))
		return rule_error(rp, rp->col,
				  "unknown keyword '%s'; the line ends with a carriage return, so "
				  "convert the file to Unix (LF) line endings",
				  q);
	for (size_t i = 0; i < POLICY_TOK__MAX; i++) {
		kw = &policy_keywords[i];
		if (kw->has_value && strcmp(token, kw->text) == 0)
			return rule_error(rp, rp->col,
					  "missing value in '%s'; write the value right after it "
					  "without blanks, for example '%s'",
					  q, kw->example);
	}

	kw = keyword_suggest(token, &case_only);
	if (kw && case_only)
		return rule_error(rp, rp->col,
				  "unknown keyword '%s'; keywords are case-sensitive, write '%s'",
				  q, kw->text);
	keyword_list(list, sizeof(list));
	if (kw)
		return rule_error(rp, rp->col,
				  "unknown keyword '%s'; did you mean '%s'? Expected one of %s", q,
				  kw->text, list);
	return rule_error(rp, rp->col, "unknown keyword '%s'; expected one of %s", q, list);
}

/* Keyword parsers. Each returns 0 or -EINVAL with the error recorded; -ENOMEM on no memory. */

static int value_error(struct rule_parser *rp, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record an invalid value of the current token, adding hints about stray characters. */
static int value_error(struct rule_parser *rp, const char *value, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(rp->err, rp->origin, rp->line, rp->col, fmt, ap);
	va_end(ap);
	error_add_value_hint(rp->err, value);
	return -EINVAL;
}

static int parse_action(struct rule_parser *rp, const struct policy_keyword *kw, const char *value)
{
	(void)value;
	rp->rule->kind = kw->kind;
	rp->rule->negated = kw->negated;
	return 0;
}

static void func_list(const struct policy_profile *profile, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(policy_func_words) / sizeof(policy_func_words[0]); i++) {
		int r;

		if (policy_func_words[i].alias)
			continue;
		if (policy_func_words[i].func == POLICY_FUNC_KEY_CHECK && !profile->key_check)
			continue;
		r = snprintf(buf + n, size > n ? size - n : 0, "%s%s", n ? ", " : "",
			     policy_func_words[i].text);
		if (r < 0 || (size_t)r >= size - n)
			break;
		n += (size_t)r;
	}
}

static int parse_func(struct rule_parser *rp, const struct policy_keyword *kw, const char *value)
{
	char q[QUOTE_MAX + 8];
	char list[320];

	(void)kw;
	for (size_t i = 0; i < sizeof(policy_func_words) / sizeof(policy_func_words[0]); i++) {
		if (strcmp(value, policy_func_words[i].text) != 0)
			continue;
		if (policy_func_words[i].func == POLICY_FUNC_KEY_CHECK && !rp->profile->key_check)
			break;
		rp->rule->func = policy_func_words[i].func;
		rp->rule->features |= POLICY_F_FUNC;
		return 0;
	}

	quote(q, sizeof(q), value);
	if (strcmp(value, "INODE_PERM") == 0)
		return value_error(rp, value,
				   "invalid func value 'INODE_PERM'; current kernels have no such "
				   "hook, use FILE_CHECK for opened files");
	if (strcmp(value, "POST_SETATTR") == 0)
		return value_error(
			rp, value,
			"invalid func value 'POST_SETATTR'; this hook is internal to the "
			"kernel and cannot be written in a policy");
	for (size_t i = 0; i < sizeof(policy_func_words) / sizeof(policy_func_words[0]); i++) {
		if (strcasecmp(value, policy_func_words[i].text) == 0)
			return value_error(rp, value,
					   "invalid func value '%s'; hook names are upper case, "
					   "write 'func=%s'",
					   q, policy_func_words[i].text);
	}
	func_list(rp->profile, list, sizeof(list));
	return value_error(rp, value, "invalid func value '%s'; use one of %s", q, list);
}

static int parse_mask(struct rule_parser *rp, const struct policy_keyword *kw, const char *value)
{
	const char *name = value[0] == '^' ? value + 1 : value;
	char q[QUOTE_MAX + 8];

	(void)kw;
	for (size_t i = 0; i < sizeof(policy_mask_words) / sizeof(policy_mask_words[0]); i++) {
		if (strcmp(name, policy_mask_words[i].text) != 0)
			continue;
		rp->rule->mask = policy_mask_words[i].mask;
		rp->rule->mask_contains = name != value;
		rp->rule->features |= POLICY_F_MASK;
		return 0;
	}
	return value_error(rp, value,
			   "invalid mask value '%s'; use MAY_EXEC, MAY_WRITE, MAY_READ or "
			   "MAY_APPEND, optionally prefixed with ^",
			   quote(q, sizeof(q), value));
}

/* Report a second KW in a rule; the slot explains what a rule may hold. */
static int duplicate_error(struct rule_parser *rp, const struct policy_keyword *kw)
{
	const char *limit;
	char q[QUOTE_MAX + 8], first[QUOTE_MAX + 8];

	switch (kw->slot) {
	case POLICY_SLOT_ACTION:
		limit = "exactly one action";
		break;
	case POLICY_SLOT_UID:
		limit = "one uid or euid comparison, because both share one value";
		break;
	case POLICY_SLOT_GID:
		limit = "one gid or egid comparison, because both share one value";
		break;
	case POLICY_SLOT_FOWNER:
		limit = "one fowner comparison";
		break;
	case POLICY_SLOT_FGROUP:
		limit = "one fgroup comparison";
		break;
	default:
		limit = "this keyword only once";
		break;
	}
	quote(q, sizeof(q), rp->token);
	quote(first, sizeof(first), rp->seen[kw->slot].token);
	return rule_error(rp, rp->col, "'%s' repeats '%s' from column %u; a rule may hold %s", q,
			  first, rp->seen[kw->slot].col, limit);
}

static int parse_fsmagic(struct rule_parser *rp, const struct policy_keyword *kw, const char *value)
{
	char q[QUOTE_MAX + 8];
	uint64_t magic;
	int r;

	/* The kernel detects a repeat by a non-zero stored value, so fsmagic=0 can be followed. */
	if (rp->rule->fsmagic != 0)
		return duplicate_error(rp, kw);
	r = parse_kernel_ull(value, 16, &magic);
	if (r == -ERANGE)
		return value_error(rp, value,
				   "invalid fsmagic value '%s'; it does not fit in 64 bits",
				   quote(q, sizeof(q), value));
	if (r < 0)
		return value_error(rp, value,
				   "invalid fsmagic value '%s'; write the filesystem magic number "
				   "in hexadecimal, for example fsmagic=0x9fa0 (symbolic names are "
				   "not accepted)",
				   quote(q, sizeof(q), value));
	rp->rule->fsmagic = magic;
	rp->rule->features |= POLICY_F_FSMAGIC;
	return 0;
}

/* fsname=, fs_subtype= and the LSM conditions: any non-empty string, stored as written. */
static int parse_string(struct rule_parser *rp, const struct policy_keyword *kw, const char *value)
{
	struct policy_rule *rule = rp->rule;
	char *copy = strdup(value);

	if (!copy)
		return -ENOMEM;
	switch (kw->slot) {
	case POLICY_SLOT_FSNAME:
		free(rule->fsname);
		rule->fsname = copy;
		rule->features |= POLICY_F_FSNAME;
		break;
	case POLICY_SLOT_FS_SUBTYPE:
		rule->fs_subtype = copy;
		rule->features |= POLICY_F_FS_SUBTYPE;
		break;
	default:
		/*
		 * NOTE: the kernel hands the value to the LSM, and on the first custom load an
		 * unknown label rejects the rule. The daemon cannot ask the target's LSM, so every
		 * label is accepted here.
		 */
		rule->lsm[kw->slot - POLICY_SLOT_OBJ_USER] = copy;
		break;
	}
	return 0;
}

static int parse_fsuuid(struct rule_parser *rp, const struct policy_keyword *kw, const char *value)
{
	static const uint8_t zero[16];
	uint8_t uuid[16];
	char q[QUOTE_MAX + 8];
	size_t pos = 0;

	/* As with fsmagic, only a non-zero stored UUID counts as a repeat. */
	if (memcmp(rp->rule->fsuuid, zero, sizeof(zero)) != 0)
		return duplicate_error(rp, kw);
	/*
	 * NOTE: mainline uuid_is_valid() checks only the first 36 characters, so the kernel may
	 * accept text after the UUID. This parser requires exactly 36, which is the documented
	 * syntax.
	 */
	if (strlen(value) != 36)
		goto invalid;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (value[i] != '-')
				goto invalid;
			continue;
		}
		if (digit_value(value[i]) >= 16)
			goto invalid;
		if (pos % 2 == 0)
			uuid[pos / 2] = (uint8_t)(digit_value(value[i]) << 4);
		else
			uuid[pos / 2] |= (uint8_t)digit_value(value[i]);
		pos++;
	}
	memcpy(rp->rule->fsuuid, uuid, sizeof(uuid));
	rp->rule->features |= POLICY_F_FSUUID;
	return 0;

invalid:
	return value_error(rp, value,
			   "invalid fsuuid value '%s'; write a UUID as 8-4-4-4-12 hexadecimal "
			   "digits, for example fsuuid=28b23254-9467-44c0-b6ba-34b12e85a26d",
			   quote(q, sizeof(q), value));
}

static uint32_t id_feature(enum policy_id id, bool effective)
{
	switch (id) {
	case POLICY_ID_UID:
		return effective ? POLICY_F_EUID : POLICY_F_UID;
	case POLICY_ID_GID:
		return effective ? POLICY_F_EGID : POLICY_F_GID;
	case POLICY_ID_FOWNER:
		return POLICY_F_FOWNER;
	default:
		return POLICY_F_FGROUP;
	}
}

static int parse_id(struct rule_parser *rp, const struct policy_keyword *kw, const char *value)
{
	enum policy_id id = (enum policy_id)(kw->slot - POLICY_SLOT_UID);
	char q[QUOTE_MAX + 8], token[QUOTE_MAX + 8];
	uint64_t number;

	/* 4294967295 is the invalid id, so the largest usable value is one less. */
	if (parse_kernel_ull(value, 10, &number) < 0 || number >= UINT32_MAX) {
		quote(q, sizeof(q), value);
		quote(token, sizeof(token), rp->token);
		if (value[0] == '=' || value[0] == '<' || value[0] == '>')
			return value_error(rp, value,
					   "invalid value '%s' in '%s'; the only operators are =, "
					   "< and > (there is no <=, >= or !=), followed by a "
					   "decimal number",
					   q, token);
		return value_error(rp, value,
				   "invalid value '%s' in '%s'; use a decimal number from 0 to "
				   "4294967294",
				   q, token);
	}
	rp->rule->ids[id].value = (uint32_t)number;
	rp->rule->ids[id].op = kw->op;
	rp->rule->features |= id_feature(id, kw->effective);
	return 0;
}

/*
 * appraise_type= in the baseline (before the 2026 sigv3 rework): imasig and imasig|modsig are
 * invalid after digest_type=verity, and sigv3 is valid only after it. Each accepted value
 * also turns on the deny-list check.
 */
static int parse_appraise_type(struct rule_parser *rp, const struct policy_keyword *kw,
			       const char *value)
{
	struct policy_rule *rule = rp->rule;
	bool verity = (rule->features & POLICY_F_VERITY) != 0;
	char q[QUOTE_MAX + 8];

	(void)kw;
	if (strcmp(value, "sigv3") == 0) {
		if (!verity)
			return value_error(rp, value,
					   "appraise_type=sigv3 needs digest_type=verity earlier "
					   "on the line; write 'digest_type=verity "
					   "appraise_type=sigv3'");
		rule->features |= POLICY_F_SIG_REQUIRED | POLICY_F_DENYLIST;
		return 0;
	}
	if (strcmp(value, "imasig") == 0 ||
	    (rp->profile->modsig && strcmp(value, "imasig|modsig") == 0)) {
		if (verity)
			return value_error(rp, value,
					   "appraise_type=%s cannot follow digest_type=verity; "
					   "fs-verity rules take appraise_type=sigv3",
					   value);
		rule->features |= POLICY_F_SIG_REQUIRED | POLICY_F_DENYLIST;
		if (strcmp(value, "imasig") != 0)
			rule->features |= POLICY_F_MODSIG;
		return 0;
	}
	return value_error(rp, value,
			   "invalid appraise_type value '%s'; use imasig, imasig|modsig or "
			   "sigv3 (sigv3 only after digest_type=verity)",
			   quote(q, sizeof(q), value));
}

/* The kernel accepts any appraise_flag= value and ignores it. */
static int parse_appraise_flag(struct rule_parser *rp, const struct policy_keyword *kw,
			       const char *value)
{
	(void)rp;
	(void)kw;
	(void)value;
	return 0;
}

static bool hash_available(const char *openssl_name)
{
	EVP_MD *md;

	if (!openssl_name)
		return false;
	md = EVP_MD_fetch(NULL, openssl_name, NULL);
	if (!md) {
		/* An absent algorithm is an expected result, not an error to report later. */
		ERR_clear_error();
		return false;
	}
	EVP_MD_free(md);
	return true;
}

static int parse_appraise_algos(struct rule_parser *rp, const struct policy_keyword *kw,
				const char *value)
{
	size_t nalgos = sizeof(policy_hash_algos) / sizeof(policy_hash_algos[0]);
	char q[QUOTE_MAX + 8];
	uint32_t algos = 0;
	const char *p = value;

	(void)kw;
	for (;;) {
		size_t len = strcspn(p, ",");
		char name[QUOTE_MAX];
		size_t i;

		snprintf(name, sizeof(name), "%.*s",
			 (int)(len < sizeof(name) ? len : sizeof(name) - 1), p);
		for (i = 0; i < nalgos; i++) {
			if (strlen(policy_hash_algos[i].name) == len &&
			    strncmp(p, policy_hash_algos[i].name, len) == 0)
				break;
		}
		if (i == nalgos)
			return value_error(rp, value,
					   "unknown hash algorithm '%s' in appraise_algos='%s'; "
					   "use comma-separated kernel names such as "
					   "sha256,sha384,sha512 without blanks or empty items",
					   quote(q, sizeof(q), name), value);
		if (!hash_available(policy_hash_algos[i].openssl))
			return value_error(rp, value,
					   "hash algorithm '%s' in appraise_algos= is not "
					   "available in this build's OpenSSL; remove it or use "
					   "sha256, sha384 or sha512",
					   policy_hash_algos[i].name);
		algos |= 1u << i;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	rp->rule->appraise_algos = algos;
	rp->rule->features |= POLICY_F_ALGOS;
	return 0;
}

static int parse_digest_type(struct rule_parser *rp, const struct policy_keyword *kw,
			     const char *value)
{
	char q[QUOTE_MAX + 8];

	(void)kw;
	if (rp->rule->features & POLICY_F_SIG_REQUIRED)
		return value_error(rp, value,
				   "digest_type= cannot follow appraise_type= on the same line; "
				   "write 'digest_type=verity appraise_type=sigv3'");
	if (strcmp(value, "verity") != 0)
		return value_error(rp, value,
				   "invalid digest_type value '%s'; the only value is verity",
				   quote(q, sizeof(q), value));
	rp->rule->features |= POLICY_F_VERITY;
	return 0;
}

static int parse_permit_directio(struct rule_parser *rp, const struct policy_keyword *kw,
				 const char *value)
{
	(void)kw;
	(void)value;
	rp->rule->features |= POLICY_F_DIRECTIO;
	return 0;
}

/* pcr= is parsed as the kernel's kstrtoint(): a sign, decimal digits, 0 to pcr_max. */
static int parse_pcr(struct rule_parser *rp, const struct policy_keyword *kw, const char *value)
{
	char q[QUOTE_MAX + 8];
	uint64_t number;
	int r;

	(void)kw;
	if (value[0] == '-') {
		/* Only "-0" (and "-00"...) is a non-negative number with a minus sign. */
		r = value[1] == '+' ? -EINVAL : parse_kernel_ull(value + 1, 10, &number);
		if (r == 0 && number != 0)
			r = -ERANGE;
	} else {
		r = parse_kernel_ull(value, 10, &number);
		if (r == 0 && number > rp->profile->pcr_max)
			r = -ERANGE;
	}
	if (r == -ERANGE)
		return value_error(rp, value, "invalid pcr value '%s'; use a PCR from 0 to %u",
				   quote(q, sizeof(q), value), rp->profile->pcr_max);
	if (r < 0)
		return value_error(rp, value,
				   "invalid pcr value '%s'; use a decimal PCR number, for example "
				   "pcr=10",
				   quote(q, sizeof(q), value));
	rp->rule->pcr = (unsigned int)number;
	rp->rule->features |= POLICY_F_PCR;
	return 0;
}

static int parse_template(struct rule_parser *rp, const struct policy_keyword *kw,
			  const char *value)
{
	char q[QUOTE_MAX + 8];
	const struct policy_template *tmpl = NULL;

	(void)kw;
	if (!rp->seen[POLICY_SLOT_ACTION].token || rp->rule->kind != POLICY_KIND_MEASURE ||
	    rp->rule->negated)
		return rule_error(rp, rp->col,
				  "template= is only valid after the measure action on the same "
				  "line; write 'measure ... template=%s'",
				  quote(q, sizeof(q), value));
	for (size_t i = 0; i < sizeof(policy_templates) / sizeof(policy_templates[0]); i++) {
		if (strcmp(value, policy_templates[i].name) == 0 ||
		    strcmp(value, policy_templates[i].fmt) == 0) {
			tmpl = &policy_templates[i];
			break;
		}
	}
	if (!tmpl)
		return value_error(rp, value,
				   "unknown template '%s'; use ima, ima-ng, ima-sig, ima-ngv2, "
				   "ima-sigv2, ima-buf, ima-modsig or evm-sig, or the exact field "
				   "list of one of them such as d-ng|n-ng",
				   quote(q, sizeof(q), value));
	rp->rule->template = tmpl;
	return 0;
}

/* keyrings= and label=: names separated by '|', none of them empty. */
static int parse_name_list(struct rule_parser *rp, const struct policy_keyword *kw,
			   const char *value)
{
	size_t len = strlen(value);
	char q[QUOTE_MAX + 8];
	char *copy;

	if (kw->slot == POLICY_SLOT_KEYRINGS && !rp->profile->key_check)
		return value_error(rp, value,
				   "keyrings= needs a kernel built with "
				   "CONFIG_IMA_MEASURE_ASYMMETRIC_KEYS");
	if (value[0] == '|' || value[len - 1] == '|' || strstr(value, "||"))
		return value_error(rp, value,
				   "invalid %s value '%s'; separate non-empty names with single "
				   "'|' characters, for example %s",
				   kw->text, quote(q, sizeof(q), value), kw->example);
	copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	if (kw->slot == POLICY_SLOT_KEYRINGS) {
		rp->rule->keyrings = copy;
		rp->rule->features |= POLICY_F_KEYRINGS;
	} else {
		rp->rule->label = copy;
		rp->rule->features |= POLICY_F_LABEL;
	}
	return 0;
}

/* Whole-rule validation */

/* Actions, conditions and options that a hook allows (kernel ima_validate_rule()). */
struct hook_limits {
	uint8_t actions;   /* bit 2 * kind + negated */
	uint32_t features; /* POLICY_F_* */
	bool lsm;	   /* LSM conditions allowed */
};

#define ACTIONS_ALL 0xffu
#define ACTIONS_MEASURE ((1u << (2 * POLICY_KIND_MEASURE)) | (1u << (2 * POLICY_KIND_MEASURE + 1)))
#define ACTIONS_APPRAISE (1u << (2 * POLICY_KIND_APPRAISE))

#define FEATURES_FILE                                                                              \
	(POLICY_F_FUNC | POLICY_F_MASK | POLICY_F_FSMAGIC | POLICY_F_FSNAME |                      \
	 POLICY_F_FS_SUBTYPE | POLICY_F_FSUUID | POLICY_F_UID | POLICY_F_EUID | POLICY_F_GID |     \
	 POLICY_F_EGID | POLICY_F_FOWNER | POLICY_F_FGROUP | POLICY_F_PCR |                        \
	 POLICY_F_SIG_REQUIRED | POLICY_F_DENYLIST | POLICY_F_ALGOS | POLICY_F_DIRECTIO)

static struct hook_limits hook_limits(enum policy_func func)
{
	struct hook_limits limits = {ACTIONS_ALL, FEATURES_FILE | POLICY_F_VERITY, true};

	switch (func) {
	case POLICY_FUNC_MODULE_CHECK:
	case POLICY_FUNC_KEXEC_KERNEL_CHECK:
	case POLICY_FUNC_KEXEC_INITRAMFS_CHECK:
		limits.features = FEATURES_FILE | POLICY_F_MODSIG;
		break;
	case POLICY_FUNC_KEXEC_CMDLINE:
		limits.actions = ACTIONS_MEASURE;
		limits.features = POLICY_F_FUNC | POLICY_F_FSMAGIC | POLICY_F_FSNAME |
				  POLICY_F_FS_SUBTYPE | POLICY_F_FSUUID | POLICY_F_UID |
				  POLICY_F_EUID | POLICY_F_GID | POLICY_F_EGID | POLICY_F_FOWNER |
				  POLICY_F_FGROUP | POLICY_F_PCR;
		break;
	case POLICY_FUNC_KEY_CHECK:
		limits.actions = ACTIONS_MEASURE;
		limits.features = POLICY_F_FUNC | POLICY_F_UID | POLICY_F_GID | POLICY_F_PCR |
				  POLICY_F_KEYRINGS;
		limits.lsm = false;
		break;
	case POLICY_FUNC_CRITICAL_DATA:
		limits.actions = ACTIONS_MEASURE;
		limits.features =
			POLICY_F_FUNC | POLICY_F_UID | POLICY_F_GID | POLICY_F_PCR | POLICY_F_LABEL;
		limits.lsm = false;
		break;
	case POLICY_FUNC_SETXATTR_CHECK:
		/*
		 * The kernel checks only rule flags here, and LSM conditions are not flags, so
		 * it lets them through although they have no effect.
		 */
		limits.actions = ACTIONS_APPRAISE;
		limits.features = POLICY_F_FUNC | POLICY_F_ALGOS;
		break;
	default:
		break;
	}
	return limits;
}

/* Names of the features for messages, with the slot of the token that sets each one. */
static const struct {
	uint32_t feature;
	enum policy_slot slot;
	const char *name;
} policy_feature_names[] = {
	{POLICY_F_MASK, POLICY_SLOT_MASK, "mask="},
	{POLICY_F_FSMAGIC, POLICY_SLOT_FSMAGIC, "fsmagic="},
	{POLICY_F_FSNAME, POLICY_SLOT_FSNAME, "fsname="},
	{POLICY_F_FS_SUBTYPE, POLICY_SLOT_FS_SUBTYPE, "fs_subtype="},
	{POLICY_F_FSUUID, POLICY_SLOT_FSUUID, "fsuuid="},
	{POLICY_F_UID, POLICY_SLOT_UID, "uid"},
	{POLICY_F_EUID, POLICY_SLOT_UID, "euid"},
	{POLICY_F_GID, POLICY_SLOT_GID, "gid"},
	{POLICY_F_EGID, POLICY_SLOT_GID, "egid"},
	{POLICY_F_FOWNER, POLICY_SLOT_FOWNER, "fowner"},
	{POLICY_F_FGROUP, POLICY_SLOT_FGROUP, "fgroup"},
	{POLICY_F_PCR, POLICY_SLOT_PCR, "pcr="},
	{POLICY_F_SIG_REQUIRED, POLICY_SLOT_APPRAISE_TYPE, "appraise_type="},
	{POLICY_F_MODSIG, POLICY_SLOT_APPRAISE_TYPE, "appraise_type=imasig|modsig"},
	{POLICY_F_VERITY, POLICY_SLOT_DIGEST_TYPE, "digest_type="},
	{POLICY_F_ALGOS, POLICY_SLOT_APPRAISE_ALGOS, "appraise_algos="},
	{POLICY_F_DIRECTIO, POLICY_SLOT_PERMIT_DIRECTIO, "permit_directio"},
	{POLICY_F_KEYRINGS, POLICY_SLOT_KEYRINGS, "keyrings="},
	{POLICY_F_LABEL, POLICY_SLOT_LABEL, "label="},
};

#define POLICY_FEATURE_NAMES (sizeof(policy_feature_names) / sizeof(policy_feature_names[0]))

static void feature_list(uint32_t features, bool lsm, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < POLICY_FEATURE_NAMES; i++) {
		int r;

		if (!(features & policy_feature_names[i].feature))
			continue;
		r = snprintf(buf + n, size - n, "%s%s", n ? ", " : "",
			     policy_feature_names[i].name);
		if (r < 0 || (size_t)r >= size - n)
			return;
		n += (size_t)r;
	}
	if (lsm)
		snprintf(buf + n, size - n, "%sobj_* and subj_* labels", n ? ", " : "");
	if (buf[0] == '\0')
		snprintf(buf, size, "no other conditions");
}

static bool rule_has_lsm(const struct policy_rule *rule)
{
	for (size_t i = 0; i < POLICY_LSM__MAX; i++) {
		if (rule->lsm[i])
			return true;
	}
	return false;
}

/* Column and text of the token behind a feature; the action token if none is known. */
static unsigned int feature_token(const struct rule_parser *rp, uint32_t feature,
				  const char **ret_token)
{
	for (size_t i = 0; i < POLICY_FEATURE_NAMES; i++) {
		enum policy_slot slot = policy_feature_names[i].slot;

		if (policy_feature_names[i].feature == feature && rp->seen[slot].token) {
			*ret_token = rp->seen[slot].token;
			return rp->seen[slot].col;
		}
	}
	*ret_token = rp->seen[POLICY_SLOT_ACTION].token;
	return rp->seen[POLICY_SLOT_ACTION].col;
}

static int feature_error(struct rule_parser *rp, uint32_t feature, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record an error about FEATURE; FMT gets the quoted token as its first argument. */
static int feature_error(struct rule_parser *rp, uint32_t feature, const char *fmt, ...)
{
	char q[QUOTE_MAX + 8], message[sizeof(((struct policy_error *)0)->message)];
	const char *token;
	unsigned int col = feature_token(rp, feature, &token);
	va_list ap;

	quote(q, sizeof(q), token ? token : "");
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	return rule_error(rp, col, "'%s' %s", q, message);
}

static int rule_validate_hook(struct rule_parser *rp)
{
	const struct policy_rule *rule = rp->rule;
	struct hook_limits limits = hook_limits(rule->func);
	const char *hook = policy_func_name(rule->func);
	char allowed[320];
	uint32_t extra;

	if (!(limits.actions & (1u << (2 * rule->kind + rule->negated)))) {
		char q[QUOTE_MAX + 8];

		return rule_error(rp, rp->seen[POLICY_SLOT_ACTION].col,
				  "action '%s' cannot be used with func=%s; use %s",
				  quote(q, sizeof(q), rp->seen[POLICY_SLOT_ACTION].token), hook,
				  limits.actions == ACTIONS_APPRAISE ? "appraise"
								     : "measure or dont_measure");
	}

	extra = rule->features & ~limits.features;
	if (extra) {
		uint32_t feature = extra & -extra;

		/* LSM labels pass the SETXATTR_CHECK check but have no effect, so omit them. */
		feature_list(limits.features & ~POLICY_F_DENYLIST,
			     limits.lsm && rule->func != POLICY_FUNC_SETXATTR_CHECK, allowed,
			     sizeof(allowed));
		if (feature == POLICY_F_KEYRINGS)
			return feature_error(rp, feature, "needs func=KEY_CHECK");
		if (feature == POLICY_F_LABEL)
			return feature_error(rp, feature, "needs func=CRITICAL_DATA");
		if (feature == POLICY_F_MODSIG)
			return feature_error(rp, feature,
					     "needs func=MODULE_CHECK, KEXEC_KERNEL_CHECK or "
					     "KEXEC_INITRAMFS_CHECK");
		if (!hook)
			return feature_error(rp, feature, "cannot be used in this rule");
		return feature_error(rp, feature,
				     "cannot be used with func=%s; such rules accept only %s", hook,
				     allowed);
	}
	if (!limits.lsm && rule_has_lsm(rule)) {
		for (size_t i = 0; i < POLICY_LSM__MAX; i++) {
			enum policy_slot slot = (enum policy_slot)(POLICY_SLOT_OBJ_USER + i);
			char q[QUOTE_MAX + 8];

			if (!rule->lsm[i])
				continue;
			return rule_error(rp, rp->seen[slot].col,
					  "'%s' cannot be used with func=%s; LSM labels do not "
					  "apply to it",
					  quote(q, sizeof(q), rp->seen[slot].token), hook);
		}
	}
	if (rule->func == POLICY_FUNC_SETXATTR_CHECK && !(rule->features & POLICY_F_ALGOS))
		return rule_error(rp, rp->seen[POLICY_SLOT_FUNC].col,
				  "func=SETXATTR_CHECK needs appraise_algos=, for example "
				  "'appraise func=SETXATTR_CHECK appraise_algos=sha256,sha512'");
	return 0;
}

/* Check a parsed rule as a whole, in the order of the kernel's ima_validate_rule(). */
static int rule_validate(struct rule_parser *rp, unsigned int first_col)
{
	const struct policy_rule *rule = rp->rule;
	uint32_t appraise_only =
		POLICY_F_SIG_REQUIRED | POLICY_F_MODSIG | POLICY_F_DENYLIST | POLICY_F_ALGOS;
	int r;

	if (!rp->seen[POLICY_SLOT_ACTION].token)
		return rule_error(rp, first_col,
				  "rule has no action; start it with measure, dont_measure, "
				  "appraise, dont_appraise, audit, dont_audit, hash or dont_hash");
	if ((rule->features & POLICY_F_PCR) && (rule->kind != POLICY_KIND_MEASURE || rule->negated))
		return feature_error(rp, POLICY_F_PCR, "is only valid with the measure action");
	if ((rule->features & appraise_only) &&
	    (rule->kind != POLICY_KIND_APPRAISE || rule->negated)) {
		uint32_t extra = rule->features & appraise_only;

		return feature_error(rp, extra & -extra, "is only valid with the appraise action");
	}

	r = rule_validate_hook(rp);
	if (r < 0)
		return r;

	/* Every accepted appraise_type= sets both flags, so this kernel check cannot fail here. */
	if ((rule->features & POLICY_F_DENYLIST) && !(rule->features & POLICY_F_SIG_REQUIRED))
		return feature_error(rp, POLICY_F_DENYLIST, "needs a signature requirement");
	if (rule->kind == POLICY_KIND_APPRAISE && !rule->negated &&
	    (rule->features & POLICY_F_VERITY) && !(rule->features & POLICY_F_SIG_REQUIRED))
		return feature_error(rp, POLICY_F_VERITY,
				     "in an appraise rule needs a signature; add "
				     "appraise_type=sigv3 after it");
	return 0;
}

/* Lines and rules */

static void rule_clear(struct policy_rule *rule)
{
	free(rule->fsname);
	free(rule->fs_subtype);
	for (size_t i = 0; i < POLICY_LSM__MAX; i++)
		free(rule->lsm[i]);
	free(rule->keyrings);
	free(rule->label);
	memset(rule, 0, sizeof(*rule));
}

static int rule_parse_token(struct rule_parser *rp, char *token, unsigned int col)
{
	const struct policy_keyword *kw;
	const char *value;
	char q[QUOTE_MAX + 8];
	int r;

	rp->token = token;
	rp->col = col;
	kw = keyword_match(token, &value);
	if (!kw)
		return unknown_token_error(rp, token);
	if (kw->since > rp->profile->version)
		return rule_error(rp, col, "'%s' needs Linux %u.%u or later",
				  quote(q, sizeof(q), token), kw->since >> 8, kw->since & 0xff);
	if (kw->dup == POLICY_DUP_REJECT && rp->seen[kw->slot].token)
		return duplicate_error(rp, kw);
	r = kw->parse(rp, kw, value);
	if (r < 0)
		return r;
	rp->seen[kw->slot].token = token;
	rp->seen[kw->slot].col = col;
	return 0;
}

/*
 * Parse LINE (NUL-terminated, modified in place) into RP->rule. Returns 1 if the line contains a
 * rule, 0 for a blank or comment line, or a negative errno.
 */
static int rule_parse_line(struct rule_parser *rp, char *line)
{
	bool suffix_comments = rp->profile->version >= POLICY_SUFFIX_COMMENTS_SINCE;
	char *p = line + strspn(line, " \t");
	unsigned int first_col = (unsigned int)(p - line) + 1;
	int r;

	if (*p == '\0' || *p == '#')
		return 0;
	while (*p) {
		char *token;

		if (*p == ' ' || *p == '\t') {
			p++;
			continue;
		}
		token = p;
		p += strcspn(p, " \t");
		if (*p)
			*p++ = '\0';
		if (token[0] == '#' && suffix_comments)
			break;
		r = rule_parse_token(rp, token, (unsigned int)(token - line) + 1);
		if (r < 0)
			return r;
	}
	r = rule_validate(rp, first_col);
	return r < 0 ? r : 1;
}

static int policy_add_rule(struct policy *policy, unsigned int *capacity,
			   const struct policy_rule *rule)
{
	if (policy->nrules == *capacity) {
		unsigned int grown = *capacity ? *capacity * 2 : 32;
		struct policy_rule *rules = reallocarray(policy->rules, grown, sizeof(*rules));

		if (!rules)
			return -ENOMEM;
		policy->rules = rules;
		*capacity = grown;
	}
	policy->rules[policy->nrules++] = *rule;
	return 0;
}

/* Report the first NUL byte of TEXT, which the kernel would treat as the end of the line. */
static int text_nul_error(const char *text, const char *nul, const char *origin,
			  struct policy_error *reterr)
{
	unsigned int line = 1;
	const char *line_start = text;

	for (const char *p = text; p < nul; p++) {
		if (*p == '\n') {
			line++;
			line_start = p + 1;
		}
	}
	error_set(reterr, origin, line, (unsigned int)(nul - line_start) + 1,
		  "NUL byte in the policy text; a policy is plain text, so check that the right "
		  "file was given");
	return -EINVAL;
}

static int policy_parse_profile(const struct policy_profile *profile, const char *text, size_t len,
				const char *origin, struct policy **ret,
				struct policy_error *reterr)
{
	struct rule_parser rp = {.profile = profile, .origin = origin, .err = reterr};
	struct policy_rule rule;
	struct policy *policy;
	unsigned int capacity = 0;
	const char *nul;
	char *buf, *line;
	int r;

	if (len > POLICY_TEXT_MAX) {
		error_set(reterr, origin, 0, 0,
			  "policy text is %zu bytes, more than the limit of %u bytes; check that "
			  "the right file was given",
			  len, POLICY_TEXT_MAX);
		return -EINVAL;
	}
	nul = len ? memchr(text, '\0', len) : NULL;
	if (nul)
		return text_nul_error(text, nul, origin, reterr);

	buf = malloc(len + 1);
	if (!buf)
		goto out_nomem;
	if (len)
		memcpy(buf, text, len);
	buf[len] = '\0';
	policy = calloc(1, sizeof(*policy));
	if (!policy)
		goto out_free_buf;

	line = buf;
	for (unsigned int lineno = 1; *line; lineno++) {
		char *next = strchr(line, '\n');

		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		memset(&rule, 0, sizeof(rule));
		memset(rp.seen, 0, sizeof(rp.seen));
		rule.line = lineno;
		rp.rule = &rule;
		rp.line = lineno;
		r = rule_parse_line(&rp, line);
		if (r > 0)
			r = policy_add_rule(policy, &capacity, &rule);
		if (r < 0) {
			rule_clear(&rule);
			goto out_free_policy;
		}
		line = next;
	}
	if (policy->nrules == 0) {
		error_set(reterr, origin, 0, 0,
			  "policy has no rules, only blank lines or comments; the kernel rejects "
			  "such a load, so add at least one rule such as 'measure "
			  "func=BPRM_CHECK'");
		r = -EINVAL;
		goto out_free_policy;
	}
	free(buf);
	*ret = policy;
	return 0;

out_free_policy:
	policy_free(policy);
	free(buf);
	if (r == -ENOMEM)
		goto out_nomem;
	return r;
out_free_buf:
	free(buf);
out_nomem:
	error_set(reterr, origin, 0, 0, "out of memory while parsing the policy");
	return -ENOMEM;
}

int policy_parse(const char *text, size_t len, const char *origin, struct policy **ret,
		 struct policy_error *reterr)
{
	if (!origin)
		origin = "(policy text)";
	if (!text && len) {
		error_set(reterr, origin, 0, 0, "no policy text given");
		return -EINVAL;
	}
	return policy_parse_profile(&policy_baseline, text ? text : "", len, origin, ret, reterr);
}

static int file_error(struct policy_error *reterr, const char *path, int error,
		      const char *operation)
{
	char buf[128];

	error_set(reterr, path, 0, 0, "%s: %s", operation, strerror_r(-error, buf, sizeof(buf)));
	return error;
}

int policy_load_file(const char *path, struct policy **ret, struct policy_error *reterr)
{
	size_t size = 0;
	struct stat st;
	char *buf;
	int fd, r;

	/* O_NONBLOCK keeps open() from hanging on a FIFO; only regular files are read. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return file_error(reterr, path, -errno, "cannot open the policy file");
	if (fstat(fd, &st) < 0) {
		r = file_error(reterr, path, -errno, "cannot stat the policy file");
		goto out_close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		error_set(reterr, path, 0, 0,
			  "the policy is not a regular file; give the path of a policy text file");
		r = -EINVAL;
		goto out_close_fd;
	}

	/* Reading one byte past the limit distinguishes an oversized file from one at the limit. */
	buf = malloc(POLICY_TEXT_MAX + 1);
	if (!buf) {
		r = file_error(reterr, path, -ENOMEM, "cannot read the policy file");
		goto out_close_fd;
	}
	while (size <= POLICY_TEXT_MAX) {
		ssize_t n = read(fd, buf + size, POLICY_TEXT_MAX + 1 - size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = file_error(reterr, path, -errno, "cannot read the policy file");
			goto out_free_buf;
		}
		if (n == 0)
			break;
		size += (size_t)n;
	}
	if (size > POLICY_TEXT_MAX) {
		error_set(reterr, path, 0, 0,
			  "policy file is larger than the limit of %u bytes; check that the right "
			  "file was given",
			  POLICY_TEXT_MAX);
		r = -EFBIG;
		goto out_free_buf;
	}
	r = policy_parse(buf, size, path, ret, reterr);

out_free_buf:
	free(buf);
out_close_fd:
	close(fd);
	return r;
}

int policy_load_builtin(const char *name, struct policy **ret, struct policy_error *reterr)
{
	char origin[sizeof(((struct policy_error *)0)->origin)];
	char q[QUOTE_MAX + 8];

	quote(q, sizeof(q), name);
	snprintf(origin, sizeof(origin), "builtin:%s", q);
	for (size_t i = 0; i < sizeof(policy_builtins) / sizeof(policy_builtins[0]); i++) {
		if (strcmp(name, policy_builtins[i].name) == 0)
			return policy_parse(policy_builtins[i].text,
					    strlen(policy_builtins[i].text), origin, ret, reterr);
	}
	error_set(reterr, origin, 0, 0,
		  "unknown built-in policy '%s'; the only built-in policy is 'tcb' "
		  "(use builtin:tcb)",
		  q);
	return -ENOENT;
}

int policy_load(const char *spec, struct policy **ret, struct policy_error *reterr)
{
	static const char prefix[] = "builtin:";

	if (!spec || spec[0] == '\0') {
		error_set(reterr, "policy", 0, 0,
			  "no policy given; use builtin:tcb or the path of a policy file");
		return -EINVAL;
	}
	if (strncmp(spec, prefix, sizeof(prefix) - 1) == 0)
		return policy_load_builtin(spec + sizeof(prefix) - 1, ret, reterr);
	return policy_load_file(spec, ret, reterr);
}

struct policy *policy_free(struct policy *policy)
{
	if (!policy)
		return NULL;
	for (unsigned int i = 0; i < policy->nrules; i++)
		rule_clear(&policy->rules[i]);
	free(policy->rules);
	free(policy);
	return NULL;
}

unsigned int policy_rule_count(const struct policy *policy)
{
	return policy ? policy->nrules : 0;
}

const char *policy_func_name(enum policy_func func)
{
	if ((unsigned int)func >= POLICY_FUNC__MAX)
		return NULL;
	return policy_func_names[func];
}

/* Evaluation */

static bool id_compare(uint32_t actual, const struct policy_id_cond *cond)
{
	switch (cond->op) {
	case '<':
		return actual < cond->value;
	case '>':
		return actual > cond->value;
	default:
		return actual == cond->value;
	}
}

static bool rule_match_ids(const struct policy_rule *rule, const struct policy_event *event)
{
	const struct policy_id_cond *uid = &rule->ids[POLICY_ID_UID];
	const struct policy_id_cond *gid = &rule->ids[POLICY_ID_GID];

	if ((rule->features & POLICY_F_UID) && !id_compare(event->uid, uid))
		return false;
	if (rule->features & POLICY_F_EUID) {
		/* With CAP_SETUID the task could switch to its saved or real uid at will. */
		bool match = id_compare(event->euid, uid);

		if (event->has_cap_setuid)
			match = match || id_compare(event->suid, uid) ||
				id_compare(event->uid, uid);
		if (!match)
			return false;
	}
	if ((rule->features & POLICY_F_GID) && !id_compare(event->gid, gid))
		return false;
	/*
	 * NOTE: with CAP_SETGID the kernel also accepts the saved or real gid for egid=. The
	 * event carries neither the saved gid nor CAP_SETGID, so only the effective gid counts:
	 * a rule the kernel would match through them does not match here.
	 */
	if ((rule->features & POLICY_F_EGID) && !id_compare(event->egid, gid))
		return false;
	if ((rule->features & POLICY_F_FOWNER) &&
	    !id_compare(event->fowner, &rule->ids[POLICY_ID_FOWNER]))
		return false;
	if ((rule->features & POLICY_F_FGROUP) &&
	    !id_compare(event->fgroup, &rule->ids[POLICY_ID_FGROUP]))
		return false;
	return true;
}

static bool rule_matches(const struct policy_rule *rule, const struct policy_event *event)
{
	uint32_t f = rule->features;
	bool setattr = event->func == POLICY_FUNC_POST_SETATTR;

	if ((f & POLICY_F_FUNC) && rule->func != event->func && !setattr)
		return false;

	/*
	 * Key and critical-data events match only rules for exactly that hook, and then only
	 * uid= and the keyring or label list are checked. The event has no keyring or label name,
	 * so a rule with a list never matches.
	 */
	if (event->func == POLICY_FUNC_KEY_CHECK || event->func == POLICY_FUNC_CRITICAL_DATA) {
		if (rule->func != event->func)
			return false;
		if ((f & POLICY_F_UID) && !id_compare(event->uid, &rule->ids[POLICY_ID_UID]))
			return false;
		return !(f & (POLICY_F_KEYRINGS | POLICY_F_LABEL));
	}

	if ((f & POLICY_F_MASK) && !setattr) {
		if (rule->mask_contains ? !(rule->mask & event->mask) : rule->mask != event->mask)
			return false;
	}
	if ((f & POLICY_F_FSMAGIC) && rule->fsmagic != event->fsmagic)
		return false;
	/*
	 * The event does not carry the filesystem type name, subtype or UUID, nor LSM labels.
	 * A condition on them is unknown and must not count as true, so the rule does not
	 * match. This applies to dont_ rules too.
	 */
	if (f & (POLICY_F_FSNAME | POLICY_F_FS_SUBTYPE | POLICY_F_FSUUID))
		return false;
	if (rule_has_lsm(rule))
		return false;
	return rule_match_ids(rule, event);
}

void policy_evaluate(const struct policy *policy, const struct policy_event *event,
		     struct policy_decision *ret)
{
	unsigned int undecided = (1u << POLICY_KIND_MEASURE) | (1u << POLICY_KIND_APPRAISE);

	memset(ret, 0, sizeof(*ret));
	if (!policy)
		return;

	/* Each kind is decided by the first matching rule of that kind (do or dont_). */
	for (unsigned int i = 0; i < policy->nrules && undecided; i++) {
		const struct policy_rule *rule = &policy->rules[i];

		if (!(undecided & (1u << rule->kind)) || !rule_matches(rule, event))
			continue;
		undecided &= ~(1u << rule->kind);
		if (rule->negated)
			continue;
		if (rule->kind == POLICY_KIND_MEASURE) {
			ret->measure = true;
			ret->measure_line = rule->line;
			ret->pcr_set = (rule->features & POLICY_F_PCR) != 0;
			ret->pcr = rule->pcr;
			if (rule->template)
				snprintf(ret->template, sizeof(ret->template), "%s",
					 rule->template->name);
		} else if (rule->kind == POLICY_KIND_APPRAISE) {
			ret->appraise = true;
			ret->appraise_line = rule->line;
			ret->appraise_sig_required = (rule->features & POLICY_F_SIG_REQUIRED) != 0;
			ret->appraise_check_blocklist = (rule->features & POLICY_F_DENYLIST) != 0;
			if (rule->features & POLICY_F_ALGOS)
				ret->appraise_algos = rule->appraise_algos;
		}
	}
}
