/* mp-exchange subcommands; each returns the exit code (0 ok, 1 failed, 2 usage). */
#ifndef MP_EXCHANGE_CMD_H
#define MP_EXCHANGE_CMD_H

int exchange_cmd_serve(int argc, char **argv);
int exchange_cmd_token(int argc, char **argv);
int exchange_cmd_client(int argc, char **argv);
int exchange_cmd_config(int argc, char **argv);

#endif
