# mailgate: runs from its TypeScript sources (Node strips the types; no build step), as an unprivileged user.
# What it runs from is the `files` list in package.json, the one list of its run-time files: the
# first stage packs exactly that (npm pack), so the image holds what tests/integration/ops/
# packed-file-set.test.ts packs, installs and serves.
FROM node:24-bookworm-slim AS files
WORKDIR /context
COPY . .
# patches/ is made to exist even when there are none, so the runtime stage can copy it as is.
RUN npm pack --silent --pack-destination /tmp \
  && mkdir /files \
  && tar -xzf /tmp/mailgate-*.tgz -C /files --strip-components=1 \
  && mkdir -p /files/patches

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# npm pack leaves the lock file out, so it comes from the context; patches/ goes in before
# npm ci, whose postinstall (patch-package) applies them to node_modules.
COPY --from=files /files/package.json ./
COPY package-lock.json ./
COPY --from=files /files/patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=files /files ./
# 0700: raw mail, the secret key and the admin token are for mailgate's user only; a new named
# volume takes this mode from the image.
RUN install -d -o node -g node -m 0700 /data
USER node
ENV DATA_DIR=/data PORT=3000
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# node itself, not npm, so there is one process and docker stop's SIGTERM reaches mailgate.
CMD ["node", "src/main.ts"]
