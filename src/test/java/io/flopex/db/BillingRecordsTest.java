package io.flopex.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.Sync;
import io.flopex.testing.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Billing records past their retention period: ledger entries fold into one carried-forward
 * entry per account, so the balance stays the sum of the ledger; Stripe records go.
 */
class BillingRecordsTest {

  private Vertx vertx;
  private Pool pool;
  private Wallet wallet;
  private BillingRecords records;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    pool = PgBuilder.pool().connectingTo(PgConnectOptions.fromUri(TestPostgres.newDatabaseUrl()))
        .with(new PoolOptions().setMaxSize(4)).using(vertx).build();
    Sync.await(Migrations.apply(pool));
    wallet = new Wallet(pool);
    records = new BillingRecords(pool);
  }

  @AfterEach
  void stop() {
    Sync.await(pool.close());
    Sync.await(vertx.close());
  }

  private List<Row> sql(String query) {
    List<Row> rows = new ArrayList<>();
    Sync.await(pool.query(query).execute()).forEach(rows::add);
    return rows;
  }

  private UUID account() {
    UUID id = UUID.randomUUID();
    sql("INSERT INTO accounts (id, email) VALUES ('" + id + "', '" + id + "@example.com')");
    return id;
  }

  /** A ledger entry made now, then dated {@code yearsAgo} back, as if it had been made then. */
  private long entry(UUID account, Wallet.Kind kind, long micros, int yearsAgo) {
    Sync.await(wallet.credit(account, kind, micros, null, "test"));
    long id = sql("SELECT max(id) FROM ledger WHERE account_id = '" + account + "'").get(0)
        .getLong(0);
    sql("UPDATE ledger SET created_at = now() - interval '" + yearsAgo + " years' - interval '"
        + (1000 - id) + " seconds' WHERE id = " + id);
    return id;
  }

  private long balance(UUID account) {
    return sql("SELECT balance_micros FROM accounts WHERE id = '" + account + "'").get(0)
        .getLong(0);
  }

  private long ledgerSum(UUID account) {
    return sql("SELECT coalesce(sum(amount_micros), 0) FROM ledger WHERE account_id = '"
        + account + "'").get(0).getLong(0);
  }

  private List<Row> ledger(UUID account) {
    return sql("SELECT id, kind, amount_micros FROM ledger WHERE account_id = '" + account
        + "' ORDER BY id");
  }

  private static Instant sevenYearsAgo() {
    return java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC).minusYears(7).toInstant();
  }

  @Test
  void entriesPastThePeriodFoldIntoOneCarriedEntryInPlaceOfTheNewest() {
    UUID old = account();
    UUID recent = account();
    entry(old, Wallet.Kind.TOP_UP, 10_000_000, 9);
    entry(old, Wallet.Kind.CHARGE, -1_250_000, 8);
    long newestOld = entry(old, Wallet.Kind.REFUND, 250_000, 8);
    long kept1 = entry(old, Wallet.Kind.CHARGE, -500_000, 1);
    long kept2 = entry(old, Wallet.Kind.ADJUSTMENT, 3, 0);
    entry(recent, Wallet.Kind.TOP_UP, 5_000_000, 2);
    entry(recent, Wallet.Kind.CHARGE, -7, 0);
    long oldBalance = balance(old);
    long recentBalance = balance(recent);

    BillingRecords.Purged purged = Sync.await(records.purgeBefore(sevenYearsAgo()));

    assertThat(purged.accounts()).isEqualTo(1);
    assertThat(purged.ledgerEntries()).isEqualTo(2);
    List<Row> entries = ledger(old);
    assertThat(entries).hasSize(3);
    assertThat(entries.get(0).getLong("id")).isEqualTo(newestOld);
    assertThat(entries.get(0).getString("kind")).isEqualTo("carried_forward");
    assertThat(entries.get(0).getLong("amount_micros")).isEqualTo(9_000_000);
    assertThat(entries.get(1).getLong("id")).isEqualTo(kept1);
    assertThat(entries.get(2).getLong("id")).isEqualTo(kept2);
    assertThat(balance(old)).isEqualTo(oldBalance).isEqualTo(ledgerSum(old));
    assertThat(ledger(recent)).hasSize(2);
    assertThat(balance(recent)).isEqualTo(recentBalance).isEqualTo(ledgerSum(recent));

    // The carried entry is old too, but it is only rewritten when more entries age out.
    assertThat(Sync.await(records.purgeBefore(sevenYearsAgo())))
        .isEqualTo(BillingRecords.Purged.NOTHING);
    assertThat(ledger(old)).hasSize(3);

    // Six years on, the one-year-old charge passes the period and joins the carried balance.
    Instant sixYearsOn = java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC).minusYears(1)
        .plusDays(1).toInstant();
    assertThat(Sync.await(records.purgeBefore(sixYearsOn)).accounts()).isEqualTo(2);
    entries = ledger(old);
    assertThat(entries).hasSize(2);
    assertThat(entries.get(0).getLong("id")).isEqualTo(kept1);
    assertThat(entries.get(0).getLong("amount_micros")).isEqualTo(8_500_000);
    assertThat(balance(old)).isEqualTo(ledgerSum(old));
    assertThat(balance(recent)).isEqualTo(ledgerSum(recent));
  }

  @Test
  void stripeRecordsPastThePeriodAreDeleted() {
    UUID account = account();
    sql("INSERT INTO stripe_events (id, type, outcome, received_at) VALUES"
        + " ('evt_old', 'checkout.session.completed', 'applied', now() - interval '8 years'),"
        + " ('evt_new', 'checkout.session.completed', 'applied', now() - interval '6 years')");
    sql("INSERT INTO stripe_payments (payment_intent, account_id, checkout_session,"
        + " amount_cents, created_at) VALUES"
        + " ('pi_old', '" + account + "', 'cs_old', 100, now() - interval '8 years'),"
        + " ('pi_new', '" + account + "', 'cs_new', 100, now() - interval '6 years')");

    BillingRecords.Purged purged = Sync.await(records.purgeBefore(sevenYearsAgo()));

    assertThat(purged.stripeEvents()).isEqualTo(1);
    assertThat(purged.stripePayments()).isEqualTo(1);
    assertThat(sql("SELECT id FROM stripe_events")).extracting(r -> r.getString(0))
        .containsExactly("evt_new");
    assertThat(sql("SELECT payment_intent FROM stripe_payments")).extracting(r -> r.getString(0))
        .containsExactly("pi_new");
  }

  @Test
  void aNodeThatFindsAnotherPurgingSkipsItsTurn() {
    UUID account = account();
    entry(account, Wallet.Kind.TOP_UP, 1_000, 9);
    entry(account, Wallet.Kind.CHARGE, -10, 8);
    SqlConnection other = Sync.await(pool.getConnection());
    try {
      Sync.await(other.query("SELECT pg_advisory_lock(" + 0x466c6f626c6c67L + ")").execute());
      assertThat(Sync.await(records.purgeBefore(sevenYearsAgo())))
          .isEqualTo(BillingRecords.Purged.NOTHING);
      assertThat(ledger(account)).hasSize(2);
      Sync.await(other.query("SELECT pg_advisory_unlock(" + 0x466c6f626c6c67L + ")").execute());
    } finally {
      Sync.await(other.close());
    }
    assertThat(Sync.await(records.purgeBefore(sevenYearsAgo())).accounts()).isEqualTo(1);
    assertThat(ledger(account)).hasSize(1);
    assertThat(ledgerSum(account)).isEqualTo(990).isEqualTo(balance(account));
  }

  @Test
  void anUnusedKindIsStillRefusedByTheLedger() {
    UUID account = account();
    assertThat(pool.query("INSERT INTO ledger (account_id, kind, amount_micros) VALUES ('"
        + account + "', 'gift', 1)").execute().toCompletionStage().toCompletableFuture()
        .handle((rows, err) -> err).join()).isNotNull();
  }
}
