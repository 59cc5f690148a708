/*
 * mbedTLS 2.28 configuration of TinyHub's 1 MB device profile (scripts/build/device-profile.sh,
 * docs/device-profile.md). It replaces include/mbedtls/config.h of Debian's mbedtls source
 * package before the library is built with musl-gcc, and the Swift objects are compiled
 * against the same headers, so both sides agree on every struct layout.
 *
 * What TinyHub asks of mbedTLS (Sources/TinyTLS, Sources/CTinyPlatform/platform.c):
 *   - a TLS 1.2 client with SNI, certificate chain and host name verification always on;
 *   - the four cipher suites of tp_tls_ciphersuites(): ECDHE-ECDSA / ECDHE-RSA with
 *     AES-128-GCM-SHA256 / AES-256-GCM-SHA384 (Azure IoT Hub's recommended suites);
 *   - X.509 and PEM parsing, RSA and ECDSA signatures: the Azure roots are RSA (DigiCert
 *     Global Root G2: 2048 bit; Microsoft RSA Root CA 2017: 4096 bit) and ECDSA P-384
 *     (DigiCert Global Root G3); X.509 devices bring an EC or RSA key;
 *   - CTR-DRBG (seeded from getrandom() by TinyTLS: no entropy module);
 *   - HMAC-SHA256 and base64 (SAS tokens, for IoT Hub and for DPS alike), SHA-1 (the
 *     WebSocket opening handshake: Sec-WebSocket-Accept).
 * Everything else is off. Each option below says why it is there.
 */
#ifndef TINYHUB_MBEDTLS_CONFIG_H
#define TINYHUB_MBEDTLS_CONFIG_H

/* ---- System ---------------------------------------------------------------------------- */

/* Inline assembly for the bignum multiply loops (x86-64, ARM): the handshake's RSA and ECP work. */
#define MBEDTLS_HAVE_ASM
/* time(): the handshake's timestamps. */
#define MBEDTLS_HAVE_TIME
/* gmtime_r(): certificate validity periods are checked against the wall clock. */
#define MBEDTLS_HAVE_TIME_DATE
/* fopen()/fread(): IOTHUB_TRUSTED_CA_FILE, IOTHUB_DEVICE_CERT_FILE / _KEY_FILE
 * (mbedtls_x509_crt_parse_file, mbedtls_pk_parse_keyfile). */
#define MBEDTLS_FS_IO
/* No MBEDTLS_PLATFORM_C: mbedTLS calls calloc/free directly, which the device profile's
 * budget allocator wraps at link time (--wrap=calloc,free). */

/* ---- Hashes, MACs, encodings ------------------------------------------------------------- */

/* The message-digest layer: HMAC (SAS tokens), the TLS PRF, certificate signatures. */
#define MBEDTLS_MD_C
/* SHA-1: the WebSocket handshake only (certificates signed with SHA-1 stay refused by
 * mbedTLS's default certificate profile). */
#define MBEDTLS_SHA1_C
/* SHA-256: HMAC-SHA256 for SAS tokens (hub and DPS), the *_SHA256 suites, signatures. */
#define MBEDTLS_SHA256_C
/* SHA-384 (built by the SHA-512 module): the *_SHA384 suites, P-384 / SHA-384 signatures. */
#define MBEDTLS_SHA512_C
/* The compression functions as loops rather than unrolled rounds: smaller code for some speed
 * (a message's HMAC and the handshake hash only a few KB). */
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_SHA512_SMALLER
/* base64: SAS keys and signatures, PEM. */
#define MBEDTLS_BASE64_C

/* ---- Ciphers and the random generator ---------------------------------------------------- */

/* AES: GCM records and the ECP module's CTR-DRBG. */
#define MBEDTLS_AES_C
/* Constant tables in read-only data instead of tables built in RAM at the first use. */
#define MBEDTLS_AES_ROM_TABLES
/* One 1 KB table per direction instead of four (rotated at run time): 6 KB less. */
#define MBEDTLS_AES_FEWER_TABLES
/* The generic cipher layer the TLS record code goes through. */
#define MBEDTLS_CIPHER_C
/* AES-GCM: the only record protection offered. */
#define MBEDTLS_GCM_C
/* CTR-DRBG: the ECP module's own generator (blinding where no generator is passed in, as in
 * ECDSA verification). TinyTLS itself draws its random bytes from getrandom(). */
#define MBEDTLS_CTR_DRBG_C

/* ---- Public keys ------------------------------------------------------------------------- */

#define MBEDTLS_BIGNUM_C
/* RSA with PKCS#1 v1.5 signatures: the RSA roots and intermediates, ECDHE-RSA's signed key
 * exchange, RSA device keys. No PKCS#1 v2.1 (PSS/OAEP): TLS 1.2 does not need it. */
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
/* Elliptic curves: ECDHE and ECDSA. */
#define MBEDTLS_ECP_C
/* P-256: ECDHE, EC device keys, ECDSA intermediates. */
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
/* P-384: DigiCert Global Root G3 and its intermediates, ECDHE with servers that prefer it. */
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
/* Fast reduction for the NIST primes: the handshake is most of a waking device's work. */
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
/* The public-key layer, key parsing (device keys: PEM or DER, SEC1 / PKCS#1 / PKCS#8). */
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
/* ASN.1: certificates and keys (parse), ECDSA signatures (write: mbedTLS requires it). */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
/* PEM: the Azure roots are built in as PEM, CA and device files are PEM. */
#define MBEDTLS_PEM_PARSE_C

/* ---- X.509 ------------------------------------------------------------------------------- */

#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
/* Key usage and extended key usage are checked (a CA key cannot pose as a server). */
#define MBEDTLS_X509_CHECK_KEY_USAGE
#define MBEDTLS_X509_CHECK_EXTENDED_KEY_USAGE

/* ---- TLS --------------------------------------------------------------------------------- */

/* A client only: no MBEDTLS_SSL_SRV_C, no DTLS, no TLS 1.0/1.1, no renegotiation. */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
/* The two key exchanges of the four suites. */
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
/* Only these suites exist in the library (same list and order as tp_tls_ciphersuites()). */
#define MBEDTLS_SSL_CIPHERSUITES \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, \
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, \
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
/* SNI: IoT Hub and DPS serve many host names on one address. */
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
/* RFC 7627: the master secret covers the whole handshake. */
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
/* An alert tells the server why the handshake ended. */
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
/* No MBEDTLS_SSL_KEEP_PEER_CERTIFICATE: TinyHub never reads the server's certificate after
 * the handshake, so mbedTLS keeps its digest instead of the parsed chain (heap). */
/* No MBEDTLS_SSL_SESSION_TICKETS, MBEDTLS_SSL_ALPN, MBEDTLS_SSL_MAX_FRAGMENT_LENGTH,
 * MBEDTLS_SSL_ENCRYPT_THEN_MAC (CBC only), MBEDTLS_DEBUG_C (no debug hooks in the record
 * path), MBEDTLS_ERROR_C (TinyTLS maps the codes itself), MBEDTLS_NET_C (TinyHub's sockets). */

/* Record buffers.
 * In: a whole record of up to 16 KB of plaintext (2^14, RFC 5246 §6.2.1), the largest the
 * hub may send. It could only be smaller if the server agreed to a smaller maximum fragment
 * length (RFC 6066 §4); IoT Hub offers that only as a preview feature, and a record larger than
 * the buffer ends the connection, so the profile does not count on it.
 * Out: 4 KB. mbedtls_ssl_write then takes at most 4 KB per call and returns how much it took;
 * TLSTransport.send loops until every byte is written, so a larger MQTT packet leaves as
 * several records. TinyHub's own packets (CONNECT with its SAS token, PUBLISH of a telemetry
 * message up to a few KB, HTTPS requests) mostly fit in one. */
#define MBEDTLS_SSL_IN_CONTENT_LEN  16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096

/* Heap during the handshake: windows of 2 (the smallest useful) for scalar multiplication
 * and modular exponentiation, and no fixed-point tables, trade some handshake time for a
 * lower peak. RSA public operations (e = 65537) use a window of 1 whatever this says. */
#define MBEDTLS_ECP_WINDOW_SIZE 2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0
#define MBEDTLS_MPI_WINDOW_SIZE 2
/* Largest number: 4096-bit RSA (Microsoft RSA Root CA 2017) is 512 bytes. */
#define MBEDTLS_MPI_MAX_SIZE 512

#include "mbedtls/check_config.h"

#endif /* TINYHUB_MBEDTLS_CONFIG_H */
