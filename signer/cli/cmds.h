/* mp-signer subcommands; each returns the process exit code (enum cli_exit). */
#ifndef MP_CMDS_H
#define MP_CMDS_H

int cmd_grant(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_token_init(int argc, char **argv);
int cmd_audit(int argc, char **argv);
/* audit prove, audit check-proof (cmd_audit_proof.c): argv as cmd_audit has it, argv[1] the
 * subcommand. */
int cmd_audit_prove(int argc, char **argv);
int cmd_audit_check_proof(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_request(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_config(int argc, char **argv);

#endif
