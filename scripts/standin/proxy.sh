#!/usr/bin/env bash
# A CONNECT proxy on loopback in front of the local stand-in, for demos. Source it after
# scripts/standin/hub.sh (stop_hub stops it too):
#   source scripts/standin/hub.sh; trap stop_hub EXIT; source scripts/standin/proxy.sh
# It starts Tests/Fixtures/connect_proxy.py (Basic credentials required) and sets
#   PROXY_PORT PROXY_USER PROXY_PASSWORD
#   PROXY_LOG   one JSON object per CONNECT the proxy answered
# and appends IOTHUB_PROXY, IOTHUB_PROXY_USER and IOTHUB_PROXY_PASSWORD to HUB_ENV, so every
# `env "${HUB_ENV[@]}" …` example run goes through the proxy.
set -euo pipefail
PROXY_USER=demo-proxy-user
PROXY_PASSWORD=$(printf 'local proxy password' | base64 -w0)
PROXY_LOG=$HUB_DIR/proxy.jsonl
standin_launch proxy 1 python3 "$STANDIN_FIXTURES/connect_proxy.py" --user "$PROXY_USER" --password "$PROXY_PASSWORD" \
  --log "$PROXY_LOG" --exit-with-parent
PROXY_PORT=$(standin_line proxy 1)
HUB_ENV+=(IOTHUB_PROXY="127.0.0.1:$PROXY_PORT" IOTHUB_PROXY_USER="$PROXY_USER" IOTHUB_PROXY_PASSWORD="$PROXY_PASSWORD")
export PROXY_PORT PROXY_USER PROXY_PASSWORD PROXY_LOG
