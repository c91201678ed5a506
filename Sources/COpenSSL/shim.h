// The only place Tasker includes OpenSSL (libcrypto, the library libssh2 links
// too): digests, MACs, key derivation and ciphers for the platform layer, and
// OpenSSL's side of user keys — building keys from the numbers a key file
// holds, reading PEM files, signing. The Swift code calls only these.
#ifndef TASKER_OPENSSL_SHIM_H
#define TASKER_OPENSSL_SHIM_H

#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

/// Kinds of key Tasker signs with (EVP_PKEY_get_base_id's answer, narrowed).
enum { TASKER_KEY_OTHER = 0, TASKER_KEY_ED25519 = 1, TASKER_KEY_RSA = 2, TASKER_KEY_EC = 3 };

static inline int tasker_key_kind(const void *key) {
    switch (EVP_PKEY_get_base_id((const EVP_PKEY *)key)) {
    case EVP_PKEY_ED25519: return TASKER_KEY_ED25519;
    case EVP_PKEY_RSA: return TASKER_KEY_RSA;
    case EVP_PKEY_EC: return TASKER_KEY_EC;
    default: return TASKER_KEY_OTHER;
    }
}

static inline void tasker_key_free(void *key) {
    EVP_PKEY_free((EVP_PKEY *)key);
}

/// An ed25519 private key from its 32-byte seed.
static inline void *tasker_ed25519_key_new(const unsigned char *seed) {
    return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
}

static inline void *tasker_key_from_params(const char *type, OSSL_PARAM_BLD *builder) {
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(builder);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *key = NULL;
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return key;
}

/// An RSA private key from OpenSSH's numbers (big-endian magnitudes). The CRT
/// exponents OpenSSH does not store are derived, so signing runs at full speed.
static inline void *tasker_rsa_key_new(const unsigned char *n, size_t n_length,
                                       const unsigned char *e, size_t e_length,
                                       const unsigned char *d, size_t d_length,
                                       const unsigned char *iqmp, size_t iqmp_length,
                                       const unsigned char *p, size_t p_length,
                                       const unsigned char *q, size_t q_length) {
    BN_CTX *bn_ctx = BN_CTX_new();
    BIGNUM *bn_n = BN_bin2bn(n, (int)n_length, NULL), *bn_e = BN_bin2bn(e, (int)e_length, NULL);
    BIGNUM *bn_d = BN_bin2bn(d, (int)d_length, NULL), *bn_iqmp = BN_bin2bn(iqmp, (int)iqmp_length, NULL);
    BIGNUM *bn_p = BN_bin2bn(p, (int)p_length, NULL), *bn_q = BN_bin2bn(q, (int)q_length, NULL);
    BIGNUM *p1 = BN_new(), *q1 = BN_new(), *dmp1 = BN_new(), *dmq1 = BN_new();
    OSSL_PARAM_BLD *builder = OSSL_PARAM_BLD_new();
    void *key = NULL;
    if (bn_ctx && bn_n && bn_e && bn_d && bn_iqmp && bn_p && bn_q && p1 && q1 && dmp1 && dmq1 && builder
        && BN_sub(p1, bn_p, BN_value_one()) && BN_sub(q1, bn_q, BN_value_one())
        && BN_mod(dmp1, bn_d, p1, bn_ctx) && BN_mod(dmq1, bn_d, q1, bn_ctx)
        && OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_N, bn_n)
        && OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_E, bn_e)
        && OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_D, bn_d)
        && OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_FACTOR1, bn_p)
        && OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_FACTOR2, bn_q)
        && OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_EXPONENT1, dmp1)
        && OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_EXPONENT2, dmq1)
        && OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, bn_iqmp))
        key = tasker_key_from_params("RSA", builder);
    OSSL_PARAM_BLD_free(builder);
    BN_clear_free(bn_d); BN_clear_free(bn_p); BN_clear_free(bn_q); BN_clear_free(bn_iqmp);
    BN_clear_free(p1); BN_clear_free(q1); BN_clear_free(dmp1); BN_clear_free(dmq1);
    BN_free(bn_n); BN_free(bn_e);
    BN_CTX_free(bn_ctx);
    return key;
}

/// An ECDSA private key on `group` (OpenSSL's name, e.g. "prime256v1") from its
/// uncompressed public point and private scalar.
static inline void *tasker_ecdsa_key_new(const char *group, const unsigned char *point, size_t point_length,
                                         const unsigned char *scalar, size_t scalar_length) {
    BIGNUM *private_key = BN_bin2bn(scalar, (int)scalar_length, NULL);
    OSSL_PARAM_BLD *builder = OSSL_PARAM_BLD_new();
    void *key = NULL;
    if (private_key && builder
        && OSSL_PARAM_BLD_push_utf8_string(builder, OSSL_PKEY_PARAM_GROUP_NAME, group, 0)
        && OSSL_PARAM_BLD_push_octet_string(builder, OSSL_PKEY_PARAM_PUB_KEY, point, point_length)
        && OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_PRIV_KEY, private_key))
        key = tasker_key_from_params("EC", builder);
    OSSL_PARAM_BLD_free(builder);
    BN_clear_free(private_key);
    return key;
}

static inline int tasker_pem_passphrase(char *buffer, int size, int rwflag, void *passphrase) {
    (void)rwflag;
    if (passphrase == NULL) return -1;
    size_t length = strlen((const char *)passphrase);
    if (length > (size_t)size) return -1;
    memcpy(buffer, passphrase, length);
    return (int)length;
}

/// Reads a PEM private key (PKCS#1, SEC1, PKCS#8, encrypted or not); NULL when it cannot,
/// which for an encrypted key means a wrong or missing passphrase (see IdentityFile).
static inline void *tasker_pem_key_read(const void *pem, size_t length, const char *passphrase) {
    BIO *bio = BIO_new_mem_buf(pem, (int)length);
    if (bio == NULL) return NULL;
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, tasker_pem_passphrase, (void *)passphrase);
    BIO_free(bio);
    ERR_clear_error();
    return key;
}

/// A big-number parameter of a key ("n", "e" for RSA) as a big-endian
/// magnitude; returns its length, or -1 when it does not fit `capacity`.
static inline int tasker_key_bn_param(const void *key, const char *name, unsigned char *out, size_t capacity) {
    BIGNUM *value = NULL;
    if (EVP_PKEY_get_bn_param((const EVP_PKEY *)key, name, &value) != 1) return -1;
    int length = BN_num_bytes(value);
    int ok = (size_t)length <= capacity && BN_bn2bin(value, out) == length;
    BN_free(value);
    return ok ? length : -1;
}

/// An octet-string parameter of a key (an EC key's "encoded-pub-key"); returns its length or -1.
static inline int tasker_key_octet_param(const void *key, const char *name, unsigned char *out, size_t capacity) {
    size_t length = 0;
    if (EVP_PKEY_get_octet_string_param((const EVP_PKEY *)key, name, out, capacity, &length) != 1) return -1;
    return (int)length;
}

/// An EC key's curve name as OpenSSL spells it ("prime256v1"); returns its length or -1.
static inline int tasker_key_group_name(const void *key, char *out, size_t capacity) {
    size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param((const EVP_PKEY *)key, OSSL_PKEY_PARAM_GROUP_NAME, out, capacity, &length) != 1)
        return -1;
    return (int)length;
}

/// An ed25519 key's 32-byte public key.
static inline int tasker_ed25519_public_key(const void *key, unsigned char *out) {
    size_t length = 32;
    return EVP_PKEY_get_raw_public_key((const EVP_PKEY *)key, out, &length) == 1 && length == 32 ? 0 : -1;
}

/// Signs `data` with `key`, hashing with `digest` ("SHA512", …; NULL for
/// ed25519). The signature is malloc'd: RSA's PKCS#1 v1.5 bytes, ECDSA's DER
/// SEQUENCE, ed25519's 64 bytes.
static inline int tasker_key_sign(const void *key, const char *digest, const unsigned char *data, size_t data_length,
                                  unsigned char **signature, size_t *signature_length) {
    const EVP_MD *md = digest != NULL ? EVP_get_digestbyname(digest) : NULL;
    if (digest != NULL && md == NULL) return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) return -1;
    size_t length = (size_t)EVP_PKEY_get_size((const EVP_PKEY *)key);
    unsigned char *out = malloc(length > 0 ? length : 1);
    int ok = out != NULL
        && EVP_DigestSignInit(ctx, NULL, md, NULL, (EVP_PKEY *)key) == 1
        && EVP_DigestSign(ctx, out, &length, data, data_length) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        free(out);
        return -1;
    }
    *signature = out;
    *signature_length = length;
    return 0;
}

/// Runs an unauthenticated stream or block cipher ("AES-256-CTR",
/// "AES-256-CBC", "ChaCha20" with OpenSSL's 16-byte counter‖nonce IV) over
/// `length` bytes. Returns 0 on success.
static inline int tasker_cipher(const char *name, int encrypt, const unsigned char *key, const unsigned char *iv,
                                const unsigned char *in, size_t length, unsigned char *out) {
    const EVP_CIPHER *cipher = EVP_get_cipherbyname(name);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int written = 0, final = 0;
    int ok = cipher != NULL && ctx != NULL
        && EVP_CipherInit_ex(ctx, cipher, NULL, key, iv, encrypt) == 1
        && EVP_CIPHER_CTX_set_padding(ctx, 0) == 1
        && EVP_CipherUpdate(ctx, out, &written, in, (int)length) == 1
        && EVP_CipherFinal_ex(ctx, out + written, &final) == 1
        && (size_t)(written + final) == length;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

/// AES-256-GCM with a 12-byte IV, no additional data and a 16-byte tag
/// (OpenSSH's aes256-gcm@openssh.com for key files). Decrypting checks `tag`;
/// encrypting writes it. Returns 0 on success, -1 on a bad tag or error.
static inline int tasker_aes256_gcm(int encrypt, const unsigned char *key, const unsigned char *iv,
                                    const unsigned char *in, size_t length, unsigned char *out, unsigned char *tag) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int written = 0, final = 0;
    int ok = ctx != NULL
        && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt) == 1
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1
        && EVP_CipherInit_ex(ctx, NULL, NULL, key, iv, encrypt) == 1
        && (encrypt || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1)
        && EVP_CipherUpdate(ctx, out, &written, in, (int)length) == 1
        && EVP_CipherFinal_ex(ctx, out + written, &final) == 1
        && (!encrypt || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1);
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

/// Poly1305 of `data` under a one-time 32-byte key into `tag` (16 bytes).
static inline int tasker_poly1305(const unsigned char *key, const unsigned char *data, size_t length, unsigned char *tag) {
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "POLY1305", NULL);
    EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    size_t written = 0;
    int ok = ctx != NULL
        && EVP_MAC_init(ctx, key, 32, NULL) == 1
        && EVP_MAC_update(ctx, data, length) == 1
        && EVP_MAC_final(ctx, tag, &written, 16) == 1
        && written == 16;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok ? 0 : -1;
}

/// SHA-512 of a buffer into `out` (64 bytes).
static inline int tasker_sha512(const void *data, size_t length, unsigned char *out) {
    unsigned int written = 0;
    return EVP_Digest(data, length, out, &written, EVP_sha512(), NULL) == 1 && written == 64 ? 0 : -1;
}

/// PBKDF2 with HMAC-SHA256 (Ansible Vault's key derivation).
static inline int tasker_pbkdf2_sha256(const unsigned char *password, size_t password_length,
                                       const unsigned char *salt, size_t salt_length, int iterations,
                                       unsigned char *out, size_t out_length) {
    return PKCS5_PBKDF2_HMAC((const char *)password, (int)password_length, salt, (int)salt_length, iterations,
                             EVP_sha256(), (int)out_length, out) == 1 ? 0 : -1;
}

/// HMAC of `data` with SHA-256 (`sha1` false, 32 bytes into `out`) or SHA-1 (20 bytes;
/// hashed known_hosts entries).
static inline int tasker_hmac(int sha1, const unsigned char *key, size_t key_length, const unsigned char *data, size_t length,
                              unsigned char *out) {
    unsigned int written = 0;
    unsigned int expected = sha1 ? 20 : 32;
    return HMAC(sha1 ? EVP_sha1() : EVP_sha256(), key, (int)key_length, data, length, out, &written) != NULL
        && written == expected ? 0 : -1;
}

/// Overwrites secret bytes in a way the compiler keeps.
static inline void tasker_wipe(void *bytes, size_t length) {
    OPENSSL_cleanse(bytes, length);
}

/// SHA-256 of a buffer into `out` (32 bytes).
static inline int tasker_sha256(const void *data, size_t length, unsigned char *out) {
    unsigned int written = 0;
    return EVP_Digest(data, length, out, &written, EVP_sha256(), NULL) == 1 && written == 32 ? 0 : -1;
}

/// Incremental SHA-256 for data read in pieces (files pushed to hosts).
static inline void *tasker_sha256_begin(void) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static inline int tasker_sha256_update(void *ctx, const void *data, size_t length) {
    return EVP_DigestUpdate((EVP_MD_CTX *)ctx, data, length) == 1 ? 0 : -1;
}

/// Writes the 32-byte digest and frees the context.
static inline int tasker_sha256_end(void *ctx, unsigned char *out) {
    unsigned int written = 0;
    int ok = EVP_DigestFinal_ex((EVP_MD_CTX *)ctx, out, &written) == 1 && written == 32;
    EVP_MD_CTX_free((EVP_MD_CTX *)ctx);
    return ok ? 0 : -1;
}

#endif
