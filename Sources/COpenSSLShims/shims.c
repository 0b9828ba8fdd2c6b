#include "COpenSSLShims.h"

void COpenSSLShims_free(void *ptr) { OPENSSL_free(ptr); }

long COpenSSLShims_BIO_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }
