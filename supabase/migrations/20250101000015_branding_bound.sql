-- 015 branding cannot take a tenant offline (issue 10 item 5).
--
-- The router refuses a directory answer over 64 KiB (MAX_ANSWER_BYTES in src/directory/supabase.rs)
-- and answers 503 for that tenant; until 014 an owner could store branding of any size. Branding is
-- now at most 16 KiB of JSON text, so the whole routing record (every other field is bounded by its
-- own check: slug 63, name 200 characters, domain 253, placement 64) stays far below that cap.
-- NOT VALID: existing oversize rows are listed by tenancy.upgrade_report(); shrink them, then
-- `alter table public.tenants validate constraint tenants_branding_size`.

alter table public.tenants add constraint tenants_branding_size
  check (pg_catalog.octet_length(branding::text) <= 16384) not valid;
