/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel IMA policy language. This module parses rule text into an immutable rule set and
 * reproduces the verdicts of the Linux parser of a chosen version (struct policy_profile, 6.19
 * by default). It also provides the built-in rule sets and the imafs extension conditions. It
 * runs the kernel's per-kind first-match walk and can explain every step of it. A checker
 * reports every bad line and the rules that cannot do what they seem to, and a printer writes
 * the canonical form.
 *
 * Invariants:
 * 1. One keyword table, policy_keywords[], lists every token of the language, actions and
 *    extensions included. The parser recognises tokens only through it and the printer prints
 *    keyword names from it, so the two cannot drift apart. That is why the printer lives in
 *    this file, next to the static table.
 * 2. A load is all or nothing. policy_parse_ex() returns a rule set only when every line
 *    parsed and validated and at least one rule exists. On the first bad line it returns
 *    nothing, as the kernel discards the whole load. policy_check() parses the same way but
 *    goes on to report every bad line; it never returns a rule set.
 * 3. A returned rule set never changes, so evaluation takes no lock.
 * 4. Evaluation counts a condition as true only after checking it against event data. A
 *    condition whose event value is unknown (NULL string, ids_unknown, fsmagic_unknown, no
 *    keyring name) is not true: the rule does not match, for dont_ rules too, and the decision
 *    is marked inexact unless another condition of the rule is false.
 * 5. Extension keywords are accepted only when the options ask for them, so a policy that
 *    loads without extensions uses only the kernel's language.
 * 6. Every rejected load fills one struct policy_error. It gives the origin, and the line,
 *    column and text of the offending token (0, 0 and "" when the whole text is at fault). It
 *    adds a message naming the token and a fix, and what the kernel does with the same text.
 *
 * Locking: none. Ownership: a struct policy owns its rules and their strings; policy_free()
 * releases all of them.
 */
#include "policy/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
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

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Internal version encoding: one byte each for major and minor, so versions compare as numbers. */
#define POLICY_KERNEL(major, minor) (((major) << 8) | (minor))

/* Kernel version and build options that change parser verdicts. */
struct policy_profile {
	unsigned int version; /* POLICY_KERNEL(major, minor) */
	bool key_check;	      /* CONFIG_IMA_MEASURE_ASYMMETRIC_KEYS: func=KEY_CHECK, keyrings= */
	bool modsig;	      /* CONFIG_IMA_APPRAISE_MODSIG: appraise_type=imasig|modsig */
	unsigned int pcr_max; /* largest pcr=: bits in the kernel's unsigned long, minus one */
	bool extensions;      /* imafs extension keywords */
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

/* Since 6.14 the tcb built-in exempts tmpfs only for FILE_CHECK, so exec from tmpfs is measured. */
#define POLICY_TCB_TMPFS_FILE_CHECK_SINCE POLICY_KERNEL(6, 14)

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
#define POLICY_F_PATH (1u << 21)   /* extension: path= or path^= */
#define POLICY_F_EXE (1u << 22)	   /* extension */
#define POLICY_F_COMM (1u << 23)   /* extension */
#define POLICY_F_CGROUP (1u << 24) /* extension */

#define POLICY_F_EXTENSIONS (POLICY_F_PATH | POLICY_F_EXE | POLICY_F_COMM | POLICY_F_CGROUP)

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
	POLICY_SLOT_PATH, /* the four extension slots follow enum policy_ext order */
	POLICY_SLOT_EXE,
	POLICY_SLOT_COMM,
	POLICY_SLOT_CGROUP,
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

enum policy_ext {
	POLICY_EXT_PATH,
	POLICY_EXT_EXE,
	POLICY_EXT_COMM,
	POLICY_EXT_CGROUP,
	POLICY_EXT__MAX,
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
	POLICY_TOK_PATH,
	POLICY_TOK_PATH_PREFIX,
	POLICY_TOK_EXE,
	POLICY_TOK_COMM,
	POLICY_TOK_CGROUP,
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
	unsigned int col; /* column of the first token */
	char *text;	  /* the line as written, without leading blanks and the line end */
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
	char *ext[POLICY_EXT__MAX]; /* extension patterns */
	bool path_prefix;	    /* path^=: the pattern matches a leading part of the path */
};

struct policy {
	unsigned int nrules;
	struct policy_rule *rules;
	bool fail_securely;
	unsigned int do_kinds; /* bit per kind with a do rule outside SETXATTR_CHECK */
	uint8_t sha256[32];
};

/* State while one rule is parsed. */
struct rule_parser {
	const struct policy_profile *profile;
	struct policy_rule *rule;
	const char *origin;
	unsigned int line;
	char *line_start; /* the line being tokenised; tokens are NUL-terminated in place */
	struct policy_error *err;
	/* The token that filled each slot, and its column; NULL while the slot is empty. */
	struct {
		const char *token;
		unsigned int col;
	} seen[POLICY_SLOT__MAX];
	const char *token; /* token being parsed */
	unsigned int col;
	bool unknown_token; /* the error is a token the kernel does not know at all */
};

struct policy_keyword {
	const char *text; /* the whole token, or its key up to and including '=', '<' or '>' */
	bool has_value;	  /* a non-empty value follows TEXT */
	enum policy_slot slot;
	enum policy_dup dup;
	unsigned int since;  /* first kernel that accepts it; 0 for every supported kernel */
	bool extension;	     /* imafs extension, never accepted by a kernel */
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
static int parse_extension(struct rule_parser *rp, const struct policy_keyword *kw,
			   const char *value);

/* gid=, egid= and fgroup= (with < and >) exist since Linux 5.16. */
#define POLICY_GID_SINCE POLICY_KERNEL(5, 16)

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
#define KW_ID(tok, text_, slot_, effective_, op_, since_)                                          \
	[tok] = {.text = text_,                                                                    \
		 .has_value = true,                                                                \
		 .slot = slot_,                                                                    \
		 .dup = POLICY_DUP_REJECT,                                                         \
		 .since = since_,                                                                  \
		 .example = text_ "1000",                                                          \
		 .parse = parse_id,                                                                \
		 .effective = effective_,                                                          \
		 .op = op_}
#define KW_LSM(tok, text_, slot_, example_)                                                        \
	KW_VALUE(tok, text_, slot_, POLICY_DUP_REJECT, 0, example_, parse_string)
#define KW_EXT(tok, text_, slot_, example_)                                                        \
	[tok] = {.text = text_,                                                                    \
		 .has_value = true,                                                                \
		 .slot = slot_,                                                                    \
		 .dup = POLICY_DUP_REJECT,                                                         \
		 .extension = true,                                                                \
		 .example = example_,                                                              \
		 .parse = parse_extension}

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
	KW_ID(POLICY_TOK_UID_EQ, "uid=", POLICY_SLOT_UID, false, '=', 0),
	KW_ID(POLICY_TOK_EUID_EQ, "euid=", POLICY_SLOT_UID, true, '=', 0),
	KW_ID(POLICY_TOK_GID_EQ, "gid=", POLICY_SLOT_GID, false, '=', POLICY_GID_SINCE),
	KW_ID(POLICY_TOK_EGID_EQ, "egid=", POLICY_SLOT_GID, true, '=', POLICY_GID_SINCE),
	KW_ID(POLICY_TOK_FOWNER_EQ, "fowner=", POLICY_SLOT_FOWNER, false, '=', 0),
	KW_ID(POLICY_TOK_FGROUP_EQ, "fgroup=", POLICY_SLOT_FGROUP, false, '=', POLICY_GID_SINCE),
	KW_ID(POLICY_TOK_UID_GT, "uid>", POLICY_SLOT_UID, false, '>', 0),
	KW_ID(POLICY_TOK_EUID_GT, "euid>", POLICY_SLOT_UID, true, '>', 0),
	KW_ID(POLICY_TOK_GID_GT, "gid>", POLICY_SLOT_GID, false, '>', POLICY_GID_SINCE),
	KW_ID(POLICY_TOK_EGID_GT, "egid>", POLICY_SLOT_GID, true, '>', POLICY_GID_SINCE),
	KW_ID(POLICY_TOK_FOWNER_GT, "fowner>", POLICY_SLOT_FOWNER, false, '>', 0),
	KW_ID(POLICY_TOK_FGROUP_GT, "fgroup>", POLICY_SLOT_FGROUP, false, '>', POLICY_GID_SINCE),
	KW_ID(POLICY_TOK_UID_LT, "uid<", POLICY_SLOT_UID, false, '<', 0),
	KW_ID(POLICY_TOK_EUID_LT, "euid<", POLICY_SLOT_UID, true, '<', 0),
	KW_ID(POLICY_TOK_GID_LT, "gid<", POLICY_SLOT_GID, false, '<', POLICY_GID_SINCE),
	KW_ID(POLICY_TOK_EGID_LT, "egid<", POLICY_SLOT_GID, true, '<', POLICY_GID_SINCE),
	KW_ID(POLICY_TOK_FOWNER_LT, "fowner<", POLICY_SLOT_FOWNER, false, '<', 0),
	KW_ID(POLICY_TOK_FGROUP_LT, "fgroup<", POLICY_SLOT_FGROUP, false, '<', POLICY_GID_SINCE),
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
	KW_EXT(POLICY_TOK_PATH, "path=", POLICY_SLOT_PATH, "path=/usr/bin/*"),
	KW_EXT(POLICY_TOK_PATH_PREFIX, "path^=", POLICY_SLOT_PATH, "path^=/opt/app"),
	KW_EXT(POLICY_TOK_EXE, "exe=", POLICY_SLOT_EXE, "exe=/usr/bin/python3*"),
	KW_EXT(POLICY_TOK_COMM, "comm=", POLICY_SLOT_COMM, "comm=sshd"),
	KW_EXT(POLICY_TOK_CGROUP, "cgroup=", POLICY_SLOT_CGROUP,
	       "cgroup=/system.slice/app.service"),
};

/* The token of each identifier condition, by slot, euid/egid and operator. */
static const enum policy_token policy_id_tokens[POLICY_ID__MAX][2][3] = {
	[POLICY_ID_UID] = {{POLICY_TOK_UID_EQ, POLICY_TOK_UID_LT, POLICY_TOK_UID_GT},
			   {POLICY_TOK_EUID_EQ, POLICY_TOK_EUID_LT, POLICY_TOK_EUID_GT}},
	[POLICY_ID_GID] = {{POLICY_TOK_GID_EQ, POLICY_TOK_GID_LT, POLICY_TOK_GID_GT},
			   {POLICY_TOK_EGID_EQ, POLICY_TOK_EGID_LT, POLICY_TOK_EGID_GT}},
	[POLICY_ID_FOWNER] = {{POLICY_TOK_FOWNER_EQ, POLICY_TOK_FOWNER_LT, POLICY_TOK_FOWNER_GT},
			      {POLICY_TOK_FOWNER_EQ, POLICY_TOK_FOWNER_LT, POLICY_TOK_FOWNER_GT}},
	[POLICY_ID_FGROUP] = {{POLICY_TOK_FGROUP_EQ, POLICY_TOK_FGROUP_LT, POLICY_TOK_FGROUP_GT},
			      {POLICY_TOK_FGROUP_EQ, POLICY_TOK_FGROUP_LT, POLICY_TOK_FGROUP_GT}},
};

static const enum policy_token policy_lsm_tokens[POLICY_LSM__MAX] = {
	POLICY_TOK_OBJ_USER,  POLICY_TOK_OBJ_ROLE,  POLICY_TOK_OBJ_TYPE,
	POLICY_TOK_SUBJ_USER, POLICY_TOK_SUBJ_ROLE, POLICY_TOK_SUBJ_TYPE,
};

static const char *const policy_kind_names[POLICY_KIND__MAX] = {
	[POLICY_KIND_MEASURE] = "measure",
	[POLICY_KIND_APPRAISE] = "appraise",
	[POLICY_KIND_AUDIT] = "audit",
	[POLICY_KIND_HASH] = "hash",
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
 * Built-in rule sets, as Linux 6.19 builds them in security/integrity/ima/ima_policy.c, in the
 * kernel's boot order: tcb exemptions, tcb measure rules, secure_boot, appraise_tcb,
 * critical_data. Architecture rules and Kconfig build-time rules depend on the firmware and
 * the build, so they are left out. fail_securely adds no rule, only a flag.
 */
enum {
	BUILTIN_TCB = 1u << 0,
	BUILTIN_APPRAISE_TCB = 1u << 1,
	BUILTIN_SECURE_BOOT = 1u << 2,
	BUILTIN_FAIL_SECURELY = 1u << 3,
	BUILTIN_CRITICAL_DATA = 1u << 4,
};

static const struct {
	const char *name;
	unsigned int bit;
} policy_builtin_names[] = {
	{"tcb", BUILTIN_TCB},
	{"appraise_tcb", BUILTIN_APPRAISE_TCB},
	{"secure_boot", BUILTIN_SECURE_BOOT},
	{"fail_securely", BUILTIN_FAIL_SECURELY},
	{"critical_data", BUILTIN_CRITICAL_DATA},
};

struct builtin_rule {
	unsigned int set;    /* BUILTIN_* */
	const char *text;    /* rule text with a comment naming what it is for */
	bool denylist;	     /* the kernel sets the deny-list check on this rule */
	unsigned int since;  /* first kernel with this form, 0 for all */
	unsigned int before; /* first kernel without it, 0 for none */
};

/*
 * Built-in signature rules set "signature required" without the deny-list check that a
 * written appraise_type= brings, except the secure_boot module rule.
 */
static const struct builtin_rule policy_builtin_rules[] = {
	{BUILTIN_TCB, "dont_measure fsmagic=0x9fa0 # proc", false, 0, 0},
	{BUILTIN_TCB, "dont_measure fsmagic=0x62656572 # sysfs", false, 0, 0},
	{BUILTIN_TCB, "dont_measure fsmagic=0x64626720 # debugfs", false, 0, 0},
	{BUILTIN_TCB, "dont_measure fsmagic=0x1021994 func=FILE_CHECK # tmpfs; exec is measured",
	 false, POLICY_TCB_TMPFS_FILE_CHECK_SINCE, 0},
	{BUILTIN_TCB, "dont_measure fsmagic=0x1021994 # tmpfs", false, 0,
	 POLICY_TCB_TMPFS_FILE_CHECK_SINCE},
	{BUILTIN_TCB, "dont_measure fsmagic=0x1cd1 # devpts", false, 0, 0},
	{BUILTIN_TCB, "dont_measure fsmagic=0x42494e4d # binfmt_misc", false, 0, 0},
	{BUILTIN_TCB, "dont_measure fsmagic=0x73636673 # securityfs", false, 0, 0},
	{BUILTIN_TCB, "dont_measure fsmagic=0xf97cff8c # selinuxfs", false, 0, 0},
	{BUILTIN_TCB, "dont_measure fsmagic=0x43415d53 # smackfs", false, 0, 0},
	{BUILTIN_TCB, "dont_measure fsmagic=0x27e0eb # cgroup v1", false, 0, 0},
	{BUILTIN_TCB, "dont_measure fsmagic=0x63677270 # cgroup v2", false, 0, 0},
	{BUILTIN_TCB, "dont_measure fsmagic=0x6e736673 # nsfs", false, 0, 0},
	{BUILTIN_TCB, "dont_measure fsmagic=0xde5e81e4 # efivarfs", false, 0, 0},
	{BUILTIN_TCB, "measure func=MMAP_CHECK mask=MAY_EXEC", false, 0, 0},
	{BUILTIN_TCB, "measure func=BPRM_CHECK mask=MAY_EXEC", false, 0, 0},
	{BUILTIN_TCB, "measure func=FILE_CHECK mask=^MAY_READ euid=0", false, 0, 0},
	{BUILTIN_TCB, "measure func=FILE_CHECK mask=^MAY_READ uid=0", false, 0, 0},
	{BUILTIN_TCB, "measure func=MODULE_CHECK", false, 0, 0},
	{BUILTIN_TCB, "measure func=FIRMWARE_CHECK", false, 0, 0},
	{BUILTIN_TCB, "measure func=POLICY_CHECK", false, 0, 0},
	/* NOTE: older kernels had imasig without modsig here; the version was not checked. */
	{BUILTIN_SECURE_BOOT, "appraise func=MODULE_CHECK appraise_type=imasig|modsig", true, 0, 0},
	{BUILTIN_SECURE_BOOT, "appraise func=FIRMWARE_CHECK appraise_type=imasig", false, 0, 0},
	{BUILTIN_SECURE_BOOT, "appraise func=KEXEC_KERNEL_CHECK appraise_type=imasig", false, 0, 0},
	{BUILTIN_SECURE_BOOT, "appraise func=POLICY_CHECK appraise_type=imasig", false, 0, 0},
	{BUILTIN_APPRAISE_TCB, "dont_appraise fsmagic=0x9fa0 # proc", false, 0, 0},
	{BUILTIN_APPRAISE_TCB, "dont_appraise fsmagic=0x62656572 # sysfs", false, 0, 0},
	{BUILTIN_APPRAISE_TCB, "dont_appraise fsmagic=0x64626720 # debugfs", false, 0, 0},
	{BUILTIN_APPRAISE_TCB, "dont_appraise fsmagic=0x1021994 # tmpfs", false, 0, 0},
	{BUILTIN_APPRAISE_TCB, "dont_appraise fsmagic=0x858458f6 # ramfs", false, 0, 0},
	{BUILTIN_APPRAISE_TCB, "dont_appraise fsmagic=0x1cd1 # devpts", false, 0, 0},
	{BUILTIN_APPRAISE_TCB, "dont_appraise fsmagic=0x42494e4d # binfmt_misc", false, 0, 0},
	{BUILTIN_APPRAISE_TCB, "dont_appraise fsmagic=0x73636673 # securityfs", false, 0, 0},
	{BUILTIN_APPRAISE_TCB, "dont_appraise fsmagic=0xf97cff8c # selinuxfs", false, 0, 0},
	{BUILTIN_APPRAISE_TCB, "dont_appraise fsmagic=0x43415d53 # smackfs", false, 0, 0},
	{BUILTIN_APPRAISE_TCB, "dont_appraise fsmagic=0x6e736673 # nsfs", false, 0, 0},
	{BUILTIN_APPRAISE_TCB, "dont_appraise fsmagic=0xde5e81e4 # efivarfs", false, 0, 0},
	{BUILTIN_APPRAISE_TCB, "dont_appraise fsmagic=0x27e0eb # cgroup v1", false, 0, 0},
	{BUILTIN_APPRAISE_TCB, "dont_appraise fsmagic=0x63677270 # cgroup v2", false, 0, 0},
	/*
	 * The kernel adds this rule only with CONFIG_IMA_WRITE_POLICY, and writes the next one
	 * with appraise_type=imasig under CONFIG_IMA_APPRAISE_SIGNED_INIT. This list assumes
	 * the first option on and the second off.
	 */
	{BUILTIN_APPRAISE_TCB, "appraise func=POLICY_CHECK appraise_type=imasig", false, 0, 0},
	{BUILTIN_APPRAISE_TCB, "appraise fowner=0", false, 0, 0},
	{BUILTIN_CRITICAL_DATA, "measure func=CRITICAL_DATA", false, 0, 0},
};

/* Boot order of the sets; rules within a set keep their table order. */
static const unsigned int policy_builtin_order[] = {
	BUILTIN_TCB,
	BUILTIN_SECURE_BOOT,
	BUILTIN_APPRAISE_TCB,
	BUILTIN_CRITICAL_DATA,
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

/* Copy the token at column COL into the error. */
static void error_set_token(struct rule_parser *rp, unsigned int col)
{
	/* Tokens are NUL-terminated in place, so the one at COL is a string of its own. */
	if (rp->err && col > 0)
		snprintf(rp->err->token, sizeof(rp->err->token), "%s", rp->line_start + col - 1);
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
	error_set_token(rp, col);
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
static const struct policy_keyword *keyword_suggest(const char *token, bool extensions,
						    bool *ret_case)
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

		if (kw->extension && !extensions)
			continue;
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

/*
 * Write the keyword list for messages; '<' and '>' forms are left out to keep it short, and
 * extensions unless they are enabled.
 */
static void keyword_list(char *buf, size_t size, bool extensions)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < POLICY_TOK__MAX && n < size; i++) {
		const struct policy_keyword *kw = &policy_keywords[i];
		int r;

		if (kw->op == '<' || kw->op == '>' || (kw->extension && !extensions))
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

	rp->unknown_token = true;
	quote(q, sizeof(q), token);
	if (token[0] == '#')
		return rule_error(
			rp, rp->col,
			"unknown keyword '%s'; a '#' after a rule starts a comment only on "
			"Linux 6.14 and later (checking for Linux %u.%u), so move the "
			"comment to a line of its own",
			q, rp->profile->version >> 8, rp->profile->version & 0xff);
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

	kw = keyword_suggest(token, rp->profile->extensions, &case_only);
	if (kw && case_only)
		return rule_error(rp, rp->col,
				  "unknown keyword '%s'; keywords are case-sensitive, write '%s'",
				  q, kw->text);
	keyword_list(list, sizeof(list), rp->profile->extensions);
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
	error_set_token(rp, rp->col);
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

/*
 * path=, path^=, exe=, comm= and cgroup=: the imafs extensions. Values are fnmatch(3)
 * patterns; path=, path^=, exe= and cgroup= must be absolute. A path^= or cgroup= pattern
 * also matches everything below what it names, so a trailing '/' adds nothing and is dropped.
 */
static int parse_extension(struct rule_parser *rp, const struct policy_keyword *kw,
			   const char *value)
{
	enum policy_ext ext = (enum policy_ext)(kw->slot - POLICY_SLOT_PATH);
	static const uint32_t features[POLICY_EXT__MAX] = {POLICY_F_PATH, POLICY_F_EXE,
							   POLICY_F_COMM, POLICY_F_CGROUP};
	bool prefix = kw == &policy_keywords[POLICY_TOK_PATH_PREFIX];
	char q[QUOTE_MAX + 8];
	size_t len = strlen(value);
	char *copy;

	quote(q, sizeof(q), value);
	if (ext != POLICY_EXT_COMM && value[0] != '/')
		return value_error(rp, value,
				   "invalid %s value '%s'; write an absolute path or pattern, for "
				   "example %s",
				   kw->text, q, kw->example);
	/* The kernel keeps at most 15 bytes of a command name (TASK_COMM_LEN is 16). */
	if (ext == POLICY_EXT_COMM && len > 15 && !strpbrk(value, "*?["))
		return value_error(rp, value,
				   "comm value '%s' is longer than 15 bytes, so it never matches; "
				   "write the first 15 bytes of the command name",
				   q);
	copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	if (prefix || kw->slot == POLICY_SLOT_CGROUP) {
		len = strlen(copy);
		while (len > 1 && copy[len - 1] == '/')
			copy[--len] = '\0';
	}
	rp->rule->ext[ext] = copy;
	if (prefix)
		rp->rule->path_prefix = true;
	rp->rule->features |= features[ext];
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
	 POLICY_F_SIG_REQUIRED | POLICY_F_DENYLIST | POLICY_F_ALGOS | POLICY_F_DIRECTIO |          \
	 POLICY_F_EXTENSIONS)

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
	{POLICY_F_PATH, POLICY_SLOT_PATH, "path="},
	{POLICY_F_EXE, POLICY_SLOT_EXE, "exe="},
	{POLICY_F_COMM, POLICY_SLOT_COMM, "comm="},
	{POLICY_F_CGROUP, POLICY_SLOT_CGROUP, "cgroup="},
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
		uint32_t listed = limits.features & ~POLICY_F_DENYLIST;

		if (!rp->profile->extensions)
			listed &= ~POLICY_F_EXTENSIONS;
		/* LSM labels pass the SETXATTR_CHECK check but have no effect, so omit them. */
		feature_list(listed, limits.lsm && rule->func != POLICY_FUNC_SETXATTR_CHECK,
			     allowed, sizeof(allowed));
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
	free(rule->text);
	free(rule->fsname);
	free(rule->fs_subtype);
	for (size_t i = 0; i < POLICY_LSM__MAX; i++)
		free(rule->lsm[i]);
	free(rule->keyrings);
	free(rule->label);
	for (size_t i = 0; i < POLICY_EXT__MAX; i++)
		free(rule->ext[i]);
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
	if (kw->extension && !rp->profile->extensions) {
		rp->unknown_token = true;
		return rule_error(
			rp, col,
			"'%s' is an imafs extension, which no kernel accepts; enable "
			"extensions (imafs --policy-extensions, imafs-policy --extensions) "
			"or remove it",
			quote(q, sizeof(q), token));
	}
	if (kw->since > rp->profile->version) {
		rp->unknown_token = true;
		return rule_error(rp, col,
				  "'%s' needs Linux %u.%u or later (checking for Linux %u.%u)",
				  quote(q, sizeof(q), token), kw->since >> 8, kw->since & 0xff,
				  rp->profile->version >> 8, rp->profile->version & 0xff);
	}
	if (kw->dup == POLICY_DUP_REJECT && rp->seen[kw->slot].token)
		return duplicate_error(rp, kw);
	r = kw->parse(rp, kw, value);
	if (r < 0)
		return r;
	rp->seen[kw->slot].token = token;
	rp->seen[kw->slot].col = col;
	return 0;
}

/* The extension keyword that TOKEN starts with when a '"' follows it directly, else NULL. */
static const struct policy_keyword *quoted_keyword(const char *token)
{
	for (size_t i = 0; i < POLICY_TOK__MAX; i++) {
		const struct policy_keyword *kw = &policy_keywords[i];
		size_t n = strlen(kw->text);

		if (kw->extension && strncmp(token, kw->text, n) == 0 && token[n] == '"')
			return kw;
	}
	return NULL;
}

/*
 * NUL-terminate the token that starts at TOKEN (column COL) and set *RET_NEXT to where the
 * next one may start. With extensions, the value of an extension keyword may be quoted to
 * hold blanks, as in path^="/opt/My App"; the quotes are removed in place.
 */
static int token_cut(struct rule_parser *rp, char *token, unsigned int col, char **ret_next)
{
	const struct policy_keyword *kw = rp->profile->extensions ? quoted_keyword(token) : NULL;
	char *open, *close, *next;
	size_t n;

	if (!kw) {
		next = token + strcspn(token, " \t");
		if (*next)
			*next++ = '\0';
		*ret_next = next;
		return 0;
	}

	open = token + strlen(kw->text);
	close = strchr(open + 1, '"');
	if (!close)
		return rule_error(rp, col,
				  "missing closing '\"' after %s; a quoted value runs to the next "
				  "'\"' on the same line and cannot contain one",
				  kw->text);
	if (close[1] != '\0' && close[1] != ' ' && close[1] != '\t')
		return rule_error(
			rp, col,
			"text follows the closing '\"' of %s; put a blank after the quoted "
			"value",
			kw->text);
	next = close[1] ? close + 2 : close + 1;
	n = (size_t)(close - open - 1);
	memmove(open, open + 1, n);
	open[n] = '\0';
	*ret_next = next;
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

	rp->line_start = line;
	rp->rule->col = first_col;
	if (*p == '\0' || *p == '#')
		return 0;
	while (*p) {
		unsigned int col;
		char *token, *next = NULL;

		if (*p == ' ' || *p == '\t') {
			p++;
			continue;
		}
		token = p;
		col = (unsigned int)(token - line) + 1;
		if (token[0] == '#' && suffix_comments)
			break;
		r = token_cut(rp, token, col, &next);
		if (r < 0)
			return r;
		r = rule_parse_token(rp, token, col);
		if (r < 0)
			return r;
		p = next;
	}
	r = rule_validate(rp, first_col);
	return r < 0 ? r : 1;
}

/* Keep LINE, as written without leading and trailing blanks, as the text of RULE. */
static int rule_set_text(struct policy_rule *rule, const char *line)
{
	const char *start = line + strspn(line, " \t");
	size_t len = strlen(start);

	while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
		len--;
	rule->text = strndup(start, len);
	return rule->text ? 0 : -ENOMEM;
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

/* Whole texts */

/* One parse of a whole text: stop at the first bad line, or report them all (policy_check()). */
struct parse_ctx {
	const struct policy_profile *profile;
	const char *origin;
	bool keep_going;	/* report every bad line through FN instead of stopping */
	bool report_extensions; /* POLICY_CHECK_KERNEL: each extension token is an error */
	policy_diag_fn fn;
	void *data;
	unsigned int errors;
	struct policy_error *err; /* the first error when stopping, the latest otherwise */
};

static void diag_report(const struct parse_ctx *pc, enum policy_diag_severity severity,
			const char *code, unsigned int line, unsigned int col, const char *token,
			const char *message, const char *kernel, unsigned int related_line)
{
	struct policy_diag diag = {
		.severity = severity,
		.code = code,
		.line = line,
		.col = col,
		.token = token ? token : "",
		.message = message,
		.kernel = kernel ? kernel : "",
		.related_line = related_line,
	};

	if (pc->fn)
		pc->fn(&diag, pc->data);
}

static void diag_error(struct parse_ctx *pc, const char *code, const struct policy_error *err)
{
	pc->errors++;
	diag_report(pc, POLICY_DIAG_ERROR, code, err->line, err->col, err->token, err->message,
		    err->kernel, 0);
}

/* Fill ERR->kernel for a rule the kernel rejects; UNKNOWN_TOKEN when it does not know the token. */
static void error_set_kernel(struct policy_error *err, bool unknown_token)
{
	char q[QUOTE_MAX + 8];

	if (!err)
		return;
	if (unknown_token)
		snprintf(err->kernel, sizeof(err->kernel),
			 "rejects the rule: write() fails with EINVAL, the audit record "
			 "INTEGRITY_POLICY_RULE (1807) shows 'UNKNOWN=%s res=0', and at close the "
			 "kernel logs 'ima: policy update failed' and keeps the previous policy",
			 quote(q, sizeof(q), err->token));
	else
		snprintf(err->kernel, sizeof(err->kernel),
			 "rejects the rule: write() fails with EINVAL, the audit record "
			 "INTEGRITY_POLICY_RULE (1807) ends in 'res=0', and at close the kernel "
			 "logs "
			 "'ima: policy update failed' and keeps the previous policy");
}

static void check_rule(struct parse_ctx *pc, const struct rule_parser *rp);

/* Report each extension token of the rule just parsed as an error (POLICY_CHECK_KERNEL). */
static void report_extensions(struct parse_ctx *pc, const struct rule_parser *rp)
{
	for (int slot = POLICY_SLOT_PATH; slot <= POLICY_SLOT_CGROUP; slot++) {
		struct policy_error err;
		char q[QUOTE_MAX + 8];
		size_t key;

		if (!rp->seen[slot].token)
			continue;
		memset(&err, 0, sizeof(err));
		err.line = rp->line;
		err.col = rp->seen[slot].col;
		snprintf(err.token, sizeof(err.token), "%s", rp->seen[slot].token);
		key = strcspn(err.token, "=") + 1;
		snprintf(err.message, sizeof(err.message),
			 "'%s' is an imafs extension and cannot be loaded into a kernel; express "
			 "the condition with kernel keywords or keep this policy for imafs only",
			 quote(q, sizeof(q), err.token));
		snprintf(err.kernel, sizeof(err.kernel),
			 "rejects the rule: '%.*s' is an unknown token, write() fails with EINVAL "
			 "and at close the kernel logs 'ima: policy update failed'",
			 (int)key, err.token);
		diag_error(pc, "extension", &err);
	}
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

/* Reject texts that are not policy text at all: too large, or with NUL bytes. */
static int text_check(const char *text, size_t len, const char *origin, struct policy_error *reterr)
{
	const char *nul;

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
	return 0;
}

/*
 * Parse every line of TEXT into POLICY. Returns 0, -EINVAL at the first bad line unless
 * PC->keep_going, or -ENOMEM.
 */
static int parse_lines(struct parse_ctx *pc, const char *text, size_t len, struct policy *policy)
{
	struct rule_parser rp = {.profile = pc->profile, .origin = pc->origin, .err = pc->err};
	unsigned int capacity = 0;
	struct policy_rule rule;
	char *buf, *work, *line;
	int r = 0;

	buf = malloc(len + 1);
	work = malloc(len + 1);
	if (!buf || !work) {
		r = -ENOMEM;
		goto out_free;
	}
	if (len)
		memcpy(buf, text, len);
	buf[len] = '\0';

	line = buf;
	for (unsigned int lineno = 1; *line; lineno++) {
		char *next = strchr(line, '\n');

		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		strcpy(work, line);
		memset(&rule, 0, sizeof(rule));
		memset(rp.seen, 0, sizeof(rp.seen));
		rp.unknown_token = false;
		rule.line = lineno;
		rp.rule = &rule;
		rp.line = lineno;
		r = rule_parse_line(&rp, work);
		if (r > 0 && pc->keep_going)
			check_rule(pc, &rp);
		if (r > 0 && pc->report_extensions)
			report_extensions(pc, &rp);
		if (r > 0)
			r = rule_set_text(&rule, line);
		if (r == 0 && rule.text)
			r = policy_add_rule(policy, &capacity, &rule);
		if (r == -EINVAL) {
			error_set_kernel(pc->err, rp.unknown_token);
			rule_clear(&rule);
			if (!pc->keep_going)
				goto out_free;
			diag_error(pc, "invalid-rule", pc->err);
			r = 0;
		} else if (r < 0) {
			rule_clear(&rule);
			goto out_free;
		}
		line = next;
	}
	r = 0;

out_free:
	free(work);
	free(buf);
	return r;
}

/* Compute the summary of do kinds and the digest of a parsed rule set. */
static void policy_finish(struct policy *policy, const char *text, size_t len)
{
	for (unsigned int i = 0; i < policy->nrules; i++) {
		const struct policy_rule *rule = &policy->rules[i];

		if (!rule->negated && rule->func != POLICY_FUNC_SETXATTR_CHECK)
			policy->do_kinds |= 1u << rule->kind;
	}
	if (!EVP_Digest(text, len, policy->sha256, NULL, EVP_sha256(), NULL)) {
		/* The digest is informational; an all-zero value shows it is missing. */
		memset(policy->sha256, 0, sizeof(policy->sha256));
		ERR_clear_error();
	}
}

static void empty_policy_error(struct policy_error *err, const char *origin)
{
	error_set(err, origin, 0, 0,
		  "policy has no rules, only blank lines or comments; the kernel rejects such a "
		  "load, so add at least one rule such as 'measure func=BPRM_CHECK'");
	if (err)
		snprintf(err->kernel, sizeof(err->kernel),
			 "accepts every line but adds no rule, so at close it logs 'ima: policy "
			 "update failed' and keeps the previous policy");
}

static int parse_policy(const struct policy_profile *profile, const char *text, size_t len,
			const char *origin, bool allow_empty, struct policy **ret,
			struct policy_error *reterr)
{
	struct parse_ctx pc = {.profile = profile, .origin = origin, .err = reterr};
	struct policy *policy;
	int r;

	r = text_check(text, len, origin, reterr);
	if (r < 0)
		return r;
	policy = calloc(1, sizeof(*policy));
	if (!policy)
		goto out_nomem;
	r = parse_lines(&pc, text, len, policy);
	if (r == -ENOMEM)
		goto out_free_policy;
	if (r < 0) {
		policy_free(policy);
		return r;
	}
	if (policy->nrules == 0 && !allow_empty) {
		empty_policy_error(reterr, origin);
		policy_free(policy);
		return -EINVAL;
	}
	policy_finish(policy, text, len);
	*ret = policy;
	return 0;

out_free_policy:
	policy_free(policy);
out_nomem:
	error_set(reterr, origin, 0, 0, "out of memory while parsing the policy");
	return -ENOMEM;
}

/* Turn OPTIONS into a parser profile. Returns 0 or -EINVAL for a version out of range. */
static int profile_from_options(const struct policy_options *options, const char *origin,
				struct policy_profile *ret, struct policy_error *reterr)
{
	unsigned int version;

	*ret = policy_baseline;
	if (!options)
		return 0;
	version = options->kernel_version ? options->kernel_version : POLICY_KERNEL_VERSION_DEFAULT;
	if (version < POLICY_KERNEL_VERSION_MIN || version / 100 > 255) {
		error_set(reterr, origin, 0, 0,
			  "kernel version %u.%u is out of range; give a version such as 6.19",
			  version / 100, version % 100);
		return -EINVAL;
	}
	ret->version = POLICY_KERNEL(version / 100, version % 100);
	ret->extensions = options->extensions;
	return 0;
}

int policy_parse_ex(const char *text, size_t len, const char *origin,
		    const struct policy_options *options, struct policy **ret,
		    struct policy_error *reterr)
{
	struct policy_profile profile;
	int r;

	if (!origin)
		origin = "(policy text)";
	r = profile_from_options(options, origin, &profile, reterr);
	if (r < 0)
		return r;
	if (!text && len) {
		error_set(reterr, origin, 0, 0, "no policy text given");
		return -EINVAL;
	}
	return parse_policy(&profile, text ? text : "", len, origin, false, ret, reterr);
}

int policy_parse(const char *text, size_t len, const char *origin, struct policy **ret,
		 struct policy_error *reterr)
{
	return policy_parse_ex(text, len, origin, NULL, ret, reterr);
}

static int file_error(struct policy_error *reterr, const char *path, int error,
		      const char *operation)
{
	char buf[128];

	error_set(reterr, path, 0, 0, "%s: %s", operation, strerror_r(-error, buf, sizeof(buf)));
	return error;
}

int policy_load_file_ex(const char *path, const struct policy_options *options, struct policy **ret,
			struct policy_error *reterr)
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
	r = policy_parse_ex(buf, size, path, options, ret, reterr);

out_free_buf:
	free(buf);
out_close_fd:
	close(fd);
	return r;
}

int policy_load_file(const char *path, struct policy **ret, struct policy_error *reterr)
{
	return policy_load_file_ex(path, NULL, ret, reterr);
}

/* Built-in policies */

/*
 * Parse NAMES ("tcb|appraise_tcb") into BUILTIN_* bits. The kernel separates ima_policy=
 * values with '|' or blanks and ignores unknown names with a log line; imafs rejects them,
 * because a typo would otherwise load a weaker policy.
 */
static int builtin_sets(const char *names, const char *origin, unsigned int *ret,
			struct policy_error *reterr)
{
	unsigned int sets = 0;
	const char *p = names;
	char q[QUOTE_MAX + 8];

	for (;;) {
		size_t len = strcspn(p, "| \t");
		size_t i;

		for (i = 0; i < ARRAY_SIZE(policy_builtin_names); i++) {
			if (strlen(policy_builtin_names[i].name) == len &&
			    strncmp(p, policy_builtin_names[i].name, len) == 0)
				break;
		}
		if (i == ARRAY_SIZE(policy_builtin_names)) {
			char name[QUOTE_MAX];

			snprintf(name, sizeof(name), "%.*s",
				 (int)(len < sizeof(name) ? len : sizeof(name) - 1), p);
			error_set(
				reterr, origin, 0, 0,
				"unknown built-in policy '%s'; use tcb, appraise_tcb, secure_boot, "
				"fail_securely or critical_data, several joined with '|' as in "
				"builtin:tcb|appraise_tcb",
				quote(q, sizeof(q), name));
			return -ENOENT;
		}
		sets |= policy_builtin_names[i].bit;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	*ret = sets;
	return 0;
}

/* Append the rules of SETS to a new string in boot order; KEEP_DENYLIST[line] per rule. */
static char *builtin_text(unsigned int sets, unsigned int version, bool *keep_denylist,
			  size_t keep_size)
{
	size_t size = 1, n = 0;
	unsigned int line = 1;
	char *text;

	for (size_t i = 0; i < ARRAY_SIZE(policy_builtin_rules); i++)
		size += strlen(policy_builtin_rules[i].text) + 1;
	text = malloc(size);
	if (!text)
		return NULL;
	for (size_t s = 0; s < ARRAY_SIZE(policy_builtin_order); s++) {
		if (!(sets & policy_builtin_order[s]))
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(policy_builtin_rules); i++) {
			const struct builtin_rule *b = &policy_builtin_rules[i];
			size_t len = strlen(b->text);

			if (b->set != policy_builtin_order[s] || b->since > version ||
			    (b->before && version >= b->before))
				continue;
			memcpy(text + n, b->text, len);
			text[n + len] = '\n';
			n += len + 1;
			if (line < keep_size)
				keep_denylist[line] = b->denylist;
			line++;
		}
	}
	text[n] = '\0';
	return text;
}

int policy_load_builtin_ex(const char *names, const struct policy_options *options,
			   struct policy **ret, struct policy_error *reterr)
{
	char origin[sizeof(((struct policy_error *)0)->origin)];
	bool keep_denylist[ARRAY_SIZE(policy_builtin_rules) + 1] = {false};
	struct policy_profile profile;
	struct policy *policy = NULL;
	char q[QUOTE_MAX + 8];
	unsigned int sets;
	char *text;
	int r;

	quote(q, sizeof(q), names ? names : "");
	snprintf(origin, sizeof(origin), "builtin:%s", q);
	r = profile_from_options(options, origin, &profile, reterr);
	if (r < 0)
		return r;
	r = builtin_sets(names ? names : "", origin, &sets, reterr);
	if (r < 0)
		return r;

	text = builtin_text(sets, profile.version, keep_denylist, ARRAY_SIZE(keep_denylist));
	if (!text) {
		error_set(reterr, origin, 0, 0, "out of memory while building the policy");
		return -ENOMEM;
	}
	/* Built-in rules never come through the text parser in the kernel, so comments are fine. */
	if (profile.version < POLICY_SUFFIX_COMMENTS_SINCE)
		profile.version = POLICY_SUFFIX_COMMENTS_SINCE;
	profile.extensions = false;
	r = parse_policy(&profile, text, strlen(text), origin, true, &policy, reterr);
	free(text);
	if (r < 0)
		return r;
	for (unsigned int i = 0; i < policy->nrules; i++) {
		struct policy_rule *rule = &policy->rules[i];

		if (rule->line >= ARRAY_SIZE(keep_denylist) || !keep_denylist[rule->line])
			rule->features &= ~POLICY_F_DENYLIST;
	}
	policy->fail_securely = (sets & BUILTIN_FAIL_SECURELY) != 0;
	*ret = policy;
	return 0;
}

int policy_load_builtin(const char *names, struct policy **ret, struct policy_error *reterr)
{
	return policy_load_builtin_ex(names, NULL, ret, reterr);
}

int policy_load_ex(const char *spec, const struct policy_options *options, struct policy **ret,
		   struct policy_error *reterr)
{
	static const char prefix[] = "builtin:";

	if (!spec || spec[0] == '\0') {
		error_set(reterr, "policy", 0, 0,
			  "no policy given; use builtin:tcb or the path of a policy file");
		return -EINVAL;
	}
	if (strncmp(spec, prefix, sizeof(prefix) - 1) == 0)
		return policy_load_builtin_ex(spec + sizeof(prefix) - 1, options, ret, reterr);
	return policy_load_file_ex(spec, options, ret, reterr);
}

int policy_load(const char *spec, struct policy **ret, struct policy_error *reterr)
{
	return policy_load_ex(spec, NULL, ret, reterr);
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

/* Accessors and names */

int policy_kernel_version_parse(const char *text, unsigned int *ret)
{
	unsigned long major, minor;
	char *end;

	if (!text || text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	major = strtoul(text, &end, 10);
	if (errno || *end != '.' || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	minor = strtoul(end + 1, &end, 10);
	if (errno || (*end != '\0' && *end != '.'))
		return -EINVAL;
	/* A third component (the stable release) does not change the parser. */
	if (*end == '.') {
		if (end[1] < '0' || end[1] > '9')
			return -EINVAL;
		(void)strtoul(end + 1, &end, 10);
		if (errno || *end != '\0')
			return -EINVAL;
	}
	if (minor > 99 || major > 255 || major * 100 + minor < POLICY_KERNEL_VERSION_MIN)
		return -EINVAL;
	*ret = (unsigned int)(major * 100 + minor);
	return 0;
}

unsigned int policy_rule_count(const struct policy *policy)
{
	return policy ? policy->nrules : 0;
}

unsigned int policy_rule_line(const struct policy *policy, unsigned int index)
{
	return policy && index < policy->nrules ? policy->rules[index].line : 0;
}

const char *policy_rule_text(const struct policy *policy, unsigned int index)
{
	return policy && index < policy->nrules ? policy->rules[index].text : NULL;
}

bool policy_fail_securely(const struct policy *policy)
{
	return policy && policy->fail_securely;
}

const uint8_t *policy_sha256(const struct policy *policy)
{
	return policy ? policy->sha256 : NULL;
}

unsigned int policy_needs(const struct policy *policy)
{
	unsigned int needs = 0;

	for (unsigned int i = 0; policy && i < policy->nrules; i++) {
		const struct policy_rule *rule = &policy->rules[i];

		if (rule->features & (POLICY_F_UID | POLICY_F_EUID | POLICY_F_GID | POLICY_F_EGID))
			needs |= POLICY_NEEDS_SUBJECT_IDS;
		if (rule->features & POLICY_F_FSMAGIC)
			needs |= POLICY_NEEDS_FSMAGIC;
		if (rule->features & (POLICY_F_FSNAME | POLICY_F_FS_SUBTYPE | POLICY_F_FSUUID))
			needs |= POLICY_NEEDS_FS;
		for (int l = POLICY_LSM_OBJ_USER; l <= POLICY_LSM_OBJ_TYPE; l++)
			needs |= rule->lsm[l] ? POLICY_NEEDS_OBJ_LABEL : 0;
		for (int l = POLICY_LSM_SUBJ_USER; l <= POLICY_LSM_SUBJ_TYPE; l++)
			needs |= rule->lsm[l] ? POLICY_NEEDS_SUBJ_LABEL : 0;
	}
	return needs;
}

bool policy_has_kind(const struct policy *policy, enum policy_kind kind)
{
	return policy && (unsigned int)kind < POLICY_KIND__MAX && (policy->do_kinds & (1u << kind));
}

const char *policy_func_name(enum policy_func func)
{
	if ((unsigned int)func >= POLICY_FUNC__MAX)
		return NULL;
	return policy_func_names[func];
}

int policy_func_from_name(const char *name, enum policy_func *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(policy_func_words); i++) {
		if (strcmp(name, policy_func_words[i].text) == 0) {
			*ret = policy_func_words[i].func;
			return 0;
		}
	}
	return -EINVAL;
}

const char *policy_kind_name(enum policy_kind kind)
{
	if ((unsigned int)kind >= POLICY_KIND__MAX)
		return NULL;
	return policy_kind_names[kind];
}

void policy_mask_format(unsigned int mask, char *buf, size_t size)
{
	size_t n = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(policy_mask_words); i++) {
		int r;

		if (!(mask & policy_mask_words[i].mask))
			continue;
		r = snprintf(buf + n, size - n, "%s%s", n ? "|" : "", policy_mask_words[i].text);
		if (r < 0 || (size_t)r >= size - n)
			return;
		n += (size_t)r;
	}
	if (n == 0)
		snprintf(buf, size, "0");
}

int policy_mask_parse(const char *text, unsigned int *ret)
{
	unsigned int mask = 0;
	const char *p = text;

	for (;;) {
		size_t len = strcspn(p, "|,");
		size_t i;

		for (i = 0; i < ARRAY_SIZE(policy_mask_words); i++) {
			if (strlen(policy_mask_words[i].text) == len &&
			    strncmp(p, policy_mask_words[i].text, len) == 0)
				break;
		}
		if (i == ARRAY_SIZE(policy_mask_words))
			return -EINVAL;
		mask |= policy_mask_words[i].mask;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	*ret = mask;
	return 0;
}

/* Evaluation */

/* Three-valued result of checking the conditions of one rule against one event. */
enum match_result {
	MATCH_TRUE,
	MATCH_FALSE,
	MATCH_UNKNOWN,
};

/*
 * Result of rule_match(): the first false condition, or if none is false the first unknown
 * one. REASON is written only when WANT_REASON is set, so policy_evaluate() formats nothing.
 */
struct match_state {
	bool want_reason;
	enum match_result result;
	const char *keyword;
	char reason[sizeof(((struct policy_step *)0)->reason)];
};

static void match_note(struct match_state *m, enum match_result result, const char *keyword,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Record a false or unknown condition; a false one always wins over an earlier unknown one. */
static void match_note(struct match_state *m, enum match_result result, const char *keyword,
		       const char *fmt, ...)
{
	va_list ap;

	if (m->result == MATCH_FALSE || (m->result == MATCH_UNKNOWN && result == MATCH_UNKNOWN))
		return;
	m->result = result;
	m->keyword = keyword;
	if (!m->want_reason)
		return;
	va_start(ap, fmt);
	vsnprintf(m->reason, sizeof(m->reason), fmt, ap);
	va_end(ap);
}

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

static const char *id_keyword(enum policy_id id, bool effective, char op)
{
	int op_index = 0;

	if (op == '<')
		op_index = 1;
	else if (op == '>')
		op_index = 2;
	return policy_keywords[policy_id_tokens[id][effective][op_index]].text;
}

/* Check uid= or euid= (ID_UID) and gid= or egid= (ID_GID) with the kernel's capability rule. */
static void match_subject_id(const struct policy_rule *rule, const struct policy_event *event,
			     enum policy_id id, struct match_state *m)
{
	bool is_uid = id == POLICY_ID_UID;
	uint32_t effective_feature = is_uid ? POLICY_F_EUID : POLICY_F_EGID;
	uint32_t real_feature = is_uid ? POLICY_F_UID : POLICY_F_GID;
	const struct policy_id_cond *cond = &rule->ids[id];
	uint32_t real = is_uid ? event->uid : event->gid;
	uint32_t effective = is_uid ? event->euid : event->egid;
	uint32_t saved = is_uid ? event->suid : event->sgid;
	bool cap = is_uid ? event->has_cap_setuid : event->has_cap_setgid;
	const char *id_name = is_uid ? "uid" : "gid";
	const char *kw;

	if (!(rule->features & (real_feature | effective_feature)))
		return;
	kw = id_keyword(id, (rule->features & effective_feature) != 0, cond->op);
	if (event->ids_unknown) {
		match_note(m, MATCH_UNKNOWN, kw, "%s%u: the subject's ids are unknown", kw,
			   cond->value);
		return;
	}
	if (rule->features & real_feature) {
		if (!id_compare(real, cond))
			match_note(m, MATCH_FALSE, kw, "%s%u: the subject's real %s is %u", kw,
				   cond->value, id_name, real);
		return;
	}
	/* With CAP_SETUID (CAP_SETGID) the task could switch to its saved or real id at will. */
	if (id_compare(effective, cond))
		return;
	if (!cap) {
		match_note(m, MATCH_FALSE, kw, "%s%u: the subject's effective %s is %u", kw,
			   cond->value, id_name, effective);
		return;
	}
	if (id_compare(saved, cond) || id_compare(real, cond))
		return;
	match_note(m, MATCH_FALSE, kw,
		   "%s%u: the subject holds CAP_SET%s, but none of its effective, saved and real "
		   "%ss (%u, %u, %u) qualifies",
		   kw, cond->value, is_uid ? "UID" : "GID", id_name, effective, saved, real);
}

static void match_object_ids(const struct policy_rule *rule, const struct policy_event *event,
			     struct match_state *m)
{
	const struct policy_id_cond *owner = &rule->ids[POLICY_ID_FOWNER];
	const struct policy_id_cond *group = &rule->ids[POLICY_ID_FGROUP];
	const char *kw;

	if ((rule->features & POLICY_F_FOWNER) && !id_compare(event->fowner, owner)) {
		kw = id_keyword(POLICY_ID_FOWNER, false, owner->op);
		match_note(m, MATCH_FALSE, kw, "%s%u: the file owner is %u", kw, owner->value,
			   (unsigned int)event->fowner);
	}
	if ((rule->features & POLICY_F_FGROUP) && !id_compare(event->fgroup, group)) {
		kw = id_keyword(POLICY_ID_FGROUP, false, group->op);
		match_note(m, MATCH_FALSE, kw, "%s%u: the file group is %u", kw, group->value,
			   (unsigned int)event->fgroup);
	}
}

static void match_mask(const struct policy_rule *rule, const struct policy_event *event,
		       struct match_state *m)
{
	const char *kw = policy_keywords[POLICY_TOK_MASK].text;
	char have[64], want[32];

	if (!(rule->features & POLICY_F_MASK) || event->func == POLICY_FUNC_POST_SETATTR)
		return;
	if (rule->mask_contains ? (rule->mask & event->mask) != 0 : rule->mask == event->mask)
		return;
	if (!m->want_reason) {
		match_note(m, MATCH_FALSE, kw, "mask");
		return;
	}
	policy_mask_format(event->mask, have, sizeof(have));
	policy_mask_format(rule->mask, want, sizeof(want));
	if (rule->mask_contains)
		match_note(m, MATCH_FALSE, kw, "mask=^%s: the event mask %s does not contain %s",
			   want, have, want);
	else
		match_note(m, MATCH_FALSE, kw, "mask=%s: the event mask is %s, not exactly %s",
			   want, have, want);
}

static void uuid_format(const uint8_t *uuid, char *buf, size_t size)
{
	snprintf(buf, size, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8],
		 uuid[9], uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
}

static void match_filesystem(const struct policy_rule *rule, const struct policy_event *event,
			     struct match_state *m)
{
	uint32_t f = rule->features;
	const char *kw;

	if (f & POLICY_F_FSMAGIC) {
		kw = policy_keywords[POLICY_TOK_FSMAGIC].text;
		if (event->fsmagic_unknown)
			match_note(m, MATCH_UNKNOWN, kw,
				   "fsmagic=0x%llx: the filesystem magic is unknown",
				   (unsigned long long)rule->fsmagic);
		else if (rule->fsmagic != event->fsmagic)
			match_note(m, MATCH_FALSE, kw,
				   "fsmagic=0x%llx: the filesystem magic is 0x%x",
				   (unsigned long long)rule->fsmagic, event->fsmagic);
	}
	if (f & POLICY_F_FSNAME) {
		kw = policy_keywords[POLICY_TOK_FSNAME].text;
		if (!event->fsname)
			match_note(m, MATCH_UNKNOWN, kw,
				   "fsname=%s: the filesystem type is unknown", rule->fsname);
		else if (strcmp(rule->fsname, event->fsname) != 0)
			match_note(m, MATCH_FALSE, kw, "fsname=%s: the filesystem type is %s",
				   rule->fsname, event->fsname);
	}
	if (f & POLICY_F_FS_SUBTYPE) {
		kw = policy_keywords[POLICY_TOK_FS_SUBTYPE].text;
		if (!event->fs_subtype)
			match_note(m, MATCH_UNKNOWN, kw,
				   "fs_subtype=%s: the filesystem subtype is unknown",
				   rule->fs_subtype);
		else if (event->fs_subtype[0] == '\0')
			match_note(m, MATCH_FALSE, kw,
				   "fs_subtype=%s: the filesystem has no subtype",
				   rule->fs_subtype);
		else if (strcmp(rule->fs_subtype, event->fs_subtype) != 0)
			match_note(m, MATCH_FALSE, kw,
				   "fs_subtype=%s: the filesystem subtype is %s", rule->fs_subtype,
				   event->fs_subtype);
	}
	if (f & POLICY_F_FSUUID) {
		char want[40], have[40];

		kw = policy_keywords[POLICY_TOK_FSUUID].text;
		uuid_format(rule->fsuuid, want, sizeof(want));
		if (!event->fsuuid) {
			match_note(m, MATCH_UNKNOWN, kw,
				   "fsuuid=%s: the filesystem UUID is unknown", want);
		} else if (memcmp(rule->fsuuid, event->fsuuid, sizeof(rule->fsuuid)) != 0) {
			uuid_format(event->fsuuid, have, sizeof(have));
			match_note(m, MATCH_FALSE, kw, "fsuuid=%s: the filesystem UUID is %s", want,
				   have);
		}
	}
}

/*
 * Copy field FIELD (0 user, 1 role, 2 type) of the SELinux context LABEL
 * ("user:role:type:level") into BUF. Returns false when the context has no such field.
 */
static bool label_field(const char *label, unsigned int field, char *buf, size_t size)
{
	const char *p = label;

	for (unsigned int i = 0; i < field; i++) {
		p = strchr(p, ':');
		if (!p)
			return false;
		p++;
	}
	snprintf(buf, size, "%.*s", (int)strcspn(p, ":"), p);
	return true;
}

static void match_labels(const struct policy_rule *rule, const struct policy_event *event,
			 struct match_state *m)
{
	static const char *const fields[] = {"user", "role", "type"};

	for (unsigned int i = 0; i < POLICY_LSM__MAX; i++) {
		bool object = i < POLICY_LSM_SUBJ_USER;
		const char *label = object ? event->obj_label : event->subj_label;
		const char *label_owner = object ? "file" : "subject";
		const char *kw = policy_keywords[policy_lsm_tokens[i]].text;
		char have[256];

		if (!rule->lsm[i])
			continue;
		if (!label) {
			match_note(m, MATCH_UNKNOWN, kw, "%s%s: the %s's SELinux label is unknown",
				   kw, rule->lsm[i], label_owner);
			continue;
		}
		if (!label_field(label, i % 3, have, sizeof(have)))
			match_note(m, MATCH_FALSE, kw, "%s%s: the %s's label '%s' has no %s", kw,
				   rule->lsm[i], label_owner, label, fields[i % 3]);
		else if (strcmp(have, rule->lsm[i]) != 0)
			match_note(m, MATCH_FALSE, kw, "%s%s: the %s's SELinux %s is %s", kw,
				   rule->lsm[i], label_owner, fields[i % 3], have);
	}
}

static void match_extensions(const struct policy_rule *rule, const struct policy_event *event,
			     struct match_state *m)
{
	const char *values[POLICY_EXT__MAX] = {event->path, event->exe, event->comm, event->cgroup};
	static const char *const value_names[POLICY_EXT__MAX] = {
		"file path", "subject's executable", "subject's command name", "subject's cgroup"};
	static const enum policy_token tokens[POLICY_EXT__MAX] = {
		POLICY_TOK_PATH, POLICY_TOK_EXE, POLICY_TOK_COMM, POLICY_TOK_CGROUP};

	for (unsigned int i = 0; i < POLICY_EXT__MAX; i++) {
		const char *pattern = rule->ext[i];
		enum policy_token tok = tokens[i];
		int flags = FNM_PATHNAME;
		bool ok;

		if (!pattern)
			continue;
		if (i == POLICY_EXT_PATH && rule->path_prefix)
			tok = POLICY_TOK_PATH_PREFIX;
		if (i == POLICY_EXT_COMM)
			flags = 0;
		if ((i == POLICY_EXT_PATH && rule->path_prefix) || i == POLICY_EXT_CGROUP)
			flags |= FNM_LEADING_DIR;
		if (!values[i]) {
			match_note(m, MATCH_UNKNOWN, policy_keywords[tok].text,
				   "%s%s: the %s is unknown", policy_keywords[tok].text, pattern,
				   value_names[i]);
			continue;
		}
		/* "/" with FNM_LEADING_DIR would need a second '/', so it is handled here. */
		if ((flags & FNM_LEADING_DIR) && strcmp(pattern, "/") == 0)
			ok = values[i][0] == '/';
		else
			ok = fnmatch(pattern, values[i], flags) == 0;
		if (!ok)
			match_note(m, MATCH_FALSE, policy_keywords[tok].text, "%s%s: the %s is %s",
				   policy_keywords[tok].text, pattern, value_names[i], values[i]);
	}
}

/*
 * Key and critical-data events match only rules for exactly that hook, and then only uid= and
 * the keyring or label list are checked. The event has no keyring or label name, so a rule
 * with a list is unknown.
 */
static void match_key_event(const struct policy_rule *rule, const struct policy_event *event,
			    struct match_state *m)
{
	const char *hook = policy_func_name(event->func);

	if (rule->func != event->func) {
		match_note(m, MATCH_FALSE, policy_keywords[POLICY_TOK_FUNC].text,
			   "func: %s events match only rules with func=%s", hook, hook);
		return;
	}
	if (rule->features & POLICY_F_UID) {
		const char *kw = id_keyword(POLICY_ID_UID, false, rule->ids[POLICY_ID_UID].op);

		if (event->ids_unknown)
			match_note(m, MATCH_UNKNOWN, kw, "%s%u: the subject's ids are unknown", kw,
				   rule->ids[POLICY_ID_UID].value);
		else if (!id_compare(event->uid, &rule->ids[POLICY_ID_UID]))
			match_note(m, MATCH_FALSE, kw, "%s%u: the subject's real uid is %u", kw,
				   rule->ids[POLICY_ID_UID].value, (unsigned int)event->uid);
	}
	if (rule->features & POLICY_F_KEYRINGS)
		match_note(m, MATCH_UNKNOWN, policy_keywords[POLICY_TOK_KEYRINGS].text,
			   "keyrings=%s: the keyring name is unknown to imafs", rule->keyrings);
	if (rule->features & POLICY_F_LABEL)
		match_note(m, MATCH_UNKNOWN, policy_keywords[POLICY_TOK_LABEL].text,
			   "label=%s: the data label is unknown to imafs", rule->label);
}

/* Check every condition of RULE for EVENT, in canonical order, into M. */
static void rule_match(const struct policy_rule *rule, const struct policy_event *event,
		       struct match_state *m)
{
	bool setattr = event->func == POLICY_FUNC_POST_SETATTR;

	m->result = MATCH_TRUE;
	m->keyword = NULL;
	m->reason[0] = '\0';
	if (event->func == POLICY_FUNC_KEY_CHECK || event->func == POLICY_FUNC_CRITICAL_DATA) {
		match_key_event(rule, event, m);
		return;
	}
	if ((rule->features & POLICY_F_FUNC) && rule->func != event->func && !setattr) {
		match_note(m, MATCH_FALSE, policy_keywords[POLICY_TOK_FUNC].text,
			   "func=%s: the event is %s", policy_func_name(rule->func),
			   policy_func_name(event->func) ? policy_func_name(event->func) : "none");
		return;
	}
	match_mask(rule, event, m);
	if (m->result == MATCH_FALSE)
		return;
	match_filesystem(rule, event, m);
	if (m->result == MATCH_FALSE)
		return;
	match_subject_id(rule, event, POLICY_ID_UID, m);
	match_subject_id(rule, event, POLICY_ID_GID, m);
	match_object_ids(rule, event, m);
	if (m->result == MATCH_FALSE)
		return;
	match_labels(rule, event, m);
	if (m->result == MATCH_FALSE)
		return;
	match_extensions(rule, event, m);
}

/* Add what the deciding RULE brings to the decision. */
static void decision_apply(const struct policy *policy, const struct policy_rule *rule,
			   struct policy_decision *ret)
{
	if (rule->features & POLICY_F_DIRECTIO)
		ret->permit_directio = true;
	if (rule->negated) {
		ret->dont_line[rule->kind] = rule->line;
		return;
	}
	switch (rule->kind) {
	case POLICY_KIND_MEASURE:
		ret->measure = true;
		ret->measure_line = rule->line;
		ret->pcr_set = (rule->features & POLICY_F_PCR) != 0;
		ret->pcr = rule->pcr;
		if (rule->template)
			snprintf(ret->template, sizeof(ret->template), "%s", rule->template->name);
		break;
	case POLICY_KIND_APPRAISE:
		ret->appraise = true;
		ret->appraise_line = rule->line;
		ret->appraise_sig_required = (rule->features & POLICY_F_SIG_REQUIRED) != 0;
		ret->appraise_check_blocklist = (rule->features & POLICY_F_DENYLIST) != 0;
		ret->appraise_modsig = (rule->features & POLICY_F_MODSIG) != 0;
		ret->appraise_verity = (rule->features & POLICY_F_VERITY) != 0;
		if (rule->features & POLICY_F_ALGOS)
			ret->appraise_algos = rule->appraise_algos;
		ret->fail_securely = policy->fail_securely;
		/* An appraise rule cancels a hash action that an earlier hash rule added. */
		if (ret->hash) {
			ret->hash = false;
			ret->hash_cancel_line = rule->line;
		}
		break;
	case POLICY_KIND_AUDIT:
		ret->audit = true;
		ret->audit_line = rule->line;
		break;
	default:
		ret->hash = true;
		ret->hash_line = rule->line;
		break;
	}
}

/*
 * The kernel's walk: only kinds with a do rule are requested, and each is decided by the
 * first matching rule of that kind. FN, when not NULL, is called for every rule of an undecided
 * kind.
 */
static void policy_walk(const struct policy *policy, const struct policy_event *event,
			policy_step_fn fn, void *data, struct policy_decision *ret)
{
	struct match_state m = {.want_reason = fn != NULL};
	unsigned int undecided;

	memset(ret, 0, sizeof(*ret));
	if (!policy)
		return;
	undecided = policy->do_kinds;
	for (unsigned int i = 0; i < policy->nrules && undecided; i++) {
		const struct policy_rule *rule = &policy->rules[i];
		struct policy_step step;

		if (!(undecided & (1u << rule->kind)))
			continue;
		rule_match(rule, event, &m);
		if (m.result == MATCH_UNKNOWN && !ret->inexact) {
			ret->inexact = true;
			ret->inexact_line = rule->line;
			ret->inexact_keyword = m.keyword;
		}
		if (m.result == MATCH_TRUE) {
			undecided &= ~(1u << rule->kind);
			decision_apply(policy, rule, ret);
		}
		if (!fn)
			continue;
		memset(&step, 0, sizeof(step));
		step.index = i;
		step.line = rule->line;
		step.kind = rule->kind;
		step.negated = rule->negated;
		step.result = m.result == MATCH_TRUE	  ? POLICY_STEP_MATCH
			      : m.result == MATCH_UNKNOWN ? POLICY_STEP_UNKNOWN
							  : POLICY_STEP_NO_MATCH;
		step.keyword = m.result == MATCH_TRUE ? NULL : m.keyword;
		snprintf(step.reason, sizeof(step.reason), "%s", m.reason);
		fn(&step, data);
	}
}

void policy_evaluate(const struct policy *policy, const struct policy_event *event,
		     struct policy_decision *ret)
{
	policy_walk(policy, event, NULL, NULL, ret);
}

void policy_explain(const struct policy *policy, const struct policy_event *event,
		    policy_step_fn fn, void *data, struct policy_decision *ret)
{
	policy_walk(policy, event, fn, data, ret);
}

/* Checking */

/* The values an identifier condition accepts, as a closed interval; false if there are none. */
static bool id_interval(const struct policy_id_cond *cond, uint64_t *ret_low, uint64_t *ret_high)
{
	switch (cond->op) {
	case '<':
		if (cond->value == 0)
			return false;
		*ret_low = 0;
		*ret_high = cond->value - 1u;
		return true;
	case '>':
		*ret_low = (uint64_t)cond->value + 1;
		*ret_high = UINT32_MAX;
		return true;
	default:
		*ret_low = cond->value;
		*ret_high = cond->value;
		return true;
	}
}

/* Whether every id that B's condition in slot ID accepts is accepted by A's (FEATURES bits). */
static bool id_covers(const struct policy_rule *a, const struct policy_rule *b, enum policy_id id,
		      uint32_t features)
{
	uint32_t fa = a->features & features;
	uint64_t alow, ahigh, blow, bhigh;

	if (!fa)
		return true;
	if ((b->features & features) != fa)
		return false;
	if (!id_interval(&b->ids[id], &blow, &bhigh))
		return true;
	if (!id_interval(&a->ids[id], &alow, &ahigh))
		return false;
	return alow <= blow && bhigh <= ahigh;
}

static bool string_covers(const char *a, const char *b)
{
	return !a || (b && strcmp(a, b) == 0);
}

/* Whether every name of the '|'-separated list B is in list A; no list A means every name. */
static bool list_covers(const char *a, const char *b)
{
	if (!a)
		return true;
	if (!b)
		return false;
	for (const char *p = b;;) {
		size_t len = strcspn(p, "|");
		bool found = false;

		for (const char *q = a;;) {
			size_t qlen = strcspn(q, "|");

			if (qlen == len && strncmp(p, q, len) == 0)
				found = true;
			if (found || q[qlen] == '\0')
				break;
			q += qlen + 1;
		}
		if (!found)
			return false;
		if (p[len] == '\0')
			return true;
		p += len + 1;
	}
}

/* Whether pattern B can only match names at or below the literal prefix A. */
static bool prefix_covers(const char *a, const char *b)
{
	size_t len = strlen(a);

	if (strpbrk(a, "*?[\\") || strpbrk(b, "*?[\\"))
		return false;
	if (strcmp(a, "/") == 0)
		return b[0] == '/';
	return strncmp(a, b, len) == 0 && (b[len] == '\0' || b[len] == '/');
}

static bool extensions_cover(const struct policy_rule *a, const struct policy_rule *b)
{
	const char *pa = a->ext[POLICY_EXT_PATH], *pb = b->ext[POLICY_EXT_PATH];
	const char *ca = a->ext[POLICY_EXT_CGROUP], *cb = b->ext[POLICY_EXT_CGROUP];

	if (pa && !(pb && ((a->path_prefix == b->path_prefix && strcmp(pa, pb) == 0) ||
			   (a->path_prefix && prefix_covers(pa, pb)))))
		return false;
	if (ca && !(cb && (strcmp(ca, cb) == 0 || prefix_covers(ca, cb))))
		return false;
	return string_covers(a->ext[POLICY_EXT_EXE], b->ext[POLICY_EXT_EXE]) &&
	       string_covers(a->ext[POLICY_EXT_COMM], b->ext[POLICY_EXT_COMM]);
}

/*
 * Whether rule A matches every event that rule B matches, judged from their conditions alone.
 * Then a B after an A of the same kind can never decide that kind.
 */
static bool rule_covers(const struct policy_rule *a, const struct policy_rule *b)
{
	bool key_b = (b->features & POLICY_F_FUNC) &&
		     (b->func == POLICY_FUNC_KEY_CHECK || b->func == POLICY_FUNC_CRITICAL_DATA);

	if (a->features & POLICY_F_FUNC) {
		if (!(b->features & POLICY_F_FUNC) || a->func != b->func)
			return false;
	} else if (key_b) {
		return false;
	}
	/* Key and data events check only uid= and the name list (see match_key_event()). */
	if (key_b)
		return id_covers(a, b, POLICY_ID_UID, POLICY_F_UID) &&
		       list_covers(a->keyrings, b->keyrings) && list_covers(a->label, b->label);

	if (a->features & POLICY_F_MASK) {
		if (!(b->features & POLICY_F_MASK) || a->mask != b->mask)
			return false;
		if (!a->mask_contains && b->mask_contains)
			return false;
	}
	if ((a->features & POLICY_F_FSMAGIC) &&
	    (!(b->features & POLICY_F_FSMAGIC) || a->fsmagic != b->fsmagic))
		return false;
	if (!string_covers(a->fsname, b->fsname) || !string_covers(a->fs_subtype, b->fs_subtype))
		return false;
	if ((a->features & POLICY_F_FSUUID) &&
	    (!(b->features & POLICY_F_FSUUID) || memcmp(a->fsuuid, b->fsuuid, 16) != 0))
		return false;
	if (!id_covers(a, b, POLICY_ID_UID, POLICY_F_UID | POLICY_F_EUID) ||
	    !id_covers(a, b, POLICY_ID_GID, POLICY_F_GID | POLICY_F_EGID) ||
	    !id_covers(a, b, POLICY_ID_FOWNER, POLICY_F_FOWNER) ||
	    !id_covers(a, b, POLICY_ID_FGROUP, POLICY_F_FGROUP))
		return false;
	for (size_t i = 0; i < POLICY_LSM__MAX; i++) {
		if (!string_covers(a->lsm[i], b->lsm[i]))
			return false;
	}
	return extensions_cover(a, b);
}

static void check_shadowed(struct parse_ctx *pc, const struct policy *policy)
{
	for (unsigned int j = 0; j < policy->nrules; j++) {
		const struct policy_rule *b = &policy->rules[j];

		for (unsigned int i = 0; i < j; i++) {
			const struct policy_rule *a = &policy->rules[i];
			char message[512];

			if (a->kind != b->kind || !rule_covers(a, b))
				continue;
			snprintf(message, sizeof(message),
				 "this rule can never decide %s, because the %s rule on line %u "
				 "('%s') matches every event this one matches and comes first; "
				 "move this rule above it or remove it",
				 policy_kind_names[b->kind], policy_kind_names[a->kind], a->line,
				 a->text);
			diag_report(pc, POLICY_DIAG_WARNING, "shadowed", b->line, b->col, b->text,
				    message, "accepts the rule, which never takes effect", a->line);
			break;
		}
	}
}

/*
 * The reason imafs cannot evaluate RULE exactly, with the slot of the token at fault in
 * *RET_SLOT; NULL if it can.
 */
static const char *rule_unevaluable(const struct policy_rule *rule, enum policy_slot *ret_slot)
{
	*ret_slot = POLICY_SLOT_FUNC;
	switch (rule->func) {
	case POLICY_FUNC_MMAP_CHECK:
	case POLICY_FUNC_MMAP_CHECK_REQPROT:
		return "FUSE receives no request for mmap(), so imafs never sees this event and "
		       "the rule never matches under imafs";
	case POLICY_FUNC_MODULE_CHECK:
	case POLICY_FUNC_FIRMWARE_CHECK:
	case POLICY_FUNC_KEXEC_KERNEL_CHECK:
	case POLICY_FUNC_KEXEC_INITRAMFS_CHECK:
	case POLICY_FUNC_POLICY_CHECK:
		return "the kernel reads these files itself, and through FUSE such a read looks "
		       "like an ordinary open, so the rule never matches under imafs";
	case POLICY_FUNC_KEXEC_CMDLINE:
	case POLICY_FUNC_KEY_CHECK:
	case POLICY_FUNC_CRITICAL_DATA:
		return "this is not an event on a file, so the rule never matches under imafs";
	case POLICY_FUNC_CREDS_CHECK:
		return "FUSE does not report the credentials a program gets after exec (set-id "
		       "bits, LSM transition), so imafs can only approximate this event";
	default:
		break;
	}
	if (rule->features & POLICY_F_FSUUID) {
		*ret_slot = POLICY_SLOT_FSUUID;
		return "imafs knows the UUID only where the backing filesystem reports it "
		       "(FS_IOC_GETFSUUID); elsewhere the condition is unknown, the rule does not "
		       "match and the decision is marked inexact";
	}
	for (size_t i = 0; i < POLICY_LSM__MAX; i++) {
		if (!rule->lsm[i])
			continue;
		*ret_slot = (enum policy_slot)(POLICY_SLOT_OBJ_USER + i);
		if (i < POLICY_LSM_SUBJ_USER)
			return "imafs reads the file's label from security.selinux of the backing "
			       "file; without that label the condition is unknown, the rule does "
			       "not "
			       "match and the decision is marked inexact";
		return "imafs reads the subject's label from /proc/PID/attr/current; where that "
		       "fails the condition is unknown, the rule does not match and the decision "
		       "is marked inexact";
	}
	return NULL;
}

/* Report warnings about one rule that parsed; RP still contains the token positions. */
static void check_rule(struct parse_ctx *pc, const struct rule_parser *rp)
{
	const struct policy_rule *rule = rp->rule;
	enum policy_slot slot;
	const char *reason = rule_unevaluable(rule, &slot);
	char message[512];

	if (reason && rp->seen[slot].token) {
		snprintf(message, sizeof(message), "cannot be evaluated exactly: %s", reason);
		diag_report(pc, POLICY_DIAG_WARNING, "unevaluable", rp->line, rp->seen[slot].col,
			    rp->seen[slot].token, message, "", 0);
	}
	if (rule->func == POLICY_FUNC_KEY_CHECK || (rule->features & POLICY_F_KEYRINGS))
		diag_report(pc, POLICY_DIAG_WARNING, "kernel-config", rp->line,
			    rp->seen[POLICY_SLOT_FUNC].col, rp->seen[POLICY_SLOT_FUNC].token,
			    "func=KEY_CHECK and keyrings= need a kernel built with "
			    "CONFIG_IMA_MEASURE_ASYMMETRIC_KEYS",
			    "rejects the rule when built without that option", 0);
	if (rule->features & POLICY_F_MODSIG)
		diag_report(pc, POLICY_DIAG_WARNING, "kernel-config", rp->line,
			    rp->seen[POLICY_SLOT_APPRAISE_TYPE].col,
			    rp->seen[POLICY_SLOT_APPRAISE_TYPE].token,
			    "appraise_type=imasig|modsig needs a kernel built with "
			    "CONFIG_IMA_APPRAISE_MODSIG",
			    "rejects the rule when built without that option", 0);
	for (size_t i = 0; i < POLICY_LSM__MAX; i++) {
		enum policy_slot lsm_slot = (enum policy_slot)(POLICY_SLOT_OBJ_USER + i);

		if (!rule->lsm[i])
			continue;
		snprintf(message, sizeof(message),
			 "the kernel asks the active LSM about '%s' when it loads the rule; check "
			 "that the target's SELinux policy defines it",
			 rule->lsm[i]);
		diag_report(pc, POLICY_DIAG_WARNING, "lsm-label", rp->line, rp->seen[lsm_slot].col,
			    rp->seen[lsm_slot].token, message,
			    "rejects the whole first load when the label is unknown; a later load "
			    "keeps the rule, which then never matches",
			    0);
		break;
	}
	for (enum policy_id id = POLICY_ID_UID; id < POLICY_ID__MAX; id++) {
		uint64_t low, high;
		enum policy_slot id_slot = (enum policy_slot)(POLICY_SLOT_UID + id);

		if (!rp->seen[id_slot].token || id_interval(&rule->ids[id], &low, &high))
			continue;
		diag_report(pc, POLICY_DIAG_WARNING, "never-matches", rp->line,
			    rp->seen[id_slot].col, rp->seen[id_slot].token,
			    "no id is below 0, so this rule never matches", "", 0);
	}
}

static unsigned int count_lines(const char *text, size_t len)
{
	unsigned int lines = 1;

	for (size_t i = 0; i + 1 < len; i++) {
		if (text[i] == '\n')
			lines++;
	}
	return lines;
}

int policy_check(const char *text, size_t len, const char *origin,
		 const struct policy_options *options, unsigned int flags, policy_diag_fn fn,
		 void *data)
{
	struct policy_profile profile;
	struct policy_error err;
	struct parse_ctx pc = {
		.profile = &profile,
		.origin = origin ? origin : "(policy text)",
		.keep_going = true,
		.report_extensions = (flags & POLICY_CHECK_KERNEL) != 0,
		.fn = fn,
		.data = data,
		.err = &err,
	};
	struct policy *policy;
	int r;

	memset(&err, 0, sizeof(err));
	if (!text)
		text = "";
	r = profile_from_options(options, pc.origin, &profile, &err);
	if (r == 0)
		r = text_check(text, len, pc.origin, &err);
	if (r < 0) {
		diag_error(&pc, "text", &err);
		return -EINVAL;
	}
	/* Checking for a kernel parses extensions so that every one of them can be reported. */
	if (pc.report_extensions)
		profile.extensions = true;

	policy = calloc(1, sizeof(*policy));
	if (!policy)
		return -ENOMEM;
	r = parse_lines(&pc, text, len, policy);
	if (r < 0)
		goto out_free_policy;
	policy_finish(policy, text, len);

	if (pc.errors == 0 && policy->nrules == 0) {
		memset(&err, 0, sizeof(err));
		empty_policy_error(&err, pc.origin);
		diag_error(&pc, "empty-policy", &err);
	}
	check_shadowed(&pc, policy);
	if (policy->nrules > 0 && policy->do_kinds == 0)
		diag_report(&pc, POLICY_DIAG_WARNING, "no-do-rule", policy->rules[0].line,
			    policy->rules[0].col, "",
			    "the policy has only dont_ rules (or only SETXATTR_CHECK rules), so "
			    "the kernel evaluates no event and the policy has no effect",
			    "accepts the policy, which does nothing", 0);
	if (len > 0 && text[len - 1] != '\n')
		diag_report(&pc, POLICY_DIAG_WARNING, "no-final-newline", count_lines(text, len), 0,
			    "",
			    "the file does not end with a newline; writers that stream the policy "
			    "accept it, but a load by path may fail, so add one",
			    "", 0);
	r = pc.errors ? -EINVAL : 0;

out_free_policy:
	policy_free(policy);
	return r;
}

/* Printing */

struct text_buf {
	char *buf;
	size_t size;
	size_t len;
	bool overflow;
};

static void text_add(struct text_buf *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void text_add(struct text_buf *t, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (t->overflow)
		return;
	va_start(ap, fmt);
	r = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= t->size - t->len) {
		t->overflow = true;
		return;
	}
	t->len += (size_t)r;
}

static void format_ids(const struct policy_rule *rule, struct text_buf *t)
{
	static const uint32_t effective[POLICY_ID__MAX] = {POLICY_F_EUID, POLICY_F_EGID, 0, 0};
	static const uint32_t present[POLICY_ID__MAX] = {POLICY_F_UID | POLICY_F_EUID,
							 POLICY_F_GID | POLICY_F_EGID,
							 POLICY_F_FOWNER, POLICY_F_FGROUP};

	for (enum policy_id id = POLICY_ID_UID; id < POLICY_ID__MAX; id++) {
		if (!(rule->features & present[id]))
			continue;
		text_add(t, "%s%u ",
			 id_keyword(id, (rule->features & effective[id]) != 0, rule->ids[id].op),
			 rule->ids[id].value);
	}
}

static void format_options(const struct policy_rule *rule, struct text_buf *t)
{
	const char *appraise_type = policy_keywords[POLICY_TOK_APPRAISE_TYPE].text;

	if (rule->template)
		text_add(t, "%s%s ", policy_keywords[POLICY_TOK_TEMPLATE].text,
			 rule->template->name);
	if (rule->features & POLICY_F_SIG_REQUIRED) {
		if (rule->features & POLICY_F_VERITY)
			text_add(t, "%ssigv3 ", appraise_type);
		else if (rule->features & POLICY_F_MODSIG)
			text_add(t, "%simasig|modsig ", appraise_type);
		else
			text_add(t, "%simasig ", appraise_type);
	}
	if (rule->features & POLICY_F_VERITY)
		text_add(t, "%sverity ", policy_keywords[POLICY_TOK_DIGEST_TYPE].text);
	if (rule->features & POLICY_F_DIRECTIO)
		text_add(t, "%s ", policy_keywords[POLICY_TOK_PERMIT_DIRECTIO].text);
}

/* Extensions come last; a value with blanks is quoted as the parser accepts it. */
static void format_extensions(const struct policy_rule *rule, struct text_buf *t)
{
	static const enum policy_token tokens[POLICY_EXT__MAX] = {
		POLICY_TOK_PATH, POLICY_TOK_EXE, POLICY_TOK_COMM, POLICY_TOK_CGROUP};

	for (unsigned int i = 0; i < POLICY_EXT__MAX; i++) {
		enum policy_token tok = tokens[i];
		const char *value = rule->ext[i];

		if (!value)
			continue;
		if (i == POLICY_EXT_PATH && rule->path_prefix)
			tok = POLICY_TOK_PATH_PREFIX;
		if (strpbrk(value, " \t"))
			text_add(t, "%s\"%s\" ", policy_keywords[tok].text, value);
		else
			text_add(t, "%s%s ", policy_keywords[tok].text, value);
	}
}

/* The canonical order is the one the kernel uses when it prints its policy file. */
int policy_format_rule(const struct policy *policy, unsigned int index, char *buf, size_t size)
{
	struct text_buf t = {.buf = buf, .size = size};
	const struct policy_rule *rule;
	uint32_t f;

	if (!policy || index >= policy->nrules)
		return -ERANGE;
	if (size == 0)
		return -ENOBUFS;
	buf[0] = '\0';
	rule = &policy->rules[index];
	f = rule->features;

	text_add(&t, "%s ", policy_keywords[2 * rule->kind + rule->negated].text);
	if (f & POLICY_F_FUNC)
		text_add(&t, "%s%s ", policy_keywords[POLICY_TOK_FUNC].text,
			 policy_func_name(rule->func));
	if (f & POLICY_F_MASK) {
		char mask[32];

		policy_mask_format(rule->mask, mask, sizeof(mask));
		text_add(&t, "%s%s%s ", policy_keywords[POLICY_TOK_MASK].text,
			 rule->mask_contains ? "^" : "", mask);
	}
	if (f & POLICY_F_FSMAGIC)
		text_add(&t, "%s0x%llx ", policy_keywords[POLICY_TOK_FSMAGIC].text,
			 (unsigned long long)rule->fsmagic);
	if (f & POLICY_F_FSNAME)
		text_add(&t, "%s%s ", policy_keywords[POLICY_TOK_FSNAME].text, rule->fsname);
	if (f & POLICY_F_FS_SUBTYPE)
		text_add(&t, "%s%s ", policy_keywords[POLICY_TOK_FS_SUBTYPE].text,
			 rule->fs_subtype);
	if (f & POLICY_F_KEYRINGS)
		text_add(&t, "%s%s ", policy_keywords[POLICY_TOK_KEYRINGS].text, rule->keyrings);
	if (f & POLICY_F_LABEL)
		text_add(&t, "%s%s ", policy_keywords[POLICY_TOK_LABEL].text, rule->label);
	if (f & POLICY_F_PCR)
		text_add(&t, "%s%u ", policy_keywords[POLICY_TOK_PCR].text, rule->pcr);
	if (f & POLICY_F_FSUUID) {
		char uuid[40];

		uuid_format(rule->fsuuid, uuid, sizeof(uuid));
		text_add(&t, "%s%s ", policy_keywords[POLICY_TOK_FSUUID].text, uuid);
	}
	format_ids(rule, &t);
	if (f & POLICY_F_ALGOS) {
		bool first = true;

		text_add(&t, "%s", policy_keywords[POLICY_TOK_APPRAISE_ALGOS].text);
		for (size_t i = 0; i < ARRAY_SIZE(policy_hash_algos); i++) {
			if (!(rule->appraise_algos & (1u << i)))
				continue;
			text_add(&t, "%s%s", first ? "" : ",", policy_hash_algos[i].name);
			first = false;
		}
		text_add(&t, " ");
	}
	for (size_t i = 0; i < POLICY_LSM__MAX; i++) {
		if (rule->lsm[i])
			text_add(&t, "%s%s ", policy_keywords[policy_lsm_tokens[i]].text,
				 rule->lsm[i]);
	}
	format_options(rule, &t);
	format_extensions(rule, &t);
	if (t.overflow)
		return -ENOBUFS;
	return (int)t.len;
}

int policy_print(const struct policy *policy, FILE *out)
{
	for (unsigned int i = 0; policy && i < policy->nrules; i++) {
		/* The canonical form is at most twice the written text plus the fixed keywords. */
		size_t size = 2 * strlen(policy->rules[i].text) + 512;
		char *buf = malloc(size);
		int r;

		if (!buf)
			return -ENOMEM;
		r = policy_format_rule(policy, i, buf, size);
		if (r >= 0 && fprintf(out, "%s\n", buf) < 0)
			r = -EIO;
		free(buf);
		if (r < 0)
			return r;
	}
	return fflush(out) == 0 ? 0 : -errno;
}
