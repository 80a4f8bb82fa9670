-- 001 platform: tenants, their members, invitations, plans and subscriptions, the audit log, and the
-- public user profile. Policies for these tables come in 002 (they need the tenancy helpers).
--
-- Every table here has RLS enabled AND forced from the moment it exists; a table with no policy for a
-- command denies that command to every role without BYPASSRLS.

-- The private schema for helpers and trigger functions. It is not in the API's exposed schemas
-- ([api] schemas in supabase/config.toml), so nothing in it is reachable as /rest/v1/rpc/...
create schema if not exists tenancy;
revoke all on schema tenancy from public;
-- Policies and column defaults call tenancy helpers as the requesting role.
grant usage on schema tenancy to authenticated, service_role;
alter default privileges in schema tenancy revoke execute on functions from public;

-- ----- tenants ---------------------------------------------------------------------------------------
create table public.tenants (
  id uuid primary key default gen_random_uuid(),
  -- Stored lowercase; the router's slug label. Reserved labels are the platform, never a tenant.
  slug text not null unique
    constraint tenants_slug_format check (
      slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'
      and slug not in ('www', 'api', 'app', 'admin', 'auth')
    ),
  name text not null constraint tenants_name_length check (length(name) between 1 and 200),
  -- Stored lowercase, no port, no trailing dot: a bare host name.
  custom_domain text unique
    constraint tenants_custom_domain_format check (
      length(custom_domain) <= 253
      and custom_domain ~ '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'
    ),
  status text not null default 'active' constraint tenants_status check (status in ('active', 'suspended')),
  signup text not null default 'open' constraint tenants_signup check (signup in ('open', 'invite_only')),
  branding jsonb not null default '{}'::jsonb
    constraint tenants_branding_object check (jsonb_typeof(branding) = 'object'),
  -- null: the shared project; else the name of a dedicated project (a key of the router's
  -- DEDICATED_PROJECTS). resolve_tenant renders it as {"project": <name>}.
  placement_project text
    constraint tenants_placement_project_format check (placement_project ~ '^[A-Za-z0-9_-]{1,64}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.tenants is 'A customer company. Routing record: see public.resolve_tenant.';

-- ----- users (public profile; id = auth.users.id, kept in step by triggers in 006) -------------------
create table public.users (
  id uuid primary key references auth.users (id) on delete cascade,
  email text,
  phone text,
  full_name text,
  avatar_url text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.users is 'Public profile of an auth.users row; written only by triggers on auth.users (and the user for full_name/avatar_url).';

-- ----- tenant_members --------------------------------------------------------------------------------
create table public.tenant_members (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references public.users (id) on delete cascade,
  role text not null default 'member' constraint tenant_members_role check (role in ('owner', 'admin', 'member')),
  created_at timestamptz not null default now(),
  primary key (tenant_id, user_id)
);
create index tenant_members_user_id_idx on public.tenant_members (user_id);
comment on table public.tenant_members is 'Who belongs to which tenant, with which role. A user may belong to several tenants.';

-- ----- tenant_invitations ----------------------------------------------------------------------------
create table public.tenant_invitations (
  id uuid not null default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade, -- default set in 002
  email text not null constraint tenant_invitations_email_lowercase check (email = lower(email) and position('@' in email) > 1),
  role text not null default 'member' constraint tenant_invitations_role check (role in ('owner', 'admin', 'member')),
  invited_by uuid references public.users (id) on delete set null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '14 days',
  accepted_at timestamptz,
  accepted_by uuid references public.users (id) on delete set null,
  primary key (tenant_id, id)
);
-- One pending invitation per address and tenant.
create unique index tenant_invitations_pending_email_key on public.tenant_invitations (tenant_id, email)
  where accepted_at is null;
-- The sign-up trigger looks invitations up by address across tenants.
create index tenant_invitations_email_idx on public.tenant_invitations (email) where accepted_at is null;

-- ----- plans and subscriptions -----------------------------------------------------------------------
create table public.subscription_plans (
  id text primary key constraint subscription_plans_id_format check (id ~ '^[a-z0-9_-]{1,40}$'),
  name text not null,
  -- null = unlimited
  max_users integer constraint subscription_plans_max_users check (max_users >= 0),
  max_contacts integer constraint subscription_plans_max_contacts check (max_contacts >= 0),
  max_campaigns integer constraint subscription_plans_max_campaigns check (max_campaigns >= 0),
  price_cents integer not null default 0,
  created_at timestamptz not null default now()
);

create table public.tenant_subscriptions (
  tenant_id uuid primary key references public.tenants (id) on delete cascade,
  plan_id text not null references public.subscription_plans (id),
  status text not null default 'active'
    constraint tenant_subscriptions_status check (status in ('trialing', 'active', 'past_due', 'canceled')),
  current_period_end timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index tenant_subscriptions_plan_id_idx on public.tenant_subscriptions (plan_id);

-- ----- audit_log -------------------------------------------------------------------------------------
-- Append-only (see 003). No foreign key to tenants: the trail outlives a deleted tenant.
create table public.audit_log (
  id bigint generated always as identity,
  tenant_id uuid not null,
  occurred_at timestamptz not null default now(),
  actor_id uuid,
  actor_role text,
  action text not null constraint audit_log_action check (action in ('INSERT', 'UPDATE', 'DELETE')),
  table_name text not null,
  row_pk jsonb,
  old_data jsonb,
  new_data jsonb,
  primary key (tenant_id, id)
);
create index audit_log_tenant_occurred_idx on public.audit_log (tenant_id, occurred_at desc);

-- ----- row level security: enabled and forced everywhere ---------------------------------------------
alter table public.tenants enable row level security;
alter table public.tenants force row level security;
alter table public.users enable row level security;
alter table public.users force row level security;
alter table public.tenant_members enable row level security;
alter table public.tenant_members force row level security;
alter table public.tenant_invitations enable row level security;
alter table public.tenant_invitations force row level security;
alter table public.subscription_plans enable row level security;
alter table public.subscription_plans force row level security;
alter table public.tenant_subscriptions enable row level security;
alter table public.tenant_subscriptions force row level security;
alter table public.audit_log enable row level security;
alter table public.audit_log force row level security;

-- ----- grants: Supabase's default privileges give anon/authenticated ALL; narrow them ----------------
-- (RLS is what isolates tenants; these grants only remove verbs no client ever needs.)
revoke all on public.tenants, public.users, public.tenant_members, public.tenant_invitations,
  public.subscription_plans, public.tenant_subscriptions, public.audit_log from anon;
grant select on public.subscription_plans to anon;
revoke insert, update, delete, truncate, references, trigger on public.tenants, public.users,
  public.subscription_plans, public.tenant_subscriptions, public.audit_log from authenticated;
revoke truncate, references, trigger on public.tenant_members, public.tenant_invitations from authenticated;
-- Owners and admins may rename and re-brand their tenant; slug, domain, status, sign-up policy and
-- placement are the platform's (service_role).
grant update (name, branding) on public.tenants to authenticated;
-- A user edits their own display fields; email and phone follow auth.users.
grant update (full_name, avatar_url) on public.users to authenticated;
