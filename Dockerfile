# The service image: the same code runs as the API (ROLE=api) or a worker
# (ROLE=worker); docker-compose.yml runs both. Node runs TypeScript through
# tsx, as `npm start` does, and receives SIGTERM itself (no npm in between),
# so shutdown drains requests and hands back tasks.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY temporal ./temporal
USER node
EXPOSE 3000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--import", "tsx", "src/main.ts"]
