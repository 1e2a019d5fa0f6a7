-- Stripe webhook events already handled: each event id takes effect once, however often Stripe
-- delivers it. outcome says what it did ('applied', 'ignored', 'unmatched').
CREATE TABLE stripe_events (
  id           text PRIMARY KEY,
  type         text NOT NULL,
  outcome      text NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now()
);

-- Payments made through Checkout, by Stripe PaymentIntent id: whose they are and how much of
-- them was refunded or disputed so far, in cents. Stripe ids only; never card data.
CREATE TABLE stripe_payments (
  payment_intent     text PRIMARY KEY,
  account_id         uuid NOT NULL REFERENCES accounts (id),
  checkout_session   text NOT NULL UNIQUE,
  amount_cents       bigint NOT NULL,
  refunded_cents     bigint NOT NULL DEFAULT 0,
  disputed_cents     bigint NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX stripe_payments_account ON stripe_payments (account_id);
