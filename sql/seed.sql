-- Seed for local runs (`supabase db reset`, `scripts/pg-cluster.sh load DIR --seed`). Not for tests:
-- the pgTAP files make their own data.
--
-- Fixed ids:
--   tenant acme    11111111-1111-4111-8111-111111111111  slug acme, no custom domain, sign-up open,
--                                                        plan pro
--   tenant globex  22222222-2222-4222-8222-222222222222  slug globex, custom domain crm.globex.test,
--                                                        sign-up invite_only, plan free
--   user alice@acme.test   aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa  owner of acme
--   user bob@globex.test   bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb  owner of globex
--   user carol@both.test   cccccccc-cccc-4ccc-8ccc-cccccccccccc  admin of acme, member of globex
--   pending invitation: dave@globex.test to globex as member
-- Every user's password is `password123`, hashed with bcrypt by pgcrypto's crypt() (pgcrypto lives in
-- the `extensions` schema on Supabase and in the test stand-in). Emails are confirmed.

insert into public.subscription_plans (id, name, max_users, max_contacts, max_campaigns, price_cents) values
  ('free', 'Free', 5, 100, 3, 0),
  ('pro', 'Pro', 50, 10000, null, 4900),
  ('enterprise', 'Enterprise', null, null, null, 49900)
on conflict (id) do nothing;

insert into public.tenants (id, slug, name, custom_domain, status, signup, branding) values
  ('11111111-1111-4111-8111-111111111111', 'acme', 'Acme Clinic', null, 'active', 'open',
   '{"logo_url": "https://example.com/acme.svg", "primary_color": "#004AAD"}'),
  ('22222222-2222-4222-8222-222222222222', 'globex', 'Globex Realty', 'crm.globex.test', 'active', 'invite_only',
   '{"logo_url": "https://example.com/globex.svg", "primary_color": "#1B5E20"}')
on conflict (id) do nothing;

insert into public.tenant_subscriptions (tenant_id, plan_id, status) values
  ('11111111-1111-4111-8111-111111111111', 'pro', 'active'),
  ('22222222-2222-4222-8222-222222222222', 'free', 'active')
on conflict (tenant_id) do nothing;

-- Users as Supabase Auth stores them (the triggers in 006 create their profiles).
insert into auth.users (
  instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
  confirmation_token, recovery_token, email_change_token_new, email_change,
  raw_app_meta_data, raw_user_meta_data, created_at, updated_at
)
select '00000000-0000-0000-0000-000000000000', u.id::uuid, 'authenticated', 'authenticated', u.email,
       extensions.crypt('password123', extensions.gen_salt('bf')), now(),
       '', '', '', '',
       '{"provider": "email", "providers": ["email"]}'::jsonb,
       jsonb_build_object('full_name', u.full_name), now(), now()
from (values
  ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'alice@acme.test', 'Alice Anders'),
  ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'bob@globex.test', 'Bob Barker'),
  ('cccccccc-cccc-4ccc-8ccc-cccccccccccc', 'carol@both.test', 'Carol Chen')
) as u(id, email, full_name)
on conflict (id) do nothing;

insert into public.tenant_members (tenant_id, user_id, role) values
  ('11111111-1111-4111-8111-111111111111', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'owner'),
  ('22222222-2222-4222-8222-222222222222', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'owner'),
  ('11111111-1111-4111-8111-111111111111', 'cccccccc-cccc-4ccc-8ccc-cccccccccccc', 'admin'),
  ('22222222-2222-4222-8222-222222222222', 'cccccccc-cccc-4ccc-8ccc-cccccccccccc', 'member')
on conflict (tenant_id, user_id) do nothing;

insert into public.tenant_invitations (tenant_id, email, role, invited_by) values
  ('22222222-2222-4222-8222-222222222222', 'dave@globex.test', 'member', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb')
on conflict do nothing;

insert into public.contacts (tenant_id, id, name, email, phone, company, owner_id) values
  ('11111111-1111-4111-8111-111111111111', 'a0000000-0000-4000-8000-000000000001', 'Ana Souza', 'ana@patients.test', '+5511990000001', null, 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'),
  ('11111111-1111-4111-8111-111111111111', 'a0000000-0000-4000-8000-000000000002', 'Bruno Lima', 'bruno@patients.test', '+5511990000002', null, 'cccccccc-cccc-4ccc-8ccc-cccccccccccc'),
  ('11111111-1111-4111-8111-111111111111', 'a0000000-0000-4000-8000-000000000003', 'Clara Dias', 'clara@patients.test', null, null, null),
  ('22222222-2222-4222-8222-222222222222', 'b0000000-0000-4000-8000-000000000001', 'Diego Costa', 'diego@buyers.test', '+5521990000001', 'Costa Holdings', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'),
  ('22222222-2222-4222-8222-222222222222', 'b0000000-0000-4000-8000-000000000002', 'Eva Rocha', 'eva@buyers.test', null, null, null)
on conflict do nothing;

insert into public.conversations (tenant_id, id, contact_id, channel, status, subject, assigned_to, last_message_at) values
  ('11111111-1111-4111-8111-111111111111', 'a1000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'whatsapp', 'open', 'Appointment', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', now()),
  ('22222222-2222-4222-8222-222222222222', 'b1000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000001', 'email', 'pending', 'Viewing on Friday', 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', now())
on conflict do nothing;

insert into public.messages (tenant_id, conversation_id, direction, sender_type, body, status, created_at) values
  ('11111111-1111-4111-8111-111111111111', 'a1000000-0000-4000-8000-000000000001', 'inbound', 'contact', 'Hi, can I book for Monday?', 'received', now() - interval '10 minutes'),
  ('11111111-1111-4111-8111-111111111111', 'a1000000-0000-4000-8000-000000000001', 'outbound', 'agent', 'Monday 10:00 works.', 'delivered', now() - interval '5 minutes'),
  ('22222222-2222-4222-8222-222222222222', 'b1000000-0000-4000-8000-000000000001', 'inbound', 'contact', 'Is the flat still available?', 'received', now() - interval '1 hour');

insert into public.leads_pipeline (tenant_id, contact_id, title, stage, value_cents, currency) values
  ('11111111-1111-4111-8111-111111111111', 'a0000000-0000-4000-8000-000000000002', 'Annual check-up plan', 'qualified', 120000, 'BRL'),
  ('22222222-2222-4222-8222-222222222222', 'b0000000-0000-4000-8000-000000000001', 'Downtown flat', 'proposal', 45000000, 'USD');

insert into public.campaigns (tenant_id, id, name, channel, status, created_by) values
  ('11111111-1111-4111-8111-111111111111', 'a2000000-0000-4000-8000-000000000001', 'Flu shots', 'whatsapp', 'draft', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa')
on conflict do nothing;

insert into public.ai_config (tenant_id, name, model, system_prompt) values
  ('11111111-1111-4111-8111-111111111111', 'default', 'gpt-4o-mini', 'You are the front desk of Acme Clinic.'),
  ('22222222-2222-4222-8222-222222222222', 'default', 'gpt-4o-mini', 'You answer questions about Globex listings.')
on conflict do nothing;

insert into public.system_settings (tenant_id, key, value) values
  ('11111111-1111-4111-8111-111111111111', 'timezone', '"America/Sao_Paulo"'),
  ('22222222-2222-4222-8222-222222222222', 'timezone', '"America/New_York"')
on conflict do nothing;
