# haconfd with Debian's haproxy (for `haproxy -c`) and socat (for the master socket reload).
# Build context: the repository root. haconfd is installed as the README's Install says: a tarball
# made by `npm pack`, installed with `npm install -g`, so the entry point is the `haconfd` command.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json README.md ./
RUN npm ci --ignore-scripts
COPY src ./src
COPY scripts ./scripts
COPY templates ./templates
COPY conf.d ./conf.d
COPY examples ./examples
# prepare (scripts/prepare.mjs) builds dist/ into the tarball
RUN npm pack --pack-destination /tmp && mv /tmp/haconfd-*.tgz /tmp/haconfd.tgz

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends haproxy socat \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /tmp/haconfd.tgz /tmp/haconfd.tgz
RUN npm install -g --ignore-scripts --no-audit --no-fund /tmp/haconfd.tgz && rm /tmp/haconfd.tgz
COPY templates /etc/haconfd/templates
ENTRYPOINT ["haconfd"]
