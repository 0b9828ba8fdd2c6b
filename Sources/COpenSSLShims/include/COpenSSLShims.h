#pragma once
#include <openssl/crypto.h>
#include <openssl/bio.h>

/// Replaces the OPENSSL_free macro, which adds __FILE__/__LINE__ and cannot be imported.
void COpenSSLShims_free(void *ptr);

/// Replaces the BIO_get_mem_data macro (a BIO_ctrl call): returns the length and sets *data.
long COpenSSLShims_BIO_get_mem_data(BIO *bio, char **data);
