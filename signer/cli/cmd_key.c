/* mp-signer key: keys that are born in the token and never leave it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "common/conf.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/num.h"
#include "common/uuid.h"
#include "signer/grant/cert.h"
#include "signer/cli/cli.h"
#include "signer/cli/cmds.h"
#include "signer/grant/csr.h"
#include "signer/grant/jwk.h"
#include "signer/grant/signer_token.h"

static const char key_usage[] =
    "usage: mp-signer key generate --label L [--id HEX] [--bits 2048|3072|4096] [TOKEN]\n"
    "       mp-signer key csr --key URI --org ORGNO [--cn NAME] [--o NAME] [--out FILE] [TOKEN]\n"
    "       mp-signer key import-cert --key URI [--label L] [--chain PEM] FILE [TOKEN]\n"
    "       mp-signer key list [TOKEN]\n"
    "       mp-signer key pubkey --key URI [--out FILE] [TOKEN]   (PEM public key)\n"
    "       mp-signer key jwk --key URI [--kid KID] [--alg RS256|RS384|RS512] [--jwks]\n"
    "                         [--out FILE] [TOKEN]\n"
    "jwk prints the public key as a JWK (use \"sig\"; kid defaults to its RFC 7638 thumbprint),\n"
    "or with --jwks as a JWKS, ready to register; put the same kid in the profile (kid = …).\n"
    "import-cert --chain PEM also keeps the issuing CA certificates (the leaf's issuer first) on\n"
    "the token; x5c grants then carry them without a chain = file.\n"
    "TOKEN options: [--config FILE] [--profile NAME] [--module PATH] [--pin-file FILE]\n"
    "               [--token URI] (default: the token of --key or of the profile's key)\n";

enum {
    K_CONFIG = 256,
    K_PROFILE,
    K_MODULE,
    K_PIN_FILE,
    K_TOKEN,
    K_KEY,
    K_LABEL,
    K_ID,
    K_BITS,
    K_ORG,
    K_CN,
    K_O,
    K_OUT,
    K_KID,
    K_ALG,
    K_CHAIN,
    K_JWKS,
    K_HELP,
    K_VERBOSE,
};

static const struct option key_opts[] = {
    {"config", required_argument, NULL, K_CONFIG},
    {"profile", required_argument, NULL, K_PROFILE},
    {"module", required_argument, NULL, K_MODULE},
    {"pin-file", required_argument, NULL, K_PIN_FILE},
    {"token", required_argument, NULL, K_TOKEN},
    {"key", required_argument, NULL, K_KEY},
    {"label", required_argument, NULL, K_LABEL},
    {"id", required_argument, NULL, K_ID},
    {"bits", required_argument, NULL, K_BITS},
    {"org", required_argument, NULL, K_ORG},
    {"cn", required_argument, NULL, K_CN},
    {"o", required_argument, NULL, K_O},
    {"out", required_argument, NULL, K_OUT},
    {"kid", required_argument, NULL, K_KID},
    {"alg", required_argument, NULL, K_ALG},
    {"chain", required_argument, NULL, K_CHAIN},
    {"jwks", no_argument, NULL, K_JWKS},
    {"verbose", no_argument, NULL, K_VERBOSE},
    {"help", no_argument, NULL, K_HELP},
    {NULL, 0, NULL, 0},
};

struct key_flags {
    const char *config, *profile, *module, *pin_file, *token, *key, *label, *id, *bits;
    const char *org, *cn, *o, *out, *kid, *alg, *chain, *file;
    int jwks;
};

struct key_ctx {
    struct signer_conf *conf;
    struct signer_conf_profile *prof;
    struct hsm_module *mod;
    struct hsm_token *tok;
};

static enum mp_err
key_parse(int argc, char **argv, struct key_flags *f)
{
    const char **slot[] = {&f->config, &f->profile, &f->module, &f->pin_file, &f->token, &f->key,
        &f->label, &f->id, &f->bits, &f->org, &f->cn, &f->o, &f->out, &f->kid, &f->alg, &f->chain};
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":v", key_opts, NULL)) != -1) {
        if (c >= K_CONFIG && c <= K_CHAIN)
            *slot[c - K_CONFIG] = optarg;
        else if (c == K_JWKS)
            f->jwks = 1;
        else if (c == 'v' || c == K_VERBOSE)
            mp_log_set_level(MP_LOG_DEBUG);
        else if (c == K_HELP) {
            fputs(key_usage, stdout);
            return MP_ERR_HELP;
        } else
            return cli_bad_option("key", c, optopt, argv, optind);
    }
    if (optind < argc)
        f->file = argv[optind++];
    if (optind < argc) {
        fprintf(stderr,
            "mp-signer key: unexpected argument at position %d (not echoed: it could be a "
            "secret)\n",
            optind);
        return MP_ERR_USAGE;
    }
    return MP_OK;
}

static void
key_ctx_close(struct key_ctx *k)
{
    hsm_token_free(k->tok);
    hsm_module_free(k->mod);
    signer_conf_free(k->conf);
}

static enum mp_err
key_ctx_open(struct key_ctx *k, const struct key_flags *f, bool rw, struct mp_errmsg *e)
{
    const char *uri;
    enum mp_err r;

    if ((r = cli_config(f->config, f->profile, &k->conf, &k->prof, e)) != MP_OK)
        return r;
    if ((f->module != NULL && mp_conf_set_str(&k->conf->module, f->module) != MP_OK) ||
        (f->pin_file != NULL && mp_conf_set_str(&k->conf->pin_file, f->pin_file) != MP_OK))
        return mp_errf(e, MP_ERR_NOMEM, "out of memory");
    uri = f->token != NULL ? f->token : f->key != NULL ? f->key : k->prof->key;
    if (uri == NULL)
        return mp_errf(e, MP_ERR_INVALID, "which token? give --token pkcs11:token=LABEL");
    return signer_token_open(k->conf, uri, rw, &k->mod, &k->tok, e);
}

static enum mp_err
key_generate(struct key_ctx *k, const struct key_flags *f, struct mp_errmsg *e)
{
    unsigned char id[64];
    size_t idlen = 8;
    uint64_t bits = 3072;
    enum hsm_err h;
    enum mp_err r;

    if (f->label == NULL)
        return mp_errf(e, MP_ERR_INVALID, "key generate needs --label");
    if (f->bits != NULL &&
        (mp_parse_u64(f->bits, 2048, 4096, &bits) != MP_OK ||
            (bits != 2048 && bits != 3072 && bits != 4096)))
        return mp_errf(e, MP_ERR_INVALID, "--bits must be 2048, 3072 or 4096");
    if (f->id != NULL && cli_hex(f->id, id, sizeof(id), &idlen) != MP_OK)
        return mp_errf(e, MP_ERR_INVALID, "--id must be 1..64 bytes of hex, such as 01");
    if (f->id == NULL && mp_random_bytes(id, idlen) != MP_OK)
        return mp_errf(e, MP_ERR_IO, "no randomness for the key id");
    if ((r = key_ctx_open(k, f, true, e)) != MP_OK)
        return r;
    h = hsm_keygen_rsa(k->tok, f->label, id, idlen, (unsigned int)bits, e);
    if (h != HSM_OK)
        return hsm_to_mp(h);
    mp_info("generated RSA-%u key \"%s\" inside token %s (sensitive, never extractable)",
        (unsigned int)bits, f->label, hsm_token_label(k->tok));
    return MP_OK;
}

/* Writes all of data to path (created 0644, or stdout when path is NULL). */
static enum mp_err
write_out(const char *path, const char *data, size_t len, struct mp_errmsg *e)
{
    FILE *fp = path != NULL ? fopen(path, "we") : stdout;

    if (fp == NULL)
        return mp_errf(e, MP_ERR_IO, "%s: %s", path, strerror(errno));
    if (fwrite(data, 1, len, fp) != len || fflush(fp) != 0) {
        if (path != NULL)
            fclose(fp);
        return mp_errf(e, MP_ERR_IO, "cannot write %s", path != NULL ? path : "stdout");
    }
    if (path != NULL && fclose(fp) != 0)
        return mp_errf(e, MP_ERR_IO, "cannot write %s", path);
    return MP_OK;
}

static enum mp_err
key_find_checked(struct key_ctx *k, const char *uri, struct hsm_key **key, struct mp_errmsg *e)
{
    enum hsm_err h;

    if (uri == NULL)
        return mp_errf(e, MP_ERR_INVALID, "give --key pkcs11:token=…;object=…;type=private");
    if ((h = hsm_key_find(k->tok, uri, key, e)) != HSM_OK || (h = hsm_key_check(*key, e)) != HSM_OK)
        return hsm_to_mp(h);
    return MP_OK;
}

static enum mp_err
key_csr(struct key_ctx *k, const struct key_flags *f, struct mp_errmsg *e)
{
    struct hsm_key *key = NULL;
    struct mp_buf *pem = NULL;
    char cn[80];
    enum mp_err r;

    if (f->org == NULL)
        return mp_errf(e, MP_ERR_INVALID, "key csr needs --org ORGNO");
    if ((r = key_ctx_open(k, f, false, e)) != MP_OK ||
        (r = key_find_checked(k, f->key != NULL ? f->key : k->prof->key, &key, e)) != MP_OK)
        goto out;
    snprintf(cn, sizeof(cn), "%s", f->cn != NULL ? f->cn : hsm_key_label(key));
    if ((pem = mp_buf_new(64 * 1024)) == NULL) {
        r = mp_errf(e, MP_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((r = csr_build(key, f->org, cn, f->o, pem, e)) != MP_OK)
        goto out;
    r = write_out(f->out, mp_buf_str(pem), mp_buf_len(pem), e);
out:
    mp_buf_free(pem);
    hsm_key_free(key);
    return r;
}

/* The intermediates of --chain, stored once each on the token (no CKA_ID: a CA serves every key
 * it issued), so grants build x5c from the token alone. */
static enum mp_err
store_chain(struct key_ctx *k, STACK_OF(X509) * chain, struct mp_errmsg *e)
{
    char label[65];
    bool already;
    X509 *ca;
    int i;

    for (i = 0; i < sk_X509_num(chain); i++) {
        ca = sk_X509_value(chain, i);
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(ca), NID_commonName, label,
                sizeof(label)) <= 0)
            snprintf(label, sizeof(label), "intermediate CA");
        if (hsm_ca_store(k->tok, ca, label, &already, e) != HSM_OK)
            return MP_ERR_HSM;
        mp_info("%s CA certificate \"%s\" for x5c", already ? "token already holds" : "stored",
            label);
    }
    return MP_OK;
}

/* The certificate must be for this key, and --chain must be its issuers in order, before
 * anything is written. */
static enum mp_err
import_check(const struct key_flags *f, struct hsm_key *key, X509 *x, STACK_OF(X509) * chain,
    struct mp_errmsg *e)
{
    if (EVP_PKEY_eq(X509_get0_pubkey(x), hsm_key_public(key)) != 1)
        return mp_errf(e, MP_ERR_INVALID, "%s is not a certificate for key %s: public keys differ",
            f->file, hsm_key_label(key));
    if (chain != NULL && cert_check_chain(x, chain, e) != MP_OK) {
        mp_err_prefix(e, "--chain %s", f->chain);
        return MP_ERR_INVALID;
    }
    return MP_OK;
}

static enum mp_err
key_import_cert(struct key_ctx *k, const struct key_flags *f, struct mp_errmsg *e)
{
    STACK_OF(X509) *chain = NULL;
    struct hsm_key *key = NULL;
    X509 *x = NULL;
    unsigned char id[128];
    size_t idlen = 0;
    bool already = false;
    enum mp_err r;

    if (f->file == NULL)
        return mp_errf(e, MP_ERR_INVALID, "key import-cert needs the certificate FILE");
    if ((r = cert_load_file(f->file, &x, e)) != MP_OK ||
        (f->chain != NULL && (r = cert_load_pem_file(f->chain, &chain, e)) != MP_OK) ||
        (r = key_ctx_open(k, f, true, e)) != MP_OK ||
        (r = key_find_checked(k, f->key != NULL ? f->key : k->prof->key, &key, e)) != MP_OK ||
        (r = import_check(f, key, x, chain, e)) != MP_OK)
        goto out;
    if (cli_hex(hsm_key_id_hex(key), id, sizeof(id), &idlen) != MP_OK) {
        r = mp_errf(e, MP_ERR_INVALID, "key %s has no CKA_ID to pair the certificate with",
            hsm_key_label(key));
        goto out;
    }
    /* With --chain, a certificate stored earlier is fine: the run adds its issuers. */
    if ((r = hsm_to_mp(hsm_cert_store(k->tok, x, id, idlen,
             f->label ? f->label : hsm_key_label(key), chain != NULL ? &already : NULL, e))) !=
        MP_OK)
        goto out;
    mp_info("%s certificate next to key %s", already ? "token already holds the" : "stored",
        hsm_key_label(key));
    if (chain != NULL)
        r = store_chain(k, chain, e);
out:
    sk_X509_pop_free(chain, X509_free);
    X509_free(x);
    hsm_key_free(key);
    return r;
}

static enum mp_err
key_pubkey(struct key_ctx *k, const struct key_flags *f, struct mp_errmsg *e)
{
    struct hsm_key *key = NULL;
    BIO *b = NULL;
    char *p = NULL;
    long n;
    enum mp_err r;

    if ((r = key_ctx_open(k, f, false, e)) != MP_OK ||
        (r = key_find_checked(k, f->key != NULL ? f->key : k->prof->key, &key, e)) != MP_OK)
        goto out;
    if ((b = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_PUBKEY(b, hsm_key_public(key)) ||
        (n = BIO_get_mem_data(b, &p)) <= 0) {
        r = mp_errf(e, MP_ERR_CRYPTO, "cannot encode the public key");
        goto out;
    }
    r = write_out(f->out, p, (size_t)n, e);
out:
    BIO_free(b);
    hsm_key_free(key);
    return r;
}

/* The JWK (or JWKS) of a token key's public half; the kid goes to the log too, so the operator
 * sees what to put in the profile. */
static enum mp_err
key_jwk(struct key_ctx *k, const struct key_flags *f, struct mp_errmsg *e)
{
    const char *alg = f->alg != NULL ? f->alg : "RS256";
    struct hsm_key *key = NULL;
    json_t *jwk = NULL, *doc = NULL;
    char *text = NULL, *line = NULL;
    enum mp_err r;

    if (strcmp(alg, "RS256") != 0 && strcmp(alg, "RS384") != 0 && strcmp(alg, "RS512") != 0)
        return mp_errf(e, MP_ERR_INVALID,
            "--alg must be RS256, RS384 or RS512 (Maskinporten accepts nothing else)");
    if (f->kid != NULL && (r = jwk_kid_check(f->kid, e)) != MP_OK)
        return r;
    if ((r = key_ctx_open(k, f, false, e)) != MP_OK ||
        (r = key_find_checked(k, f->key != NULL ? f->key : k->prof->key, &key, e)) != MP_OK ||
        (r = jwk_from_pkey(hsm_key_public(key), f->kid, alg, &jwk, e)) != MP_OK)
        goto out;
    doc = f->jwks ? json_pack("{s:[O]}", "keys", jwk) : json_incref(jwk);
    if (doc == NULL || (text = mp_json_dumps(doc, JSON_INDENT(2))) == NULL ||
        (line = malloc(strlen(text) + 2)) == NULL) {
        r = mp_errf(e, MP_ERR_NOMEM, "out of memory");
        goto out;
    }
    snprintf(line, strlen(text) + 2, "%s\n", text);
    if ((r = write_out(f->out, line, strlen(line), e)) == MP_OK)
        mp_info("key %s: kid %s, %s", hsm_key_label(key),
            json_string_value(json_object_get(jwk, "kid")), alg);
out:
    free(line);
    free(text);
    json_decref(doc);
    json_decref(jwk);
    hsm_key_free(key);
    return r;
}

static void
print_cert_line(struct hsm_key *key)
{
    X509 *x = NULL;
    char subj[256], issuer[256], org[10] = "-", when[48];
    const ASN1_TIME *na;
    long long left;
    struct tm tm;

    if (hsm_key_cert(key, time(NULL), &x, NULL) != HSM_OK) {
        printf("  certificate: none\n");
        return;
    }
    cert_subject(x, subj, sizeof(subj));
    X509_NAME_oneline(X509_get_issuer_name(x), issuer, sizeof(issuer));
    if (cert_orgno(x, org) != MP_OK)
        snprintf(org, sizeof(org), "-");
    na = X509_get0_notAfter(x);
    memset(&tm, 0, sizeof(tm));
    ASN1_TIME_to_tm(na, &tm);
    if (cert_seconds_left(x, time(NULL), &left) != MP_OK)
        snprintf(when, sizeof(when), "?");
    else if (left < 0)
        snprintf(when, sizeof(when), "EXPIRED");
    else
        snprintf(when, sizeof(when), "%lld days left%s", left / 86400,
            left < CERT_WARN_DAYS * 86400LL ? ": RENEW NOW" : "");
    printf("  certificate: %s\n  org: %s  issuer: %s  expires: %04d-%02d-%02d (%s)\n", subj, org,
        issuer, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, when);
    X509_free(x);
}

static enum hsm_err
list_one(struct hsm_key *key, void *arg)
{
    struct mp_errmsg why = {{0}};
    char attrs[160];
    const char *verdict;

    (void)arg;
    if (hsm_key_check(key, &why) != HSM_OK)
        verdict = why.text;
    else if (hsm_key_imported(key))
        verdict = "imported (allowed, warned and audited): a copy may exist outside the token";
    else
        verdict = "non-exportable, generated in the token";
    hsm_key_attr_summary(key, attrs, sizeof(attrs));
    if (hsm_key_bits(key) > 0)
        printf("%s  id=%s  %s-%u\n", hsm_key_label(key), hsm_key_id_hex(key), hsm_key_type(key),
            hsm_key_bits(key));
    else
        printf("%s  id=%s  %s\n", hsm_key_label(key), hsm_key_id_hex(key), hsm_key_type(key));
    printf("  verdict: %s\n  %s\n", verdict, attrs);
    print_cert_line(key);
    return HSM_OK;
}

static enum mp_err
key_list(struct key_ctx *k, const struct key_flags *f, struct mp_errmsg *e)
{
    enum mp_err r;

    if ((r = key_ctx_open(k, f, false, e)) != MP_OK)
        return r;
    return hsm_to_mp(hsm_key_each(k->tok, list_one, NULL, e));
}

int
cmd_key(int argc, char **argv)
{
    struct key_flags f;
    struct key_ctx k;
    struct mp_errmsg e = {{0}};
    const char *sub = argc > 1 ? argv[1] : "";
    enum mp_err r;

    memset(&f, 0, sizeof(f));
    memset(&k, 0, sizeof(k));
    if (argc < 2 || strcmp(sub, "--help") == 0) {
        fputs(key_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (cli_refuse_pin_args("key", argc, argv) != CLI_OK)
        return CLI_USAGE;
    if ((r = key_parse(argc - 1, argv + 1, &f)) != MP_OK)
        return cli_parse_exit(r);
    if (strcmp(sub, "generate") == 0)
        r = key_generate(&k, &f, &e);
    else if (strcmp(sub, "csr") == 0)
        r = key_csr(&k, &f, &e);
    else if (strcmp(sub, "import-cert") == 0)
        r = key_import_cert(&k, &f, &e);
    else if (strcmp(sub, "list") == 0)
        r = key_list(&k, &f, &e);
    else if (strcmp(sub, "pubkey") == 0)
        r = key_pubkey(&k, &f, &e);
    else if (strcmp(sub, "jwk") == 0)
        r = key_jwk(&k, &f, &e);
    else {
        fprintf(stderr, "mp-signer key: unknown subcommand \"%s\"\n%s", sub, key_usage);
        return CLI_USAGE;
    }
    key_ctx_close(&k);
    return r == MP_OK ? CLI_OK : cli_fail(&e);
}
