# haconfd with Debian's haproxy (for `haproxy -c`) and socat (for the master socket reload).
# Build context: the repository root.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --ignore-scripts
COPY src ./src
RUN npx tsc -p tsconfig.json

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends haproxy socat \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/haconfd
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts
COPY --from=build /src/dist ./dist
COPY templates /etc/haconfd/templates
ENTRYPOINT ["node", "/opt/haconfd/dist/cli/main.js"]
