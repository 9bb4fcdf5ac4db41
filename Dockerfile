# syntax=docker/dockerfile:1
# Build: compile TypeScript with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts here: `prepare` would compile before the sources are copied (the next RUN does).
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ormconfig.ts ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
COPY test ./test
RUN npx tsc -b tsconfig.json

# Run: production dependencies and the compiled code only, as a non-root user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=4000 HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the code comes compiled from the build stage (and TypeScript, for `prepare`, is a dev dependency).
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/migrations ./dist/migrations
COPY --from=build /app/dist/ormconfig.js ./dist/ormconfig.js
# The admin CLI (`npx trellis ...`) and the demo data its seed:demo loads.
COPY --from=build /app/dist/scripts ./dist/scripts
COPY bin ./bin
COPY demo ./demo
COPY schema ./schema
USER node
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# Production needs DATABASE_URL (a role granted trellis_app), MIGRATION_DATABASE_URL (the owner) and JWT_SECRET.
CMD ["node", "--enable-source-maps", "dist/src/main.js"]
