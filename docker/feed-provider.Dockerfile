# The lossless Kafka feed's provider (triggers/lossless), for users with Docker: run one or more beside an OpenWhisk.
#   docker build -f docker/feed-provider.Dockerfile -t ow-saga-feed-provider .
#   docker run -e CLOUDANT_URL=https://… -e CLOUDANT_APIKEY=… ow-saga-feed-provider
# It needs to reach Kafka (the brokers each trigger was registered with), the registrations' store and OpenWhisk's
# API host; settings are the LOSSLESS_FEED_* variables of triggers/lossless/lossless-settings.ts.
FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-fund --no-audit
COPY tsconfig.json ./
COPY lib ./lib
COPY local ./local
COPY triggers ./triggers
COPY scripts/feed-provider.ts ./scripts/feed-provider.ts
COPY scripts/stack ./scripts/stack
USER node
CMD ["npx", "tsx", "scripts/feed-provider.ts"]
