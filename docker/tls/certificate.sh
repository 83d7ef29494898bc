#!/bin/sh
# A self-signed certificate for the TLS front, made once; the alarms provider does not verify it.
set -eu
[ -f /tls/cert.pem ] && exit 0
apk add --no-cache openssl >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=openwhisk-tls" \
  -keyout /tls/key.pem -out /tls/cert.pem
