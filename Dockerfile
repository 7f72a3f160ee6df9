# kafka-producer-service: a production image.
#   docker build -t kafka-producer-service .
#   docker run -p 8080:8080 -e KAFKA_BROKERS=broker:9092 kafka-producer-service
# Or the whole stack (Kafka, Kafka UI, Prometheus, Grafana): docker compose up --build

# Build stage: every dependency (TypeScript and friends), compiled to dist/.
FROM node:24-bookworm-slim AS build
# swagger-ui-dist's postinstall reports installs to Scarf unless told not to.
ENV SCARF_ANALYTICS=false
WORKDIR /app
# patches/ must be in place before npm ci: its postinstall (patch-package --error-on-fail) patches kafkajs and
# fails the build when a patch does not apply (patches/README.md says what each one changes).
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies and the compiled code only.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    SCARF_ANALYTICS=false
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The image's files stay root-owned and read-only to the process; it runs as the unprivileged `node` user.
USER node
EXPOSE 8080
# Readiness, not liveness: the container is healthy when Kafka is reachable and the producer connected
# (docker compose's depends_on: service_healthy waits for that). No curl in the slim image: Node's fetch.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/actuator/health/readiness').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself; main.ts drains in-flight sends and exits 0 within
# SHUTDOWN_TIMEOUT_MS (15 s by default, under docker stop's grace period set in docker-compose.yml).
STOPSIGNAL SIGTERM
CMD ["node", "--max-old-space-size=1024", "--max-semi-space-size=32", "--no-maglev", "--no-allocation-site-pretenuring", "dist/main.js"]
