-- 005 application tables (seed document 001): a CRM and messaging product.
--
-- Rules every table here follows:
--   * tenant_id uuid not null default tenancy.current_tenant_id(): a client insert without tenant_id
--     lands in the request's tenant (and fails if there is none);
--   * primary key (tenant_id, id): the key itself leads with tenant_id, and guessing another tenant's
--     id tells nothing (no cross-tenant unique violation);
--   * every foreign key to another tenant table includes tenant_id, so a row can never point at
--     another tenant's row; references to people go to tenant_members (tenant_id, user_id), so an
--     assignee is always a member of the same tenant;
--   * indexes lead with tenant_id for the common queries;
--   * tenancy.enable_tenant_isolation() (004) adds forced RLS, the four policies and the audit trigger.

create table public.contacts (
  id uuid not null default gen_random_uuid(),
  tenant_id uuid not null default tenancy.current_tenant_id() references public.tenants (id) on delete cascade,
  name text not null constraint contacts_name_length check (length(name) between 1 and 500),
  email text,
  phone text,
  company text,
  tags text[] not null default '{}',
  notes text,
  owner_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  foreign key (tenant_id, owner_id) references public.tenant_members (tenant_id, user_id) on delete set null (owner_id)
);
create index contacts_tenant_created_idx on public.contacts (tenant_id, created_at desc);
create index contacts_tenant_email_idx on public.contacts (tenant_id, lower(email));
create index contacts_tenant_owner_idx on public.contacts (tenant_id, owner_id);

create table public.leads_pipeline (
  id uuid not null default gen_random_uuid(),
  tenant_id uuid not null default tenancy.current_tenant_id() references public.tenants (id) on delete cascade,
  contact_id uuid not null,
  title text not null,
  stage text not null default 'new'
    constraint leads_pipeline_stage check (stage in ('new', 'qualified', 'proposal', 'negotiation', 'won', 'lost')),
  value_cents bigint constraint leads_pipeline_value check (value_cents >= 0),
  currency text not null default 'USD' constraint leads_pipeline_currency check (currency ~ '^[A-Z]{3}$'),
  position integer not null default 0,
  owner_id uuid,
  expected_close_on date,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  foreign key (tenant_id, contact_id) references public.contacts (tenant_id, id) on delete cascade,
  foreign key (tenant_id, owner_id) references public.tenant_members (tenant_id, user_id) on delete set null (owner_id)
);
create index leads_pipeline_tenant_stage_idx on public.leads_pipeline (tenant_id, stage, position);
create index leads_pipeline_tenant_contact_idx on public.leads_pipeline (tenant_id, contact_id);
create index leads_pipeline_tenant_owner_idx on public.leads_pipeline (tenant_id, owner_id);

create table public.conversations (
  id uuid not null default gen_random_uuid(),
  tenant_id uuid not null default tenancy.current_tenant_id() references public.tenants (id) on delete cascade,
  contact_id uuid not null,
  channel text not null constraint conversations_channel check (channel in ('whatsapp', 'sms', 'email', 'webchat', 'instagram')),
  status text not null default 'open' constraint conversations_status check (status in ('open', 'pending', 'closed')),
  subject text,
  assigned_to uuid,
  last_message_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  foreign key (tenant_id, contact_id) references public.contacts (tenant_id, id) on delete cascade,
  foreign key (tenant_id, assigned_to) references public.tenant_members (tenant_id, user_id) on delete set null (assigned_to)
);
create index conversations_tenant_status_idx on public.conversations (tenant_id, status, last_message_at desc);
create index conversations_tenant_contact_idx on public.conversations (tenant_id, contact_id);
create index conversations_tenant_assigned_idx on public.conversations (tenant_id, assigned_to);

create table public.messages (
  id uuid not null default gen_random_uuid(),
  tenant_id uuid not null default tenancy.current_tenant_id() references public.tenants (id) on delete cascade,
  conversation_id uuid not null,
  direction text not null constraint messages_direction check (direction in ('inbound', 'outbound')),
  sender_type text not null default 'contact'
    constraint messages_sender_type check (sender_type in ('contact', 'agent', 'ai', 'system')),
  sender_id uuid,
  body text,
  status text not null default 'received'
    constraint messages_status check (status in ('received', 'queued', 'sent', 'delivered', 'read', 'failed')),
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  foreign key (tenant_id, conversation_id) references public.conversations (tenant_id, id) on delete cascade
);
-- "latest 50 of a conversation" and "count by status" (bench/sql).
create index messages_tenant_conversation_created_idx on public.messages (tenant_id, conversation_id, created_at desc);
create index messages_tenant_status_idx on public.messages (tenant_id, status);

create table public.campaigns (
  id uuid not null default gen_random_uuid(),
  tenant_id uuid not null default tenancy.current_tenant_id() references public.tenants (id) on delete cascade,
  name text not null,
  channel text not null constraint campaigns_channel check (channel in ('whatsapp', 'sms', 'email')),
  status text not null default 'draft'
    constraint campaigns_status check (status in ('draft', 'scheduled', 'running', 'completed', 'cancelled')),
  template text,
  audience jsonb not null default '{}'::jsonb,
  scheduled_at timestamptz,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  foreign key (tenant_id, created_by) references public.tenant_members (tenant_id, user_id) on delete set null (created_by)
);
create index campaigns_tenant_status_idx on public.campaigns (tenant_id, status, scheduled_at);

create table public.campaign_events (
  id uuid not null default gen_random_uuid(),
  tenant_id uuid not null default tenancy.current_tenant_id() references public.tenants (id) on delete cascade,
  campaign_id uuid not null,
  contact_id uuid,
  event_type text not null
    constraint campaign_events_type check (event_type in ('sent', 'delivered', 'opened', 'clicked', 'replied', 'failed', 'unsubscribed')),
  metadata jsonb not null default '{}'::jsonb,
  occurred_at timestamptz not null default now(),
  primary key (tenant_id, id),
  foreign key (tenant_id, campaign_id) references public.campaigns (tenant_id, id) on delete cascade,
  foreign key (tenant_id, contact_id) references public.contacts (tenant_id, id) on delete set null (contact_id)
);
create index campaign_events_tenant_campaign_idx on public.campaign_events (tenant_id, campaign_id, occurred_at desc);
create index campaign_events_tenant_contact_idx on public.campaign_events (tenant_id, contact_id);

create table public.ai_config (
  id uuid not null default gen_random_uuid(),
  tenant_id uuid not null default tenancy.current_tenant_id() references public.tenants (id) on delete cascade,
  name text not null default 'default',
  model text not null,
  system_prompt text,
  temperature numeric(3, 2) not null default 0.7 constraint ai_config_temperature check (temperature between 0 and 2),
  enabled boolean not null default true,
  updated_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  unique (tenant_id, name),
  foreign key (tenant_id, updated_by) references public.tenant_members (tenant_id, user_id) on delete set null (updated_by)
);

create table public.knowledge_documents (
  id uuid not null default gen_random_uuid(),
  tenant_id uuid not null default tenancy.current_tenant_id() references public.tenants (id) on delete cascade,
  title text not null,
  source_url text,
  -- object name in the tenant-files bucket: '<tenant_id>/...' (see 009)
  storage_path text,
  content text,
  status text not null default 'pending'
    constraint knowledge_documents_status check (status in ('pending', 'processing', 'ready', 'failed')),
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  foreign key (tenant_id, created_by) references public.tenant_members (tenant_id, user_id) on delete set null (created_by),
  constraint knowledge_documents_storage_path check (storage_path is null or storage_path like tenant_id::text || '/%')
);
create index knowledge_documents_tenant_status_idx on public.knowledge_documents (tenant_id, status, created_at desc);

create table public.system_settings (
  tenant_id uuid not null default tenancy.current_tenant_id() references public.tenants (id) on delete cascade,
  key text not null constraint system_settings_key check (key ~ '^[a-z0-9_.:-]{1,100}$'),
  value jsonb not null,
  updated_by uuid,
  updated_at timestamptz not null default now(),
  primary key (tenant_id, key),
  foreign key (tenant_id, updated_by) references public.tenant_members (tenant_id, user_id) on delete set null (updated_by)
);

-- updated_at maintenance
create trigger contacts_touch_updated_at before update on public.contacts for each row execute function tenancy.touch_updated_at();
create trigger leads_pipeline_touch_updated_at before update on public.leads_pipeline for each row execute function tenancy.touch_updated_at();
create trigger conversations_touch_updated_at before update on public.conversations for each row execute function tenancy.touch_updated_at();
create trigger campaigns_touch_updated_at before update on public.campaigns for each row execute function tenancy.touch_updated_at();
create trigger ai_config_touch_updated_at before update on public.ai_config for each row execute function tenancy.touch_updated_at();
create trigger knowledge_documents_touch_updated_at before update on public.knowledge_documents for each row execute function tenancy.touch_updated_at();
create trigger system_settings_touch_updated_at before update on public.system_settings for each row execute function tenancy.touch_updated_at();

-- Isolation. Any member works with the CRM data; only owners and admins change the AI set-up and the
-- tenant's settings. messages and campaign_events are high-volume event streams: not audited.
select tenancy.enable_tenant_isolation('public.contacts');
select tenancy.enable_tenant_isolation('public.leads_pipeline');
select tenancy.enable_tenant_isolation('public.conversations');
select tenancy.enable_tenant_isolation('public.messages', audit => false);
select tenancy.enable_tenant_isolation('public.campaigns');
select tenancy.enable_tenant_isolation('public.campaign_events', audit => false);
select tenancy.enable_tenant_isolation('public.ai_config', write_roles => array['owner', 'admin']);
select tenancy.enable_tenant_isolation('public.knowledge_documents');
select tenancy.enable_tenant_isolation('public.system_settings', write_roles => array['owner', 'admin']);
