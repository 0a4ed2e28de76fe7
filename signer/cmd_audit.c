#include "signer/cmds.h"

int
cmd_audit(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return 2;
}
