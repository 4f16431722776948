/* smtpwire-send's settings: one table of options shared by the command
 * line (normal and sendmail mode) and the configuration file, so that
 * every option can be given either way with the same name and meaning.
 *
 * Configuration file (smtpwire-send(1), FILES): --config FILE, else the
 * first of ~/.smtpwirerc and /etc/smtpwire.conf that exists.  One
 * "key value" per line, the key being a long option's name without its
 * dashes ("server 127.0.0.1:2525", "timeout 30"), a flag key alone
 * ("starttls").  Blank lines and lines starting with '#' are ignored, as
 * is the rest of a line from a '#' that follows a space or tab.  A value
 * may be put in double quotes (no escapes) to keep spaces or to be
 * empty ("from \"\"" for the null reverse-path).  An unknown key is an
 * error naming FILE:LINE.  The command line wins: a key whose option was
 * given on the command line is checked but not used (for "to", any --to
 * replaces every "to" of the file).
 *
 * "password" is reserved for AUTH, which smtpwire-send does not do yet:
 * a file holding it must not be readable by group or others (refused
 * otherwise, before anything else is said about it), and even then it is
 * refused with "AUTH is not supported yet" rather than sending without
 * the authentication the file asks for.
 * SPDX-License-Identifier: MIT */
#ifndef SMTPWIRE_SEND_CONFIG_H
#define SMTPWIRE_SEND_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* sysexits(3) codes the settings can produce */
#define SEND_EX_USAGE 64   /* EX_USAGE: a bad option or configuration line */
#define SEND_EX_NOINPUT 66 /* EX_NOINPUT: --config FILE cannot be read */

/* send_option.kind */
#define SEND_OPT_FLAG 0    /* no value: sets an int to 1 */
#define SEND_OPT_STRING 1  /* one value; the last one given wins */
#define SEND_OPT_LIST 2    /* repeatable: values accumulate (--to) */
#define SEND_OPT_SECONDS 3 /* a whole number of seconds, 1 to 86400 */

/* send_option.where */
#define SEND_IN_CLI 0x1u  /* accepted on the command line */
#define SEND_IN_FILE 0x2u /* accepted as a key of the configuration file */

typedef struct send_option {
    const char *name;  /* long name without "--", also the file key */
    char shortname;    /* the normal mode's one-letter alias ('v'), or 0 */
    int kind;          /* SEND_OPT_* */
    unsigned where;    /* SEND_IN_* */
    const char *arg;   /* the value's name for --help ("ADDR"), NULL for a flag */
    const char *help;  /* one line of --help; NULL: not listed (tests only) */
} send_option;

/* Every option, in --help order, ending with a {NULL} entry. */
extern const send_option send_options[];

/* The option named name[0..len) (long name without dashes), or NULL. */
const send_option *send_option_find(const char *name, size_t len);

typedef struct send_settings {
    char *server;       /* HOST[:PORT] as given, or NULL for MX delivery */
    char *from;         /* envelope sender, "" for <>, NULL when not given */
    char *helo;
    char *cafile;
    char *config;       /* --config FILE */
    char **to;          /* nto recipients, each a mailbox as the user writes it */
    size_t nto;
    uint32_t timeout_s; /* 0: the RFC 5321 4.5.3.2 defaults */
    int verbose, starttls, require_tls, insecure, allow_loopback_mx;
    int all_or_nothing, sendmail, help, version;
    uint64_t cli_set;   /* bit i: send_options[i] came from the command line */
} send_settings;

/* Source of a value for send_settings_apply() */
#define SEND_FROM_CLI 1
#define SEND_FROM_FILE 2

/* Set option o from value (NULL for a flag) given on the command line or
 * in a file.  A file's value is checked but left unused when the command
 * line gave that option.  Returns 0, or SEND_EX_USAGE with one line in
 * err saying what is wrong (no program name, no newline).  Out of memory
 * is reported the same way. */
int send_settings_apply(send_settings *s, const send_option *o, const char *value, int source,
                        char *err, size_t errcap);

/* Free what the settings hold and zero them. */
void send_settings_free(send_settings *s);

/* The normal mode's command line argument argv[*i] when it is an option:
 * "--name", "--name=value", "--name value" (advancing *i), or the short
 * alias "-v".  Returns 1 when it was an option and was applied, 0 when it
 * is not an option (an operand, "-" or "--"), or SEND_EX_USAGE with err set
 * ("--to needs a value", "unknown option --tow"). */
int send_cli_option(send_settings *s, int argc, char **argv, int *i, char *err, size_t errcap);

/* Split one configuration line (modified in place: NUL-terminated key and
 * value) into *key and *value (NULL when the line has no value).  Returns
 * 1 for a key, 0 for a blank or comment line, -1 for a malformed line (an
 * unterminated quote, text after a closing quote, a NUL or control byte)
 * with a reason in *why. */
int send_config_split(char *line, char **key, char **value, const char **why);

/* Read a configuration file into s.  explicit: the file was named by
 * --config, so it must exist.  Returns 0 (also when a default file does
 * not exist: *found is then 0), SEND_EX_USAGE (a bad line, "FILE:LINE:
 * ..." in err; a password in a file others can read; AUTH), or
 * SEND_EX_NOINPUT (the file cannot be opened or read). */
int send_config_load(send_settings *s, const char *path, int explicit, int *found, char *err,
                     size_t errcap);

/* The default files: home_rc ("$HOME/.smtpwirerc", may be NULL when HOME
 * is unset) then sys_conf ("/etc/smtpwire.conf"); the first that exists is
 * read, the other is not.  *used (may be NULL) points to the path read,
 * or is NULL when neither exists.  Returns as send_config_load(). */
int send_config_load_default(send_settings *s, const char *home_rc, const char *sys_conf,
                             const char **used, char *err, size_t errcap);

/* Split a --server value HOST[:PORT], [IPv6]:PORT or a bare IPv6 address
 * into host and port (port "25" when none); arg is modified in place.
 * Returns 0 or -1. */
int send_split_server(char *arg, const char **host, const char **port);

#endif
