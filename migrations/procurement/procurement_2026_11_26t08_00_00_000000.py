"""The procurement plugin's tables (docs/design/procurement.md, docs/adr/0010-procurement.md).

Two kinds of table:

* **Tenant-owned** (``tenant_id``, the kernel's ``tenant_isolation`` policy): a municipality's
  needs.
* **Federation-level** (``federation_id``, the ``federation_isolation`` policy on
  ``app.federation_id``, set by ``Database.federation``): joint procurements and everything
  that hangs off them, vendors, reviews, follow-up. Every municipality of the federation and
  the federation's vendors work on the same rows, and no other federation sees them.

Bids are sealed by the database: a bid row is readable only by its own vendor (``app.vendor_id``)
until its procurement's tender deadline has passed, and writable only by its vendor before it.
The deadline is copied into each bid by a trigger (and kept in step when the procurement's
deadline moves), so the policy needs no lookup. The procurement log is append-only.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T08:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "procurement: needs, joint procurements, vendors, sealed bids, contracts, follow-up"

APP_ROLE = "samverka_app"
TENANT = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
FEDERATION = "federation_id = NULLIF(current_setting('app.federation_id', true), '')::uuid"
VENDOR = "vendor_id = NULLIF(current_setting('app.vendor_id', true), '')::uuid"

SCHEMA = f"""
-- Reference data: dated thresholds (LOU, EU) and exchange rates; the same for every federation.
CREATE TABLE procurement_threshold (
  kind varchar(32) NOT NULL CHECK (kind IN ('direct', 'direct_documentation', 'eu_services', 'eu_supplies',
                                            'eu_works', 'eu_social')),
  valid_from date NOT NULL,
  amount numeric(14, 2) NOT NULL CHECK (amount > 0),
  currency char(3) NOT NULL CHECK (currency IN ('SEK', 'EUR')),
  source varchar(500) NOT NULL,
  PRIMARY KEY (kind, valid_from)
);
CREATE TABLE procurement_exchange_rate (
  currency char(3) NOT NULL CHECK (currency <> 'SEK'),
  valid_from date NOT NULL,
  sek numeric(12, 6) NOT NULL CHECK (sek > 0),
  source varchar(500) NOT NULL,
  PRIMARY KEY (currency, valid_from)
);
INSERT INTO procurement_threshold (kind, valid_from, amount, currency, source) VALUES
  ('direct', '2022-02-01', 700000, 'SEK', 'LOU 19 kap. 2 §: direktupphandlingsgränsen, fast belopp sedan 1 feb 2022'),
  ('direct_documentation', '2022-02-01', 100000, 'SEK', 'LOU 19 kap. 30 §: dokumentation från 100 000 kr'),
  ('eu_services', '2026-01-01', 216000, 'EUR', 'EU-tröskelvärde 2026-2027, kommuner, varor och tjänster'),
  ('eu_supplies', '2026-01-01', 216000, 'EUR', 'EU-tröskelvärde 2026-2027, kommuner, varor och tjänster'),
  ('eu_works', '2026-01-01', 5404000, 'EUR', 'EU-tröskelvärde 2026-2027, byggentreprenader'),
  ('eu_social', '2026-01-01', 750000, 'EUR', 'EU-tröskelvärde 2026-2027, sociala tjänster och andra särskilda tjänster');
-- Provisional: replace with the SEK values the Commission publishes for 2026-2027 (mutation setExchangeRate).
INSERT INTO procurement_exchange_rate (currency, valid_from, sek, source) VALUES
  ('EUR', '2026-01-01', 11.0, 'provisional rate until the published SEK equivalents are entered');

CREATE TABLE procurement_need (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id uuid NOT NULL,
  category varchar(100) NOT NULL CHECK (length(trim(category)) > 0),
  title varchar(300) NOT NULL CHECK (length(trim(title)) > 0),
  description text NOT NULL DEFAULT '',
  estimated_volume numeric(14, 2) NOT NULL CHECK (estimated_volume >= 0),
  volume_unit varchar(50) NOT NULL DEFAULT 'st',
  estimated_value_sek numeric(14, 2) NOT NULL CHECK (estimated_value_sek >= 0),
  wanted_start date NOT NULL,
  status varchar(16) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_procurement', 'withdrawn')),
  procurement_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by varchar(320) NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX procurement_need_category_idx ON procurement_need (tenant_id, category, status);

CREATE TABLE procurement_vendor (
  federation_id uuid NOT NULL REFERENCES federation (id),
  id uuid NOT NULL,
  name varchar(200) NOT NULL CHECK (length(trim(name)) > 0),
  org_number varchar(11) NOT NULL CHECK (org_number ~ '^[0-9]{{6}}-[0-9]{{4}}$'),
  contact_email varchar(320) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (federation_id, id),
  UNIQUE (federation_id, org_number)
);
CREATE TABLE procurement_vendor_member (
  federation_id uuid NOT NULL,
  vendor_id uuid NOT NULL,
  user_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  PRIMARY KEY (federation_id, vendor_id, user_id),
  FOREIGN KEY (federation_id, vendor_id) REFERENCES procurement_vendor (federation_id, id)
);
CREATE INDEX procurement_vendor_member_user_idx ON procurement_vendor_member (federation_id, user_id);

CREATE TABLE procurement (
  federation_id uuid NOT NULL REFERENCES federation (id),
  id uuid NOT NULL,
  ocid varchar(100) NOT NULL,
  title varchar(300) NOT NULL CHECK (length(trim(title)) > 0),
  description text NOT NULL DEFAULT '',
  category varchar(100) NOT NULL,
  contract_kind varchar(16) NOT NULL CHECK (contract_kind IN ('services', 'supplies', 'works', 'social')),
  lead_municipality_id uuid REFERENCES municipality (id),  -- NULL: the federation leads
  estimated_value_sek numeric(14, 2) NOT NULL CHECK (estimated_value_sek >= 0),
  procedure varchar(24) NOT NULL CHECK (procedure IN ('direct', 'below_threshold', 'open')),
  framework boolean NOT NULL DEFAULT true,
  duration_months integer NOT NULL CHECK (duration_months BETWEEN 1 AND 120),
  electronic boolean NOT NULL DEFAULT true,
  evaluation_model varchar(24) NOT NULL DEFAULT 'best_price_quality'
    CHECK (evaluation_model IN ('lowest_price', 'lowest_cost', 'best_price_quality')),
  quality_method varchar(16) NOT NULL DEFAULT 'deduction' CHECK (quality_method IN ('deduction', 'weighted')),
  price_weight numeric(5, 2) CHECK (price_weight BETWEEN 0 AND 100),
  documentation text NOT NULL DEFAULT '',
  status varchar(16) NOT NULL DEFAULT 'planning'
    CHECK (status IN ('planning', 'published', 'evaluated', 'awarded', 'contracted', 'cancelled')),
  published_at timestamptz,
  tender_deadline timestamptz,
  evaluated_at timestamptz,
  award_decided_at timestamptz,
  standstill_ends_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by varchar(320) NOT NULL DEFAULT '',
  PRIMARY KEY (federation_id, id),
  UNIQUE (federation_id, ocid),
  CHECK (status = 'planning' OR tender_deadline IS NOT NULL)
);

CREATE TABLE procurement_participant (
  federation_id uuid NOT NULL,
  procurement_id uuid NOT NULL,
  municipality_id uuid NOT NULL REFERENCES municipality (id),
  share_percent numeric(5, 2) NOT NULL CHECK (share_percent > 0 AND share_percent <= 100),
  estimated_volume numeric(14, 2) NOT NULL DEFAULT 0 CHECK (estimated_volume >= 0),
  need_id uuid,
  joined_at timestamptz NOT NULL DEFAULT now(),
  withdrawn_at timestamptz,
  PRIMARY KEY (federation_id, procurement_id, municipality_id),
  FOREIGN KEY (federation_id, procurement_id) REFERENCES procurement (federation_id, id)
);

CREATE TABLE procurement_lot (
  federation_id uuid NOT NULL,
  id uuid NOT NULL,
  procurement_id uuid NOT NULL,
  number integer NOT NULL CHECK (number > 0),
  title varchar(300) NOT NULL,
  description text NOT NULL DEFAULT '',
  estimated_value_sek numeric(14, 2) NOT NULL DEFAULT 0,
  PRIMARY KEY (federation_id, id),
  UNIQUE (federation_id, procurement_id, number),
  FOREIGN KEY (federation_id, procurement_id) REFERENCES procurement (federation_id, id)
);

CREATE TABLE procurement_requirement (
  federation_id uuid NOT NULL,
  id uuid NOT NULL,
  procurement_id uuid NOT NULL,
  lot_id uuid,  -- NULL: every lot
  kind varchar(16) NOT NULL CHECK (kind IN ('mandatory', 'weighted', 'deduction')),
  text text NOT NULL CHECK (length(trim(text)) > 0),
  weight numeric(5, 2) CHECK (weight > 0 AND weight <= 100),
  deduction_sek numeric(14, 2) CHECK (deduction_sek > 0),
  PRIMARY KEY (federation_id, id),
  FOREIGN KEY (federation_id, procurement_id) REFERENCES procurement (federation_id, id),
  CHECK ((kind = 'weighted') = (weight IS NOT NULL)),
  CHECK ((kind = 'deduction') = (deduction_sek IS NOT NULL))
);

CREATE TABLE procurement_document (
  federation_id uuid NOT NULL,
  id uuid NOT NULL,
  procurement_id uuid NOT NULL,
  title varchar(300) NOT NULL,
  document_type varchar(50) NOT NULL DEFAULT 'tenderNotice',
  url varchar(1000) NOT NULL DEFAULT '',
  body text NOT NULL DEFAULT '',
  sha256 char(64) NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (federation_id, id),
  FOREIGN KEY (federation_id, procurement_id) REFERENCES procurement (federation_id, id)
);

CREATE TABLE procurement_question (
  federation_id uuid NOT NULL,
  id uuid NOT NULL,
  procurement_id uuid NOT NULL,
  vendor_id uuid NOT NULL,
  question text NOT NULL CHECK (length(trim(question)) > 0),
  asked_at timestamptz NOT NULL DEFAULT now(),
  answer text,
  answered_at timestamptz,
  answered_by varchar(320),
  PRIMARY KEY (federation_id, id),
  FOREIGN KEY (federation_id, procurement_id) REFERENCES procurement (federation_id, id)
);

-- Sealed: see the policies below. One live bid per vendor and lot; replacing it updates it.
CREATE TABLE procurement_bid (
  federation_id uuid NOT NULL,
  id uuid NOT NULL,
  procurement_id uuid NOT NULL,
  lot_id uuid NOT NULL,
  vendor_id uuid NOT NULL,
  deadline timestamptz NOT NULL,
  price_sek numeric(14, 2) NOT NULL CHECK (price_sek >= 0),
  cost_sek numeric(14, 2) CHECK (cost_sek >= 0),
  answers jsonb NOT NULL DEFAULT '{{}}' CHECK (jsonb_typeof(answers) = 'object'),
  version integer NOT NULL DEFAULT 1,
  submitted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (federation_id, id),
  UNIQUE (federation_id, procurement_id, lot_id, vendor_id),
  FOREIGN KEY (federation_id, procurement_id) REFERENCES procurement (federation_id, id),
  FOREIGN KEY (federation_id, vendor_id) REFERENCES procurement_vendor (federation_id, id)
);

CREATE FUNCTION procurement_bid_deadline() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  SELECT tender_deadline INTO NEW.deadline FROM procurement
   WHERE federation_id = NEW.federation_id AND id = NEW.procurement_id;
  IF NEW.deadline IS NULL THEN
    RAISE EXCEPTION 'the procurement is not open for bids' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER procurement_bid_deadline BEFORE INSERT OR UPDATE ON procurement_bid
  FOR EACH ROW EXECUTE FUNCTION procurement_bid_deadline();

-- A moved deadline moves in every bid (the owner runs this; the app cannot update sealed rows).
CREATE FUNCTION procurement_deadline_moved() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public AS $$
BEGIN
  IF NEW.tender_deadline IS DISTINCT FROM OLD.tender_deadline THEN
    UPDATE procurement_bid SET deadline = NEW.tender_deadline
     WHERE federation_id = NEW.federation_id AND procurement_id = NEW.id;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER procurement_deadline_moved AFTER UPDATE OF tender_deadline ON procurement
  FOR EACH ROW EXECUTE FUNCTION procurement_deadline_moved();

CREATE TABLE procurement_evaluation (
  federation_id uuid NOT NULL,
  procurement_id uuid NOT NULL,
  lot_id uuid NOT NULL,
  bid_id uuid NOT NULL,
  vendor_id uuid NOT NULL,
  qualified boolean NOT NULL,
  rank integer,
  compared_value numeric(16, 4),
  explanation jsonb NOT NULL,
  evaluated_at timestamptz NOT NULL,
  PRIMARY KEY (federation_id, procurement_id, lot_id, bid_id)
);

CREATE TABLE procurement_award (
  federation_id uuid NOT NULL,
  id uuid NOT NULL,
  procurement_id uuid NOT NULL,
  lot_id uuid NOT NULL,
  vendor_id uuid NOT NULL,
  bid_id uuid NOT NULL,
  value_sek numeric(14, 2) NOT NULL,
  decided_at timestamptz NOT NULL,
  standstill_ends_at timestamptz NOT NULL,
  PRIMARY KEY (federation_id, id),
  UNIQUE (federation_id, procurement_id, lot_id)
);

CREATE TABLE procurement_contract (
  federation_id uuid NOT NULL,
  id uuid NOT NULL,
  procurement_id uuid NOT NULL,
  lot_id uuid NOT NULL,
  award_id uuid NOT NULL,
  vendor_id uuid NOT NULL,
  title varchar(300) NOT NULL,
  value_sek numeric(14, 2) NOT NULL,
  signed_at timestamptz NOT NULL,
  starts_on date NOT NULL,
  ends_on date NOT NULL,
  framework boolean NOT NULL,
  covers_lockers boolean NOT NULL DEFAULT false,
  status varchar(16) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'terminated', 'ended')),
  PRIMARY KEY (federation_id, id),
  UNIQUE (federation_id, award_id),
  CHECK (ends_on > starts_on)
);

CREATE TABLE procurement_service_level (
  federation_id uuid NOT NULL,
  id uuid NOT NULL,
  contract_id uuid NOT NULL,
  metric varchar(32) NOT NULL
    CHECK (metric IN ('availability', 'fault_response', 'fault_fix', 'temperature_compliance')),
  severity varchar(16),  -- fault metrics: 'critical', 'high', 'normal'
  target numeric(10, 3) NOT NULL,
  unit varchar(16) NOT NULL CHECK (unit IN ('percent', 'hours')),
  penalty_sek numeric(14, 2) NOT NULL DEFAULT 0 CHECK (penalty_sek >= 0),
  PRIMARY KEY (federation_id, id),
  FOREIGN KEY (federation_id, contract_id) REFERENCES procurement_contract (federation_id, id)
);

CREATE TABLE procurement_call_off (
  federation_id uuid NOT NULL,
  id uuid NOT NULL,
  contract_id uuid NOT NULL,
  municipality_id uuid NOT NULL REFERENCES municipality (id),
  ocid varchar(100) NOT NULL,
  description varchar(1000) NOT NULL DEFAULT '',
  quantity numeric(14, 2) NOT NULL CHECK (quantity > 0),
  value_sek numeric(14, 2) NOT NULL CHECK (value_sek >= 0),
  locker_ids uuid[] NOT NULL DEFAULT '{{}}',  -- the municipality's lockers this call-off covers
  ordered_at timestamptz NOT NULL DEFAULT now(),
  ordered_by varchar(320) NOT NULL DEFAULT '',
  PRIMARY KEY (federation_id, id),
  UNIQUE (federation_id, ocid),
  FOREIGN KEY (federation_id, contract_id) REFERENCES procurement_contract (federation_id, id)
);

CREATE TABLE procurement_followup (
  federation_id uuid NOT NULL,
  contract_id uuid NOT NULL,
  municipality_id uuid NOT NULL,
  month date NOT NULL CHECK (extract(day FROM month) = 1),
  service_level_id uuid NOT NULL,
  measured numeric(12, 4),  -- NULL: nothing to measure (no data)
  target numeric(10, 3) NOT NULL,
  breached boolean NOT NULL,
  penalty_sek numeric(14, 2) NOT NULL DEFAULT 0,
  details jsonb NOT NULL DEFAULT '{{}}',
  computed_at timestamptz NOT NULL,
  PRIMARY KEY (federation_id, contract_id, municipality_id, month, service_level_id)
);

CREATE TABLE procurement_review (
  federation_id uuid NOT NULL,
  id uuid NOT NULL,
  vendor_id uuid NOT NULL,
  contract_id uuid,
  municipality_id uuid NOT NULL REFERENCES municipality (id),
  rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
  text text NOT NULL DEFAULT '',
  author varchar(320) NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (federation_id, id),
  FOREIGN KEY (federation_id, vendor_id) REFERENCES procurement_vendor (federation_id, id)
);

-- How the federation's cost of a shared contract is split among members, from a date on.
CREATE TABLE procurement_cost_key (
  federation_id uuid NOT NULL,
  id uuid NOT NULL,
  contract_id uuid NOT NULL,
  valid_from date NOT NULL,
  method varchar(16) NOT NULL CHECK (method IN ('fixed', 'per_inhabitant', 'per_use', 'mix')),
  parameters jsonb NOT NULL DEFAULT '{{}}' CHECK (jsonb_typeof(parameters) = 'object'),
  annual_cost_sek numeric(14, 2) NOT NULL CHECK (annual_cost_sek >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (federation_id, id),
  UNIQUE (federation_id, contract_id, valid_from),
  FOREIGN KEY (federation_id, contract_id) REFERENCES procurement_contract (federation_id, id)
);

-- Append-only log of everything done to a procurement (the audit trail at federation level).
CREATE TABLE procurement_log (
  federation_id uuid NOT NULL,
  id bigserial NOT NULL,
  procurement_id uuid,
  at timestamptz NOT NULL DEFAULT now(),
  actor_kind varchar(16) NOT NULL,
  actor_id uuid,
  actor_label varchar(320) NOT NULL DEFAULT '',
  municipality_id uuid,
  vendor_id uuid,
  action varchar(100) NOT NULL,
  details jsonb NOT NULL DEFAULT '{{}}',
  PRIMARY KEY (federation_id, id)
);
CREATE INDEX procurement_log_procurement_idx ON procurement_log (federation_id, procurement_id, id);
CREATE FUNCTION procurement_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'procurement_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER procurement_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON procurement_log
  FOR EACH STATEMENT EXECUTE FUNCTION procurement_log_append_only();

GRANT SELECT ON procurement_threshold, procurement_exchange_rate TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE ON procurement_need, procurement_vendor, procurement, procurement_participant,
  procurement_lot, procurement_requirement, procurement_document, procurement_question, procurement_bid,
  procurement_award, procurement_contract, procurement_service_level, procurement_call_off, procurement_review,
  procurement_cost_key TO {APP_ROLE};
GRANT SELECT, INSERT, DELETE ON procurement_vendor_member, procurement_evaluation, procurement_followup
  TO {APP_ROLE};
GRANT UPDATE ON procurement_followup TO {APP_ROLE};
GRANT DELETE ON procurement_lot, procurement_requirement TO {APP_ROLE};
GRANT SELECT, INSERT ON procurement_log TO {APP_ROLE};
GRANT USAGE ON SEQUENCE procurement_log_id_seq TO {APP_ROLE};
"""

TENANT_TABLES = ("procurement_need",)
FEDERATION_TABLES = (
    "procurement_vendor",
    "procurement_vendor_member",
    "procurement",
    "procurement_participant",
    "procurement_lot",
    "procurement_requirement",
    "procurement_document",
    "procurement_question",
    "procurement_evaluation",
    "procurement_award",
    "procurement_contract",
    "procurement_service_level",
    "procurement_call_off",
    "procurement_followup",
    "procurement_review",
    "procurement_cost_key",
    "procurement_log",
)

# The sealed bids: own bids always; everyone's only after the deadline; writes only before it, by
# the bid's own vendor. The owner role (migrations, and the SECURITY DEFINER deadline sync) is
# exempt; the app role can never become it.
OWNER = f"current_user <> '{APP_ROLE}'"
SEALED = f"""
ALTER TABLE procurement_bid ENABLE ROW LEVEL SECURITY;
ALTER TABLE procurement_bid FORCE ROW LEVEL SECURITY;
CREATE POLICY sealed_read ON procurement_bid FOR SELECT
  USING ({FEDERATION} AND ({VENDOR} OR deadline <= now() OR {OWNER}));
CREATE POLICY sealed_insert ON procurement_bid FOR INSERT
  WITH CHECK ({FEDERATION} AND {VENDOR} AND now() < deadline);
CREATE POLICY sealed_update ON procurement_bid FOR UPDATE
  USING ({FEDERATION} AND (({VENDOR} AND now() < deadline) OR {OWNER}))
  WITH CHECK ({FEDERATION} AND (({VENDOR} AND now() < deadline) OR {OWNER}));
"""


def isolation(table: str, policy: str, name: str) -> str:
    return f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY {name} ON {table} USING ({policy}) WITH CHECK ({policy});
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="procurement", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None, "piccolo_conf must define DB"
        transaction = engine.current_transaction.get()
        assert transaction is not None, "migrations run inside a transaction"
        policies = "".join(isolation(t, TENANT, "tenant_isolation") for t in TENANT_TABLES)
        policies += "".join(isolation(t, FEDERATION, "federation_isolation") for t in FEDERATION_TABLES)
        await transaction.connection.execute(SCHEMA + policies + SEALED)

    manager.add_raw(run)
    return manager
