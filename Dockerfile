# The service image: the same code runs as API (ROLE=api) or worker (ROLE=worker).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY temporal ./temporal
USER node
EXPOSE 3000
CMD ["npx", "tsx", "src/main.ts"]
