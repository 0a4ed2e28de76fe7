/* mp-exchange subcommands; each returns the exit code (0 ok, 1 failed, 2 usage). */
#ifndef MP_XCMDS_H
#define MP_XCMDS_H

int xcmd_serve(int argc, char **argv);
int xcmd_token(int argc, char **argv);
int xcmd_client(int argc, char **argv);

#endif
