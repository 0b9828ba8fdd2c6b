#include "COpenSSLShims.h"

void COpenSSLShims_free(void *ptr) { OPENSSL_free(ptr); }

long COpenSSLShims_BIO_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }

long COpenSSLShims_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}

long COpenSSLShims_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}

uint64_t COpenSSLShims_SSL_OP_IGNORE_UNEXPECTED_EOF(void) { return SSL_OP_IGNORE_UNEXPECTED_EOF; }

int COpenSSLShims_sk_ASN1_TYPE_num(const STACK_OF(ASN1_TYPE) *stack) { return sk_ASN1_TYPE_num(stack); }

ASN1_TYPE *COpenSSLShims_sk_ASN1_TYPE_value(const STACK_OF(ASN1_TYPE) *stack, int index) {
    return sk_ASN1_TYPE_value(stack, index);
}

void COpenSSLShims_sk_ASN1_TYPE_pop_free(STACK_OF(ASN1_TYPE) *stack) { sk_ASN1_TYPE_pop_free(stack, ASN1_TYPE_free); }

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

EVP_PKEY *COpenSSLShims_ec_key_from_material(const char *curve, const unsigned char *material, size_t len) {
    int nid = EC_curve_nist2nid(curve);
    if (nid == NID_undef) return NULL;
    EVP_PKEY *result = NULL;
    EC_GROUP *group = EC_GROUP_new_by_curve_name(nid);
    BN_CTX *bnctx = BN_CTX_new();
    BIGNUM *x = BN_bin2bn(material, (int)len, NULL);
    BIGNUM *nMinus1 = BN_new();
    EC_POINT *point = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    unsigned char *pub = NULL;
    if (!group || !bnctx || !x || !nMinus1) goto done;
    /* scalar = (x mod (n - 1)) + 1, so it is never zero */
    if (!BN_copy(nMinus1, EC_GROUP_get0_order(group)) || !BN_sub_word(nMinus1, 1)) goto done;
    if (!BN_mod(x, x, nMinus1, bnctx) || !BN_add_word(x, 1)) goto done;
    point = EC_POINT_new(group);
    if (!point || !EC_POINT_mul(group, point, x, NULL, NULL, bnctx)) goto done;
    size_t publen = EC_POINT_point2buf(group, point, POINT_CONVERSION_UNCOMPRESSED, &pub, bnctx);
    if (publen == 0) goto done;
    bld = OSSL_PARAM_BLD_new();
    if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, OBJ_nid2sn(nid), 0) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, x) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, publen))
        goto done;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1) goto done;
    if (EVP_PKEY_fromdata(ctx, &result, EVP_PKEY_KEYPAIR, params) != 1) result = NULL;
done:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    OPENSSL_free(pub);
    EC_POINT_free(point);
    BN_clear_free(x);
    BN_free(nMinus1);
    BN_CTX_free(bnctx);
    EC_GROUP_free(group);
    return result;
}

#include <openssl/x509.h>

int COpenSSLShims_X509_set_ec_spki(X509 *x, const unsigned char *der, long len) {
    int ok = 0;
    const unsigned char *p = der;
    ASN1_SEQUENCE_ANY *seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, len);
    X509_ALGOR *alg = NULL;
    EC_GROUP *group = NULL;
    EC_POINT *point = NULL;
    if (!seq || p != der + len || sk_ASN1_TYPE_num(seq) != 2) goto done;
    ASN1_TYPE *algType = sk_ASN1_TYPE_value(seq, 0);
    ASN1_TYPE *keyType = sk_ASN1_TYPE_value(seq, 1);
    if (algType->type != V_ASN1_SEQUENCE || keyType->type != V_ASN1_BIT_STRING) goto done;
    const unsigned char *ap = algType->value.sequence->data;
    alg = d2i_X509_ALGOR(NULL, &ap, algType->value.sequence->length);
    if (!alg || OBJ_obj2nid(alg->algorithm) != NID_X9_62_id_ecPublicKey) goto done;
    if (!alg->parameter || alg->parameter->type != V_ASN1_OBJECT) goto done;
    group = EC_GROUP_new_by_curve_name(OBJ_obj2nid(alg->parameter->value.object));
    if (!group) goto done;
    point = EC_POINT_new(group);
    ASN1_BIT_STRING *bits = keyType->value.bit_string;
    if (!point || !EC_POINT_oct2point(group, point, bits->data, (size_t)bits->length, NULL)) goto done;
    unsigned char *encoded = OPENSSL_memdup(bits->data, (size_t)bits->length);
    ASN1_OBJECT *algorithm = OBJ_dup(alg->algorithm);
    ASN1_OBJECT *curve = OBJ_dup(alg->parameter->value.object);
    if (!encoded || !algorithm || !curve ||
        !X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), algorithm, V_ASN1_OBJECT, curve, encoded, bits->length)) {
        OPENSSL_free(encoded);
        ASN1_OBJECT_free(algorithm);
        ASN1_OBJECT_free(curve);
        goto done;
    }
    ok = 1;
done:
    EC_POINT_free(point);
    EC_GROUP_free(group);
    X509_ALGOR_free(alg);
    sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
    return ok;
}
