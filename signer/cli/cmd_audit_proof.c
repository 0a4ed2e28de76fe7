/* mp-signer audit prove | check-proof: Merkle inclusion and consistency proofs of the log. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/buf.h"
#include "common/num.h"
#include "common/uuid.h"
#include "signer/audit/audit_note.h"
#include "signer/audit/audit_proof.h"
#include "signer/cli/cli.h"
#include "signer/cli/cmds.h"

#define MAX_PATHS 4096 /* segment files on one command line */

static const char prove_usage[] =
    "usage: mp-signer audit prove (--seq N | --jti UUID) [--checkpoint NOTE] DIR|FILE...\n"
    "       mp-signer audit prove --from NOTE_A [--to NOTE_B] DIR|FILE...\n"
    "Reads the log once (a segment directory, or its files in seq order; .gz too) and prints\n"
    "a proof as JSON for mp-signer audit check-proof, which needs only the proof and the\n"
    "audit public key:\n"
    "  --seq N          inclusion of the line of seq N\n"
    "  --jti UUID       inclusion of the sign line whose claims.jti is UUID (the last granted\n"
    "                   one, else the last one)\n"
    "  --checkpoint NOTE  against this checkpoint (a file holding a checkpoint line's note);\n"
    "                   default: the last checkpoint of the log whose tree holds the line\n"
    "  --from NOTE_A    consistency: the tree of checkpoint NOTE_A is a prefix of the tree of\n"
    "  --to NOTE_B      NOTE_B (default: the last checkpoint of the log)\n"
    "The log's own tree at each checkpoint's size must be that checkpoint's, or the log was\n"
    "rewritten. Exit status: 0 proof printed; 1 no such line or checkpoint, or the log does\n"
    "not match; 2 bad command line.\n";

static const char check_usage[] =
    "usage: mp-signer audit check-proof PROOF.json --pubkey PEM [--seq N | --jti UUID]\n"
    "Checks a proof of mp-signer audit prove offline, with the audit key's certificate or PEM\n"
    "public key (--pubkey): its checkpoint notes are signed by that key, and its path leads\n"
    "from the line (inclusion) or the old tree (consistency) to the checkpoint's root.\n"
    "  --seq N, --jti UUID  the inclusion proof must be of that line: seq N, or a sign line\n"
    "                   whose claims.jti is UUID\n"
    "Exit status: 0 proof OK; 1 proof BAD (the reason on one line), or unreadable; 2 bad\n"
    "command line.\n";

enum {
    P_SEQ = 256,
    P_JTI,
    P_CHECKPOINT,
    P_FROM,
    P_TO,
    P_PUBKEY,
    P_HELP,
};

static const struct option proof_opts[] = {
    {"seq", required_argument, NULL, P_SEQ},
    {"jti", required_argument, NULL, P_JTI},
    {"checkpoint", required_argument, NULL, P_CHECKPOINT},
    {"from", required_argument, NULL, P_FROM},
    {"to", required_argument, NULL, P_TO},
    {"pubkey", required_argument, NULL, P_PUBKEY},
    {"help", no_argument, NULL, P_HELP},
    {NULL, 0, NULL, 0},
};

struct proof_flags {
    const char *seq, *jti, *checkpoint, *from, *to, *pubkey;
    uint64_t seqv;
};

/* Options of both subcommands (each refuses the other's after); operands are left at
 * argv[optind..]. */
static enum mp_err
proof_parse(const char *cmd, const char *usage, int argc, char **argv, struct proof_flags *f)
{
    const char **slot[] = {&f->seq, &f->jti, &f->checkpoint, &f->from, &f->to, &f->pubkey};
    int c;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":", proof_opts, NULL)) != -1) {
        if (c >= P_SEQ && c <= P_PUBKEY)
            *slot[c - P_SEQ] = optarg;
        else if (c == P_HELP) {
            fputs(usage, stdout);
            return MP_ERR_HELP;
        } else
            return cli_bad_option(cmd, c, optopt, argv, optind);
    }
    if (f->seq != NULL && mp_parse_u64(f->seq, 0, INT64_MAX - 1, &f->seqv) != MP_OK) {
        fprintf(stderr, "mp-signer %s: --seq takes a line's seq, a decimal number\n", cmd);
        return MP_ERR_USAGE;
    }
    if (f->jti != NULL && !mp_uuid_valid(f->jti)) {
        fprintf(stderr, "mp-signer %s: --jti takes a UUID (8-4-4-4-12 hex digits)\n", cmd);
        return MP_ERR_USAGE;
    }
    if (f->seq != NULL && f->jti != NULL) {
        fprintf(stderr, "mp-signer %s: --seq and --jti are one or the other\n", cmd);
        return MP_ERR_USAGE;
    }
    return MP_OK;
}

static int
usage_error(const char *usage)
{
    fputs(usage, stderr);
    return CLI_USAGE;
}

/* A checkpoint note from a file: its exact bytes. */
static enum mp_err
read_note(const char *path, struct mp_buf **out, struct mp_errmsg *e)
{
    enum mp_err r = mp_buf_read_file(path, AUDIT_NOTE_MAX, out, NULL, e);

    if (r == MP_ERR_TOOBIG)
        mp_errf(e, r, "%s is longer than a checkpoint note (%d bytes)", path, AUDIT_NOTE_MAX);
    return r;
}

int
cmd_audit_prove(int argc, char **argv)
{
    struct proof_flags f = {0};
    struct audit_prove_req req = {0};
    struct mp_buf *note = NULL, *old = NULL;
    struct mp_errmsg e = {{0}};
    char *json = NULL;
    enum mp_err pr;
    int rc = CLI_FAIL, inclusion;

    if ((pr = proof_parse("audit prove", prove_usage, argc - 1, argv + 1, &f)) != MP_OK)
        return cli_parse_exit(pr);
    inclusion = f.seq != NULL || f.jti != NULL;
    if (f.pubkey != NULL || inclusion == (f.from != NULL) || (inclusion && f.to != NULL) ||
        (!inclusion && f.checkpoint != NULL) || optind >= argc - 1 || argc - 1 - optind > MAX_PATHS)
        return usage_error(prove_usage);
    req.kind = inclusion ? AUDIT_PROOF_INCLUSION : AUDIT_PROOF_CONSISTENCY;
    req.seq = f.seqv;
    req.jti = f.jti;
    if ((f.checkpoint != NULL && read_note(f.checkpoint, &note, &e) != MP_OK) ||
        (f.to != NULL && read_note(f.to, &note, &e) != MP_OK) ||
        (f.from != NULL && read_note(f.from, &old, &e) != MP_OK))
        goto out;
    if (note != NULL) {
        req.note = mp_buf_str(note);
        req.note_len = mp_buf_len(note);
    }
    if (old != NULL) {
        req.old_note = mp_buf_str(old);
        req.old_note_len = mp_buf_len(old);
    }
    if (audit_prove_files((const char *const *)argv + 1 + optind, (size_t)(argc - 1 - optind), &req,
            &json, &e) != MP_OK)
        goto out;
    if (fputs(json, stdout) == EOF || fflush(stdout) != 0) {
        mp_errf(&e, MP_ERR_IO, "cannot write the proof: %s", strerror(errno));
        goto out;
    }
    rc = CLI_OK;
out:
    if (rc != CLI_OK)
        cli_fail(&e);
    free(json);
    mp_buf_free(note);
    mp_buf_free(old);
    return rc;
}

static void
print_ok(const struct audit_proof_info *in)
{
    if (in->kind == AUDIT_PROOF_CONSISTENCY) {
        printf("consistency proof OK: %s at size %llu is a prefix of size %llu\n", in->origin,
            (unsigned long long)in->old_size, (unsigned long long)in->size);
        return;
    }
    printf("inclusion proof OK: seq %llu%s%s%s is in %s at tree size %llu\n",
        (unsigned long long)in->index, in->jti[0] != '\0' ? " (jti " : "", in->jti,
        in->jti[0] != '\0' ? ")" : "", in->origin, (unsigned long long)in->size);
}

int
cmd_audit_check_proof(int argc, char **argv)
{
    struct proof_flags f = {0};
    struct audit_proof_info info;
    struct mp_buf *proof = NULL;
    struct mp_errmsg e = {{0}};
    EVP_PKEY *pub = NULL;
    char why[MP_ERRMSG_MAX];
    enum mp_err pr, r;
    int rc = CLI_FAIL;

    if ((pr = proof_parse("audit check-proof", check_usage, argc - 1, argv + 1, &f)) != MP_OK)
        return cli_parse_exit(pr);
    if (f.checkpoint != NULL || f.from != NULL || f.to != NULL || optind != argc - 2)
        return usage_error(check_usage);
    if (f.pubkey == NULL) {
        fputs("mp-signer audit check-proof: --pubkey PEM is required: a proof is only as good "
              "as the key that signed its checkpoint\n",
            stderr);
        return CLI_USAGE;
    }
    if ((pub = cli_pub_load(f.pubkey, &e)) == NULL ||
        mp_buf_read_file(argv[1 + optind], AUDIT_PROOF_MAX, &proof, NULL, &e) != MP_OK) {
        cli_fail(&e);
        goto out;
    }
    r = audit_proof_check(mp_buf_str(proof), mp_buf_len(proof), pub, f.seq != NULL ? &f.seqv : NULL,
        f.jti, &info, why, sizeof(why));
    if (r == MP_ERR_CRYPTO)
        printf("proof BAD: %s\n", why);
    else if (r != MP_OK)
        fprintf(stderr, "mp-signer: error: %s\n", why);
    else {
        print_ok(&info);
        rc = CLI_OK;
    }
out:
    EVP_PKEY_free(pub);
    mp_buf_free(proof);
    return rc;
}
