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
