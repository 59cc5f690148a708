/* C reference for hub-minimal: Azure IoT Hub telemetry over MQTT/TLS with
 * coreMQTT 2.3.1 + Azure SDK for Embedded C 1.5.0 + mbedTLS 2.28.
 *
 * usage: telemetry HOST PORT DEVICE_ID BASE64_KEY CA_FILE [COUNT]
 *
 * Takes the device's pieces as arguments (no connection-string parsing), makes a SAS token
 * valid for one hour, connects (TLS 1.2, server verified against CA_FILE; MQTT clean session,
 * keep-alive 60 s), publishes COUNT (default 10) QoS 1 messages {"seq":i} with the system
 * properties content type application/json and encoding utf-8, at most 8 unacknowledged,
 * waits for every PUBACK, disconnects. No reconnect, no token renewal, no C2D/twin/methods.
 * Exit codes: 0 all acknowledged, 1 failure (one stderr line). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include <azure/iot/az_iot_hub_client.h>
#include <core_mqtt.h>

#define WINDOW 8          /* outgoing QoS 1 publish records */
#define SAS_LIFETIME_S 3600

static void fail(const char* what)
{
  fprintf(stderr, "telemetry: %s\n", what);
  exit(1);
}

/* ---- SAS helper: key (Base64) -> HMAC-SHA256(signature) -> Base64 ---------------------- */
/* noinline (here and tls_connect): so that the linker map shows them apart from main */
__attribute__((noinline)) static int sas_sign(az_span key_b64, az_span to_sign, char* out, size_t out_size, size_t* out_len)
{
  unsigned char key[64], mac[32];
  size_t key_len;
  if (mbedtls_base64_decode(
          key, sizeof key, &key_len, az_span_ptr(key_b64), (size_t)az_span_size(key_b64))
      != 0)
    return -1;
  if (mbedtls_md_hmac(
          mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, key_len, az_span_ptr(to_sign),
          (size_t)az_span_size(to_sign), mac)
      != 0)
    return -1;
  return mbedtls_base64_encode((unsigned char*)out, out_size, out_len, mac, sizeof mac);
}

/* ---- transport: mbedTLS over a TCP socket ----------------------------------------------- */
struct NetworkContext
{
  mbedtls_net_context net;
  mbedtls_ssl_context ssl;
  mbedtls_ssl_config conf;
  mbedtls_x509_crt ca;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
};

__attribute__((noinline)) static int tls_connect(NetworkContext_t* n, const char* host, const char* port, const char* ca_file)
{
  mbedtls_net_init(&n->net);
  mbedtls_ssl_init(&n->ssl);
  mbedtls_ssl_config_init(&n->conf);
  mbedtls_x509_crt_init(&n->ca);
  mbedtls_entropy_init(&n->entropy);
  mbedtls_ctr_drbg_init(&n->drbg);
  if (mbedtls_ctr_drbg_seed(&n->drbg, mbedtls_entropy_func, &n->entropy, NULL, 0) != 0
      || mbedtls_x509_crt_parse_file(&n->ca, ca_file) != 0
      || mbedtls_ssl_config_defaults(
             &n->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT)
          != 0)
    return -1;
  mbedtls_ssl_conf_min_version(&n->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_max_version(&n->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_authmode(&n->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(&n->conf, &n->ca, NULL);
  mbedtls_ssl_conf_rng(&n->conf, mbedtls_ctr_drbg_random, &n->drbg);
  mbedtls_ssl_conf_read_timeout(&n->conf, 10); /* ms: coreMQTT polls */
  if (mbedtls_ssl_setup(&n->ssl, &n->conf) != 0 || mbedtls_ssl_set_hostname(&n->ssl, host) != 0
      || mbedtls_net_connect(&n->net, host, port, MBEDTLS_NET_PROTO_TCP) != 0)
    return -1;
  mbedtls_ssl_set_bio(&n->ssl, &n->net, mbedtls_net_send, NULL, mbedtls_net_recv_timeout);
  int rc;
  while ((rc = mbedtls_ssl_handshake(&n->ssl)) != 0)
    if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE
        && rc != MBEDTLS_ERR_SSL_TIMEOUT) /* the 10 ms read timeout: keep waiting */
      return -1;
  return 0;
}

/* coreMQTT wants 0 for "nothing yet", a negative value for a broken connection. */
static int32_t tls_recv(NetworkContext_t* n, void* buf, size_t len)
{
  int rc = mbedtls_ssl_read(&n->ssl, buf, len);
  if (rc == MBEDTLS_ERR_SSL_TIMEOUT || rc == MBEDTLS_ERR_SSL_WANT_READ
      || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
    return 0;
  return rc == 0 ? -1 : rc; /* 0 from mbedTLS: the peer closed */
}

static int32_t tls_send(NetworkContext_t* n, const void* buf, size_t len)
{
  int rc = mbedtls_ssl_write(&n->ssl, buf, len);
  return (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) ? 0 : rc;
}

static uint32_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint32_t)(ts.tv_sec * 1000u + ts.tv_nsec / 1000000);
}

/* ---- MQTT events: only PUBACKs matter here --------------------------------------------- */
static unsigned long acknowledged;

static void on_event(MQTTContext_t* c, MQTTPacketInfo_t* packet, MQTTDeserializedInfo_t* info)
{
  (void)c;
  (void)info;
  if (packet->type == MQTT_PACKET_TYPE_PUBACK)
    acknowledged++;
}

int main(int argc, char** argv)
{
  if (argc < 6)
    fail("usage: telemetry HOST PORT DEVICE_ID BASE64_KEY CA_FILE [COUNT]");
  const char* host = argv[1];
  unsigned long count = argc > 6 ? strtoul(argv[6], NULL, 10) : 10;

  /* Identity: client id, user name and SAS password from the Azure client. */
  static az_iot_hub_client hub;
  static char client_id[128], user_name[256], signature[256], sig_b64[64], password[512];
  static char topic[256], properties_buffer[64];
  size_t client_id_len, user_name_len, password_len, sig_b64_len, topic_len;
  az_span sig_span;
  uint64_t expiry = (uint64_t)time(NULL) + SAS_LIFETIME_S;
  if (az_result_failed(az_iot_hub_client_init(
          &hub, az_span_create_from_str((char*)host), az_span_create_from_str(argv[3]), NULL))
      || az_result_failed(
          az_iot_hub_client_get_client_id(&hub, client_id, sizeof client_id, &client_id_len))
      || az_result_failed(
          az_iot_hub_client_get_user_name(&hub, user_name, sizeof user_name, &user_name_len))
      || az_result_failed(az_iot_hub_client_sas_get_signature(
          &hub, expiry, AZ_SPAN_FROM_BUFFER(signature), &sig_span)))
    fail("cannot build the identity");
  if (sas_sign(
          az_span_create_from_str(argv[4]), sig_span, sig_b64, sizeof sig_b64, &sig_b64_len)
      != 0)
    fail("cannot sign the SAS token (is the key Base64?)");
  if (az_result_failed(az_iot_hub_client_sas_get_password(
          &hub, expiry, az_span_create((uint8_t*)sig_b64, (int32_t)sig_b64_len), AZ_SPAN_EMPTY,
          password, sizeof password, &password_len)))
    fail("cannot build the SAS token");

  /* Telemetry topic with the property bag, built once. */
  az_iot_message_properties props;
  if (az_result_failed(az_iot_message_properties_init(
          &props, AZ_SPAN_FROM_BUFFER(properties_buffer), 0))
      || az_result_failed(az_iot_message_properties_append(
          &props, AZ_SPAN_FROM_STR(AZ_IOT_MESSAGE_PROPERTIES_CONTENT_TYPE),
          AZ_SPAN_FROM_STR("application%2Fjson")))
      || az_result_failed(az_iot_message_properties_append(
          &props, AZ_SPAN_FROM_STR(AZ_IOT_MESSAGE_PROPERTIES_CONTENT_ENCODING),
          AZ_SPAN_FROM_STR("utf-8")))
      || az_result_failed(az_iot_hub_client_telemetry_get_publish_topic(
          &hub, &props, topic, sizeof topic, &topic_len)))
    fail("cannot build the telemetry topic");

  /* TLS, then MQTT. */
  static NetworkContext_t network;
  if (tls_connect(&network, host, argv[2], argv[5]) != 0)
    fail("TLS connection failed");
  static uint8_t buffer[1024];
  static MQTTPubAckInfo_t outgoing[WINDOW];
  static MQTTContext_t mqtt;
  TransportInterface_t transport = { tls_recv, tls_send, NULL, &network };
  MQTTFixedBuffer_t fixed = { buffer, sizeof buffer };
  if (MQTT_Init(&mqtt, &transport, now_ms, on_event, &fixed) != MQTTSuccess
      || MQTT_InitStatefulQoS(&mqtt, outgoing, WINDOW, NULL, 0) != MQTTSuccess)
    fail("MQTT init failed");
  MQTTConnectInfo_t connect = {
    .cleanSession = true,
    .keepAliveSeconds = 60,
    .pClientIdentifier = client_id,
    .clientIdentifierLength = (uint16_t)client_id_len,
    .pUserName = user_name,
    .userNameLength = (uint16_t)user_name_len,
    .pPassword = password,
    .passwordLength = (uint16_t)password_len,
  };
  bool session_present;
  if (MQTT_Connect(&mqtt, &connect, NULL, 10000, &session_present) != MQTTSuccess)
    fail("MQTT connection refused or failed");

  /* Publish while the window has room, otherwise read acknowledgements. */
  unsigned long sent = 0;
  char payload[32];
  while (acknowledged < count)
  {
    if (sent < count && sent - acknowledged < WINDOW)
    {
      MQTTPublishInfo_t publish = { 0 };
      publish.qos = MQTTQoS1;
      publish.pTopicName = topic;
      publish.topicNameLength = (uint16_t)topic_len;
      publish.pPayload = payload;
      publish.payloadLength = (size_t)snprintf(payload, sizeof payload, "{\"seq\":%lu}", sent);
      if (MQTT_Publish(&mqtt, &publish, MQTT_GetPacketId(&mqtt)) != MQTTSuccess)
        fail("publish failed");
      sent++;
    }
    else
    {
      MQTTStatus_t status = MQTT_ProcessLoop(&mqtt);
      if (status != MQTTSuccess && status != MQTTNeedMoreBytes)
        fail("connection lost");
    }
  }
  MQTT_Disconnect(&mqtt);
  mbedtls_ssl_close_notify(&network.ssl);
  mbedtls_net_free(&network.net);
  printf("sent and acknowledged: %lu\n", count);
  return 0;
}
