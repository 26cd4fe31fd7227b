# One image recipe for every service: docker build --build-arg SERVICE=scheduler -t runnerhub/scheduler .
# BASE_IMAGE is an argument so machines without a registry can build from a locally imported image
# (scripts/build-node-base-image.sh makes runnerhub/node-base:dev; `make images` does it all).
# The build stages need the npm registry (npm ci); the final image holds no npm install of its own.
ARG BASE_IMAGE=node:24-bookworm-slim

# --- manifests: only the workspaces' package.json (and bin/ scripts npm links), so that the npm ci
# below stays cached while only sources change.
FROM ${BASE_IMAGE} AS manifests
WORKDIR /src
COPY libs ./libs
COPY services ./services
COPY tools ./tools
# npm ci wants every workspace the root package.json names; e2e and bench only for their manifests.
COPY e2e/package.json ./e2e/
COPY bench/package.json ./bench/
RUN set -e; for f in */*/package.json */package.json */*/bin; do \
      if [ -e "$f" ]; then mkdir -p "/manifests/$(dirname "$f")"; cp -a "$f" "/manifests/$f"; fi; \
    done

# --- deps: every dependency (dev included), at the lockfile's versions ----------------------------
FROM ${BASE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json ./
COPY --from=manifests /manifests/ ./
RUN npm ci --ignore-scripts --no-audit --no-fund

# --- build: the libraries and all six services compiled to dist/ ----------------------------------
# Independent of SERVICE, so the six image builds share this stage from the cache.
FROM deps AS build
COPY libs ./libs
COPY services ./services
# tsc resolves the other libraries from their sources (condition runnerhub-source), so order does
# not matter; at run time each library's package.json points to its dist/.
RUN set -e; for p in libs/contracts libs/secrets libs/platform libs/github libs/docker services/*; do \
      echo "tsc $p"; node_modules/.bin/tsc -p "$p/tsconfig.build.json"; \
    done

# --- prod-deps: production dependencies of the runtime libraries and this one service --------------
# All runtime libraries, not only those the service's package.json names (a service may import a
# library through another, or without declaring it); libs/testing is for tests only. The root
# package.json is cut down to these workspaces, so npm ci installs (at the lockfile's versions, from
# the npm cache the deps stage filled) only their production dependencies, not those of the other
# services, tools/*, e2e or bench. Cached until a manifest or the lockfile changes.
FROM deps AS prod-deps
ARG SERVICE
RUN test -n "${SERVICE}" && test -f "services/${SERVICE}/package.json" || { \
      echo "build with --build-arg SERVICE=<one of: $(ls services | tr '\n' ' ')>" >&2; exit 1; }
ENV RUNTIME_LIBS="libs/contracts libs/secrets libs/platform libs/github libs/docker"
# SERVICE=all-in-one (the six in one process, docs/operations.md "All in one process") carries the six too.
ENV ALL_IN_ONE_SERVICES_DIRS="services/container-executor services/pool-manager services/scheduler services/webhook-gateway services/status-reporter services/metrics"
RUN if [ "${SERVICE}" = all-in-one ]; then OWN="${ALL_IN_ONE_SERVICES_DIRS} services/all-in-one"; else OWN="services/${SERVICE}"; fi; \
    WORKSPACES="${RUNTIME_LIBS} ${OWN}" node -e ' \
      const fs = require("fs"); const p = JSON.parse(fs.readFileSync("package.json", "utf8")); \
      p.workspaces = process.env.WORKSPACES.split(" "); \
      fs.writeFileSync("package.json", JSON.stringify(p, null, 2) + "\n");' \
 && rm -rf node_modules */*/node_modules */node_modules \
 && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund

# --- prod: what the image holds, laid out in /out ---------------------------------------------------
# package.json, the production node_modules (with the libraries' own nested ones) and, of each
# runtime library and the service, its package.json and dist/ (the service also its migrations/).
# Links to workspaces this image does not carry (none expected) would dangle: they are dropped.
FROM prod-deps AS prod
ARG SERVICE
COPY --from=build /src/libs /built/libs
COPY --from=build /src/services /built/services
RUN set -e; mkdir -p /out; cp -a package.json node_modules /out/; \
    if [ "${SERVICE}" = all-in-one ]; then OWN="${ALL_IN_ONE_SERVICES_DIRS} services/all-in-one"; else OWN="services/${SERVICE}"; fi; \
    for p in ${RUNTIME_LIBS} ${OWN}; do \
      mkdir -p "/out/$p"; cp -a "$p/package.json" "/built/$p/dist" "/out/$p/"; \
      if [ -d "$p/node_modules" ]; then cp -a "$p/node_modules" "/out/$p/"; fi; \
      if [ -d "/built/$p/migrations" ]; then cp -a "/built/$p/migrations" "/out/$p/"; fi; \
    done; \
    for l in /out/node_modules/@runnerhub/*; do [ -e "$l" ] || rm -f "$l"; done; \
    rm -rf /out/node_modules/.bin /out/node_modules/.package-lock.json; \
    test -f "/out/services/${SERVICE}/dist/main.js"

# --- the service image ---------------------------------------------------------------------------
FROM ${BASE_IMAGE}
ARG SERVICE
ENV SERVICE=${SERVICE}
WORKDIR /app
COPY --from=prod /out/ ./
USER node
# A 1 MB young-generation semi-space (V8's default is 16 MB) keeps ≈30 MB less resident per service
# for a few more cheap scavenges; measured in docs/performance.md. Add to it rather than replace it.
ENV NODE_OPTIONS="--max-semi-space-size=1"
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s CMD node -e "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["sh", "-c", "exec node services/${SERVICE}/dist/main.js"]
