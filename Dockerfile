# One image recipe for every service: docker build --build-arg SERVICE=scheduler -t runnerhub/scheduler .
# BASE_IMAGE is an argument so machines without a registry can build from a locally imported image.
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY libs ./libs
COPY services ./services
COPY tools ./tools
COPY tsconfig.base.json nx.json ./
# Libraries before the services that import them (they resolve each other's dist/ at run time).
RUN npm ci --ignore-scripts \
  && for p in libs/contracts libs/secrets libs/platform services/*; do (cd "$p" && npx tsc -p tsconfig.build.json); done \
  && npm prune --omit=dev --ignore-scripts

FROM ${BASE_IMAGE}
ARG SERVICE
ENV SERVICE=${SERVICE}
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/libs ./libs
COPY --from=build /src/services/${SERVICE} ./services/${SERVICE}
USER node
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s CMD node -e "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["sh", "-c", "exec node services/${SERVICE}/dist/main.js"]
