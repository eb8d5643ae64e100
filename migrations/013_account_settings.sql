-- Issue 12: the account's email settings (domain.EmailSettings), beside
-- reminder_days. They are configuration, like the rest of the accounts row,
-- not plan history: what they decided for a plan is recorded on the plan's
-- stream (plan_email.requested names the addresses it went to; a customer
-- email switched off is not requested at all).
--   notify_emails        the merchant's notification addresses (0..5)
--   sender_name          display name in the From of customer emails
--                        ('': EMAIL_FROM's own)
--   customer_emails_off  customer email kinds switched off (every other
--                        kind is on, new kinds included)
ALTER TABLE accounts
    ADD COLUMN notify_emails       text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(notify_emails) <= 5),
    ADD COLUMN sender_name         text        NOT NULL DEFAULT '' CHECK (char_length(sender_name) <= 100),
    ADD COLUMN customer_emails_off text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN settings_updated_at timestamptz;
