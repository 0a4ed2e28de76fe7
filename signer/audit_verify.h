/* Offline verification of the audit log (format in audit_format.h). */
#ifndef MP_AUDIT_VERIFY_H
#define MP_AUDIT_VERIFY_H
#endif
