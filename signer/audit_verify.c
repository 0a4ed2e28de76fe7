#include "signer/audit_verify.h"
