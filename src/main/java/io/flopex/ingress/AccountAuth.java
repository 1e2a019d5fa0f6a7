package io.flopex.ingress;

import io.flopex.config.FlopexConfig;
import io.flopex.db.AccountStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

/**
 * Tokens of the account API, checked with Vert.x Auth JWT. Flopex issues its own, HS256, with
 * the account id as subject, for a short time; and, when configured, accepts tokens of an
 * external identity provider that carry a Flopex account id. A token that is expired, signed
 * with another key, unsigned ({@code alg: none}), from another issuer or for another audience,
 * or without an expiry, is refused.
 */
public final class AccountAuth {

  static final String ISSUER = "flopex";
  static final String AUDIENCE = "flopex-account-api";
  private static final String SECRET_SETTING = "account_token_secret";

  private final JWTAuth own;
  private final JWTAuth external;
  private final FlopexConfig.Auth config;

  private AccountAuth(JWTAuth own, JWTAuth external, FlopexConfig.Auth config) {
    this.own = own;
    this.external = external;
    this.config = config;
  }

  /** Reads (or creates, on the first node) the signing secret, then builds the verifiers. */
  public static Future<AccountAuth> create(Vertx vertx, FlopexConfig.Auth config,
      AccountStore store) {
    Future<String> secret = config.tokenSecret() != null
        ? Future.succeededFuture(config.tokenSecret())
        : store.setting(SECRET_SETTING, randomSecret());
    return secret.map(key -> {
      JWTAuth own = JWTAuth.create(vertx, new JWTAuthOptions()
          .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(key))
          .setJWTOptions(new JWTOptions().setIssuer(ISSUER).setAudience(List.of(AUDIENCE))));
      JWTAuth external = null;
      FlopexConfig.External ext = config.external();
      if (ext != null) {
        JWTAuthOptions options = new JWTAuthOptions().setJWTOptions(new JWTOptions()
            .setIssuer(ext.issuer()).setAudience(List.of(ext.audience())));
        if (ext.publicKey() != null) {
          options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("RS256")
              .setBuffer(ext.publicKey()));
        }
        ext.jwks().forEach(options::addJwk);
        external = JWTAuth.create(vertx, options);
      }
      return new AccountAuth(own, external, config);
    });
  }

  private static String randomSecret() {
    byte[] bytes = new byte[48];
    new SecureRandom().nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** A new token for the account, and how long it lasts. */
  public String issue(UUID accountId) {
    return own.generateToken(new JsonObject().put("sub", accountId.toString()),
        new JWTOptions().setAlgorithm("HS256").setIssuer(ISSUER).setAudience(List.of(AUDIENCE))
            .setExpiresInSeconds(config.tokenTtlSeconds()));
  }

  public int ttlSeconds() {
    return config.tokenTtlSeconds();
  }

  /** The account a token stands for; fails for any token that does not verify. */
  public Future<UUID> verify(String token) {
    if (token == null || token.isEmpty()) {
      return Future.failedFuture("no token");
    }
    Future<UUID> mine = check(own, token, "sub");
    if (external == null) {
      return mine;
    }
    return mine.recover(err -> check(external, token, config.external().accountClaim()));
  }

  private static Future<UUID> check(JWTAuth verifier, String token, String claim) {
    Future<io.vertx.ext.auth.User> user;
    try {
      user = verifier.authenticate(new TokenCredentials(token));
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return user.compose(u -> {
      // The decoded claims, expiry included.
      JsonObject claims = u.attributes().getJsonObject("accessToken");
      if (claims == null || !(claims.getValue("exp") instanceof Number)) {
        return Future.failedFuture("token without expiry");
      }
      try {
        return Future.succeededFuture(UUID.fromString(claims.getString(claim)));
      } catch (RuntimeException e) {
        return Future.failedFuture("token without an account id");
      }
    });
  }
}
