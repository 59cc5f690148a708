// Umbrella header over Debian's mbedTLS 2.28 (libmbedtls-dev). Linking is chosen by the
// package traits (StaticMbedTLS / DynamicMbedTLS) in Package.swift, not here: Embedded
// Swift objects carry no autolink entries, so a `link` line would be ignored anyway.
#include <mbedtls/ssl.h>
#include <mbedtls/entropy.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/pk.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <mbedtls/base64.h>
#include <mbedtls/platform.h>

/// The elliptic curves TinyTLS offers for ECDHE (and accepts for an ECDSA server key), in order
/// of preference, ending with MBEDTLS_ECP_DP_NONE; static storage, as mbedtls_ssl_conf_curves
/// keeps the pointer. mbedTLS's default list starts with secp521r1 and servers take the
/// client's first choice: the two ECDHE scalar multiplications of a handshake cost 8 ms of CPU
/// on P-521, 5 on P-384, 1.9 on P-256, 2.7 on x25519 (mbedTLS 2.28, x86-64). P-256 first
/// (128-bit security, as AES-128; the curve IoT Hub's ECC certificates and most servers
/// prefer), then the other common curves, fastest first. No 192/224-bit, Koblitz or brainpool
/// curves. Only the curves the mbedTLS being compiled against has (the device profile's
/// build has P-256 and P-384 only), so a handshake never offers one it cannot compute.
static inline const mbedtls_ecp_group_id *tinyhub_tls_curves(void) {
    static const mbedtls_ecp_group_id curves[] = {
#if defined(MBEDTLS_ECP_DP_SECP256R1_ENABLED)
        MBEDTLS_ECP_DP_SECP256R1,
#endif
#if defined(MBEDTLS_ECP_DP_CURVE25519_ENABLED)
        MBEDTLS_ECP_DP_CURVE25519,
#endif
#if defined(MBEDTLS_ECP_DP_SECP384R1_ENABLED)
        MBEDTLS_ECP_DP_SECP384R1,
#endif
#if defined(MBEDTLS_ECP_DP_SECP521R1_ENABLED)
        MBEDTLS_ECP_DP_SECP521R1,
#endif
        MBEDTLS_ECP_DP_NONE,
    };
    return curves;
}
