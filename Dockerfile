# One image for the three processes; docker-compose picks the command.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# glibc: two malloc arenas instead of eight per core; each thread's arena kept up to ~60 MB idle.
ENV MALLOC_ARENA_MAX=2
WORKDIR /app
RUN useradd --system --uid 10001 lightbox && mkdir -p /spool && chown lightbox /spool
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER lightbox
# DIMSE and HTTP; bind to all interfaces inside the container only (compose publishes the ports).
ENV DICOM_HOST=0.0.0.0 HTTP_HOST=0.0.0.0 SPOOL_DIR=/spool
EXPOSE 11112 8042
CMD ["node", "--heap-growing-percent=300", "--max-semi-space-size=2", "--v8-pool-size=1", "dist/bin/lightbox.js"]
