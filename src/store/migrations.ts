/**
 * The database schema, as ordered migrations. Each runs once, in its own
 * transaction, recorded in schema_migrations. Append; never edit a shipped one.
 */
import type { Db } from './db';

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    id: 1,
    name: 'workflows and versions',
    sql: `
      CREATE TABLE workflows (
        id text PRIMARY KEY,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        draft jsonb NOT NULL,
        draft_revision integer NOT NULL DEFAULT 1,
        live_version integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE workflow_versions (
        workflow_id text NOT NULL REFERENCES workflows(id),
        version integer NOT NULL,
        definition jsonb NOT NULL,
        published_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workflow_id, version)
      );
    `,
  },
  {
    id: 2,
    name: 'events outbox, wait subscriptions, action effects',
    sql: `
      -- Every change to an object writes its event here in the same transaction (an outbox);
      -- upstream services post theirs too. The router dispatches them in seq order.
      CREATE TABLE events (
        id text PRIMARY KEY,
        seq bigserial UNIQUE NOT NULL,
        type text NOT NULL,
        object_type text,
        object_id text,
        snapshot jsonb,
        data jsonb NOT NULL DEFAULT '{}'::jsonb,
        source text NOT NULL DEFAULT 'internal',
        occurred_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        -- A router claims a batch for a short lease; another takes over if it dies.
        claimed_until timestamptz,
        dispatched_at timestamptz
      );
      CREATE INDEX events_undispatched ON events (seq) WHERE dispatched_at IS NULL;
      CREATE INDEX events_object ON events (object_id, seq);
      CREATE INDEX events_type ON events (type, seq);

      -- Runs waiting on an object's events: the router signals each one.
      CREATE TABLE wait_subscriptions (
        run_id text NOT NULL,
        wait_key text NOT NULL,
        -- NULL: any object.
        object_id text,
        event_types text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, wait_key)
      );
      CREATE INDEX wait_subscriptions_object ON wait_subscriptions (object_id);

      -- What an action did, by idempotency key (run id + step id): a retried
      -- attempt returns the first result instead of acting twice.
      CREATE TABLE action_effects (
        idempotency_key text PRIMARY KEY,
        action text NOT NULL,
        result jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    id: 3,
    name: 'identity objects: inquiries, accounts, cases, reports, lists, devices',
    sql: `
      -- Person fields live in jsonb holding only the fields that have a value,
      -- so redaction deletes keys rather than masking them.
      CREATE TABLE accounts (
        id text PRIMARY KEY,
        reference_id text,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
        fields jsonb NOT NULL DEFAULT '{}'::jsonb,
        tags text[] NOT NULL DEFAULT '{}',
        redacted_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX accounts_reference ON accounts (reference_id);
      CREATE INDEX accounts_tags ON accounts USING gin (tags);

      CREATE TABLE inquiries (
        id text PRIMARY KEY,
        template text NOT NULL,
        status text NOT NULL DEFAULT 'created'
          CHECK (status IN ('created', 'pending', 'completed', 'failed', 'expired', 'needs_review', 'approved', 'declined')),
        account_id text REFERENCES accounts(id),
        fields jsonb NOT NULL DEFAULT '{}'::jsonb,
        scores jsonb NOT NULL DEFAULT '{}'::jsonb,
        tags text[] NOT NULL DEFAULT '{}',
        redacted_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX inquiries_account ON inquiries (account_id);
      CREATE INDEX inquiries_status ON inquiries (status, id);
      CREATE INDEX inquiries_template ON inquiries (template, id);
      CREATE INDEX inquiries_tags ON inquiries USING gin (tags);

      CREATE TABLE cases (
        id text PRIMARY KEY,
        title text NOT NULL DEFAULT '',
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'pending', 'resolved')),
        resolution text CHECK (resolution IN ('approved', 'declined')),
        assignee text,
        priority text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
        -- Ids of any object type; the prefix names the table.
        links text[] NOT NULL DEFAULT '{}',
        tags text[] NOT NULL DEFAULT '{}',
        resolved_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((status = 'resolved') = (resolution IS NOT NULL))
      );
      CREATE INDEX cases_status ON cases (status, id);
      CREATE INDEX cases_links ON cases USING gin (links);
      CREATE INDEX cases_tags ON cases USING gin (tags);

      CREATE TABLE reports (
        id text PRIMARY KEY,
        type text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'errored')),
        object_id text,
        has_match boolean,
        matches jsonb NOT NULL DEFAULT '[]'::jsonb,
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        error text,
        tags text[] NOT NULL DEFAULT '{}',
        completed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX reports_object ON reports (object_id);
      CREATE INDEX reports_tags ON reports USING gin (tags);

      CREATE TABLE lists (
        id text PRIMARY KEY,
        name text NOT NULL,
        kind text NOT NULL,
        description text NOT NULL DEFAULT '',
        tags text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      -- Values are stored normalised for the list's kind, so uniqueness and lookups are exact.
      CREATE TABLE list_items (
        list_id text NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
        value text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (list_id, value)
      );

      CREATE TABLE devices (
        id text PRIMARY KEY,
        fingerprint text NOT NULL,
        ip text,
        trusted boolean NOT NULL DEFAULT false,
        trusted_at timestamptz,
        account_id text REFERENCES accounts(id),
        inquiry_id text REFERENCES inquiries(id),
        tags text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX devices_fingerprint ON devices (fingerprint);
      CREATE INDEX devices_account ON devices (account_id);
      CREATE INDEX devices_tags ON devices USING gin (tags);
    `,
  },
  {
    id: 4,
    name: 'credentials and request templates',
    sql: `
      -- Secrets are AES-256-GCM ciphertext (src/credentials/secret-box.ts); only the
      -- names of the secret's fields are kept in the clear, for listing.
      CREATE TABLE credentials (
        id text PRIMARY KEY,
        kind text NOT NULL,
        name text NOT NULL,
        secret_ciphertext text NOT NULL,
        secret_fields text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX credentials_kind ON credentials (kind, id);

      -- Reusable HTTPS requests ("webhooks") that https_request steps name by id.
      -- A template's credential cannot be deleted while the template uses it.
      CREATE TABLE request_templates (
        id text PRIMARY KEY,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        request jsonb NOT NULL,
        credential_id text REFERENCES credentials(id) ON DELETE RESTRICT,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    id: 5,
    name: 'watchlists: imported sanctions and PEP lists',
    sql: `
      -- What each import loaded, one row per (source, list). generation changes with every
      -- import that changed something: screeners compare it to know their in-memory index is stale.
      CREATE SEQUENCE watchlist_generation;
      CREATE TABLE watchlist_imports (
        source text NOT NULL,
        list text NOT NULL,
        generation bigint NOT NULL,
        entry_count integer NOT NULL,
        alias_count integer NOT NULL,
        skipped_count integer NOT NULL DEFAULT 0,
        -- Of the files and the importer version: the same files imported again change nothing.
        content_sha256 text NOT NULL,
        imported_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (source, list)
      );
      -- One row per listed party. Candidate retrieval runs on an in-memory index built from a
      -- whole list at once, so the key serves loading a list and replacing one source in it.
      CREATE TABLE watchlist_entries (
        list text NOT NULL,
        source text NOT NULL,
        external_id text NOT NULL,
        entity_type text NOT NULL CHECK (entity_type IN ('individual', 'entity', 'vessel', 'aircraft', 'unknown')),
        primary_name text NOT NULL,
        aliases text[] NOT NULL DEFAULT '{}',
        weak_aliases text[] NOT NULL DEFAULT '{}',
        -- ISO dates or partial dates ("1948", "1948-12"); "~" marks an approximate one.
        birth_dates text[] NOT NULL DEFAULT '{}',
        -- ISO 3166-1 alpha-2.
        countries text[] NOT NULL DEFAULT '{}',
        programs text[] NOT NULL DEFAULT '{}',
        remarks text,
        PRIMARY KEY (list, source, external_id)
      );
    `,
  },
  {
    id: 6,
    name: 'inquiry links: single-use, expiring links to the hosted inquiry page',
    sql: `
      -- Only the SHA-256 (hex) of a link's token is kept: a copy of this table cannot open any link.
      CREATE TABLE inquiry_links (
        id text PRIMARY KEY,
        inquiry_id text NOT NULL REFERENCES inquiries(id) ON DELETE CASCADE,
        token_hash text NOT NULL UNIQUE,
        channel text NOT NULL CHECK (channel IN ('email', 'sms')),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX inquiry_links_inquiry ON inquiry_links (inquiry_id);
    `,
  },
  {
    id: 7,
    name: 'schedules: pause state kept beside Temporal',
    sql: `
      -- A paused schedule stays paused across new versions and when it is recreated;
      -- everything else about a schedule (spec, next times, actions taken) lives in Temporal.
      CREATE TABLE workflow_schedules (
        workflow_id text PRIMARY KEY REFERENCES workflows(id),
        paused boolean NOT NULL DEFAULT false,
        note text,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    id: 8,
    name: 'archived workflows',
    sql: `
      -- Archiving clears live_version (so no trigger starts it) and records when; publishing again clears it.
      ALTER TABLE workflows ADD COLUMN archived_at timestamptz;
    `,
  },
  {
    id: 9,
    name: 'workflow versions: percentage rollouts and a log of live-version changes',
    sql: `
      -- A rollout: rollout_version takes rollout_percent % of new runs, the rest stay on live_version.
      ALTER TABLE workflows
        ADD COLUMN rollout_version integer,
        ADD COLUMN rollout_percent numeric(5, 2) CHECK (rollout_percent >= 0 AND rollout_percent <= 100),
        ADD COLUMN rollout_started_at timestamptz,
        ADD CONSTRAINT workflows_rollout_whole CHECK ((rollout_version IS NULL) = (rollout_percent IS NULL));
      -- Who was live when: every publish, rollback and rollout change, in order.
      CREATE TABLE workflow_version_changes (
        seq bigserial PRIMARY KEY,
        workflow_id text NOT NULL REFERENCES workflows(id),
        change text NOT NULL CHECK (change IN ('publish', 'rollback', 'rollout', 'promote', 'abort')),
        version integer NOT NULL,
        live_version integer,
        percent numeric(5, 2),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX workflow_version_changes_workflow ON workflow_version_changes (workflow_id, seq);
    `,
  },
  {
    id: 10,
    name: 'api keys: hashed, scoped, revocable',
    sql: `
      -- Only the SHA-256 (hex) of a key is kept; the key itself is shown once, when it is made.
      CREATE TABLE api_keys (
        id text PRIMARY KEY,
        name text NOT NULL,
        -- The first characters of the key, so a person can tell their keys apart.
        prefix text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        scopes text[] NOT NULL,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      );
    `,
  },
  {
    id: 11,
    name: 'users with roles, and their sessions',
    sql: `
      CREATE TABLE users (
        id text PRIMARY KEY,
        email text NOT NULL UNIQUE,
        role text NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
        -- scrypt: "scrypt$N$r$p$salt$hash", salt and hash base64url.
        password_hash text NOT NULL,
        disabled_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      -- Only the SHA-256 (hex) of a session token is kept.
      CREATE TABLE sessions (
        token_hash text PRIMARY KEY,
        user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX sessions_user ON sessions (user_id);
    `,
  },
  {
    id: 12,
    name: 'audit log, append-only',
    sql: `
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor_kind text NOT NULL,
        actor_id text NOT NULL,
        actor_label text NOT NULL DEFAULT '',
        action text NOT NULL,
        target text,
        details jsonb NOT NULL DEFAULT '{}'::jsonb
      );
      CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
      CREATE INDEX audit_log_action ON audit_log (action, id);
      CREATE INDEX audit_log_target ON audit_log (target, id);
      -- Entries are written once and never changed or removed, not even by the service.
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only';
      END;
      $$;
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
    `,
  },
  {
    id: 13,
    name: 'outbound webhooks: subscriptions, deliveries, attempts',
    sql: `
      -- A subscriber's URL and the event types it wants ("*", "inquiry.*" or exact types).
      -- Its signing secret is AES-256-GCM ciphertext under CREDENTIALS_KEY, shown in clear once.
      CREATE TABLE webhook_subscriptions (
        id text PRIMARY KEY,
        url text NOT NULL,
        event_types text[] NOT NULL,
        description text NOT NULL DEFAULT '',
        enabled boolean NOT NULL DEFAULT true,
        secret_ciphertext text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      -- One event to one subscriber. Dispatchers claim due rows with SKIP LOCKED for a lease,
      -- so several API processes share the work and none sends a delivery twice.
      CREATE TABLE webhook_deliveries (
        id text PRIMARY KEY,
        subscription_id text NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
        event_id text NOT NULL REFERENCES events(id),
        event_type text NOT NULL,
        event_seq bigint NOT NULL,
        -- A replay is a new delivery of the same event; the first is kept as it was.
        replay_of text REFERENCES webhook_deliveries(id) ON DELETE SET NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        claimed_until timestamptz,
        -- Which claim holds the row: only that claim may record the attempt's outcome.
        claim_token text,
        last_response_status integer,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz
      );
      CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (subscription_id, event_id) WHERE replay_of IS NULL;
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
      CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, created_at DESC, id DESC);

      CREATE TABLE webhook_delivery_attempts (
        delivery_id text NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
        attempt integer NOT NULL,
        started_at timestamptz NOT NULL,
        duration_ms integer NOT NULL,
        -- NULL when no answer came (refused by the SSRF guard, network error, timeout).
        response_status integer,
        response_body_excerpt text,
        error text,
        PRIMARY KEY (delivery_id, attempt)
      );
    `,
  },
  {
    id: 14,
    name: 'outbound webhooks: fan events out to subscribers as they are recorded',
    sql: `
      -- Every event row, whoever writes it (object changes, upstream ingress), gets its
      -- deliveries in the same transaction: an event and its deliveries commit together,
      -- and the NOTIFY (sent on commit) wakes the dispatchers.
      CREATE FUNCTION webhook_fan_out() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_type, event_seq)
        SELECT 'whd_' || md5(s.id || '/' || NEW.id), s.id, NEW.id, NEW.type, NEW.seq
        FROM webhook_subscriptions s
        WHERE s.enabled
          AND EXISTS (
            SELECT 1 FROM unnest(s.event_types) AS p
            WHERE p = '*' OR p = NEW.type OR (p LIKE '%.*' AND starts_with(NEW.type, left(p, -1))))
        ON CONFLICT DO NOTHING;
        IF FOUND THEN
          PERFORM pg_notify('idw_webhooks', NEW.id);
        END IF;
        RETURN NULL;
      END;
      $$;
      CREATE TRIGGER events_webhook_fan_out AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION webhook_fan_out();
    `,
  },
  {
    id: 15,
    name: 'events: a position in commit order; wait subscriptions with a cursor',
    sql: `
      -- seq is taken when a row is inserted, so a transaction that began earlier can commit a
      -- lower seq after a higher one is visible. A run's cursor must never pass over an event it
      -- has not seen yet, so waits read by position: a number taken when the event's transaction
      -- commits, under a lock held until the commit is visible (a deferred trigger runs at commit,
      -- after every other write of the transaction, so the lock cannot deadlock with row locks).
      -- Positions are then in commit order: max(pos) read by anyone is a true high-water mark.
      ALTER TABLE events ADD COLUMN pos bigint;
      CREATE SEQUENCE events_pos_seq;
      UPDATE events SET pos = seq;
      SELECT setval('events_pos_seq', COALESCE((SELECT max(seq) FROM events), 0) + 1, false);
      CREATE UNIQUE INDEX events_pos ON events (pos);
      CREATE INDEX events_object_pos ON events (object_id, pos);
      DROP INDEX events_undispatched;
      CREATE INDEX events_undispatched ON events (pos) WHERE dispatched_at IS NULL;
      CREATE FUNCTION events_take_position() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- One lock per schema: commits that record events take positions one at a time.
        PERFORM pg_advisory_xact_lock(hashtext('idw_events_pos:' || current_schema()));
        UPDATE events SET pos = nextval('events_pos_seq') WHERE id = NEW.id;
        RETURN NULL;
      END;
      $$;
      CREATE CONSTRAINT TRIGGER events_position AFTER INSERT ON events
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION events_take_position();

      -- A wait's subscription carries the run's cursor for the object: the router delivers only
      -- events after it, and removes a 'wait' subscription as it delivers (the run re-subscribes
      -- if it passes the event over). 'standing' ones (flow.cancelOn) stay until the run ends.
      -- expires_at: after the wait's default resolution time the sweep removes it.
      ALTER TABLE wait_subscriptions ADD COLUMN after_pos bigint NOT NULL DEFAULT 0;
      ALTER TABLE wait_subscriptions ADD COLUMN kind text NOT NULL DEFAULT 'wait';
      ALTER TABLE wait_subscriptions ADD COLUMN expires_at timestamptz;
      -- The event a router is delivering to this wait: set before the signal, the row removed after it.
      ALTER TABLE wait_subscriptions ADD COLUMN claimed_pos bigint;
      CREATE INDEX wait_subscriptions_run ON wait_subscriptions (run_id);
      CREATE INDEX wait_subscriptions_expiry ON wait_subscriptions (expires_at) WHERE expires_at IS NOT NULL;
    `,
  },
  {
    id: 16,
    name: 'trigger filter failures: an event whose trigger filter failed or ran over its budget, per workflow',
    sql: `
      -- The router records here, once per event and workflow, a filter that could not decide
      -- (over the CEL budget, or an error): that workflow was not started for the event,
      -- the others were, and the event is not retried for it.
      CREATE TABLE trigger_filter_failures (
        event_id text NOT NULL,
        workflow_id text NOT NULL,
        version integer NOT NULL,
        reason text NOT NULL CHECK (reason IN ('budget', 'error')),
        message text NOT NULL,
        failed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (event_id, workflow_id)
      );
      CREATE INDEX trigger_filter_failures_by_workflow ON trigger_filter_failures (workflow_id, failed_at DESC);
    `,
  },
];

export async function migrate(db: Db, log?: (line: string) => void): Promise<void> {
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  const { rows } = await db.query<{ id: number }>('SELECT id FROM schema_migrations');
  const applied = new Set(rows.map((r) => Number(r.id)));
  for (const m of MIGRATIONS) {
    if (applied.has(m.id)) continue;
    await db.transaction(async (tx) => {
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
    });
    log?.(`database: applied migration ${m.id} (${m.name})`);
  }
}
