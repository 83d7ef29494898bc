#!/bin/bash
# Installs the alarms and Kafka packages into whisk.system of the OpenWhisk standalone, with the providers' own
# install scripts (apache/openwhisk-package-alarms 2.3.0, apache/openwhisk-package-kafka 2.1.0), fetched here.
set -euo pipefail
WSK_VERSION=1.2.0
apt-get update -qq && apt-get install -y -qq zip curl git >/dev/null
mkdir -p /openwhisk/bin
curl -fsSL "https://github.com/apache/openwhisk-cli/releases/download/${WSK_VERSION}/OpenWhisk_CLI-${WSK_VERSION}-linux-amd64.tgz" \
  | tar -xz -C /openwhisk/bin wsk
export OPENWHISK_HOME=/openwhisk PATH="/openwhisk/bin:$PATH"
until curl -fs "${API_HOST}/api/v1" >/dev/null; do echo "waiting for ${API_HOST}"; sleep 3; done
DB_URL="http://${COUCHDB_USER}:${COUCHDB_PASSWORD}@couchdb:5984"
# The standalone's runtimes: nodejs:20 is its default Node.js; the scripts' nodejs:14 does not exist there.
export ACTION_RUNTIME_VERSION=nodejs:20

git clone -q --depth 1 --branch 2.3.0 https://github.com/apache/openwhisk-package-alarms /alarms
(cd /alarms/installation && ./installCatalog.sh "$WHISK_SYSTEM_AUTH" "$API_HOST" "$API_HOST" "" "$DB_URL" "$DB_PREFIX")

git clone -q --depth 1 --branch 2.1.0 https://github.com/apache/openwhisk-package-kafka /kafka
# Its last step creates the deprecated messaging/kafkaProduce with kind python:3, which the standalone lacks: the
# feed and its web action are installed before it, so that failure is reported and not fatal.
(cd /kafka && ./installKafka.sh "$WHISK_SYSTEM_AUTH" "$API_HOST" "$DB_URL" "$DB_PREFIX" "$API_HOST") \
  || echo "installKafka.sh ended with an error (expected: kafkaProduce needs python:3); kafkaFeed is installed"
wsk -i --apihost "$API_HOST" --auth "$WHISK_SYSTEM_AUTH" package list /whisk.system
