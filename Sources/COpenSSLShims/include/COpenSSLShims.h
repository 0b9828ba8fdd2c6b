#pragma once
#include <openssl/crypto.h>
#include <openssl/bio.h>

/// Replaces the OPENSSL_free macro, which adds __FILE__/__LINE__ and cannot be imported.
void COpenSSLShims_free(void *ptr);

/// Replaces the BIO_get_mem_data macro (a BIO_ctrl call): returns the length and sets *data.
long COpenSSLShims_BIO_get_mem_data(BIO *bio, char **data);

#include <openssl/ssl.h>

/// Replaces the SSL_set_tlsext_host_name macro (an SSL_ctrl call): sets the SNI host name.
long COpenSSLShims_SSL_set_tlsext_host_name(SSL *ssl, const char *name);

/// Replaces the SSL_CTX_set_min_proto_version macro.
long COpenSSLShims_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);

/// SSL_OP_IGNORE_UNEXPECTED_EOF is built with the SSL_OP_BIT macro: returns its value.
uint64_t COpenSSLShims_SSL_OP_IGNORE_UNEXPECTED_EOF(void);

#include <openssl/asn1.h>

/// sk_ASN1_TYPE_* are macros over OPENSSL_sk_*: typed wrappers.
int COpenSSLShims_sk_ASN1_TYPE_num(const STACK_OF(ASN1_TYPE) *stack);
ASN1_TYPE *COpenSSLShims_sk_ASN1_TYPE_value(const STACK_OF(ASN1_TYPE) *stack, int index);
void COpenSSLShims_sk_ASN1_TYPE_pop_free(STACK_OF(ASN1_TYPE) *stack);

#include <openssl/evp.h>

/// Builds an EC private key on the named curve (e.g. "P-384") from `len` bytes of key material: the bytes are
/// read as a big-endian integer and reduced to a scalar in [1, n-1]; the public point is computed. Returns NULL
/// on failure (the OpenSSL error queue says why). Used for keys Contrast derives deterministically from a seed.
EVP_PKEY *COpenSSLShims_ec_key_from_material(const char *curve, const unsigned char *material, size_t len);

#include <openssl/x509.h>

/// Sets the subject public key of `x` from DER SubjectPublicKeyInfo bytes without building an EVP_PKEY (OpenSSL 3
/// decodes keys through its provider decoders, which costs more than a certificate signature). Only EC keys on a
/// named curve are accepted, and the point must lie on that curve. Parsing uses OpenSSL's ASN.1 decoders
/// (d2i_ASN1_SEQUENCE_ANY, d2i_X509_ALGOR). Returns 1 on success, 0 otherwise.
int COpenSSLShims_X509_set_ec_spki(X509 *x, const unsigned char *der, long len);
